//! `ferrun spec`: the config.json runc 1.1 writes, at our runtime-spec level and with our
//! hostname, so a bundle made for one runtime runs on the other.

use serde_json::{json, Value};

const CAPS: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

pub fn default_spec(rootless: bool) -> Value {
    let mut spec = json!({
        "ociVersion": crate::container::state::OCI_VERSION,
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS, "ambient": CAPS},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "ferrun",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    if rootless {
        make_rootless(&mut spec);
    }
    spec
}

/// runc's `spec --rootless`: a user namespace mapping the caller to root, no network
/// namespace, /sys bind-mounted (sysfs cannot be mounted without a network namespace),
/// devpts without gid=5 (that group is unmapped), and no device cgroup rules.
fn make_rootless(spec: &mut Value) {
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let linux = &mut spec["linux"];
    linux.as_object_mut().map(|l| l.remove("resources"));
    linux["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
    linux["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
    linux["namespaces"] = json!([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"}]);
    for m in spec["mounts"].as_array_mut().into_iter().flatten() {
        match m["destination"].as_str() {
            Some("/sys") => {
                *m = json!({"destination": "/sys", "type": "none", "source": "/sys",
                                         "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
            }
            Some("/dev/pts") => {
                if let Some(opts) = m["options"].as_array_mut() {
                    opts.retain(|o| o != "gid=5");
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_spec_is_a_valid_config() {
        for rootless in [false, true] {
            let s: oci_spec::runtime::Spec =
                serde_json::from_value(default_spec(rootless)).unwrap();
            assert_eq!(
                s.process().as_ref().unwrap().args().as_deref().unwrap(),
                ["sh"]
            );
        }
    }

    /// Equal to what `runc spec` writes, but for ociVersion and hostname. runc is a CI
    /// prerequisite (scripts/test.sh runs the ignored tests); elsewhere it may be absent.
    #[test]
    #[ignore = "needs runc"]
    fn matches_runc_spec() {
        for rootless in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let mut cmd = std::process::Command::new("runc");
            cmd.arg("spec").arg("--bundle").arg(dir.path());
            if rootless {
                cmd.arg("--rootless");
            }
            match cmd.status() {
                Ok(st) => assert!(st.success(), "runc spec: {st}"),
                Err(e) => panic!("this test was requested but runc cannot run: {e}"),
            }
            let mut theirs: Value =
                serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap())
                    .unwrap();
            let mut ours = default_spec(rootless);
            for v in [&mut theirs, &mut ours] {
                v["ociVersion"] = json!("x");
                v["hostname"] = json!("x");
            }
            assert_eq!(ours, theirs, "rootless={rootless}");
        }
    }
}
