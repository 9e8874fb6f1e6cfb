//! PLACEHOLDER until the pieces branch lands (same contract).
#[derive(Debug, Clone, Copy)]
pub enum HookKind {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HookError(pub String);
pub fn run_hooks(
    _k: HookKind,
    hooks: &[oci_spec::runtime::Hook],
    _s: &[u8],
) -> Result<(), HookError> {
    if hooks.is_empty() {
        Ok(())
    } else {
        Err(HookError("hooks placeholder".into()))
    }
}
