//! A config.json field ferrun does not implement, where ignoring it would leave the container
//! less confined than asked, fails `create` with an error naming the field, before anything
//! is made: no state directory, no cgroup, no process. The same holds for an AppArmor profile
//! on a host without AppArmor (SELinux labels: scenarios/selinux/). A field runc 1.1.5 ignores
//! and ignoring cannot weaken runs, with a warning naming it.

mod support;

use rstest::rstest;
use serde_json::{json, Value};
use support::{sh_bundle, Need, Rt};

#[rstest]
#[case::intel_rdt("linux.intelRdt", json!({"linux": {"intelRdt": {"closID": "x"}}}))]
// Id-mapped mounts work for binds (scenarios/mounts/idmapped-*); on a fresh proc mount the
// mapping cannot be had, and that is refused the same way.
#[case::idmapped_non_bind("mounts[0].options", json!({"mounts": [{"destination": "/proc", "type": "proc", "source": "proc",
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}]}))]
#[case::vm("vm", json!({"vm": {"hypervisor": {"path": "/bin/true"}, "kernel": {"path": "/k"}}}))]
#[ignore = "needs root and busybox-static"]
fn unsupported_field_fails_create_naming_it(#[case] field: &str, #[case] patch: Value) {
    support::require_root();
    let rt = Rt::ferrun();
    let id = support::unique_id("unsup");
    let b = sh_bundle(&id, "true", patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.err.contains(field),
        "error does not name {field}: {done:?}"
    );
    assert!(!rt.state_dir_exists(&id), "state left behind");
    assert!(support::cgroup_leaked(&id).is_empty(), "cgroup left behind");
    assert_eq!(rt.ok(&["list", "-q"]), "");
}

#[rstest]
#[case::exec_cpu_affinity("process.execCPUAffinity", json!({"process": {"execCPUAffinity": {"initial": "0"}}}))]
#[case::personality_flags("linux.personality.flags", json!({"linux": {"personality": {"domain": "LINUX", "flags": ["X"]}}}))]
#[case::net_devices("linux.netDevices", json!({"linux": {"netDevices": {"eth9": {}}}}))]
#[case::windows("windows", json!({"windows": {"layerFolders": ["C:\\layers"]}}))]
#[ignore = "needs root and busybox-static"]
fn harmless_field_runc_ignores_runs_with_a_warning(#[case] field: &str, #[case] patch: Value) {
    support::require_root();
    let rt = Rt::ferrun();
    let id = support::unique_id("ignored");
    let b = sh_bundle(&id, "echo ran", patch);
    let done = rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(done.out, "ran\n", "{done:?}");
    assert!(
        done.err.contains(&format!("warning: {field}: ")) && done.err.contains("ignored"),
        "no warning naming {field}: {done:?}"
    );
    assert!(!rt.state_dir_exists(&id), "state left behind");
}

/// A listenerPath without any notify rule has nothing to listen to: runc ignores it, and so
/// does ferrun, without a word at the default log level.
#[test]
#[ignore = "needs root and busybox-static"]
fn seccomp_listener_without_notify_rules_is_ignored() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = support::unique_id("listener");
    let patch = json!({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/nonexistent/agent.sock", "listenerMetadata": "m",
        "syscalls": [{"names": ["sync"], "action": "SCMP_ACT_ERRNO"}]}}});
    let b = sh_bundle(&id, "echo ran", patch);
    let done = rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(done.out, "ran\n", "{done:?}");
    assert_eq!(done.err, "", "{done:?}");
}

/// ferrun applies AppArmor profiles, but on a host where AppArmor is off a profile would be
/// silently meaningless: create refuses it up front, naming the field and the profile. (The
/// apparmor VM profile proves the other half: the profile confines the process.)
#[test]
#[ignore = "needs root, busybox-static and a host without AppArmor"]
fn apparmor_profile_without_apparmor_fails_create() {
    support::require(&[Need::Root, Need::Busybox, Need::NoAppArmor]);
    let rt = Rt::ferrun();
    let id = support::unique_id("aa");
    let b = sh_bundle(
        &id,
        "true",
        json!({"process": {"apparmorProfile": "docker-default"}}),
    );
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.err
            .contains("process.apparmorProfile \"docker-default\": AppArmor is not enabled"),
        "{done:?}"
    );
    assert!(!rt.state_dir_exists(&id), "state left behind");
    assert!(support::cgroup_leaked(&id).is_empty(), "cgroup left behind");
}

/// A field of the right name but the wrong type is a parse error naming it (serde's message
/// carries the line and column), not a silently defaulted value.
#[test]
#[ignore = "needs root and busybox-static"]
fn field_of_the_wrong_type_fails_create() {
    support::require_root();
    let rt = Rt::ferrun();
    let id = support::unique_id("badtype");
    let b = sh_bundle(
        &id,
        "true",
        json!({"linux": {"resources": {"pids": {"limit": "many"}}}}),
    );
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.err.contains("config.json"), "{done:?}");
    assert!(!rt.state_dir_exists(&id));
    assert!(support::cgroup_leaked(&id).is_empty());
}
