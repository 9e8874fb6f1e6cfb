//! Root tests of what ferrun refuses at load, as runc does, because honouring it would hand
//! the container something of the host's: a uid or gid of 4294967295 (setresuid(2) reads
//! (uid_t)-1 as "unchanged", so the process would keep root), a sysctl outside the
//! container's namespaces (written to the host) or a key that leaves /proc/sys, and an
//! environment entry without `=`. Each refusal names the field and leaves no container.

use std::path::Path;

use serde_json::{json, Value};

mod support;

use support::{cg, Bundle, Rt};

const RANGE: &str = "uids and gids must be in range 0-2147483647";

/// `create` of a sleeping busybox container with `patch` must fail, with stderr containing
/// every one of `needles`, and leave no state behind.
fn refused_at_create(rt: &Rt, tag: &str, patch: Value, needles: &[&str]) {
    let id = support::unique_id(tag);
    let mut cfg = support::base_config(&["sleep", "300"]);
    support::merge(&mut cfg, &cg(&id));
    support::merge(&mut cfg, &patch);
    let b = Bundle::new(&cfg);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{patch}: {done:#?}");
    for needle in needles {
        assert!(
            done.err.contains(needle),
            "{patch}: want {needle:?} in {}",
            done.err
        );
    }
    assert!(!rt.state_dir_exists(&id), "{patch}: state of {id} left");
}

/// A created and started `sleep 300` container.
fn running(rt: &Rt, tag: &str) -> (String, Bundle) {
    let id = support::unique_id(tag);
    let b = support::sh_bundle(&id, "exec sleep 300", json!({}));
    rt.create_start(&b, &id);
    (id, b)
}

#[test]
#[ignore = "needs root and busybox-static"]
fn process_ids_that_read_as_unchanged_are_refused_at_create() {
    support::require_root();
    let rt = Rt::ferrun();
    for (user, field) in [
        (
            json!({"uid": 4294967295u32, "gid": 0}),
            "process.user.uid 4294967295",
        ),
        (
            json!({"uid": 0, "gid": 4294967295u32}),
            "process.user.gid 4294967295",
        ),
        (
            json!({"uid": 2147483648u32, "gid": 0}),
            "process.user.uid 2147483648",
        ),
        (
            json!({"uid": 0, "gid": 0, "additionalGids": [5, 4294967295u32]}),
            "process.user.additionalGids[1] 4294967295",
        ),
    ] {
        refused_at_create(
            &rt,
            "uid",
            json!({"process": {"user": user}}),
            &[field, RANGE],
        );
    }
    // The top of the range is a real id, as with runc.
    let out = support::sh_ok(
        &rt,
        "uidmax",
        "id -u; id -g",
        json!({"process": {"user": {"uid": 2147483647u32, "gid": 2147483647u32}}}),
    );
    assert_eq!(out, "2147483647\n2147483647\n");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn id_mappings_that_reach_the_unchanged_id_are_refused_at_create() {
    support::require_root();
    let rt = Rt::ferrun();
    let userns = support::namespaces_plus(json!([{"type": "user"}]));
    let one = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    for (uid_maps, gid_maps, field) in [
        (
            json!([{"containerID": 0, "hostID": 100000, "size": 1},
                   {"containerID": 4294967295u32, "hostID": 200000, "size": 1}]),
            one.clone(),
            "linux.uidMappings[1].containerID 4294967295",
        ),
        (
            one.clone(),
            json!([{"containerID": 0, "hostID": 4294967295u32, "size": 1}]),
            "linux.gidMappings[0].hostID 4294967295",
        ),
    ] {
        let patch = json!({"linux": {"namespaces": userns, "uidMappings": uid_maps,
            "gidMappings": gid_maps}});
        refused_at_create(&rt, "idmap", patch, &[field, RANGE]);
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn exec_ids_that_read_as_unchanged_are_refused() {
    support::require_root();
    let rt = Rt::ferrun();
    let (id, b) = running(&rt, "exec-uid");
    for (args, needle) in [
        (
            &["-u", "4294967295:4294967295"][..],
            "--user uid 4294967295",
        ),
        (&["-u", "0:4294967295"], "--user gid 4294967295"),
        (
            &["--additional-gids", "4294967295"],
            "--additional-gids 4294967295",
        ),
    ] {
        let mut argv = vec!["exec"];
        argv.extend_from_slice(args);
        argv.extend([id.as_str(), "id"]);
        let done = rt.run(&argv);
        // runc's exit code for an exec that fails before its process runs.
        assert_eq!(done.code, Some(255), "{args:?}: {done:#?}");
        assert!(
            done.err.contains(needle) && done.err.contains(RANGE),
            "{args:?}: {}",
            done.err
        );
        assert!(
            !done.out.contains("uid=0"),
            "{args:?} ran as root: {}",
            done.out
        );
    }
    let file = b.path().join("process.json");
    let process = json!({"user": {"uid": 4294967295u32, "gid": 4294967295u32},
        "args": ["id"], "cwd": "/", "env": ["PATH=/bin"]});
    std::fs::write(&file, process.to_string()).unwrap();
    let done = rt.run(&["exec", "-p", file.to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(255), "{done:#?}");
    assert!(
        done.err.contains("process.user.uid 4294967295") && done.err.contains(RANGE),
        "{}",
        done.err
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn env_entries_without_equals_are_refused() {
    support::require_root();
    let rt = Rt::ferrun();
    let env = |extra: &str| json!({"process": {"env": ["PATH=/bin", extra]}});
    refused_at_create(
        &rt,
        "env",
        env("FOO"),
        &[r#"process.env: invalid environment variable: "FOO""#],
    );
    refused_at_create(
        &rt,
        "env",
        env("=x"),
        &[r#"environment variable name can't be empty: "=x""#],
    );

    let (id, b) = running(&rt, "exec-env");
    let done = rt.run(&["exec", "--env", "FOO", &id, "env"]);
    assert_eq!(done.code, Some(255), "{done:#?}");
    assert!(
        done.err
            .contains(r#"--env: invalid environment variable: "FOO""#),
        "{}",
        done.err
    );
    let file = b.path().join("process.json");
    let process = json!({"user": {"uid": 0, "gid": 0}, "args": ["env"], "cwd": "/",
        "env": ["PATH=/bin", "BAR"]});
    std::fs::write(&file, process.to_string()).unwrap();
    let done = rt.run(&["exec", "-p", file.to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(255), "{done:#?}");
    assert!(
        done.err.contains(r#"invalid environment variable: "BAR""#),
        "{}",
        done.err
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn sysctls_outside_the_containers_namespaces_are_refused() {
    support::require_root();
    let rt = Rt::ferrun();
    let host_lease = std::fs::read_to_string("/proc/sys/fs/lease-break-time").unwrap();
    let sysctl = |key: &str, value: &str| json!({"linux": {"sysctl": {key: value}}});
    let not_ns = "is not in a separate kernel namespace";
    refused_at_create(
        &rt,
        "sysctl",
        sysctl("fs.lease-break-time", "44"),
        &[r#""fs.lease-break-time""#, not_ns],
    );
    refused_at_create(
        &rt,
        "sysctl",
        sysctl("kernel.core_pattern", "|/bin/false"),
        &[r#""kernel.core_pattern""#, not_ns],
    );
    refused_at_create(
        &rt,
        "sysctl",
        sysctl("kernel.hostname", "x"),
        &["conflicts with the OCI \"hostname\" field"],
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/fs/lease-break-time").unwrap(),
        host_lease
    );

    // A key that would leave /proc/sys: joining "/tmp/<name>" to /proc/sys drops the prefix.
    let escape = format!("/tmp/ferrun-sysctl-escape-{}", std::process::id());
    refused_at_create(
        &rt,
        "sysctl",
        sysctl(&escape, "1"),
        &[&format!("{escape:?}"), "invalid key"],
    );
    assert!(!Path::new(&escape).exists(), "{escape} was written");
    for key in ["net.ipv4..ip_forward", "net/ipv4/../../../tmp/x"] {
        refused_at_create(
            &rt,
            "sysctl",
            sysctl(key, "1"),
            &[&format!("{key:?}"), "invalid key"],
        );
    }

    // Namespaced keys need their namespace.
    let without = |kind: &str| {
        let ns: Vec<Value> = support::base_config(&["true"])["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["type"] != kind)
            .cloned()
            .collect();
        Value::Array(ns)
    };
    let patch = |kind: &str, key: &str| json!({"linux": {"namespaces": without(kind), "sysctl": {key: "1"}}});
    refused_at_create(
        &rt,
        "sysctl",
        patch("ipc", "kernel.msgmax"),
        &["is not allowed in the hosts ipc namespace"],
    );
    refused_at_create(
        &rt,
        "sysctl",
        patch("ipc", "fs.mqueue.msg_max"),
        &["is not allowed in the hosts ipc namespace"],
    );
    refused_at_create(
        &rt,
        "sysctl",
        patch("network", "net.ipv4.ip_forward"),
        &["not allowed in host network namespace"],
    );
    let mut no_uts = patch("uts", "kernel.domainname");
    no_uts["hostname"] = Value::Null;
    refused_at_create(&rt, "sysctl", no_uts, &[not_ns]);

    // What is namespaced still works, in either separator style.
    let out = support::sh_ok(
        &rt,
        "sysctl-ok",
        "cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward",
        json!({"linux": {"sysctl": {"kernel.domainname": "sysctl.test", "net/ipv4/ip_forward": "1"}}}),
    );
    assert_eq!(out, "sysctl.test\n1\n");
}
