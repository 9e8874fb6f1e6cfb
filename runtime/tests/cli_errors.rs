//! Bad input: each case is a clear error naming the culprit, exit code 1, and nothing left
//! behind (no state directory, no cgroup, no process).

mod support;

use serde_json::json;
use support::{cgroup_leaked, unique_id, Bundle, Rt};

/// Assert failure with exit 1, a message containing `needle`, and no leftovers for `id`.
fn assert_clean_failure(f: &Rt, args: &[&str], id: &str, needle: &str) {
    let out = f.run(args);
    let err = &out.err;
    assert_eq!(out.code, Some(1), "ferrun {args:?}: {err}");
    assert!(
        err.contains(needle),
        "ferrun {args:?}: stderr {err:?} lacks {needle:?}"
    );
    assert_no_debug_text(err);
    assert!(!f.state_dir_exists(id), "state dir of {id} left behind");
    assert!(
        cgroup_leaked(id).is_empty(),
        "cgroup of {id} left behind: {:?}",
        cgroup_leaked(id)
    );
}

/// Errors read as sentences: no Rust Debug output (`Pid(42)`, `Some(..)`, `Foo { .. }`).
fn assert_no_debug_text(err: &str) {
    for debug in [
        "Pid(",
        "Some(",
        "None)",
        "Signaled(",
        "Exited(",
        "Errno(",
        " { ",
        "Os {",
    ] {
        assert!(
            !err.contains(debug),
            "stderr has debug text {debug:?}: {err}"
        );
    }
}

fn bundle_for(id: &str, args: &[&str]) -> Bundle {
    Bundle::with_args(args, support::cg(id))
}

#[test]
#[ignore = "needs root and busybox-static"]
fn missing_bundle_and_missing_config() {
    support::require_root();
    let f = Rt::ferrun();
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
#[ignore = "needs root and busybox-static"]
fn malformed_config_and_wrong_types_name_the_position() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("badjson");
    let b = bundle_for(&id, &["true"]);
    let bp = b.path().to_str().unwrap();
    std::fs::write(b.path().join("config.json"), "{\"ociVersion\": \"1.2.0\", ").unwrap();
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "line 1");
    let mut cfg = support::base_config(&["true"]);
    cfg["process"]["args"] = json!("true");
    b.write_config(&cfg);
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "invalid type");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn invalid_ids_are_rejected_before_anything_is_made() {
    support::require_root();
    let f = Rt::ferrun();
    let b = bundle_for("x", &["true"]);
    let bp = b.path().to_str().unwrap();
    for bad in ["a/b", "..", "with space"] {
        let out = f.run(&["create", "-b", bp, bad]);
        let err = &out.err;
        assert_eq!(out.code, Some(1), "{bad}: {err}");
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
#[ignore = "needs root and busybox-static"]
fn duplicate_id_fails_and_leaves_the_first_intact() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("dup");
    let b = bundle_for(&id, &["sleep", "30"]);
    let bp = b.path().to_str().unwrap();
    f.ok(&["create", "-b", bp, &id]);
    let out = f.run(&["create", "-b", bp, &id]);
    assert_eq!(out.code, Some(1));
    assert!(out.err.contains("already exists"), "{}", out.err);
    assert_eq!(f.state(&id)["status"], "created");
    // runtime.md#delete: a container that is not stopped is not deleted without --force.
    let out = f.run(&["delete", &id]);
    assert_eq!(out.code, Some(1));
    assert_eq!(f.state(&id)["status"], "created");
    f.ok(&["delete", "--force", &id]);
    assert!(cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root and busybox-static"]
fn unknown_signal_start_twice_and_delete_running_are_errors() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("guards");
    let b = bundle_for(&id, &["sleep", "30"]);
    let bp = b.path().to_str().unwrap();
    f.ok(&["create", "-b", bp, &id]);
    let out = f.run(&["kill", &id, "NOSUCHSIG"]);
    assert_eq!(out.code, Some(1));
    assert!(out.err.contains("NOSUCHSIG"), "{}", out.err);
    f.ok(&["start", &id]);
    let out = f.run(&["start", &id]);
    assert_eq!(out.code, Some(1));
    assert!(out.err.contains("running"), "{}", out.err);
    let out = f.run(&["delete", &id]);
    assert_eq!(out.code, Some(1));
    assert!(out.err.contains("not stopped"), "{}", out.err);
    assert_eq!(f.state(&id)["status"], "running");
    f.ok(&["delete", "--force", &id]);
    assert!(!f.state_dir_exists(&id));
    assert!(cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root and busybox-static"]
fn missing_executable_fails_create_and_cleans_up() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("noexe");
    let b = bundle_for(&id, &["no-such-binary"]);
    let bp = b.path().to_str().unwrap();
    assert_clean_failure(&f, &["create", "-b", bp, &id], &id, "no-such-binary");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn state_and_delete_of_unknown_container() {
    support::require_root();
    let f = Rt::ferrun();
    let out = f.run(&["state", "nope"]);
    assert_eq!(out.code, Some(1));
    assert!(out.err.contains("does not exist"));
    let out = f.run(&["delete", "nope"]);
    assert_eq!(out.code, Some(1));
    // runc: delete --force of a missing container succeeds.
    f.ok(&["delete", "--force", "nope"]);
}

/// An init killed during setup is reported in words ("was killed by SIGKILL"), not as the
/// wait status's Debug form (`Signaled(Pid(..), SIGKILL, false)`). A createContainer hook,
/// a child of the init, kills it; without a pid namespace the hook can reach it.
#[test]
#[ignore = "needs root and busybox-static"]
fn an_init_killed_during_setup_is_reported_in_words() {
    support::require_root();
    let f = Rt::ferrun();
    let id = unique_id("initkilled");
    let mut patch = support::cg(&id);
    support::merge(
        &mut patch,
        &json!({
            "linux": {"namespaces": [{"type": "mount"}, {"type": "uts"}, {"type": "ipc"}]},
            "hooks": {"createContainer": [
                {"path": "/bin/sh", "args": ["sh", "-c", "kill -9 $PPID"]}
            ]}
        }),
    );
    let b = Bundle::with_args(&["true"], patch);
    assert_clean_failure(
        &f,
        &["create", "-b", b.path().to_str().unwrap(), &id],
        &id,
        "container init was killed by SIGKILL during setup",
    );
}
