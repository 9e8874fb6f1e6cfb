//! SELinux process labels (`process.selinuxLabel`, `exec --process-label`), applied as runc
//! 1.1 applies them through go-selinux:
//!
//! - the label goes to the task's own `/proc/thread-self/attr/keycreate` before the init
//!   joins its session keyring, so the keyring it creates carries the container's label
//!   (standard_init_linux.go: `SetKeyLabel` before `JoinSessionKeyring`);
//! - and to `/proc/thread-self/attr/exec`, which the kernel applies at the next execve
//!   (`SetExecLabel`): written before the seccomp filter and the user switch, like runc's,
//!   because after them the profile may deny the open/write and the task may lack the right
//!   to change its own attributes. The kernel clears both attributes at execve.
//!
//! Each write goes through an fd that is checked to be on procfs first (go-selinux's
//! `isProcHandle`): a bind mount over /proc must not receive the label instead.
//!
//! With SELinux disabled (no selinuxfs, or no policy loaded: every task is `kernel`) a label
//! is refused before anything is made, in runc's words; `linux.mountLabel` needs no check
//! here: its `context=` reaches the kernel, which refuses it the way it refuses runc's (see
//! `rootfs::label`).
//!
//! Plain procfs writes, not the `selinux` crate: that crate binds libselinux, which the
//! static build would have to link (with libpcre2) for two writes and a statfs.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::on_procfs;

/// runc's refusal (libcontainer/configs/validate), for `create` and `exec` alike.
pub const DISABLED: &str =
    "selinux label is specified in config, but selinux is disabled or not supported";

/// SELINUX_MAGIC from linux/magic.h.
const SELINUX_MAGIC: nix::sys::statfs::FsType = nix::sys::statfs::FsType(0xf97c_ff8c);

#[derive(Debug, thiserror::Error)]
pub enum SelinuxError {
    #[error("{DISABLED}")]
    Disabled,
    #[error("SELinux label {label:?}: write {}: {source}", path.display())]
    Apply {
        label: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("SELinux label {label:?}: {} is not on procfs; refusing to write the label there", path.display())]
    NotProcfs { label: String, path: PathBuf },
}

impl SelinuxError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Apply { source, .. } => source.raw_os_error(),
            Self::Disabled | Self::NotProcfs { .. } => None,
        }
    }
}

/// go-selinux's `GetEnabled`: selinuxfs is mounted read-write at /sys/fs/selinux and the
/// calling task has a label other than `kernel` (with no policy loaded, every task has it).
pub fn host_enabled() -> bool {
    let selinuxfs = Path::new("/sys/fs/selinux");
    let mounted = nix::sys::statfs::statfs(selinuxfs)
        .is_ok_and(|s| s.filesystem_type() == SELINUX_MAGIC)
        && nix::sys::statvfs::statvfs(selinuxfs)
            .is_ok_and(|s| !s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY));
    mounted
        && enabled_from(
            std::fs::read("/proc/thread-self/attr/current")
                .ok()
                .as_deref(),
        )
}

/// The label half of [`host_enabled`]: `current` is the content of attr/current, `None`
/// when it cannot be read (no LSM provides it). SELinux ends the label with a NUL byte.
fn enabled_from(current: Option<&[u8]>) -> bool {
    let Some(raw) = current else {
        return false;
    };
    let label = String::from_utf8_lossy(raw);
    let label = label.trim_end_matches(['\0', '\n']);
    !label.is_empty() && label != "kernel"
}

/// A non-empty label needs SELinux on the host (runc: "selinux label is specified in config,
/// but selinux is disabled or not supported"). `enabled` is asked only when there is one.
pub fn check(label: Option<&str>, enabled: impl FnOnce() -> bool) -> Result<(), SelinuxError> {
    match label {
        Some(l) if !l.is_empty() && !enabled() => Err(SelinuxError::Disabled),
        _ => Ok(()),
    }
}

/// The label the process gets at its execve.
pub fn set_exec_label(label: &str) -> Result<(), SelinuxError> {
    write_attr(
        &Path::new("/proc/thread-self/attr").join("exec"),
        label,
        on_procfs,
    )
}

/// The label of the keys (the session keyring) this task creates from now until its execve.
pub fn set_keycreate_label(label: &str) -> Result<(), SelinuxError> {
    write_attr(
        &Path::new("/proc/thread-self/attr").join("keycreate"),
        label,
        on_procfs,
    )
}

