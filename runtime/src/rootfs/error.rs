//! Errors of the rootfs setup; every variant names the path or config field involved.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// A syscall failed; `op` names it, `path` is the container (or host) path concerned.
    #[error("{op} {path}: {source}")]
    Sys {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A config field holds a value we cannot honour (or do not implement yet).
    #[error("{field}: {reason}")]
    Config { field: String, reason: String },
    /// A mount option we reject for this mount.
    #[error("mount {destination}: option {option:?}: {reason}")]
    Option {
        destination: PathBuf,
        option: String,
        reason: &'static str,
    },
    /// The destination resolved to something unsafe (CVE-2019-16884/19921, CVE-2025-52565).
    #[error("mount {destination}: {reason}")]
    UnsafeDestination {
        destination: PathBuf,
        reason: String,
    },
    /// /dev/null in the container is not the real null device (CVE-2025-31133).
    #[error("/dev/null is not the char device 1:3 ({found}); refusing to use it to mask paths")]
    BadDevNull { found: String },
    /// /proc/self/cgroup could not be understood, or our cgroup is not where it says.
    #[error("{file}: {reason}")]
    Parse { file: &'static str, reason: String },
    /// The parent could not make an id-mapped mount's tree.
    #[error(transparent)]
    Idmap(#[from] super::idmapped::IdmapError),
    /// /proc/self/mountinfo could not be understood.
    #[error("/proc/self/mountinfo: {0}")]
    Mountinfo(#[from] crate::mountinfo::MountinfoError),
}

impl RootfsError {
    pub(crate) fn sys(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        RootfsError::Sys {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RootfsError::Config {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The errno of a failed syscall, if this is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            RootfsError::Sys { source, .. } => source.raw_os_error(),
            RootfsError::Idmap(e) => e.source.raw_os_error(),
            _ => None,
        }
    }

    pub(crate) fn is_not_found(&self) -> bool {
        self.errno() == Some(libc::ENOENT)
    }
}
