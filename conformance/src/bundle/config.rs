//! The base config.json and its rendering: base (runc 1.1.5's `runc spec`, terminal off, so
//! the runner needs no console socket) -> merge patch -> JSON Patch -> templates ->
//! default cgroupsPath.

use super::patch;
use crate::scenario::template::{TemplateError, Vars};
use crate::scenario::BundleSpec;
use serde_json::{json, Value};

/// What `runc spec` (runc 1.1.5) writes, with `process.terminal` false.
pub fn base_config() -> Value {
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runc",
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
    })
}

/// What `runc spec --rootless` (runc 1.1.5, specconv.ToRootless) writes for a caller with
/// this euid/egid: a user namespace mapping that single id to 0 and no network namespace,
/// /sys bind-mounted (sysfs needs the network namespace's owner), no `uid=`/`gid=` mount
/// options (those ids are unmapped) and no linux.resources (no cgroup to apply them to).
pub fn rootless_config(euid: u32, egid: u32) -> Value {
    let mut cfg = base_config();
    let linux = &mut cfg["linux"];
    linux.as_object_mut().map(|l| l.remove("resources"));
    linux["uidMappings"] = json!([{"containerID": 0, "hostID": euid, "size": 1}]);
    linux["gidMappings"] = json!([{"containerID": 0, "hostID": egid, "size": 1}]);
    if let Some(ns) = linux["namespaces"].as_array_mut() {
        ns.retain(|n| n["type"] != "network" && n["type"] != "user");
        ns.push(json!({"type": "user"}));
    }
    for m in cfg["mounts"].as_array_mut().into_iter().flatten() {
        if m["destination"] == "/sys" {
            *m = json!({"destination": "/sys", "type": "none", "source": "/sys",
                        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        } else if let Some(opts) = m["options"].as_array_mut() {
            opts.retain(|o| {
                let o = o.as_str().unwrap_or_default();
                !o.starts_with("gid=") && !o.starts_with("uid=")
            });
        }
    }
    cfg
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("bundle.patch: {0}")]
    Patch(#[from] patch::PatchError),
    #[error("bundle.config: {0}")]
    Template(#[from] TemplateError),
}

/// Renders the scenario's config.json over [`base_config`].
pub fn render(spec: &BundleSpec, vars: &Vars, cgroups_path: &str) -> Result<Value, RenderError> {
    render_over(base_config(), spec, vars, Some(cgroups_path))
}

/// Renders the scenario's config.json over `base` ([`base_config`] or [`rootless_config`]);
/// `cgroups_path` is the default linux.cgroupsPath, if any.
pub fn render_over(
    mut cfg: Value,
    spec: &BundleSpec,
    vars: &Vars,
    cgroups_path: Option<&str>,
) -> Result<Value, RenderError> {
    if let Some(m) = &spec.config {
        patch::merge(&mut cfg, m);
    }
    patch::apply(&mut cfg, &spec.patch)?;
    let mut cfg = vars.render_value(&cfg)?;
    // A unique cgroupsPath per scenario keeps parallel scenarios apart and makes cgroup leaks
    // attributable; a scenario that sets its own keeps it.
    if let (Some(linux), Some(path)) = (
        cfg.get_mut("linux").and_then(Value::as_object_mut),
        cgroups_path,
    ) {
        linux
            .entry("cgroupsPath")
            .or_insert_with(|| Value::String(path.to_string()));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_then_patch_then_templates_then_cgroups_path() {
        let spec: BundleSpec = serde_yaml::from_str(
            "config: { hostname: conformance, process: { args: [/probe, sleep, '300'] }, linux: { resources: { pids: { limit: 32 } } } }\n\
             patch:\n  - { op: add, path: /mounts/-, value: { destination: /scratch, type: tmpfs, source: tmpfs, options: [ro] } }\n  - { op: add, path: /annotations, value: { where: '{{scratch}}' } }\n",
        )
        .unwrap();
        let mut vars = Vars::default();
        vars.set("scratch", "/tmp/s");
        let cfg = render(&spec, &vars, "/oci-conform-1/runc-x").unwrap();
        assert_eq!(cfg["hostname"], "conformance");
        assert_eq!(cfg["process"]["args"], json!(["/probe", "sleep", "300"]));
        assert_eq!(cfg["process"]["terminal"], false);
        assert_eq!(cfg["linux"]["resources"]["pids"]["limit"], 32);
        assert_eq!(cfg["linux"]["resources"]["devices"][0]["allow"], false);
        assert_eq!(cfg["mounts"].as_array().unwrap().len(), 8);
        assert_eq!(cfg["mounts"][7]["destination"], "/scratch");
        assert_eq!(cfg["annotations"]["where"], "/tmp/s");
        assert_eq!(cfg["linux"]["cgroupsPath"], "/oci-conform-1/runc-x");
    }

    #[test]
    fn scenario_cgroups_path_wins_and_null_removes() {
        let spec: BundleSpec =
            serde_yaml::from_str("config: { linux: { cgroupsPath: /mine }, hostname: null }")
                .unwrap();
        let cfg = render(&spec, &Vars::default(), "/x").unwrap();
        assert_eq!(cfg["linux"]["cgroupsPath"], "/mine");
        assert!(cfg.get("hostname").is_none());
    }

    #[test]
    fn rootless_base_is_runc_spec_rootless() {
        let cfg = rootless_config(1000, 1001);
        assert_eq!(
            cfg["linux"]["uidMappings"],
            json!([{"containerID": 0, "hostID": 1000, "size": 1}])
        );
        assert_eq!(
            cfg["linux"]["gidMappings"],
            json!([{"containerID": 0, "hostID": 1001, "size": 1}])
        );
        let ns: Vec<&str> = cfg["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["pid", "ipc", "uts", "mount", "user"]);
        assert!(cfg["linux"].get("resources").is_none());
        assert_eq!(cfg["mounts"][2]["options"].as_array().unwrap().len(), 5);
        assert_eq!(cfg["mounts"][5]["type"], "none");
        assert_eq!(cfg["mounts"][5]["options"][0], "rbind");
        assert_eq!(cfg["mounts"][6]["destination"], "/sys/fs/cgroup");
    }

    #[test]
    fn unknown_template_is_an_error() {
        let spec: BundleSpec = serde_yaml::from_str("config: { hostname: '{{nope}}' }").unwrap();
        let e = render(&spec, &Vars::default(), "/x").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown template variable `{{nope}}`"),
            "{e}"
        );
    }
}
