//! Errors of the cgroups module. Every variant names what the user has to look at: the config
//! field (`linux.resources.…`), the cgroup file, or the path persisted in state.json.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CgroupError {
    /// runc's words (specconv `CreateCgroupConfig`), which tools grep for.
    #[error("expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got {0:?} instead")]
    SystemdPathFormat(String),

    /// runc's words (systemd `ExpandSlice`).
    #[error("invalid slice name: {0}")]
    InvalidSlice(String),

    #[error("the systemd cgroup driver requires cgroup v2 (unified hierarchy); this host {0}")]
    SystemdNeedsV2(&'static str),

    #[error("systemd cgroup driver: cannot connect to the {bus} bus at {address}: {reason}")]
    SystemdBus {
        bus: &'static str,
        address: String,
        reason: String,
    },

    #[error("systemd cgroup driver: {op} unit {unit}: {reason}")]
    Systemd {
        unit: String,
        op: &'static str,
        reason: String,
    },

    #[error("/proc/self/mountinfo: {0}")]
    Mountinfo(#[from] crate::mountinfo::MountinfoError),

    #[error("no cgroup filesystem is mounted (checked {source_name})")]
    NoCgroupMounts { source_name: String },

    #[error("cgroup controller {controller} is not mounted{hint}")]
    NotMounted {
        controller: String,
        hint: &'static str,
    },

    #[error("linux.cgroupsPath {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },

    #[error("cannot find own cgroup for {controller} in /proc/self/cgroup")]
    OwnCgroupUnknown { controller: String },

    /// A config the host's cgroup version cannot take at all (runc's validator refuses it
    /// with "invalid configuration: ..." before anything is made).
    #[error("invalid configuration: {field}: {reason}")]
    InvalidConfig { field: String, reason: String },

    /// runc's wording: "container's cgroup unexpectedly frozen". Joining it would freeze the
    /// init before it reports back, and create would wait forever.
    #[error("container's cgroup unexpectedly frozen: {}{}", path.display(), if *ancestor { " is frozen through a frozen parent cgroup" } else { " is frozen" })]
    AlreadyFrozen { path: PathBuf, ancestor: bool },

    /// A config field the host (or this runtime) cannot honour. Never silently ignored.
    #[error("{field}: {reason}")]
    Unsupported { field: String, reason: String },

    #[error("{field}: writing {value:?} to {}: {source}", path.display())]
    Write {
        field: String,
        path: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cgroup path persisted in state {persisted:?} is not valid: {reason}")]
    Persisted { persisted: String, reason: String },

    #[error("linux.resources.devices: {op} of the eBPF device program on {} failed: {errno}{log}", path.display())]
    Bpf {
        op: &'static str,
        path: PathBuf,
        errno: nix::errno::Errno,
        log: String,
    },

    #[error("{} did not reach freezer state {wanted} (last seen {seen:?})", path.display())]
    FreezeTimeout {
        path: PathBuf,
        wanted: &'static str,
        seen: String,
    },
}

impl CgroupError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CgroupError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn unsupported(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CgroupError::Unsupported {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
