//! Bad input: each case is a clear error naming the culprit, exit code 1, and nothing left
//! behind (no state directory, no cgroup, no process).

mod common;

use common::{cgroup_leaked, text, unique_id, Bundle, Ferrun};
use serde_json::json;

/// Assert failure with exit 1, a message containing `needle`, and no leftovers for `id`.
fn assert_clean_failure(f: &Ferrun, args: &[&str], id: &str, needle: &str) {
    let out = f.run(args);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "ferrun {args:?}: {err}");
    assert!(
        err.contains(needle),
        "ferrun {args:?}: stderr {err:?} lacks {needle:?}"
    );
    assert!(!f.state_dir_exists(id), "state dir of {id} left behind");
    assert!(
        cgroup_leaked(id).is_empty(),
        "cgroup of {id} left behind: {:?}",
        cgroup_leaked(id)
    );
}

fn bundle_for(id: &str, args: &[&str]) -> Bundle {
    Bundle::with_args(
        args,
        json!({"linux": {"cgroupsPath": format!("/ferrun-test/{id}")}}),
    )
}

#[test]
fn missing_bundle_and_missing_config() {
    require_root!();
    let f = Ferrun::new();
    let id = unique_id("nobundle");
    assert_clean_failure(
        &f,
        &["create", "-b", "/nonexistent/bundle", &id],
        &id,
        "/nonexistent/bundle",
    );
    let b = bundle_for(&id, &["true"]);
    std::fs::remove_file(b.path().join("config.json")).unwrap();
    let bp = b.path().to_str().unwrap();
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "config.json");
}

#[test]
fn malformed_config_and_wrong_types_name_the_position() {
    require_root!();
    let f = Ferrun::new();
    let id = unique_id("badjson");
    let b = bundle_for(&id, &["true"]);
    let bp = b.path().to_str().unwrap();
    std::fs::write(b.path().join("config.json"), "{\"ociVersion\": \"1.2.0\", ").unwrap();
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "line 1");
    let mut cfg = common::base_config(&["true"]);
    cfg["process"]["args"] = json!("true");
    b.write_config(&cfg);
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "invalid type");
}

#[test]
fn invalid_ids_are_rejected_before_anything_is_made() {
    require_root!();
    let f = Ferrun::new();
    let b = bundle_for("x", &["true"]);
    let bp = b.path().to_str().unwrap();
    for bad in ["a/b", "..", "with space"] {
        let out = f.run(&["create", "-b", bp, bad]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains("invalid container id"), "{bad}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(f.root.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[test]
fn duplicate_id_fails_and_leaves_the_first_intact() {
    require_root!();
    let f = Ferrun::new();
    let id = unique_id("dup");
    let b = bundle_for(&id, &["sleep", "30"]);
    let bp = b.path().to_str().unwrap();
    f.ok(&["create", "-b", bp, &id]);
    let out = f.run(&["create", "-b", bp, &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("already exists"), "{}", text(&out).1);
    assert_eq!(f.state(&id)["status"], "created");
    // runtime.md#delete: a container that is not stopped is not deleted without --force.
    let out = f.run(&["delete", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(f.state(&id)["status"], "created");
    f.ok(&["delete", "--force", &id]);
    assert!(cgroup_leaked(&id).is_empty());
}

#[test]
fn unknown_signal_start_twice_and_delete_running_are_errors() {
    require_root!();
    let f = Ferrun::new();
    let id = unique_id("guards");
    let b = bundle_for(&id, &["sleep", "30"]);
    let bp = b.path().to_str().unwrap();
    f.ok(&["create", "-b", bp, &id]);
    let out = f.run(&["kill", &id, "NOSUCHSIG"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("NOSUCHSIG"), "{}", text(&out).1);
    f.ok(&["start", &id]);
    let out = f.run(&["start", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("running"), "{}", text(&out).1);
    let out = f.run(&["delete", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("not stopped"), "{}", text(&out).1);
    assert_eq!(f.state(&id)["status"], "running");
    f.ok(&["delete", "--force", &id]);
    assert!(!f.state_dir_exists(&id));
    assert!(cgroup_leaked(&id).is_empty());
}

#[test]
fn missing_executable_fails_create_and_cleans_up() {
    require_root!();
    let f = Ferrun::new();
    let id = unique_id("noexe");
    let b = bundle_for(&id, &["no-such-binary"]);
    let bp = b.path().to_str().unwrap();
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "no-such-binary");
}

#[test]
fn state_and_delete_of_unknown_container() {
    require_root!();
    let f = Ferrun::new();
    let out = f.run(&["state", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("does not exist"));
    let out = f.run(&["delete", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    // runc: delete --force of a missing container succeeds.
    assert!(f.run(&["delete", "--force", "nope"]).status.success());
}
