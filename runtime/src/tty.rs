//! PLACEHOLDER until the pieces branch lands (same contract).
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TtyError(pub String);
pub fn connect_console_socket(_p: &Path) -> Result<OwnedFd, TtyError> {
    Err(TtyError("tty placeholder".into()))
}
pub fn setup_console(_s: OwnedFd, _b: Option<oci_spec::runtime::Box>) -> Result<PathBuf, TtyError> {
    Err(TtyError("tty placeholder".into()))
}
