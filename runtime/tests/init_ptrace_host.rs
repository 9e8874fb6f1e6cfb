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
