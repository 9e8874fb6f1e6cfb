//! PLACEHOLDER until the security branch lands (same contract).
use oci_spec::runtime::{LinuxSeccomp, Process, Spec};
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecurityError(pub String);
pub fn check_supported(_spec: &Spec) -> Result<(), Unsupported> {
    Ok(())
}
pub fn apply_process(_p: &Process, _s: Option<&LinuxSeccomp>) -> Result<(), SecurityError> {
    Ok(())
}
