//! Seccomp user notification (config-linux.md#seccomp: SCMP_ACT_NOTIFY, `listenerPath`,
//! `listenerMetadata`; runtime.md#state, `containerProcessState`), end to end with a tiny
//! agent in the test (seccomp_notify/agent.rs): what the agent receives, errnos it answers,
//! an absent or dying agent, notify rules on the syscalls ferrun itself makes after the filter
//! is loaded, a startContainer hook and exec. Each case runs with noNewPrivileges false and
//! true where that moves the filter load (before the capabilities drop, or last).

mod support;

#[path = "seccomp_notify/agent.rs"]
mod agent;

use agent::{Agent, Mode};
use serde_json::{json, Value};
use support::{sh, sh_bundle, unique_id, Need, Rt};

/// ENOMEDIUM: an errno no real mkdir or chmod here returns ("No medium found").
const ENOMEDIUM: i32 = 123;

/// A profile that allows everything but sends `names` to the agent at `path`.
fn notify(path: &str, names: &[&str]) -> Value {
    json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path, "listenerMetadata": "bar",
           "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"],
           "syscalls": [{"names": names, "action": "SCMP_ACT_NOTIFY"}]})
}

fn patch(seccomp: Value, nnp: bool) -> Value {
    json!({"process": {"noNewPrivileges": nnp}, "linux": {"seccomp": seccomp}})
}

