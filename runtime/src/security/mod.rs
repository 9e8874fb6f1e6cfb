//! Security settings of the container process: what ferrun refuses (`check_supported`),
//! the AppArmor profile, the SELinux labels, seccomp (libseccomp), rlimits, the user/group switch, capabilities
//! (caps) and `no_new_privs`. (`process.oomScoreAdj` is not here: the parent writes it into
//! /proc/<pid>/oom_score_adj in `process/launch.rs`, from the initial user namespace, because
//! lowering it needs CAP_SYS_RESOURCE there and the init may already be in a new one.)
//!
//! `create` (and `exec`) call `check_supported(spec)` and `validate_process` before anything
//! is made, so a config ferrun cannot honour fails before a process exists. `apply_process`
//! then runs the per-process steps in runc's order (see `order.rs` for why each step sits
//! where it does). The init process calls it single-threaded, after the rootfs is ready and
//! before it waits for `start`:
//!
//! ```text
//!  init (in the new namespaces)
//!    │ let pending = apply_process(&process, linux.seccomp.as_ref())?
//!    │     [apparmor exec attr] → [selinux exec attr] → rlimits → [scheduler, ioPriority] → [seccomp if !noNewPrivileges] → bounding → keepcaps+setgroups/
//!    │     setresgid/setresuid+umask → caps → [no_new_privs]
//!    │ ...report ready, wait for `start`...
//!    │ if let Some(filter) = pending { filter.load(..)? } ← only when noNewPrivileges
//!    │     (a filter with SCMP_ACT_NOTIFY rules is loaded before ready instead, see order.rs)
//!    │ startContainer hooks                              ← under the filter either way, as in runc
//!    ▼ execve
//! ```

pub mod apparmor;
pub mod caps;
pub mod features;
pub mod identity;
mod order;
pub mod rlimits;
pub mod sched;
pub mod seccomp;
pub mod selinux;
mod unsupported;

use nix::errno::Errno;
use oci_spec::runtime::{LinuxSeccomp, Process};

pub use order::{apply_process_with, HostSteps, ProcessSteps};
pub use unsupported::{check_supported, Unsupported, UnsupportedField};

