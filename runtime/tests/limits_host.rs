//! Inputs at the edges: configs far larger than a socket buffer, and fd counts far larger
//! than what is open. Each must either work or fail with a clear error, never hang.

mod support;

use serde_json::{json, Value};
use support::{cg, unique_id, Bundle, Rt};

/// `n` annotations of `size` bytes each.
fn annotations(n: usize, size: usize) -> Value {
    let map: serde_json::Map<String, Value> = (0..n)
        .map(|i| (format!("example.com/a{i}"), json!("v".repeat(size))))
        .collect();
    Value::Object(map)
}

/// create, state (the annotations come back whole), start, wait for the exit code, delete.
fn round_trip(rt: &Rt, tag: &str, notes: Value) {
    let id = unique_id(tag);
    let mut patch = cg(&id);
    patch["annotations"] = notes.clone();
    let b = Bundle::with_args(&["true"], patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(0), "create: {}", done.err);
    assert_eq!(rt.state(&id)["annotations"], notes);
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
