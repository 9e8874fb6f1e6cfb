//! Root tests that a created container's init cannot be inspected or attached to by a
//! process exec'd into the same container before `start` (CVE-2016-9962's class): the init
//! still runs runtime code and holds the start socket, so it stays non-dumpable
//! (prctl PR_SET_DUMPABLE 0) until it executes the user process. With dumpable 0 the
//! kernel's ptrace access check (which guards /proc/PID/mem, environ, fd, exe, cwd) needs
//! CAP_SYS_PTRACE, which a default-capabilities container process lacks. After `start` the
//! execve makes the user process dumpable again, as with any runtime.

use serde_json::json;

mod support;

use support::{cg, Bundle, Rt};

/// The init's files that ptrace access guards, each opened from a process exec'd into the
/// container (busybox: `dd ... count=0` opens and reads nothing).
const PROBES: [(&str, &str); 5] = [
    ("mem", "dd if=/proc/1/mem of=/dev/null bs=1 count=0"),
    ("environ", "cat /proc/1/environ"),
    ("exe", "readlink -v /proc/1/exe"),
    ("cwd", "ls /proc/1/cwd/"),
    ("fd", "readlink -v /proc/1/fd/0"),
];

fn exec_sh(rt: &Rt, id: &str, script: &str) -> support::Done {
    rt.run(&["exec", id, "sh", "-c", script])
}

#[test]
#[ignore = "needs root and busybox-static"]
fn an_exec_before_start_cannot_inspect_or_attach_to_the_init() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("ptrace");
    let mut cfg = support::base_config(&["sleep", "300"]);
    support::merge(&mut cfg, &cg(&id));
    support::merge(
        &mut cfg,
        &json!({"process": {"env": ["PATH=/bin", "SECRET=init-env"]}}),
    );
    let b = Bundle::new(&cfg);
    rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);

    // The exec'd process itself works (it joined every namespace), but not on the init.
    let me = exec_sh(&rt, &id, "echo $$; cat /proc/self/status | grep ^CapEff");
    assert_eq!(me.code, Some(0), "{me:#?}");
    for (what, script) in PROBES {
        let done = exec_sh(&rt, &id, script);
        assert_ne!(
            done.code,
            Some(0),
            "{what} of the created init was accessible: {done:#?}"
        );
        assert!(
            done.err.contains("Permission denied") || done.err.contains("Operation not permitted"),
            "{what}: {done:#?}"
        );
        assert!(!done.out.contains("init-env"), "{what}: {}", done.out);
    }

    // After start the user process is dumpable again: the same probes succeed.
    rt.ok(&["start", &id]);
    support::wait_status(&rt, &id, "running");
    for (what, script) in PROBES {
        // Until the init has exec'd sleep, it may still be the runtime: retry briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let done = loop {
            let done = exec_sh(&rt, &id, script);
            if done.code == Some(0) || std::time::Instant::now() > deadline {
                break done;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(
            done.code,
            Some(0),
            "{what} of the started process: {done:#?}"
        );
    }
    let env = exec_sh(&rt, &id, "tr '\\0' '\\n' < /proc/1/environ");
    assert!(env.out.contains("SECRET=init-env"), "{env:#?}");
}

/// The owner of /proc/<pid>/environ: the process's euid while it is dumpable, root while it
/// is not (proc(5); the /proc/<pid> directory itself always shows the euid).
fn proc_owner(pid: i32) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/environ"))
        .expect("stat /proc/<pid>/environ")
        .uid()
}

/// execve makes the program, and a process started by `exec`, dumpable again (as with runc):
/// seen from the host as /proc/<pid>/environ belonging to the process's uid, not root.
#[test]
#[ignore = "needs root and busybox-static"]
fn the_program_and_exec_processes_are_dumpable_after_execve() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("dumpable");
    let b = support::sh_bundle(
        &id,
        "exec sleep 300",
        json!({"process": {"user": {"uid": 1000, "gid": 1000}}}),
    );
    rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
    let pid = rt.pid(&id);
    assert_eq!(proc_owner(pid), 0, "the created init is not dumpable");
    rt.ok(&["start", &id]);
    assert_eq!(proc_owner(pid), 1000, "the program is dumpable");

    let pid_file = b.path().join("exec.pid");
    rt.ok(&[
        "exec",
        "-d",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "-u",
        "1001:1001",
        &id,
        "sleep",
        "200",
    ]);
    let exec_pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("exec pid file")
        .trim()
        .parse()
        .expect("pid");
    assert_eq!(proc_owner(exec_pid), 1001, "the exec'd program is dumpable");
}