/// Any failure while applying the process's security settings; each variant keeps the
/// context of the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("apparmor: {0}")]
    AppArmor(#[from] apparmor::AppArmorError),
    #[error("seccomp: {0}")]
    Seccomp(#[from] seccomp::SeccompError),
    #[error("{0}")]
    Selinux(#[from] selinux::SelinuxError),
    #[error("rlimits: {0}")]
    Rlimit(#[from] rlimits::RlimitError),
    #[error("{0}")]
    Sched(#[from] sched::SchedError),
    #[error("user: {0}")]
    Identity(#[from] identity::IdentityError),
    #[error("capabilities: {0}")]
    Caps(#[from] caps::CapsError),
    #[error("prctl(PR_SET_NO_NEW_PRIVS): {errno}")]
    NoNewPrivs { errno: Errno },
}

impl SecurityError {
    /// The errno to put in the child's `{phase, errno, message}` failure report, when the
    /// failure came from a syscall.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::AppArmor(e) => e.errno(),
            Self::Seccomp(e) => e.errno(),
            Self::Selinux(e) => e.errno(),
            Self::Rlimit(e) => Some(e.errno() as i32),
            Self::Sched(e) => e.errno().map(|e| e as i32),
            Self::Identity(e) => e.errno().map(|e| e as i32),
            Self::Caps(_) => None,
            Self::NoNewPrivs { errno } => Some(*errno as i32),
        }
    }
}

/// Apply `process`'s rlimits, scheduling, seccomp, user, capabilities and `noNewPrivileges` in runc's
/// order. Returns the seccomp filter when it must be loaded later by the caller: that is
/// the case exactly when `process.noNewPrivileges` is true and `seccomp` is given. The
/// caller then loads it after waiting for `start` and before the startContainer hooks, so
/// as few syscalls as possible run under the container's profile (runc: "Set seccomp as
/// close to execve as possible") while the hooks still run under it, as with runc. Without
/// `noNewPrivileges` the filter is loaded here,
/// before the capabilities are dropped, because loading it then needs CAP_SYS_ADMIN.
/// `handoff` receives the listener fd when the filter loaded here has SCMP_ACT_NOTIFY rules.
pub fn apply_process(
    process: &Process,
    seccomp: Option<&LinuxSeccomp>,
    handoff: Option<&mut seccomp::Handoff<'_>>,
) -> Result<Option<seccomp::Filter>, SecurityError> {
    apply_process_with(&mut HostSteps { handoff }, process, seccomp)
}

/// Every check of [`apply_process`] that changes nothing: an AppArmor profile has AppArmor
/// to go to, an SELinux label has SELinux, the seccomp profile compiles, the capabilities are known to this kernel, no
/// rlimit type repeats, the umask is a mode, the uid and gids are in range.
/// Call it in `create` (and `exec`) before anything is made, so a bad config fails there
/// and not half-way through init.
pub fn validate_process(
    process: &Process,
    seccomp: Option<&LinuxSeccomp>,
) -> Result<(), SecurityError> {
    apparmor::check(
        process.apparmor_profile().as_deref(),
        apparmor::host_enabled,
    )?;
    selinux::check(process.selinux_label().as_deref(), selinux::host_enabled)?;
    if let Some(cfg) = seccomp {
        drop(seccomp::compile(cfg)?);
    }
    caps::validate(process.capabilities().as_ref())?;
    rlimits::check_duplicates(process.rlimits().as_deref().unwrap_or(&[]))?;
    sched::check(process)?;
    identity::umask_of(process.user())?;
    identity::check_user_ids(process.user())?;
    Ok(())
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: execve can no longer grant privileges (setuid bits,
/// file capabilities); runtime-spec config.md#linux-process `noNewPrivileges`.
pub fn set_no_new_privs() -> Result<(), SecurityError> {
    nix::sys::prctl::set_no_new_privs().map_err(|errno| SecurityError::NoNewPrivs { errno })
}

/// Whether `f` is on procfs: LSM attributes are written only through such an fd, so a bind
/// mount or symlink over the container's /proc cannot take the label instead (CVE-2019-16884,
/// CVE-2025-52881; runc's `utils.EnsureProcHandle`, go-selinux's `isProcHandle`).
pub(crate) fn on_procfs(f: &std::fs::File) -> bool {
    use std::os::fd::AsFd;
    nix::sys::statfs::fstatfs(f.as_fd())
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn process(extra: Value) -> Process {
        let mut v = json!({"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"});
        if let (Some(base), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            base.extend(more.clone());
        }
        serde_json::from_value(v).expect("valid process")
    }

    #[test]
    fn validate_process_accepts_a_normal_process() {
        let p = process(json!({
            "capabilities": {"bounding": ["CAP_CHOWN"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}]
        }));
        let sc: LinuxSeccomp =
            serde_json::from_value(json!({"defaultAction": "SCMP_ACT_ALLOW"})).expect("valid");
        validate_process(&p, Some(&sc)).expect("valid");
    }

    #[test]
    fn validate_process_reports_each_kind_of_problem() {
        let notify: LinuxSeccomp =
            serde_json::from_value(json!({"defaultAction": "SCMP_ACT_NOTIFY"})).expect("parses");
        let err = validate_process(&process(json!({})), Some(&notify)).expect_err("notify");
        assert!(matches!(err, SecurityError::Seccomp(_)), "{err}");

        let dup = process(json!({"rlimits": [
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
            {"type": "RLIMIT_CORE", "soft": 1, "hard": 1}]}));
        let err = validate_process(&dup, None).expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "rlimits: process.rlimits: RLIMIT_CORE is given more than once"
        );

        let umask = process(json!({"user": {"uid": 0, "gid": 0, "umask": 65536}}));
        let err = validate_process(&umask, None).expect_err("umask");
        assert!(matches!(err, SecurityError::Identity(_)), "{err}");
    }
}
