//! `hooks` (config.md#posix-platform-hooks, runtime.md#lifecycle): each kind runs once, in
//! order, in the namespace the spec names, with the state JSON on stdin and its own env; a
//! failing or hanging create-time hook fails `create` and leaves nothing; a failing poststop
//! hook does not stop `delete`.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{host_ns, sh_bundle, Rt};

const KINDS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// A hook recording its stdin, mount namespace, hostname and env into `dir`.
fn recorder(kind: &str, dir: &str) -> Value {
    let script = format!(
        "cat > {dir}/{kind}.json; readlink /proc/self/ns/mnt > {dir}/{kind}.mnt; \
         readlink /proc/self/ns/uts > {dir}/{kind}.uts; \
         hostname > {dir}/{kind}.host; echo \"$HOOKVAR\" > {dir}/{kind}.env; \
         echo {kind} >> {dir}/order"
    );
    json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": [format!("HOOKVAR={kind}-env")]})
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .trim()
        .to_string()
}

#[test]
#[ignore = "needs root and busybox-static"]
fn every_hook_runs_in_order_with_state_and_namespace() {
    support::require_root();
    let rt = Rt::new();
    let log = tempfile::tempdir().unwrap();
    let d = log.path().to_str().unwrap();
    let id = support::unique_id("hooks");
    // startContainer runs after pivot_root: it sees the log directory at /hooklog.
    let hooks: serde_json::Map<String, Value> = KINDS
        .iter()
        .map(|k| {
            let dir = if *k == "startContainer" {
                "/hooklog"
            } else {
                d
            };
            (k.to_string(), json!([recorder(k, dir)]))
        })
        .collect();
    let mut mounts = support::mounts_plus(json!([
        {"destination": "/hooklog", "type": "bind", "source": d, "options": ["rbind", "rw"]}
    ]));
    mounts
        .as_array_mut()
        .unwrap()
        .sort_by_key(|m| m["destination"] == "/hooklog");
    let patch = json!({"hooks": hooks, "mounts": mounts});
    let b = sh_bundle(&id, "readlink /proc/self/ns/mnt > /hooklog/init.mnt; readlink /proc/self/ns/uts > /hooklog/init.uts", patch);
    rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]).ok();
    // startContainer runs before the user process is executed and poststart after it
    // (runtime.md#lifecycle steps 7-9), so the order is strict. (runc 1.1.5 races the two:
    // its `start` runs poststart while the init is still running startContainer.)
    assert_eq!(read(log.path(), "order").lines().collect::<Vec<_>>(), KINDS);
    let container_mnt = read(log.path(), "init.mnt");
    let container_uts = read(log.path(), "init.uts");
    assert_ne!(container_mnt, host_ns("mnt"));
    for kind in KINDS {
        let in_container = matches!(kind, "createContainer" | "startContainer");
        let mnt = read(log.path(), &format!("{kind}.mnt"));
        let want = if in_container {
            &container_mnt
        } else {
            &host_ns("mnt")
        };
        assert_eq!(&mnt, want, "{kind} ran in the wrong mount namespace");
        let uts = read(log.path(), &format!("{kind}.uts"));
        let want = if in_container {
            &container_uts
        } else {
            &host_ns("uts")
        };
        assert_eq!(&uts, want, "{kind} ran in the wrong uts namespace");
        assert_eq!(
            read(log.path(), &format!("{kind}.env")),
            format!("{kind}-env")
        );
        let state: Value = serde_json::from_str(&read(log.path(), &format!("{kind}.json")))
            .unwrap_or_else(|e| panic!("{kind}: state on stdin is not JSON: {e}"));
        assert_eq!(state["id"], id.as_str(), "{kind}: {state}");
        assert_eq!(
            state["bundle"],
            b.path().to_str().unwrap(),
            "{kind}: {state}"
        );
        assert!(state["ociVersion"].is_string(), "{kind}: {state}");
        if kind != "poststop" {
            assert!(state["pid"].as_i64().unwrap_or(0) > 0, "{kind}: {state}");
        }
    }
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(read(log.path(), "startContainer.host"), "ferrun-test");
    assert_eq!(read(log.path(), "poststart.host"), host);
    assert_eq!(read(log.path(), "poststop.host"), host);
}

fn assert_nothing_left(rt: &Rt, id: &str) {
    assert!(!rt.state_dir_exists(id), "state of {id} left behind");
    assert!(
        support::cgroup_leaked(id).is_empty(),
        "cgroup of {id} left behind"
    );
    assert_eq!(rt.ok(&["list", "-q"]), "");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn failing_prestart_hook_fails_create_and_leaves_nothing() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("hookfail");
    let patch = json!({"hooks": {"prestart": [
        {"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}]}});
    let b = sh_bundle(&id, "true", patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    // runc's words, which scripts match: "error running <kind> hook #<index>:".
    assert!(
        done.err.contains(
            "error running prestart hook #0: error running hook /bin/sh: exit status 3, \
             stderr: hook-said-no"
        ),
        "{done:?}"
    );
    assert_nothing_left(&rt, &id);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn hook_timeout_fails_create_and_leaves_nothing() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("hooktmo");
    let patch = json!({"hooks": {"createRuntime": [
        {"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}});
    let b = sh_bundle(&id, "true", patch);
    let started = Instant::now();
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the hook timeout was ignored"
    );
    assert_nothing_left(&rt, &id);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn failing_poststop_hook_does_not_stop_delete() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("hookpost");
    let patch = json!({"hooks": {"poststop": [{"path": "/bin/false", "args": ["false"]}]}});
    let b = sh_bundle(&id, "true", patch);
    rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
    rt.ok(&["start", &id]);
    support::wait_status(&rt, &id, "stopped");
    let done = rt.run(&["delete", &id]);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_nothing_left(&rt, &id);
}
