//! Inputs at the edges: configs far larger than a socket buffer, and fd counts far larger
//! than what is open. Each must either work or fail with a clear error, never hang.

mod support;

use serde_json::{json, Value};
use support::{cg, fds_of, give_fds, unique_id, Bundle, Rt};

/// `n` annotations of `size` bytes each.
fn annotations(n: usize, size: usize) -> Value {
    let map: serde_json::Map<String, Value> = (0..n)
        .map(|i| (format!("example.com/a{i}"), json!("v".repeat(size))))
        .collect();
    Value::Object(map)
}

/// create, state (the annotations come back whole), start, wait for the exit code, delete.
/// A createContainer hook, which the init runs with the state it received over its channel
/// from the runtime, saves that state: it holds the annotations whole too.
fn round_trip(rt: &Rt, tag: &str, notes: Value) {
    let id = unique_id(tag);
    let seen = tempfile::tempdir().unwrap();
    let saved = seen.path().join("state.json");
    let mut patch = cg(&id);
    patch["annotations"] = notes.clone();
    patch["hooks"] = json!({"createContainer": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", format!("cat > {}", saved.display())]
    }]});
    let b = Bundle::with_args(&["true"], patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(0), "create: {}", done.err);
    assert_eq!(rt.state(&id)["annotations"], notes);
    let hook_state: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(hook_state["annotations"], notes);
    rt.ok(&["start", &id]);
    support::wait_status(rt, &id, "stopped");
    rt.ok(&["delete", &id]);
}

/// Kubernetes allows 256 KB of annotations; 1 MB once broke create (the init's message was cut
/// at 64 KiB).
#[test]
#[ignore = "needs root and busybox-static"]
fn a_megabyte_of_annotations_round_trips() {
    support::require_root();
    round_trip(&Rt::new(), "annot", annotations(16, 64 << 10));
}

/// runc takes configs of tens of megabytes: one of 24 MB works too.
#[test]
#[ignore = "needs root and busybox-static"]
fn a_config_of_24_megabytes_round_trips() {
    support::require_root();
    round_trip(&Rt::new(), "bigcfg", annotations(3, 8 << 20));
}

/// `--preserve-fds` asking for more fds than the caller has open fails at once, with a
/// message naming the first missing fd (runc fails too), instead of allocating, overflowing or
/// passing ferrun's own fds (state lock, sockets) to the container, which deadlocked `run`.
#[test]
#[ignore = "needs root and busybox-static"]
fn preserve_fds_beyond_the_callers_open_fds_fails_fast() {
    support::require_root();
    let rt = Rt::ferrun();
    for (n, first_missing) in [("1000000", 5), ("5", 5), ("4294967295", 5)] {
        let id = unique_id("pfdbig");
        let b = Bundle::with_args(&["true"], cg(&id));
        let f3 = std::fs::File::open("/etc/hostname").unwrap();
        let f4 = std::fs::File::open("/etc/hostname").unwrap();
        let args = [
            "run",
            "--preserve-fds",
            n,
            "-b",
            b.path().to_str().unwrap(),
            &id,
        ];
        let done = rt.run_with(&args, |c| give_fds(c, vec![(f3, 3), (f4, 4)]));
        assert_eq!(done.code, Some(1), "--preserve-fds {n}: {done:?}");
        let want = format!("fd {first_missing} is not open");
        assert!(done.err.contains(&want), "--preserve-fds {n}: {}", done.err);
        assert!(!rt.state_dir_exists(&id), "state of {id} left behind");
    }
}

/// The preserved fds are exactly the caller's: ferrun's own (the state lock, the init
/// channel, exec.sock) stay out of the container even when they would fall in 3..3+N.
#[test]
#[ignore = "needs root and busybox-static"]
fn preserved_fds_are_the_callers_only() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = unique_id("pfdown");
    let b = Bundle::with_args(&["sleep", "60"], cg(&id));
    let f3 = std::fs::File::open("/etc/hostname").unwrap();
    let args = [
        "create",
        "--preserve-fds",
        "1",
        "-b",
        b.path().to_str().unwrap(),
        &id,
    ];
    rt.run_with(&args, |c| give_fds(c, vec![(f3, 3)])).ok();
    let pid = rt.pid(&id);
    rt.ok(&["start", &id]);
    support::wait_exec(pid, "sleep");
    assert_eq!(fds_of(pid), [0, 1, 2, 3]);
    let target = std::fs::read_link(format!("/proc/{pid}/fd/3")).unwrap();
    assert_eq!(target, std::path::Path::new("/etc/hostname"));
    // Nothing the container holds blocks the runtime.
    rt.ok(&["delete", "--force", &id]);
}
