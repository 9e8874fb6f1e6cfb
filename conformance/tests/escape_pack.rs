//! The escape pack (`scenarios/escape/`, tag `cve`) against deliberately vulnerable runtimes
//! (`tests/fixtures/vulnerable/`): each scenario must FAIL where the escape it re-enacts is
//! open, so a PASS on a real runtime means the runtime defended, not that the scenario looked
//! away. They need root, runc 1.1.5, jq and the static probe (see `common::require`).

mod common;

use common::{bin, fixtures, pack, probe, report, stderr, Need, RUNC};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Runs `ids` of the escape pack against `name=runtime` (`VULN_REAL` = runc for a wrapper)
/// and returns each scenario's (status, reason).
fn run_escape(name: &str, runtime: &Path, ids: &[&str], out: &Path) -> Vec<(String, String)> {
    let o = bin()
        .env("VULN_REAL", RUNC)
        .args(["run", "--runtime"])
        .arg(format!("{name}={}", runtime.display()))
        .args(["--probe", probe().to_str().unwrap(), "--out"])
        .arg(out)
        .args(["--filter", &ids.join(",")])
        .arg(pack().join("escape"))
        .output()
        .expect("oci-conform runs");
    assert_eq!(o.status.code(), Some(1), "a FAIL is exit 1: {}", stderr(&o));
    let r = report(out);
    ids.iter()
        .map(|id| {
            let res: &Value = r["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == *id && x["runtime"] == name)
                .unwrap_or_else(|| panic!("no result for {id}: {r}"));
            (
                res["status"].as_str().unwrap_or_default().to_string(),
                res["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A copy of a fixture wrapper in `dir` (the exe-overwrite one writes to itself).
fn wrapper(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(fixtures().join("vulnerable").join(name), &to).unwrap();
    to
}

fn needs(test: &str) {
    common::require(
        test,
        &[
            Need::Root,
            Need::Runc,
            Need::Probe,
            Need::Tool("/usr/bin/jq"),
        ],
    );
}

/// CVE-2024-21626: fds 3..7 leak in (fd 7 a host directory) and /proc/self/fd/7 as a cwd is
/// entered: the init's and exec's cwd walk out to the host's root, and both fd listings show
/// the extra fds.
#[test]
#[ignore = "needs root and runc"]
fn leaked_host_fds_fail_the_cwd_and_fd_scenarios() {
    needs("leaked_host_fds_fail_the_cwd_and_fd_scenarios");
    let tmp = tempfile::tempdir().unwrap();
    let rt = wrapper(tmp.path(), "leaky-fds.sh");
    let ids = [
        "escape.cwd-leaked-fd-07",
        "escape.exec-cwd-leaked-fd",
        "escape.fd-targets-init",
        "escape.fd-targets-exec",
    ];
    let got = run_escape("leaky", &rt, &ids, &tmp.path().join("out"));
    for (id, (status, reason)) in ids.iter().zip(&got) {
        assert_eq!(status, "FAIL", "{id}: {reason}");
    }
    assert!(got[0].1.contains("ESCAPED"), "{}", got[0].1);
    assert!(got[1].1.contains("ESCAPED"), "{}", got[1].1);
    assert!(got[2].1.contains("7 /"), "{}", got[2].1);
}

/// CVE-2019-5736: the runtime copy changes during the scenario; the installed wrapper (here
/// the test's copy of the fixture) does not, because the runner ran its own copy.
#[test]
#[ignore = "needs root and runc"]
fn an_overwritten_runtime_copy_fails_and_the_original_is_untouched() {
    needs("an_overwritten_runtime_copy_fails_and_the_original_is_untouched");
    let tmp = tempfile::tempdir().unwrap();
    let rt = wrapper(tmp.path(), "exe-overwrite.sh");
    let before = std::fs::read(&rt).unwrap();
    let ids = ["escape.overwrite-runtime-exe"];
    let got = run_escape("exe", &rt, &ids, &tmp.path().join("out"));
    assert_eq!(got[0].0, "FAIL", "{}", got[0].1);
    assert!(
        got[0].1.contains("CVE-2019-5736: the runtime binary"),
        "{}",
        got[0].1
    );
    assert_eq!(std::fs::read(&rt).unwrap(), before, "the original changed");
}

/// CVE-2025-52881: a sysctl written through a mount into /proc (direct or through a rootfs
/// symlink) reaches the scratch bait.
#[test]
#[ignore = "needs root and runc"]
fn a_sysctl_written_through_a_proc_mount_fails() {
    needs("a_sysctl_written_through_a_proc_mount_fails");
    let tmp = tempfile::tempdir().unwrap();
    let rt = wrapper(tmp.path(), "proc-redirect.sh");
    let ids = [
        "escape.sysctl-bind-redirect",
        "escape.sysctl-symlink-redirect",
    ];
    let got = run_escape("procr", &rt, &ids, &tmp.path().join("out"));
    for (id, (status, reason)) in ids.iter().zip(&got) {
        assert_eq!(status, "FAIL", "{id}: {reason}");
        assert!(reason.contains("but got \"1\\n\""), "{id}: {reason}");
    }
}

/// CVE-2025-31133 and CVE-2025-52565: runc 1.1.5 predates both fixes, so it is the vulnerable
/// runtime itself. Run under a name without expectations, its FAILs (XFAIL in the pack) show.
/// A runc with the fixes (1.2.8, 1.3.3) makes this test fail: then pick another vulnerable one.
#[test]
#[ignore = "needs root and runc"]
fn runc_1_1_5_fails_the_devnull_and_console_symlink_scenarios() {
    needs("runc_1_1_5_fails_the_devnull_and_console_symlink_scenarios");
    let tmp = tempfile::tempdir().unwrap();
    let ids = ["escape.masked-devnull-symlink", "escape.console-symlink"];
    let got = run_escape("vulnerable", Path::new(RUNC), &ids, &tmp.path().join("out"));
    assert_eq!(got[0].0, "FAIL", "{}", got[0].1);
    assert!(got[0].1.contains("pwned"), "{}", got[0].1);
    assert_eq!(got[1].0, "FAIL", "{}", got[1].1);
    assert!(
        got[1].1.contains("bait is character special file"),
        "{}",
        got[1].1
    );
}

/// CVE-2016-9962: a dumpable process in the container's PID namespace whose root is the host's
/// is found by the attacker (its /proc/<pid>/root is readable).
#[test]
#[ignore = "needs root and runc"]
fn a_dumpable_runtime_init_fails_the_ptrace_scenario() {
    needs("a_dumpable_runtime_init_fails_the_ptrace_scenario");
    common::require(
        "a_dumpable_runtime_init_fails_the_ptrace_scenario",
        &[Need::Tool("nsenter"), Need::Tool("setpriv")],
    );
    let tmp = tempfile::tempdir().unwrap();
    let rt = wrapper(tmp.path(), "dumpable-init.sh");
    let ids = ["escape.ptrace-runtime-init"];
    let got = run_escape("dumpable", &rt, &ids, &tmp.path().join("out"));
    assert_eq!(got[0].0, "FAIL", "{}", got[0].1);
    assert!(got[0].1.contains("TRACEABLE"), "{}", got[0].1);
}

/// CVE-2021-30465: the raced tmpfs is missing from the container's mount table (as if mounted
/// on the host path the symlink named), and every run says so.
#[test]
#[ignore = "needs root and runc"]
fn a_mount_lost_to_the_symlink_race_fails() {
    needs("a_mount_lost_to_the_symlink_race_fails");
    let tmp = tempfile::tempdir().unwrap();
    let rt = wrapper(tmp.path(), "mount-escape.sh");
    let ids = ["escape.mount-symlink-race"];
    let got = run_escape("mountesc", &rt, &ids, &tmp.path().join("out"));
    assert_eq!(got[0].0, "FAIL", "{}", got[0].1);
    assert!(got[0].1.contains("ESCAPED"), "{}", got[0].1);
}
