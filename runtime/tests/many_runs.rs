//! 1000 sequential `ferrun run` of a /bin/true bundle: none may hang (each has a 20 s
//! watchdog that kills it and fails the test), all must exit 0, and nothing may be left
//! behind (state directories, cgroups). This is the regression guard for the race where a
//! container that exits before the runtime waits for it makes `run` hang forever.
//!
//! 1000 runs of the debug build take ~80 s on the 2-core dev VM, too long for every
//! `cargo test`: the default is 100 runs, and `.ci/run` sets FERRUN_MANY_RUNS=1000 for the
//! full count (any number works).

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{run_watched, Rt};

#[test]
#[ignore = "needs root and busybox-static"]
fn a_thousand_sequential_runs_all_succeed() {
    support::require_root();
    let n = support::env_count("FERRUN_MANY_RUNS", 100);
    let rt = Rt::new();
    let tag = format!("many-{}", std::process::id());
    // No cgroupsPath: each run gets the default cgroup named after its id, so a leak shows
    // up as a directory per run.
    let b = support::Bundle::with_args(&["/bin/true"], json!({}));
    let bundle = b.path().to_str().unwrap().to_string();
    let started = Instant::now();
    let mut ok = 0;
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for i in 0..n {
        let id = format!("{tag}-{i}");
        let t = Instant::now();
        let done = run_watched(
            rt.cmd().args(["run", "-b", &bundle, &id]),
            support::WATCHDOG,
        );
        slowest = slowest.max(t.elapsed());
        if done.code == Some(0) {
            ok += 1;
        } else {
            rt.track(&id);
            if failures.len() < 5 {
                failures.push(format!("run {i}: {done:?}"));
            }
        }
    }
    let total = started.elapsed();
    eprintln!(
        "{ok}/{n} runs succeeded in {total:?} ({:?} per run, slowest {slowest:?})",
        total / n.max(1) as u32
    );
    assert_eq!(ok, n, "failures: {failures:#?}");
    let left: Vec<_> = std::fs::read_dir(rt.root.path())
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "state left behind: {left:?}");
    let leaked = support::own_cgroups_tagged(&tag);
    assert!(leaked.is_empty(), "cgroups left behind: {leaked:?}");
}
