//! PLACEHOLDER until the pieces branch lands (same contract).
pub fn features() -> serde_json::Value {
    serde_json::json!({})
}
