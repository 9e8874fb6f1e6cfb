use rstest::rstest;
use serde_json::{json, Value};

use super::*;

/// A config using everything other modules implement.
fn supported() -> Value {
    json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "h", "domainname": "d",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "process": {
            "terminal": false, "consoleSize": {"height": 24, "width": 80},
            "user": {"uid": 1, "gid": 1, "umask": 18, "additionalGids": [5]},
            "args": ["sh"], "env": ["PATH=/bin"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true, "oomScoreAdj": 100
        },
        "hooks": {"prestart": [{"path": "/bin/true"}], "createRuntime": [{"path": "/bin/true"}]},
        "annotations": {"a": "b"},
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"},
                           {"type": "network", "path": "/run/netns/x"}, {"type": "cgroup"},
                           {"type": "time"}, {"type": "user"}],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "timeOffsets": {"monotonic": {"secs": 1}},
            "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
            "cgroupsPath": "/x", "resources": {"pids": {"limit": 10}},
            "sysctl": {"net.ipv4.ip_forward": "1"},
            "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
            "rootfsPropagation": "private",
            "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
        }
    })
}

fn check(v: Value) -> Result<(), Unsupported> {
    let spec: Spec = serde_json::from_value(v).expect("valid config.json");
    check_supported(&spec)
}

fn with(pointer: &str, key: &str, value: Value) -> Value {
    let mut v = supported();
    v.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .expect("pointer to an object")
        .insert(key.to_string(), value);
    v
}

#[test]
fn everything_other_modules_implement_passes() {
    check(supported()).expect("supported config");
}

/// SELinux labels are applied (security::selinux, rootfs::label); whether the host can take
/// them is for validate_process and the kernel to say, as with runc.
#[test]
fn selinux_labels_pass() {
    let mut v = with(
        "/process",
        "selinuxLabel",
        json!("system_u:system_r:container_t:s0"),
    );
    v["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0");
    check(v).expect("labels are implemented");
}

#[rstest]
#[case("/linux", "intelRdt", json!({"closID": "x"}), "linux.intelRdt: ")]
#[case("", "vm", json!({"hypervisor": {"path": "/bin/true"}, "kernel": {"path": "/k"}}), "vm: ")]
fn unsafe_to_ignore_fields_are_refused_by_name(
    #[case] pointer: &str,
    #[case] key: &str,
    #[case] value: Value,
    #[case] expected: &str,
) {
    let err = check(with(pointer, key, value)).expect_err("unsupported");
    assert_eq!(err.fields.len(), 1, "{err}");
    assert!(err.to_string().starts_with(expected), "{err}");
}

/// What runc 1.1.5 ignores and ignoring cannot weaken: create goes on, with a warning.
#[rstest]
#[case("/process", "execCPUAffinity", json!({"initial": "0"}), "process.execCPUAffinity")]
#[case("/process", "commandLine", json!("cmd.exe"), "process.commandLine")]
#[case("/process/user", "username", json!("ContainerUser"), "process.user.username")]
#[case("/linux", "personality", json!({"domain": "LINUX32", "flags": ["X"]}), "linux.personality.flags")]
#[case("/linux", "netDevices", json!({"eth1": {}}), "linux.netDevices")]
#[case("", "solaris", json!({"milestone": "x"}), "solaris")]
#[case("", "windows", json!({"layerFolders": []}), "windows")]
#[case("", "zos", json!({}), "zos")]
fn harmless_fields_runc_ignores_are_warned_about(
    #[case] pointer: &str,
    #[case] key: &str,
    #[case] value: Value,
    #[case] expected: &str,
) {
    let v = with(pointer, key, value);
    check(v.clone()).expect("ignored, not refused");
    let found = survey(&serde_json::from_value(v).expect("valid config.json"));
    let warned: Vec<&str> = found.warned.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(warned, [expected]);
    assert!(found.refused.is_empty() && found.inert.is_empty());
}

#[test]
fn a_listener_without_notify_rules_is_inert_and_with_one_is_left_to_seccomp() {
    let v = with("/linux/seccomp", "listenerPath", json!("/run/agent.sock"));
    let found = survey(&serde_json::from_value(v.clone()).expect("valid"));
    assert_eq!(found.inert.len(), 1, "{found:?}");
    assert_eq!(found.inert[0].field, "linux.seccomp.listenerPath");
    assert!(found.refused.is_empty() && found.warned.is_empty());

    // With a notify rule the listener is used: nothing to refuse or ignore here (the
    // seccomp plan checks the rules and the path).
    let mut v = v;
    v["linux"]["seccomp"]["listenerMetadata"] = json!("m");
    v["linux"]["seccomp"]["syscalls"]
        .as_array_mut()
        .expect("array")
        .push(json!({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}));
    let found = survey(&serde_json::from_value(v).expect("valid"));
    assert_eq!(found, Survey::default());
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut v = with(
        "",
        "vm",
        json!({"hypervisor": {"path": "/bin/true"}, "kernel": {"path": "/k"}}),
    );
    v["linux"]["intelRdt"] = json!({"closID": "x"});
    v["linux"]["netDevices"] = json!({"eth1": {}});
    let err = check(v).expect_err("two");
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["vm", "linux.intelRdt"]);
    assert!(err.to_string().contains("; linux.intelRdt: "), "{err}");
}