/// `create` fails with `want` in its error and leaves nothing: no state, no cgroup, no
/// container in `list`.
fn assert_create_fails_cleanly(rt: &Rt, tag: &str, patch: Value, want: &str) {
    let id = unique_id(tag);
    let b = sh_bundle(&id, "true", patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.err.contains(want), "{want:?} not in {done:?}");
    assert!(!rt.state_dir_exists(&id), "state left behind");
    assert!(support::cgroup_leaked(&id).is_empty(), "cgroup left behind");
    assert_eq!(rt.ok(&["list", "-q"]), "");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn the_agent_gets_the_process_state_and_a_notified_mkdir_continues() {
    support::require_root();
    let rt = Rt::new();
    for nnp in [false, true] {
        let agent = Agent::start(Mode::allow_all());
        let script = "mkdir /tmp/d && test -d /tmp/d && echo made";
        let id = unique_id("scn-state");
        let b = sh_bundle(
            &id,
            script,
            patch(notify(agent.path_str(), &["mkdir"]), nnp),
        );
        let done = rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
        let seen = agent.finish();
        assert_eq!(done.code, Some(0), "nnp={nnp}: {done:?} {seen:?}");
        assert_eq!(done.out, "made\n", "{done:?}");
        assert_eq!(seen.fds, [1], "{seen:?}");
        assert!(seen.errors.is_empty(), "{seen:?}");
        assert!(seen.syscalls.iter().any(|s| s == "mkdir"), "{seen:?}");
        let st = &seen.states[0];
        assert!(
            !st["ociVersion"].as_str().unwrap_or_default().is_empty(),
            "{st}"
        );
        assert_eq!(st["fds"], json!(["seccompFd"]), "{st}");
        assert_eq!(st["metadata"], "bar", "{st}");
        // runc: the init's state while it is being created, the process is the init.
        assert_eq!(st["state"]["status"], "creating", "{st}");
        assert_eq!(st["state"]["id"], id.as_str(), "{st}");
        assert_eq!(st["state"]["bundle"], b.path().to_str().unwrap(), "{st}");
        assert!(st["pid"].as_i64().unwrap_or(0) > 0, "{st}");
        assert_eq!(st["pid"], st["state"]["pid"], "{st}");
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn errno_answers_of_the_agent_reach_the_container() {
    support::require_root();
    let rt = Rt::new();
    for nnp in [false, true] {
        let names = ["chmod", "fchmod", "fchmodat", "mkdir", "mkdirat"];
        let agent = Agent::start(Mode::errno(&names.map(|n| (n, ENOMEDIUM))));
        let script = "touch /tmp/f; chmod 777 /tmp/f 2>&1; mkdir /tmp/d 2>&1; \
                      stat -c %a /tmp/f; test -d /tmp/d || echo no-dir";
        let done = sh(
            &rt,
            "scn-errno",
            script,
            patch(notify(agent.path_str(), &names), nnp),
        );
        let seen = agent.finish();
        assert_eq!(done.code, Some(0), "nnp={nnp}: {done:?} {seen:?}");
        assert!(
            done.out.contains("chmod: /tmp/f: No medium found"),
            "{done:?}"
        );
        assert!(done.out.contains("'/tmp/d': No medium found"), "{done:?}");
        // The refused chmod changed nothing.
        assert!(done.out.contains("\n644\nno-dir\n"), "{done:?}");
    }
}

/// Notify rules on what ferrun's init (and exec child) calls once the filter is loaded: with
/// noNewPrivileges false that is the capability drop, the user switch, the ready report, the
/// start wait, the fd and signal resets and execve. None may wait on the agent before it
/// holds the fd. (Notably sendto: std's UnixStream writes with it, so the fd number goes out
/// with a plain write(2), the one syscall runc and ferrun keep out of notify rules.)
const RUNTIME_SYSCALLS: &[&str] = &[
    "execve",
    "close",
    "close_range",
    "read",
    "openat",
    "open",
    "sendto",
    "recvfrom",
    "accept4",
    "prctl",
    "capset",
    "capget",
    "setgroups",
    "setresuid",
    "setresgid",
    "umask",
    "rt_sigprocmask",
    "rt_sigaction",
    "fcntl",
    "newfstatat",
    "statx",
    "mmap",
    "munmap",
    "brk",
    "chdir",
    "getcwd",
    "ioctl",
    "dup2",
    "dup3",
    "sendmsg",
    "recvmsg",
    "poll",
    "getpid",
    "exit_group",
];

#[test]
#[ignore = "needs root and busybox-static"]
fn notify_on_the_runtimes_own_syscalls_does_not_deadlock() {
    support::require_root();
    let rt = Rt::new();
    for nnp in [false, true] {
        let agent = Agent::start(Mode::allow_all());
        let seccomp = notify(agent.path_str(), RUNTIME_SYSCALLS);
        let id = unique_id("scn-own");
        let b = sh_bundle(&id, "echo alive", patch(seccomp, nnp));
        let bundle = b.path().to_str().unwrap();
        // create and start apart: the start wait (accept4, read) runs under the filter too.
        rt.run(&["create", "-b", bundle, &id]).ok();
        rt.ok(&["start", &id]);
        support::wait_status(&rt, &id, "stopped");
        rt.ok(&["delete", &id]);
        let seen = agent.finish();
        assert!(seen.errors.is_empty(), "{seen:?}");
        assert!(
            seen.syscalls.iter().any(|s| s == "execve"),
            "nnp={nnp}: {seen:?}"
        );
        assert!(
            seen.syscalls.iter().any(|s| s == "close"),
            "nnp={nnp}: {seen:?}"
        );
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn runcs_refusals_come_before_anything_exists() {
    support::require_root();
    let rt = Rt::ferrun();
    let with_path = |names: &[&str]| notify("/run/ferrun-test-agent.sock", names);
    let mut default_notify = with_path(&["mkdir"]);
    default_notify["defaultAction"] = json!("SCMP_ACT_NOTIFY");
    default_notify["syscalls"] = json!([{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]);
    let mut empty_path = with_path(&["mkdir"]);
    empty_path["listenerPath"] = json!("");
    let mut no_path = with_path(&["mkdir"]);
    no_path.as_object_mut().unwrap().remove("listenerPath");
    let cases = [
        (
            with_path(&["read", "write"]),
            "SCMP_ACT_NOTIFY cannot be used for the write syscall",
        ),
        (
            default_notify,
            "SCMP_ACT_NOTIFY cannot be used as default action",
        ),
        (
            empty_path,
            "linux.seccomp.listenerPath: listenerPath is not set",
        ),
        (
            no_path,
            "linux.seccomp.listenerPath: listenerPath is not set",
        ),
    ];
    for (seccomp, want) in cases {
        assert_create_fails_cleanly(&rt, "scn-refused", patch(seccomp, true), want);
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn an_absent_agent_fails_create_and_run_leaving_nothing() {
    support::require_root();
    let rt = Rt::ferrun();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nobody-listens.sock");
    let path = path.to_str().unwrap();
    let want = format!(
        "failed to connect with seccomp agent specified in the seccomp profile: dial unix \
         {path}: connect: no such file or directory"
    );
    for nnp in [false, true] {
        let seccomp = notify(path, &["mkdir"]);
        assert_create_fails_cleanly(&rt, "scn-absent", patch(seccomp.clone(), nnp), &want);
        let done = sh(&rt, "scn-absent-run", "echo never", patch(seccomp, nnp));
        assert_eq!(done.code, Some(1), "{done:?}");
        assert!(done.err.contains(&want), "{done:?}");
        assert_eq!(done.out, "", "{done:?}");
    }
    assert_eq!(rt.ok(&["list", "-q"]), "");
}

/// The kernel answers a notification ENOSYS once no listener fd is left open: an agent that
/// died must not leave the container hanging (runc's "kill seccompagent" case).
#[test]
#[ignore = "needs root and busybox-static"]
fn a_dead_agent_leaves_notified_syscalls_failing_with_enosys() {
    support::require_root();
    let rt = Rt::new();
    for nnp in [false, true] {
        let agent = Agent::start(Mode::Die);
        let script = "mkdir /tmp/d 2>&1; echo rc=$?";
        let done = sh(
            &rt,
            "scn-dead",
            script,
            patch(notify(agent.path_str(), &["mkdir", "mkdirat"]), nnp),
        );
        let seen = agent.finish();
        assert_eq!(done.code, Some(0), "nnp={nnp}: {done:?}");
        assert_eq!(seen.fds, [1], "{seen:?}");
        assert!(
            done.out.contains("Function not implemented") && done.out.ends_with("rc=1\n"),
            "{done:?}"
        );
    }
}

/// runc's seccomp-notify.bats: a startContainer hook gets no extra fd (stdio and the one `ls`
/// opens), and it runs under the filter, whose agent answers its mkdir.
#[test]
#[ignore = "needs root and busybox-static"]
fn a_start_container_hook_runs_under_notify_rules_without_the_listener_fd() {
    support::require_root();
    let rt = Rt::new();
    for nnp in [false, true] {
        let agent = Agent::start(Mode::allow_all());
        let hook = "n=$(ls /proc/self/fd | wc -l); [ \"$n\" -eq 4 ] || { echo \"fds: $n\" >&2; exit 1; }; \
                    mkdir /tmp/from-hook";
        let mut p = patch(notify(agent.path_str(), &["mkdir", "mkdirat"]), nnp);
        p["hooks"] = json!({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", hook]}]});
        let done = sh(
            &rt,
            "scn-hook",
            "test -d /tmp/from-hook && echo hook-ran",
            p,
        );
        let seen = agent.finish();
        assert_eq!(done.code, Some(0), "nnp={nnp}: {done:?} {seen:?}");
        assert_eq!(done.out, "hook-ran\n", "{done:?}");
        assert!(
            seen.syscalls.iter().any(|s| s.starts_with("mkdir")),
            "{seen:?}"
        );
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn exec_hands_its_own_listener_to_the_agent() {
    support::require_root();
    let rt = Rt::new();
    for nnp in [false, true] {
        let agent = Agent::start(Mode::errno(&[("mkdir", ENOMEDIUM), ("mkdirat", ENOMEDIUM)]));
        let id = unique_id("scn-exec");
        let seccomp = notify(agent.path_str(), &["mkdir", "mkdirat"]);
        let b = sh_bundle(&id, "sleep 30", patch(seccomp, nnp));
        rt.run(&["run", "-d", "-b", b.path().to_str().unwrap(), &id])
            .ok();
        let init = rt.pid(&id);
        let done = rt.run(&["exec", &id, "sh", "-c", "mkdir /tmp/e 2>&1; echo rc=$?"]);
        let seen = agent.finish();
        // With the agent gone, exec fails as runc's does (exit 255) and runs nothing.
        let orphan = rt.run(&["exec", &id, "sh", "-c", "echo ran"]);
        rt.cleanup();
        assert_eq!(orphan.code, Some(255), "{orphan:?}");
        assert!(
            orphan.err.contains("failed to connect with seccomp agent"),
            "{orphan:?}"
        );
        assert_eq!(orphan.out, "", "{orphan:?}");
        assert_eq!(done.code, Some(0), "nnp={nnp}: {done:?} {seen:?}");
        assert!(done.out.contains("No medium found"), "{done:?}");
        assert_eq!(seen.fds, [1, 1], "{seen:?}");
        let st = &seen.states[1];
        // runc: an exec'd process is announced with the container `running` and its own pid.
        assert_eq!(st["state"]["status"], "running", "{st}");
        assert_eq!(st["state"]["pid"], init, "{st}");
        assert_ne!(st["pid"], init, "{st}");
        assert_eq!(st["metadata"], "bar", "{st}");
    }
}

/// Rootless, ferrun cannot take the listener fd: its init is not dumpable until execve
/// (CVE-2016-9962), and pidfd_getfd on it needs CAP_SYS_PTRACE over the host. create fails
/// saying so, and leaves nothing.
#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn rootless_notify_fails_with_the_reason_and_leaves_nothing() {
    use std::os::unix::fs::PermissionsExt;
    const UID: u32 = 65534;
    support::require(&[Need::Root, Need::Busybox, Need::UsernsFor(UID)]);
    let user = Rt::as_user(UID);
    let agent = Agent::start(Mode::allow_all());
    support::open_up(agent.path.parent().unwrap());
    std::fs::set_permissions(&agent.path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let dir = tempfile::Builder::new()
        .prefix("ferrun-rootless-bundle-")
        .tempdir()
        .unwrap();
    support::busybox_rootfs(&dir.path().join("rootfs"));
    let b = dir.path().to_str().unwrap();
    let chown = std::process::Command::new("chown")
        .args(["-R", &format!("{UID}:{UID}"), b])
        .status()
        .unwrap();
    assert!(chown.success());
    user.ok(&["spec", "--rootless", "--bundle", b]);
    let path = dir.path().join("config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let seccomp = notify(agent.path_str(), &["mkdir", "mkdirat"]);
    support::merge(
        &mut cfg,
        &json!({"process": {"terminal": false, "args": ["true"]}, "linux": {"seccomp": seccomp}}),
    );
    std::fs::write(&path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let id = unique_id("scn-rootless");
    let done = user.run(&["run", "-b", b, &id]);
    let seen = agent.finish();
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.err
            .contains("seccomp notify is not supported rootless"),
        "{done:?}"
    );
    assert!(seen.states.is_empty(), "{seen:?}");
    assert!(!user.state_dir(&id).exists(), "state left behind");
}
