//! The one gate of the root tests.
//!
//! Every root test is `#[ignore = "needs root ..."]`, so a plain `cargo test` (as any user)
//! reports it as ignored instead of counting it as passed. CI asks for them with
//! `FERRUN_ROOT_TESTS=1 cargo test -- --include-ignored`. A test that was asked for and whose
//! host lacks a prerequisite fails with the reason: with or without `FERRUN_ROOT_TESTS`, a
//! requested test that cannot run has not passed.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use super::BUSYBOX;

/// A prerequisite of a root test.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// euid 0: mounts, namespaces, cgroups, credentials.
    Root,
    /// busybox-static at /bin/busybox, the rootfs of every test bundle.
    Busybox,
    /// cgroup v1 hierarchies (this project's hybrid CI host): tests that read v1 files.
    CgroupV1,
    /// This uid may create a user namespace (rootless containers).
    UsernsFor(u32),
    /// AppArmor is off: a profile in config.json must be refused (vm-tests' apparmor profile
    /// covers hosts with AppArmor).
    NoAppArmor,
    /// strace, which can kill the runtime at a chosen syscall (`-e inject=...:signal=SIGKILL`).
    Strace,
}

impl Need {
    /// Why the host does not meet this need, if it does not.
    fn missing(self) -> Option<String> {
        match self {
            Need::Root => {
                let euid = nix::unistd::geteuid();
                (!euid.is_root()).then(|| format!("not running as root (euid {euid})"))
            }
            Need::Busybox => (!Path::new(BUSYBOX).exists())
                .then(|| format!("{BUSYBOX} is missing (apt-get install busybox-static)")),
            Need::CgroupV1 => (!Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists())
                .then(|| "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory".to_string()),
            Need::UsernsFor(uid) => userns_refused(uid),
            Need::NoAppArmor => ferrun::security::apparmor::host_enabled()
                .then(|| "AppArmor is enabled on this host".to_string()),
            Need::Strace => Command::new("strace")
                .arg("-V")
                .output()
                .is_err()
                .then(|| "strace is missing (apt-get install strace)".to_string()),
        }
    }
}

fn userns_refused(uid: u32) -> Option<String> {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    if max.trim() == "0" {
        return Some("user.max_user_namespaces is 0".into());
    }
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "true"])
        .uid(uid)
        .gid(uid)
        .status();
    match probe {
        Ok(s) if s.success() => None,
        other => Some(format!(
            "uid {uid} cannot create a user namespace (unshare -Ur: {other:?})"
        )),
    }
}

/// True when CI declared that every root test must run (`FERRUN_ROOT_TESTS=1`).
pub fn ci_requires_root_tests() -> bool {
    std::env::var("FERRUN_ROOT_TESTS").is_ok_and(|v| v == "1")
}

/// Fail the calling test, naming what is missing, unless the host meets every need. Call it
/// first in every `#[ignore = "needs root ..."]` test: only a requested test reaches it.
pub fn require(needs: &[Need]) {
    // Without root the other probes (unshare as another uid) fail for that reason alone.
    let no_root = needs
        .iter()
        .find(|n| matches!(n, Need::Root))
        .and_then(|n| n.missing());
    let missing: Vec<String> = match no_root {
        Some(why) => vec![why],
        None => needs.iter().filter_map(|n| n.missing()).collect(),
    };
    if missing.is_empty() {
        return;
    }
    let asked = if ci_requires_root_tests() {
        "FERRUN_ROOT_TESTS=1 requires every root test to run"
    } else {
        "this root test was requested (--include-ignored or --ignored)"
    };
    panic!(
        "{asked}, but the host cannot run it: {}",
        missing.join("; ")
    );
}

/// The common case: root and a busybox bundle.
pub fn require_root() {
    require(&[Need::Root, Need::Busybox]);
}
