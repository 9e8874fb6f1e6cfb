//! Crash consistency of the state store: whatever a killed, starved or read-only-rooted command
//! leaves behind, `list` still works, `kill` and `delete --force` still stop the container and
//! remove everything, and the id can be created again.

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::{
    cg, cgroup_leaked, cgroup_procs, eventually, pid_alive, run_watched, unique_id, Bundle, Done,
    Need, Rt, WATCHDOG,
};

fn sleeper(id: &str) -> Bundle {
    Bundle::with_args(&["sleep", "1000"], cg(id))
}

fn bundle_arg(b: &Bundle) -> &str {
    b.path().to_str().expect("utf-8 bundle path")
}

/// Nothing of `id` is left: no state directory, no cgroup, none of `pids` alive.
fn assert_gone(rt: &Rt, id: &str, pids: &[i32]) {
    assert!(!rt.state_dir_exists(id), "state of {id} left behind");
    assert!(cgroup_leaked(id).is_empty(), "cgroup of {id} left behind");
    for &pid in pids {
        assert!(
            eventually(Duration::from_secs(5), || !pid_alive(pid)),
            "process {pid} of {id} still alive"
        );
    }
}

/// A small tmpfs over the runtime's state root, to fill up or make read-only. Dropped before
/// the runtime: it makes the root writable and empty of filler again, force-deletes the
/// containers (their state lives here) and unmounts.
struct TmpfsRoot<'a> {
    rt: &'a Rt,
}

impl<'a> TmpfsRoot<'a> {
    fn mount(rt: &'a Rt) -> Self {
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k,mode=0700", "ferrun-test"])
            .arg(rt.root.path())
            .status()
            .expect("run mount");
        assert!(st.success(), "mount tmpfs on the state root: {st}");
        TmpfsRoot { rt }
    }

    fn remount(&self, how: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(self.rt.root.path())
            .status()
            .expect("run mount");
        assert!(st.success(), "remount {how}: {st}");
    }

    fn filler(&self) -> std::path::PathBuf {
        self.rt.root.path().join("filler")
    }

    /// Write until the filesystem is full.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.filler()).expect("create filler");
        let chunk = [0u8; 4096];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("fill the state root: {e}"),
            }
        }
    }
}

impl Drop for TmpfsRoot<'_> {
    fn drop(&mut self) {
        let _ = Command::new("mount")
            .args(["-o", "remount,rw"])
            .arg(self.rt.root.path())
            .status();
        let _ = std::fs::remove_file(self.filler());
        self.rt.cleanup();
        let _ = Command::new("umount").arg(self.rt.root.path()).status();
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn a_state_dir_without_state_is_skipped_by_list_and_removed_by_delete_force() {
    support::require_root();
    let rt = Rt::ferrun();
    let (good, ghost) = (unique_id("good"), unique_id("ghost"));
    let b = sleeper(&good);
    rt.ok(&["create", "-b", bundle_arg(&b), &good]);
    // What a create killed during its first state write leaves (issue 9, item 4).
    let dir = rt.state_dir(&ghost);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("lock"), "").unwrap();
    std::fs::write(dir.join(".state.json.tmp"), "{\"id\":").unwrap();
    rt.track(&ghost);

    assert_eq!(rt.ok(&["list", "-q"]), format!("{good}\n"));
    let state = rt.run(&["state", &ghost]);
    assert_eq!(state.code, Some(1), "{state:?}");
    assert!(state.err.contains("does not exist"), "{state:?}");

    rt.ok(&["delete", "--force", &ghost]);
    assert!(!dir.exists(), "delete --force left the directory");
    let b2 = sleeper(&ghost);
    rt.ok(&["create", "-b", bundle_arg(&b2), &ghost]);
    assert_eq!(rt.state(&ghost)["status"], "created");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn create_on_a_full_state_root_fails_and_leaves_nothing() {
    support::require_root();
    let rt = Rt::ferrun();
    let root = TmpfsRoot::mount(&rt);
    root.fill();
    let id = unique_id("full");
    let b = sleeper(&id);
    let out = rt.run(&["create", "-b", bundle_arg(&b), &id]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.err.contains("No space left on device"), "{out:?}");
    assert_gone(&rt, &id, &[]);
    assert_eq!(rt.ok(&["list", "-q"]), "");
    // Room again: the id was never taken.
    std::fs::remove_file(root.filler()).unwrap();
    rt.ok(&["create", "-b", bundle_arg(&b), &id]);
}

/// The init of a created container: its exec.sock protocol, driven by hand the way a `start`
/// killed right after the init executed left it (the socket file still there, state.json
/// still saying "created").
fn start_by_hand(rt: &Rt, id: &str) {
    let sock = rt.state_dir(id).join("exec.sock");
    let mut conn = std::os::unix::net::UnixStream::connect(&sock).expect("connect exec.sock");
    conn.write_all(b"s").unwrap();
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply).unwrap();
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    assert!(sock.exists());
}

#[test]
#[ignore = "needs root and busybox-static"]
fn a_killed_start_and_its_retry_leave_a_running_container_kill_and_delete_can_stop() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = unique_id("restart");
    let b = sleeper(&id);
    rt.ok(&["create", "-b", bundle_arg(&b), &id]);
    let pid = rt.pid(&id);
    start_by_hand(&rt, &id);
    support::wait_exec(pid, "sleep");
    assert_eq!(rt.state(&id)["status"], "running");

    let retry = rt.run(&["start", &id]);
    assert_eq!(retry.code, Some(1), "{retry:?}");
    assert!(retry.err.contains("it is running"), "{retry:?}");
    let st = rt.state(&id);
    assert_eq!(
        (st["status"].as_str(), st["pid"].as_i64()),
        (Some("running"), Some(pid as i64))
    );

    rt.ok(&["kill", &id, "KILL"]);
    support::wait_status(&rt, &id, "stopped");
    rt.ok(&["delete", &id]);
    assert_gone(&rt, &id, &[pid]);
}

