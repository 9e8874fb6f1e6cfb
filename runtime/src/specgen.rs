//! PLACEHOLDER until the pieces branch lands (same contract).
pub fn default_spec(_rootless: bool) -> serde_json::Value {
    serde_json::json!({"ociVersion": "1.2.0"})
}
