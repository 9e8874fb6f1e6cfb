//! runc's command-line behaviour that the scenario language cannot reach: a stop signal in
//! the middle of `create` or `run` (sys/interrupt.rs), and a `--debug` line from every
//! command into `--log`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{cgroup_leaked, unique_id, Bundle, Rt};

/// A hook that records its pid in `marker`, then sleeps until something ends it.
fn sleeping_hook(marker: &Path) -> serde_json::Value {
    let script = format!("echo $$ > {}; exec sleep 1000", marker.display());
    json!({"path": "/bin/sh", "args": ["sh", "-c", script]})
}

/// Wait (bounded) for the hook to have written its pid.
fn hook_pid(marker: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(pid) = std::fs::read_to_string(marker)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "the hook never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The runtime's exit code, waiting at most 20 s (killing it after).
fn wait_bounded(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the runtime did not end within 20 s of the stop signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn gone(pid: i32) -> bool {
    !PathBuf::from(format!("/proc/{pid}")).exists()
}

/// Start `args` (create or run of `id`), send `signal` once the hook is asleep, and check
/// that the runtime ends with 128+signal and leaves no state, cgroup or hook behind.
fn interrupt_while_hook_sleeps(hook_kind: &str, verb: &str, signal: i32) {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("interrupted");
    let scratch = tempfile::tempdir().expect("scratch dir");
    let marker = scratch.path().join("hook.pid");
    let mut patch = support::cg(&id);
    support::merge(
        &mut patch,
        &json!({"hooks": {hook_kind: [sleeping_hook(&marker)]}}),
    );
    // The marker is written from the init's mount namespace for createContainer hooks:
    // bind the scratch directory at the same path inside.
    support::merge(
        &mut patch,
        &json!({"mounts": support::mounts_plus(json!([{
            "destination": scratch.path(), "type": "bind",
            "source": scratch.path(), "options": ["rbind"]
        }]))}),
    );
    let b = Bundle::with_args(&["sleep", "30"], patch);
    f.track(&id);
    let mut child = f
        .cmd()
        .args([verb, "-b", b.path().to_str().expect("utf-8"), &id])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferrun");
    let hook = hook_pid(&marker);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::try_from(signal).expect("signal"),
    )
    .expect("signal ferrun");
    let code = wait_bounded(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("read stderr");
    assert_eq!(code, Some(128 + signal), "{err}");
    assert!(err.contains("interrupted by SIG"), "{err}");
    assert!(!f.state_dir_exists(&id), "state of {id} left behind");
    assert!(cgroup_leaked(&id).is_empty(), "{:?}", cgroup_leaked(&id));
    // A createContainer hook runs in the container's pid namespace: its pid means nothing
    // here, but it ran in the container's cgroup, and that cgroup is gone (checked above).
    if hook_kind == "createContainer" {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(hook) {
        assert!(
            Instant::now() < deadline,
            "hook pid {hook} outlived the runtime"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn sigterm_during_a_create_hook_ends_create_and_leaves_nothing() {
    interrupt_while_hook_sleeps("createRuntime", "create", libc::SIGTERM);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn sigint_while_the_init_runs_a_hook_ends_run_and_leaves_nothing() {
    interrupt_while_hook_sleeps("createContainer", "run", libc::SIGINT);
}

/// The debug lines `--log` received since `seen` lines: their messages.
fn new_debug_lines(log: &Path, seen: &mut usize) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<String> = text.lines().skip(*seen).map(str::to_string).collect();
    *seen += lines.len();
    lines
        .into_iter()
        .filter(|l| l.contains(" level=debug "))
        .collect()
}

/// runc's debug.bats asks `--debug` of `run`; runc's users ask it of every command. Each of
/// them writes at least one debug line of its own to the log, in logrus's text form.
#[test]
#[ignore = "needs root and busybox-static"]
fn every_command_writes_its_own_debug_lines() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("debuglines");
    let b = Bundle::with_args(&["sleep", "30"], support::cg(&id));
    let scratch = tempfile::tempdir().expect("scratch dir");
    let log = scratch.path().join("debug.log");
    let logs = log.to_str().expect("utf-8");
    let bp = b.path().to_str().expect("utf-8");
    let mut seen = 0;
    for (args, prefix) in [
        (vec!["create", "-b", bp, &id], "create: "),
        (vec!["start", &id], "start: "),
        (vec!["state", &id], "state: "),
        (vec!["exec", &id, "true"], "exec: "),
        (vec!["ps", &id], "ps: "),
        (vec!["update", "--pids-limit", "100", &id], "update: "),
        (vec!["pause", &id], "pause: "),
        (vec!["resume", &id], "resume: "),
        (vec!["kill", &id, "KILL"], "kill: "),
        (vec!["delete", "--force", &id], "delete: "),
    ] {
        let mut full = vec!["--debug", "--log", logs];
        full.extend(&args);
        let done = f.run(&full).ok();
        assert!(
            !done.err.contains("level=debug"),
            "with --log, debug lines stay out of stderr: {}",
            done.err
        );
        let lines = new_debug_lines(&log, &mut seen);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("time=\"") && l.contains(&format!("msg=\"{prefix}"))),
            "{args:?}: no debug line starting {prefix:?} in {lines:#?}"
        );
        if args[0] == "exec" {
            // The exec child's own line, sent over its channel: after setns the `--log` path
            // would name a file in the container.
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("msg=\"nsexec container setup: exec: child joined")),
                "the exec child's debug line did not reach the log: {lines:#?}"
            );
        }
        if args[0] == "kill" {
            // delete --force right after: wait until the KILL landed, as a user would.
            let deadline = Instant::now() + Duration::from_secs(10);
            while f.state(&id)["status"] != "stopped" {
                assert!(Instant::now() < deadline, "KILL did not stop {id}");
                std::thread::sleep(Duration::from_millis(20));
            }
            seen = std::fs::read_to_string(&log).map_or(0, |t| t.lines().count());
        }
    }
}

/// A stop signal while `delete` waits for a poststop hook without a timeout: the hook is cut
/// short and delete still removes everything, so nothing is left half deleted.
#[test]
#[ignore = "needs root and busybox-static"]
fn sigterm_during_a_poststop_hook_still_deletes_everything() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("stopdelete");
    let scratch = tempfile::tempdir().expect("scratch dir");
    let marker = scratch.path().join("hook.pid");
    let mut patch = support::cg(&id);
    support::merge(
        &mut patch,
        &json!({"hooks": {"poststop": [sleeping_hook(&marker)]}}),
    );
    let b = Bundle::with_args(&["sleep", "30"], patch);
    f.create_start(&b, &id);
    f.track(&id);
    let mut child = f
        .cmd()
        .args(["delete", "--force", &id])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferrun");
    let hook = hook_pid(&marker);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal ferrun");
    let code = wait_bounded(&mut child);
    assert_eq!(code, Some(0), "delete finished its work");
    assert!(!f.state_dir_exists(&id), "state of {id} left behind");
    assert!(cgroup_leaked(&id).is_empty(), "{:?}", cgroup_leaked(&id));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(hook) {
        assert!(Instant::now() < deadline, "hook pid {hook} outlived delete");
        std::thread::sleep(Duration::from_millis(10));
    }
}
