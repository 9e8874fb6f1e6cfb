//! The top-level error: every verb's error, and the exit code each maps to.
//!
//! Errors go to stderr (and to `--log`) and exit with runc's codes: 1 for a failed command or
//! a usage error, 3 for an unknown command, 255 with `exec failed: ...` for an `exec` that
//! failed before its process ran (docs/architecture.md, "Errors and exit codes").

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
    /// Boxed: CRIU's errors carry its log's reason and paths.
    #[error(transparent)]
    Checkpoint(Box<crate::container::checkpoint::CheckpointError>),
    #[error(transparent)]
    Restore(Box<crate::container::restore::RestoreError>),
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
    /// A stop signal ended `create` or `run` (sys/interrupt.rs); what it made is removed.
    #[error("interrupted by {signal}: container {id:?} was removed, with everything made for it")]
    Interrupted {
        signal: nix::sys::signal::Signal,
        id: String,
    },
    /// A command neither runc nor ferrun has: runc's (urfave/cli's) words and exit code 3.
    #[error("No help topic for '{0}'")]
    UnknownCommand(String),
    /// `exec` failed before the process ran (no such container, a paused one, a bad
    /// --pid-file...). runc reports "exec failed: ..." and exits 255 then, so callers can tell
    /// a setup failure from the process's own exit status, which `exec` returns otherwise.
    #[error("exec failed: {0}")]
    ExecFailed(Box<Error>),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl From<crate::container::checkpoint::CheckpointError> for Error {
    fn from(e: crate::container::checkpoint::CheckpointError) -> Self {
        Error::Checkpoint(Box::new(e))
    }
}

impl From<crate::container::restore::RestoreError> for Error {
    fn from(e: crate::container::restore::RestoreError) -> Self {
        Error::Restore(Box::new(e))
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::UnknownCommand(_) => 3,
            Error::ExecFailed(_) => 255,
            // As a shell reports a command killed by the signal.
            Error::Interrupted { signal, .. } => 128 + *signal as i32,
            _ => 1,
        }
    }

    /// This error as `exec` reports it (exit 255); see [`Error::ExecFailed`].
    pub fn in_exec(self) -> Error {
        match self {
            e @ Error::ExecFailed(_) => e,
            e => Error::ExecFailed(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_runc() {
        assert_eq!(Error::Usage("x".into()).exit_code(), 1);
        let unknown = Error::UnknownCommand("foo".into());
        assert_eq!(unknown.to_string(), "No help topic for 'foo'");
        assert_eq!(unknown.exit_code(), 3);
        let exec = Error::Usage("no such container".into()).in_exec();
        assert_eq!(exec.exit_code(), 255);
        assert_eq!(exec.to_string(), "exec failed: no such container");
        assert_eq!(exec.in_exec().exit_code(), 255);
        let stopped = Error::Interrupted {
            signal: nix::sys::signal::Signal::SIGTERM,
            id: "c1".into(),
        };
        assert_eq!(stopped.exit_code(), 143);
    }
}
