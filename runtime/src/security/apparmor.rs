//! `process.apparmorProfile` (config.md#linux-process): the process is confined by the named
//! profile from its `execve` on.
//!
//! Like runc (libcontainer/apparmor), ferrun does not load profiles; it asks the kernel to
//! switch to an already loaded one at the next exec by writing `exec <profile>` to the
//! process's own LSM attribute. The per-LSM file `attr/apparmor/exec` (Linux 5.8+) is used when
//! it exists, because `attr/exec` belongs to whichever LSM is the major one; older kernels only
//! have `attr/exec`. A profile that is not loaded makes the write fail with ENOENT, so a typo
//! fails the container instead of running it unconfined.
//!
//! The write goes through an fd checked to be on procfs (runc's `EnsureProcHandle`): a
//! container whose /proc is not procfs, or whose /proc/thread-self leads elsewhere, would
//! otherwise take the command into a dummy file and run unconfined (CVE-2019-16884,
//! CVE-2025-52881).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the kernel says whether AppArmor is active (`Y`/`N`), as runc and the AppArmor
/// userspace read it.
pub const ENABLED_PARAM: &str = "/sys/module/apparmor/parameters/enabled";

#[derive(Debug, thiserror::Error)]
pub enum AppArmorError {
    #[error("process.apparmorProfile {profile:?}: AppArmor is not enabled on this host ({ENABLED_PARAM} is not Y)")]
    NotEnabled { profile: String },
    #[error("process.apparmorProfile {profile:?}: {} is not on procfs; refusing to write the profile there", path.display())]
    NotProcfs { profile: String, path: PathBuf },
    #[error("process.apparmorProfile {profile:?}: writing {path}: {source}{hint}",
        hint = if source.raw_os_error() == Some(libc::ENOENT) { " (is the profile loaded? see /sys/kernel/security/apparmor/profiles)" } else { "" })]
    Apply {
        profile: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl AppArmorError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::NotEnabled { .. } | Self::NotProcfs { .. } => None,
            Self::Apply { source, .. } => source.raw_os_error(),
        }
    }
}

/// Whether AppArmor is active, read from a file with [`ENABLED_PARAM`]'s format.
pub fn enabled_in(param: &Path) -> bool {
    std::fs::read(param).is_ok_and(|b| b.first() == Some(&b'Y'))
}

/// Whether AppArmor is active on this host.
pub fn host_enabled() -> bool {
    enabled_in(Path::new(ENABLED_PARAM))
}

/// A profile needs AppArmor: refuse it in `create`, before anything is made, rather than in
/// the init half-way through (runc 1.1.5 only fails there, when the write is rejected).
/// `enabled` is asked only when there is a profile, so configs without one (nearly all)
/// cost no sysfs read.
pub fn check(profile: Option<&str>, enabled: impl FnOnce() -> bool) -> Result<(), AppArmorError> {
    match profile {
        Some(p) if !p.is_empty() && !enabled() => Err(AppArmorError::NotEnabled {
            profile: p.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The attribute file to write under `proc_thread` (`/proc/thread-self`): the AppArmor one
/// when the kernel has per-LSM directories, else the shared one.
pub fn exec_attr(proc_thread: &Path) -> PathBuf {
    let per_lsm = proc_thread.join("attr/apparmor/exec");
    if per_lsm.exists() {
        per_lsm
    } else {
        proc_thread.join("attr/exec")
    }
}

/// Switch to `profile` at the next execve. `/proc/thread-self`, not `/proc/self`: the
/// attribute is per task, and only the calling task may change its own.
pub fn change_on_exec(profile: &str) -> Result<(), AppArmorError> {
    write_exec_attr(Path::new("/proc/thread-self"), profile, super::on_procfs)
}

/// Writes through an fd `is_procfs` accepted.
fn write_exec_attr(
    proc_thread: &Path,
    profile: &str,
    is_procfs: impl Fn(&std::fs::File) -> bool,
) -> Result<(), AppArmorError> {
    let path = exec_attr(proc_thread);
    let apply = |source| AppArmorError::Apply {
        profile: profile.to_string(),
        path: path.clone(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(apply)?;
    if !is_procfs(&f) {
        return Err(AppArmorError::NotProcfs {
            profile: profile.to_string(),
            path,
        });
    }
    // One write: the kernel parses the whole command from a single buffer.
    f.write_all(format!("exec {profile}").as_bytes())
        .map_err(apply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_reads_the_first_byte() {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("enabled");
        assert!(!enabled_in(&p), "missing file: AppArmor not built in");
        std::fs::write(&p, "N\n").expect("write");
        assert!(!enabled_in(&p));
        std::fs::write(&p, "Y\n").expect("write");
        assert!(enabled_in(&p));
    }

    #[test]
    fn a_profile_needs_apparmor_enabled() {
        let never = || -> bool { panic!("host asked without a profile") };
        check(None, never).expect("no profile");
        check(Some(""), never).expect("empty profile means none");
        check(Some("vmt"), || true).expect("enabled");
        let err = check(Some("vmt"), || false).expect_err("disabled");
        assert!(
            err.to_string()
                .starts_with("process.apparmorProfile \"vmt\": AppArmor is not enabled"),
            "{err}"
        );
    }

    #[test]
    fn writes_exec_command_to_the_per_lsm_file_when_present() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("attr/apparmor")).expect("mkdir");
        std::fs::write(d.path().join("attr/apparmor/exec"), "").expect("touch");
        std::fs::write(d.path().join("attr/exec"), "").expect("touch");
        write_exec_attr(d.path(), "vmt-smoke", |_| true).expect("write");
        let got = std::fs::read_to_string(d.path().join("attr/apparmor/exec")).expect("read");
        assert_eq!(got, "exec vmt-smoke");
        assert_eq!(
            std::fs::read_to_string(d.path().join("attr/exec")).expect("read"),
            ""
        );
    }

    #[test]
    fn falls_back_to_the_shared_attr_and_names_the_file_on_failure() {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("attr")).expect("mkdir");
        assert_eq!(exec_attr(d.path()), d.path().join("attr/exec"));
        // attr/exec does not exist: the error names the path and the profile.
        let err = write_exec_attr(d.path(), "p", |_| true).expect_err("missing");
        assert_eq!(err.errno(), Some(libc::ENOENT));
        let msg = err.to_string();
        assert!(msg.contains("attr/exec") && msg.contains("\"p\""), "{msg}");
        assert!(msg.contains("is the profile loaded?"), "{msg}");
    }

    #[test]
    fn refuses_an_attr_file_that_is_not_on_procfs() {
        // The CVE-2025-52881 shape: /proc/thread-self leads to a directory of dummy files.
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("attr/apparmor")).expect("mkdir");
        let exec = d.path().join("attr/apparmor/exec");
        std::fs::write(&exec, "bait").expect("touch");
        let err = write_exec_attr(d.path(), "p", crate::security::on_procfs)
            .expect_err("a tmpdir is not procfs");
        assert!(matches!(err, AppArmorError::NotProcfs { .. }), "{err}");
        assert!(err.to_string().contains("is not on procfs"), "{err}");
        assert_eq!(std::fs::read_to_string(&exec).expect("read"), "bait");
    }

    #[test]
    fn accepts_the_real_procfs() {
        let f = std::fs::File::open("/proc/self/stat").expect("open");
        assert!(crate::security::on_procfs(&f));
    }
}
