//! The top-level error: every verb's error, and the exit code each maps to.
//!
//! Errors go to stderr (and to `--log`), exit code 1, as runc does (a failed `exec`: 255, also
//! runc's); usage errors found by clap exit with clap's code 2 (docs/architecture.md, "Errors
//! and exit codes").

use crate::container::create::CreateError;
use crate::container::delete::DeleteError;
use crate::container::kill::KillError;
use crate::container::start::StartVerbError;
use crate::container::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Create(#[from] CreateError),
    #[error(transparent)]
    Start(#[from] StartVerbError),
    #[error(transparent)]
    Kill(#[from] KillError),
    #[error(transparent)]
    Delete(#[from] DeleteError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Exec(#[from] crate::container::exec::ExecError),
    #[error(transparent)]
    Pause(#[from] crate::container::pause::PauseError),
    #[error("container {id:?}: {source}")]
    Cgroup {
        id: String,
        source: crate::cgroups::CgroupError,
    },
    #[error(transparent)]
    Signal(#[from] crate::signals::SignalError),
    #[error(transparent)]
    Wait(#[from] crate::process::wait::WaitError),
    #[error(transparent)]
    Tty(#[from] crate::process::ttyproxy::ProxyError),
    #[error("{0}")]
    Usage(String),
    #[error("{0} is not supported by ferrun yet")]
    NotSupported(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Anything that stops `exec` before its process ran to the end: runc reports it as
    /// "exec failed: ..." with exit code 255, so callers can tell it from the exec'd
    /// process's own exit status.
    #[error("exec failed: {0}")]
    ExecFailed(Box<Error>),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ExecFailed(_) => 255,
            _ => 1,
        }
    }
}