/// runc's order for a container with its own session keyring: the keycreate label, then the
/// join that creates the keyring. Without a label only `join` runs.
pub fn join_labelled_keyring<E: From<SelinuxError>>(
    label: Option<&str>,
    set_label: impl FnOnce(&str) -> Result<(), SelinuxError>,
    join: impl FnOnce() -> Result<(), E>,
) -> Result<(), E> {
    if let Some(l) = label.filter(|l| !l.is_empty()) {
        set_label(l)?;
    }
    join()
}

/// One write of the whole label (the kernel takes the context from a single buffer), through
/// an fd `is_procfs` accepted.
fn write_attr(
    path: &Path,
    label: &str,
    is_procfs: impl Fn(&std::fs::File) -> bool,
) -> Result<(), SelinuxError> {
    let apply = |source| SelinuxError::Apply {
        label: label.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(apply)?;
    if !is_procfs(&f) {
        return Err(SelinuxError::NotProcfs {
            label: label.to_string(),
            path: path.to_path_buf(),
        });
    }
    f.write_all(label.as_bytes()).map_err(apply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_needs_a_label_other_than_kernel() {
        assert!(!enabled_from(None), "no LSM provides attr/current");
        assert!(!enabled_from(Some(b"kernel\0")), "no policy loaded");
        assert!(!enabled_from(Some(b"")));
        assert!(enabled_from(Some(b"system_u:system_r:init_t:s0\0")));
    }

    #[test]
    fn a_label_needs_selinux_enabled() {
        let never = || -> bool { panic!("host asked without a label") };
        check(None, never).expect("no label");
        check(Some(""), never).expect("an empty label means none");
        check(Some("system_u:system_r:container_t:s0"), || true).expect("enabled");
        let err = check(Some("system_u:system_r:container_t:s0"), || false).expect_err("off");
        assert_eq!(err.to_string(), DISABLED);
    }

    #[test]
    fn writes_the_label_in_one_write_and_names_the_file_on_failure() {
        let d = tempfile::tempdir().expect("tempdir");
        let exec = d.path().join("exec");
        std::fs::write(&exec, "").expect("touch");
        write_attr(&exec, "system_u:system_r:container_t:s0", |_| true).expect("write");
        assert_eq!(
            std::fs::read_to_string(&exec).expect("read"),
            "system_u:system_r:container_t:s0"
        );
        let err = write_attr(&d.path().join("missing"), "l", |_| true).expect_err("missing");
        assert_eq!(err.errno(), Some(libc::ENOENT));
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn refuses_a_file_that_is_not_on_procfs() {
        let d = tempfile::tempdir().expect("tempdir");
        let exec = d.path().join("exec");
        std::fs::write(&exec, "").expect("touch");
        let err = write_attr(&exec, "l", on_procfs).expect_err("tmpdir is not procfs");
        assert!(matches!(err, SelinuxError::NotProcfs { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&exec).expect("read"), "");
    }

    #[test]
    fn the_keycreate_label_comes_before_the_keyring_join() {
        let log = std::cell::RefCell::new(Vec::new());
        join_labelled_keyring::<SelinuxError>(
            Some("system_u:system_r:container_t:s0"),
            |l| {
                log.borrow_mut().push(format!("keycreate {l}"));
                Ok(())
            },
            || {
                log.borrow_mut().push("join".into());
                Ok(())
            },
        )
        .expect("both succeed");
        assert_eq!(
            *log.borrow(),
            ["keycreate system_u:system_r:container_t:s0", "join"]
        );

        log.borrow_mut().clear();
        join_labelled_keyring::<SelinuxError>(
            Some(""),
            |_| panic!("no label to set"),
            || {
                log.borrow_mut().push("join".into());
                Ok(())
            },
        )
        .expect("join only");
        assert_eq!(*log.borrow(), ["join"]);

        let joined = std::cell::Cell::new(false);
        let err = join_labelled_keyring::<SelinuxError>(
            Some("l"),
            |_| Err(SelinuxError::Disabled),
            || {
                joined.set(true);
                Ok(())
            },
        )
        .expect_err("the label fails");
        assert!(matches!(err, SelinuxError::Disabled));
        assert!(!joined.get(), "no keyring without its label");
    }
}
