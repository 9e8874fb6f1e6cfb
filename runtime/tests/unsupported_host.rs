//! A config.json field ferrun does not implement fails `create` with an error naming the
//! field, before anything is made: no state directory, no cgroup, no process. Silently
//! ignoring, say, an AppArmor profile would make a container look confined while it is not.

mod common;
mod support;

use rstest::rstest;
use serde_json::{json, Value};
use support::{sh_bundle, Rt};

#[rstest]
#[case::apparmor("process.apparmorProfile", json!({"process": {"apparmorProfile": "docker-default"}}))]
#[case::selinux("process.selinuxLabel", json!({"process": {"selinuxLabel": "system_u:system_r:container_t:s0"}}))]
#[case::mount_label("linux.mountLabel", json!({"linux": {"mountLabel": "system_u:object_r:container_file_t:s0"}}))]
#[case::intel_rdt("linux.intelRdt", json!({"linux": {"intelRdt": {"closID": "x"}}}))]
#[case::io_priority("process.ioPriority", json!({"process": {"ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 0}}}))]
#[case::scheduler("process.scheduler", json!({"process": {"scheduler": {"policy": "SCHED_IDLE"}}}))]
#[case::seccomp_notify("linux.seccomp.listenerPath", json!({"linux": {"seccomp": {
    "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/notify.sock",
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}}}))]
#[case::idmapped_mount("uidMappings", json!({"mounts": [{"destination": "/proc", "type": "proc", "source": "proc",
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}]}))]
#[case::windows("windows", json!({"windows": {"layerFolders": ["C:\\layers"]}}))]
fn unsupported_field_fails_create_naming_it(#[case] field: &str, #[case] patch: Value) {
    require_root!();
    let rt = Rt::ferrun();
    let id = common::unique_id("unsup");
    let b = sh_bundle(&id, "true", patch);
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(
        done.err.contains(field),
        "error does not name {field}: {done:?}"
    );
    assert!(!rt.state_dir_exists(&id), "state left behind");
    assert!(common::cgroup_leaked(&id).is_empty(), "cgroup left behind");
    assert_eq!(rt.ok(&["list", "-q"]), "");
}

/// A field of the right name but the wrong type is a parse error naming it (serde's message
/// carries the line and column), not a silently defaulted value.
#[test]
fn field_of_the_wrong_type_fails_create() {
    require_root!();
    let rt = Rt::ferrun();
    let id = common::unique_id("badtype");
    let b = sh_bundle(
        &id,
        "true",
        json!({"linux": {"resources": {"pids": {"limit": "many"}}}}),
    );
    let done = rt.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.err.contains("config.json"), "{done:?}");
    assert!(!rt.state_dir_exists(&id));
    assert!(common::cgroup_leaked(&id).is_empty());
}