/// Run `ferrun create` under strace, killed at the `n`th call of `syscall` (0: not killed),
/// and return how many calls of it strace saw.
fn create_under_strace(rt: &Rt, b: &Bundle, id: &str, syscall: &str, n: usize) -> (Done, usize) {
    rt.track(id);
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("strace");
    cmd.arg("-o")
        .arg(log.path())
        .args(["-e", &format!("trace={syscall}")]);
    if n > 0 {
        cmd.args(["-e", &format!("inject={syscall}:signal=SIGKILL:when={n}")]);
    }
    cmd.arg(&rt.bin).arg("--root").arg(rt.root.path());
    cmd.args(["create", "-b", bundle_arg(b), id]);
    let done = run_watched(&mut cmd, WATCHDOG);
    let calls = std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(&format!("{syscall}(")))
        .count();
    (done, calls)
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn a_create_killed_after_the_init_is_ready_is_removed_by_delete_force() {
    support::require(&[Need::Root, Need::Busybox, Need::Strace]);
    let rt = Rt::ferrun();
    // The last rename of create is its last state write, after the init reported Ready.
    let probe = unique_id("renames");
    let (done, renames) = create_under_strace(&rt, &sleeper(&probe), &probe, "rename", 0);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(renames > 0);

    let id = unique_id("ready");
    let b = sleeper(&id);
    let (done, _) = create_under_strace(&rt, &b, &id, "rename", renames);
    assert_eq!(done.code, None, "create was not killed: {done:?}");
    let pids = cgroup_procs(&id);
    assert!(
        !pids.is_empty(),
        "the ready init should be blocked in its cgroup"
    );
    assert!(rt.ok(&["list"]).contains(&id));

    rt.ok(&["delete", "--force", &id]);
    assert_gone(&rt, &id, &pids);
    rt.ok(&["create", "-b", bundle_arg(&b), &id]);
    rt.ok(&["delete", "--force", &id]);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn kill_and_delete_force_stop_a_container_on_a_read_only_state_root() {
    support::require_root();
    let rt = Rt::ferrun();
    let root = TmpfsRoot::mount(&rt);
    let (a, b) = (unique_id("ro-kill"), unique_id("ro-delete"));
    let (ba, bb) = (sleeper(&a), sleeper(&b));
    let pa = rt.create_start(&ba, &a);
    let pb = rt.create_start(&bb, &b);
    root.remount("ro");

    rt.ok(&["kill", &a, "KILL"]);
    assert!(
        eventually(Duration::from_secs(5), || !pid_alive(pa)),
        "kill did not stop {a}"
    );
    support::wait_status(&rt, &a, "stopped");

    let del = rt.run(&["delete", "--force", &b]);
    assert!(
        eventually(Duration::from_secs(5), || !pid_alive(pb)),
        "delete --force did not stop {b}: {del:?}"
    );
    assert!(cgroup_leaked(&b).is_empty(), "{del:?}");
    // The state cannot go on a read-only root: that is the one thing reported.
    assert_eq!(del.code, Some(1), "{del:?}");
    assert!(del.err.contains("Read-only file system"), "{del:?}");

    root.remount("rw");
    rt.ok(&["delete", "--force", &b]);
    rt.ok(&["delete", &a]);
    assert_gone(&rt, &a, &[pa]);
    assert_gone(&rt, &b, &[pb]);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn start_on_a_full_state_root_starts_and_says_so() {
    support::require_root();
    let rt = Rt::ferrun();
    let root = TmpfsRoot::mount(&rt);
    let id = unique_id("full-start");
    let b = sleeper(&id);
    rt.ok(&["create", "-b", bundle_arg(&b), &id]);
    let pid = rt.pid(&id);
    root.fill();
    rt.ok(&["start", &id]);
    support::wait_exec(pid, "sleep");
    assert_eq!(rt.state(&id)["status"], "running");
    rt.ok(&["pause", &id]);
    assert_eq!(rt.state(&id)["status"], "paused");
    rt.ok(&["resume", &id]);
    assert_eq!(rt.state(&id)["status"], "running");
    rt.ok(&["delete", "--force", &id]);
    assert_gone(&rt, &id, &[pid]);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn list_shows_an_unfinished_create_as_creating_and_delete_force_removes_it() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = unique_id("creating");
    let b = sleeper(&id);
    rt.ok(&["create", "-b", bundle_arg(&b), &id]);
    let pid = rt.pid(&id);
    // What a create killed before its last state write leaves: the record says creating.
    let path = rt.state_dir(&id).join("state.json");
    let mut st: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    st["status"] = json!("creating");
    std::fs::write(&path, st.to_string()).unwrap();

    let list: serde_json::Value = serde_json::from_str(&rt.ok(&["list", "-f", "json"])).unwrap();
    assert_eq!(list[0]["status"], "creating");
    for args in [
        &["start", &id][..],
        &["kill", &id, "KILL"],
        &["delete", &id],
    ] {
        let out = rt.run(args);
        assert_eq!(
            out.code,
            Some(1),
            "{args:?} on an unfinished create: {out:?}"
        );
    }
    rt.ok(&["delete", "--force", &id]);
    assert_gone(&rt, &id, &[pid]);
}
