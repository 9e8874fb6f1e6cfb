//! Many whole lifecycles at once against one state root: create, start, state, kill, wait
//! for "stopped", delete. Every command runs under the watchdog, so a lock that one container
//! holds against another, or a start that waits on the wrong init, fails the test instead of
//! hanging it. Afterwards no state directory and no cgroup named after a container may remain.
//!
//! FERRUN_PARALLEL_LIFECYCLES sets the count (default 200, all of them in flight together).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use support::{run_watched, Done, Rt};

/// One container's lifecycle; the first step that does not do what runc would is the error.
fn lifecycle(bin: &Path, root: &Path, bundle: &str, id: &str) -> Result<(), String> {
    let ferrun = |args: &[&str]| -> Done {
        let mut c = Command::new(bin);
        c.arg("--root").arg(root).args(args);
        run_watched(&mut c, support::WATCHDOG)
    };
    let step = |what: &str, d: Done| -> Result<Done, String> {
        match d.code {
            Some(0) => Ok(d),
            _ => Err(format!("{id}: {what}: {d:?}")),
        }
    };
    step("create", ferrun(&["create", "-b", bundle, id]))?;
    step("start", ferrun(&["start", id]))?;
    let state = step("state", ferrun(&["state", id]))?;
    let status = serde_json::from_str::<Value>(&state.out)
        .map(|v| v["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    if status != "running" {
        return Err(format!("{id}: state after start says {status:?}"));
    }
    step("kill", ferrun(&["kill", id, "KILL"]))?;
    let stopped = support::eventually(Duration::from_secs(20), || {
        serde_json::from_str::<Value>(&ferrun(&["state", id]).out)
            .is_ok_and(|v| v["status"] == "stopped")
    });
    if !stopped {
        return Err(format!("{id}: not stopped 20 s after SIGKILL"));
    }
    step("delete", ferrun(&["delete", id])).map(|_| ())
}

#[test]
#[ignore = "needs root and busybox-static"]
fn two_hundred_parallel_lifecycles_all_succeed() {
    support::require_root();
    let n = support::env_count("FERRUN_PARALLEL_LIFECYCLES", 200);
    let rt = Rt::ferrun();
    let tag = format!("par-{}", std::process::id());
    // No cgroupsPath: each container gets the default cgroup named after its id.
    let b = support::Bundle::with_args(&["sleep", "600"], json!({}));
    let bundle = b.path().to_str().unwrap().to_string();
    let ids: Vec<String> = (0..n).map(|i| format!("{tag}-{i}")).collect();
    for id in &ids {
        rt.track(id); // force-deleted on drop if a lifecycle stops half-way
    }
    let (bin, root): (PathBuf, PathBuf) = (rt.bin.clone(), rt.root.path().to_path_buf());
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = ids
            .iter()
            .map(|id| s.spawn(|| lifecycle(&bin, &root, &bundle, id)))
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().expect("lifecycle thread").err())
            .collect()
    });
    eprintln!("{}/{n} parallel lifecycles succeeded", n - failures.len());
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        failures.len()
    );
    let left: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
    assert!(left.is_empty(), "state left behind: {left:?}");
    let leaked = support::own_cgroups_tagged(&tag);
    assert!(leaked.is_empty(), "cgroups left behind: {leaked:?}");
}
