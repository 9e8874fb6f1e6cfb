//! `checkpoint` and `restore` on this host. Where `criu check` fails (Debian 12's criu 3.17
//! on a 6.18 kernel: "vdso: Unexpected rt vDSO area bounds"), checkpoint must fail naming
//! CRIU's own reason and leave the container running and untouched. Where `criu check`
//! passes, the same test does a real checkpoint and restore instead, so it never passes
//! without having checked one or the other.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::{eventually, sh_bundle, unique_id, Rt};

/// The messages of `criu check`'s Error lines, or None when it passes.
fn criu_check_errors() -> Option<Vec<String>> {
    let out = Command::new("criu")
        .arg("check")
        .output()
        .expect("criu is installed on the test hosts (apt install criu)");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let errors: Vec<String> = text
        .lines()
        .filter(|l| l.contains("Error ("))
        .filter_map(|l| l.split_once("): ").map(|(_, m)| m.trim().to_string()))
        .collect();
    // criu 3.17 exits 0 even when it reports errors: its Error lines are the verdict.
    (!out.status.success() || !errors.is_empty()).then_some(errors)
}

/// The count the container's loop last wrote.
fn count(rootfs: &Path) -> u64 {
    std::fs::read_to_string(rootfs.join("count"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn counting(rootfs: &Path, above: u64) -> bool {
    eventually(Duration::from_secs(10), || count(rootfs) > above)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
#[ignore = "needs root, busybox-static and criu"]
fn checkpoint_fails_with_criu_reason_or_round_trips() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = unique_id("ckpt");
    let script = "i=0; while :; do i=$((i+1)); echo $i >/count; sleep 0.1; done";
    let b = sh_bundle(&id, script, json!({"root": {"readonly": false}}));
    let rootfs = b.path().join("rootfs");
    let pid = rt.create_start(&b, &id);
    assert!(counting(&rootfs, 2), "the container does not count");
    let images = tempfile::tempdir().unwrap();
    let image_path = images.path().join("img");
    match criu_check_errors() {
        Some(reasons) => fails_untouched(&rt, &id, pid, &rootfs, &image_path, &reasons),
        None => round_trip(&rt, &id, &b, &rootfs, &image_path),
    }
}

fn fails_untouched(rt: &Rt, id: &str, pid: i32, rootfs: &Path, images: &Path, reasons: &[String]) {
    let state_files = listing(&rt.state_dir(id));
    let done = rt.run(&["checkpoint", "--image-path", images.to_str().unwrap(), id]);
    assert_ne!(done.code, Some(0), "checkpoint succeeded: {done:#?}");
    assert!(done.err.contains("criu failed"), "{}", done.err);
    assert!(
        reasons.iter().any(|r| done.err.contains(r.as_str())),
        "the error names none of criu check's reasons {reasons:?}: {}",
        done.err
    );
    let state = rt.state(id);
    assert_eq!(state["status"], "running", "{state}");
    assert_eq!(state["pid"], pid, "{state}");
    let before = count(rootfs);
    assert!(counting(rootfs, before), "the container stopped counting");
    assert_eq!(listing(&rt.state_dir(id)), state_files, "state dir changed");
    // CRIU's log and runc's descriptors.json stay in the image directory (runc leaves them
    // too); nothing else was made there.
    let left = listing(images);
    assert!(
        left.iter().all(
            |f| ["dump.log", "descriptors.json", "ferrun-checkpoint.json"].contains(&f.as_str())
        ),
        "{left:?}"
    );
    rt.ok(&["delete", "--force", id]);
}

fn round_trip(rt: &Rt, id: &str, b: &support::Bundle, rootfs: &Path, images: &Path) {
    let created = rt.state(id)["created"].clone();
    rt.ok(&["checkpoint", "--image-path", images.to_str().unwrap(), id]);
    assert_ne!(
        rt.run(&["state", id]).code,
        Some(0),
        "checkpointed container still exists"
    );
    let at_dump = count(rootfs);
    let new_id = format!("{id}-r");
    rt.track(&new_id);
    rt.ok(&[
        "restore",
        "-d",
        "--image-path",
        images.to_str().unwrap(),
        "-b",
        b.path().to_str().unwrap(),
        &new_id,
    ]);
    let state = rt.state(&new_id);
    assert_eq!(state["status"], "running", "{state}");
    assert_eq!(state["created"], created, "{state}");
    assert!(
        counting(rootfs, at_dump + 2),
        "the restored container does not count on"
    );
    let out = rt.ok(&["exec", &new_id, "cat", "/count"]);
    assert!(out.trim().parse::<u64>().unwrap() > at_dump, "{out}");
    rt.ok(&["delete", "--force", &new_id]);
}
