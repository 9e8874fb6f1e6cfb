//! The lifecycle as runc users drive it, observed from the host and from inside.

mod support;

use serde_json::json;
use support::{cgroup_leaked, unique_id, Bundle, Rt};

#[test]
#[ignore = "needs root and busybox-static"]
fn run_exits_with_the_container_status() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("exit");
    let b = Bundle::with_args(
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
        support::cg(&id),
    );
    let out = f.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, Some(3), "{out:?}");
    assert_eq!(out.out, "out\n");
    assert_eq!(out.err, "err\n");
    assert!(!f.state_dir_exists(&id), "run without --keep deletes");
    assert!(cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root and busybox-static"]
fn run_reports_death_by_signal_as_128_plus_n() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("sig");
    // PID 1 of a pid namespace is immune to SIGKILL sent from inside it, so this container
    // shares the host's pid namespace and kills itself.
    let mut patch = support::cg(&id);
    patch["linux"]["namespaces"] =
        json!([{"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]);
    let b = Bundle::with_args(&["sh", "-c", "kill -KILL $$"], patch);
    let out = f.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, Some(137), "{out:?}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn create_start_kill_delete_walks_the_states() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("walk");
    let b = Bundle::with_args(&["sleep", "60"], support::cg(&id));
    let pidfile = b.path().join("init.pid");
    f.ok(&[
        "create",
        "-b",
        b.path().to_str().unwrap(),
        "--pid-file",
        pidfile.to_str().unwrap(),
        &id,
    ]);
    let st = f.state(&id);
    assert_eq!(st["status"], "created");
    let pid = st["pid"].as_i64().unwrap();
    assert!(pid > 0);
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), pid.to_string());
    assert_eq!(st["id"], id.as_str());
    assert_eq!(st["bundle"], b.path().to_str().unwrap());
    let list = f.ok(&["list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(f.ok(&["list", "-q"]), format!("{id}\n"));
    f.ok(&["start", &id]);
    assert_eq!(f.state(&id)["status"], "running");
    f.ok(&["kill", &id, "KILL"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while f.state(&id)["status"] != "stopped" {
        assert!(
            std::time::Instant::now() < deadline,
            "container did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = f.run(&["kill", &id, "TERM"]);
    assert_eq!(out.code, Some(1), "kill of a stopped container is an error");
    f.ok(&["delete", &id]);
    assert_eq!(f.run(&["state", &id]).code, Some(1));
    assert!(cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root and busybox-static"]
fn hostname_and_pid_namespace_seen_from_inside() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("uts");
    let b = Bundle::with_args(&["sh", "-c", "hostname; echo $$"], support::cg(&id));
    let out = f.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(out.out, "ferrun-test\n1\n", "{out:?}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn runtime_binary_is_not_writable_through_proc_exe() {
    // CVE-2019-5736: after the container's init is gone, reopening its /proc/<pid>/exe for
    // writing must not reach the host's ferrun binary.
    support::require_root();
    // A private copy of the binary: while any other process executes the same inode, a write
    // open fails with ETXTBSY before the read-only mount is even consulted.
    let f = Rt::ferrun();
    let private = f.root.path().join("ferrun-copy");
    std::fs::copy(support::ferrun_bin(), &private).unwrap();
    let id = unique_id("cve5736");
    let b = Bundle::with_args(&["sleep", "60"], support::cg(&id));
    let out = support::run_watched(
        std::process::Command::new(&private)
            .arg("--root")
            .arg(f.root.path())
            .args(["create", "-b", b.path().to_str().unwrap(), &id]),
        support::WATCHDOG,
    );
    f.track(&id);
    assert_eq!(out.code, Some(0), "{out:?}");
    let pid = f.state(&id)["pid"].as_i64().unwrap();
    let exe = std::fs::File::options()
        .read(true)
        .custom_flags_opath()
        .open(format!("/proc/{pid}/exe"))
        .unwrap();
    f.ok(&["delete", "--force", &id]);
    use std::os::fd::AsRawFd;
    let reopened = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/self/fd/{}", exe.as_raw_fd()));
    let err = reopened.expect_err("the runtime binary was writable");
    assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{err}");
}

trait OPath {
    fn custom_flags_opath(&mut self) -> &mut Self;
}

impl OPath for std::fs::OpenOptions {
    fn custom_flags_opath(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_PATH)
    }
}
