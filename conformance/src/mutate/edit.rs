//! The config.json edits of the config mutants: each removes or changes exactly one promise
//! and reports whether the config had it (an edit that finds nothing to break is a no-op, and
//! the shim does not count it as fired).

use serde_json::{json, Value};

/// Removes `key` from the object at `path` (a list of object keys).
pub(super) fn remove_at(cfg: &mut Value, path: &[&str], key: &str) -> bool {
    let mut v = cfg;
    for p in path {
        match v.get_mut(*p) {
            Some(next) => v = next,
            None => return false,
        }
    }
    v.as_object_mut().and_then(|o| o.remove(key)).is_some()
}

pub fn drop_masked_paths(c: &mut Value) -> bool {
    remove_at(c, &["linux"], "maskedPaths")
}

pub fn drop_readonly_paths(c: &mut Value) -> bool {
    remove_at(c, &["linux"], "readonlyPaths")
}

/// Drops the first capability of the effective set (else of the bounding set) from every set,
/// so the process lacks exactly that one capability.
pub fn drop_one_capability(c: &mut Value) -> bool {
    let Some(caps) = c
        .pointer_mut("/process/capabilities")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    let first = ["effective", "bounding"].iter().find_map(|set| {
        caps.get(*set)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
    });
    let Some(name) = first else { return false };
    let mut changed = false;
    for set in caps.values_mut() {
        if let Some(a) = set.as_array_mut() {
            let before = a.len();
            a.retain(|n| *n != name);
            changed |= a.len() != before;
        }
    }
    changed
}

pub fn drop_rlimits(c: &mut Value) -> bool {
    remove_at(c, &["process"], "rlimits")
}

pub fn drop_hostname(c: &mut Value) -> bool {
    remove_at(c, &[], "hostname")
}

pub fn drop_domainname(c: &mut Value) -> bool {
    remove_at(c, &[], "domainname")
}

fn drop_namespace(c: &mut Value, kind: &str) -> bool {
    let Some(ns) = c
        .pointer_mut("/linux/namespaces")
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    let before = ns.len();
    ns.retain(|n| n["type"] != kind);
    ns.len() != before
}

pub fn drop_ipc_namespace(c: &mut Value) -> bool {
    drop_namespace(c, "ipc")
}

pub fn drop_pid_namespace(c: &mut Value) -> bool {
    drop_namespace(c, "pid")
}

/// Drops the last entry of process.env (the scenario's own variables come after PATH).
pub fn drop_last_env(c: &mut Value) -> bool {
    c.pointer_mut("/process/env")
        .and_then(Value::as_array_mut)
        .and_then(|e| e.pop())
        .is_some()
}

/// Adds a variable nobody asked for.
pub fn extra_env(c: &mut Value) -> bool {
    match c.pointer_mut("/process") {
        Some(p) if p.is_object() => {
            match p.get_mut("env").and_then(Value::as_array_mut) {
                Some(env) => env.push(json!("OCI_MUTANT=1")),
                None => p["env"] = json!(["OCI_MUTANT=1"]),
            }
            true
        }
        _ => false,
    }
}

/// process.cwd is ignored: the process starts in `/`.
pub fn ignore_cwd(c: &mut Value) -> bool {
    match c.pointer_mut("/process/cwd") {
        Some(cwd) if cwd != "/" => {
            *cwd = json!("/");
            true
        }
        _ => false,
    }
}

pub fn drop_no_new_privileges(c: &mut Value) -> bool {
    remove_at(c, &["process"], "noNewPrivileges")
}

pub fn drop_additional_gids(c: &mut Value) -> bool {
    remove_at(c, &["process", "user"], "additionalGids")
}

/// process.user.uid is ignored: the process runs as uid 0.
pub fn ignore_uid(c: &mut Value) -> bool {
    match c.pointer_mut("/process/user/uid") {
        Some(uid) if uid != 0 => {
            *uid = json!(0);
            true
        }
        _ => false,
    }
}

pub fn drop_umask(c: &mut Value) -> bool {
    remove_at(c, &["process", "user"], "umask")
}

pub fn drop_oom_score_adj(c: &mut Value) -> bool {
    remove_at(c, &["process"], "oomScoreAdj")
}

/// Drops `ro` from the last mount that has it (the scenario's own mounts come after the
/// defaults, so a scenario's read-only bind mount is the one that turns writable).
pub fn drop_mount_ro(c: &mut Value) -> bool {
    let Some(mounts) = c.get_mut("mounts").and_then(Value::as_array_mut) else {
        return false;
    };
    for m in mounts.iter_mut().rev() {
        if let Some(opts) = m.get_mut("options").and_then(Value::as_array_mut) {
            if let Some(i) = opts.iter().position(|o| o == "ro") {
                opts.remove(i);
                return true;
            }
        }
    }
    false
}

/// Drops the last mount that is not one of `runc spec`'s defaults (a scenario's own mount).
pub fn drop_scenario_mount(c: &mut Value) -> bool {
    const DEFAULTS: &[&str] = &[
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/sys/fs/cgroup",
    ];
    let Some(mounts) = c.get_mut("mounts").and_then(Value::as_array_mut) else {
        return false;
    };
    let last = mounts.iter().rposition(|m| {
        m["destination"]
            .as_str()
            .is_some_and(|d| !DEFAULTS.contains(&d))
    });
    last.map(|i| mounts.remove(i)).is_some()
}

pub fn drop_seccomp(c: &mut Value) -> bool {
    remove_at(c, &["linux"], "seccomp")
}

pub fn drop_sysctl(c: &mut Value) -> bool {
    remove_at(c, &["linux"], "sysctl")
}

pub fn drop_memory_limits(c: &mut Value) -> bool {
    remove_at(c, &["linux", "resources"], "memory")
}

pub fn drop_pids_limit(c: &mut Value) -> bool {
    remove_at(c, &["linux", "resources"], "pids")
}

pub fn drop_cpu_limits(c: &mut Value) -> bool {
    remove_at(c, &["linux", "resources"], "cpu")
}

/// Drops the device cgroup rules (the default deny-all included): every device is allowed.
pub fn drop_device_rules(c: &mut Value) -> bool {
    remove_at(c, &["linux", "resources"], "devices")
}

pub fn drop_devices(c: &mut Value) -> bool {
    remove_at(c, &["linux"], "devices")
}

pub fn drop_prestart_hooks(c: &mut Value) -> bool {
    remove_at(c, &["hooks"], "prestart")
}

pub fn drop_create_runtime_hooks(c: &mut Value) -> bool {
    remove_at(c, &["hooks"], "createRuntime")
}

pub fn drop_poststop_hooks(c: &mut Value) -> bool {
    remove_at(c, &["hooks"], "poststop")
}

pub fn drop_rootfs_propagation(c: &mut Value) -> bool {
    remove_at(c, &["linux"], "rootfsPropagation")
}

/// root.readonly is ignored: the rootfs stays writable.
pub fn writable_root(c: &mut Value) -> bool {
    match c.pointer_mut("/root/readonly") {
        Some(ro) if ro == true => {
            *ro = json!(false);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::config::base_config;

    /// Every key path whose value differs between two JSON documents (objects recursed,
    /// arrays and scalars compared whole).
    fn diff(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => diff(p, q, &format!("{at}/{k}"), out),
                        _ => out.push(format!("{at}/{k}")),
                    }
                }
            }
            _ if a != b => out.push(at.to_string()),
            _ => {}
        }
    }

    fn rich() -> Value {
        let mut c = base_config();
        c["domainname"] = json!("example.org");
        c["process"]["cwd"] = json!("/tmp");
        c["process"]["env"] = json!(["PATH=/bin", "FOO=bar"]);
        c["process"]["user"] =
            json!({"uid": 1000, "gid": 1000, "umask": 63, "additionalGids": [5]});
        c["process"]["oomScoreAdj"] = json!(100);
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/data", "type": "bind", "source": "/x", "options": ["rbind", "ro"]}));
        let l = &mut c["linux"];
        l["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW"});
        l["sysctl"] = json!({"net.core.somaxconn": "256"});
        l["resources"]["memory"] = json!({"limit": 1});
        l["resources"]["pids"] = json!({"limit": 1});
        l["resources"]["cpu"] = json!({"shares": 2});
        l["devices"] = json!([{"path": "/dev/x", "type": "c", "major": 42, "minor": 42}]);
        l["rootfsPropagation"] = json!("private");
        c["hooks"] = json!({"prestart": [{"path": "/a"}], "createRuntime": [{"path": "/b"}], "poststop": [{"path": "/c"}]});
        c
    }

    /// (edit, the one field it may change: nothing outside it differs afterwards)
    type Edit = fn(&mut Value) -> bool;

    const EDITS: &[(Edit, &str)] = &[
        (drop_masked_paths, "/linux/maskedPaths"),
        (drop_readonly_paths, "/linux/readonlyPaths"),
        (drop_one_capability, "/process/capabilities"),
        (drop_rlimits, "/process/rlimits"),
        (drop_hostname, "/hostname"),
        (drop_domainname, "/domainname"),
        (drop_ipc_namespace, "/linux/namespaces"),
        (drop_pid_namespace, "/linux/namespaces"),
        (drop_last_env, "/process/env"),
        (extra_env, "/process/env"),
        (ignore_cwd, "/process/cwd"),
        (drop_no_new_privileges, "/process/noNewPrivileges"),
        (drop_additional_gids, "/process/user/additionalGids"),
        (ignore_uid, "/process/user/uid"),
        (drop_umask, "/process/user/umask"),
        (drop_oom_score_adj, "/process/oomScoreAdj"),
        (drop_mount_ro, "/mounts"),
        (drop_scenario_mount, "/mounts"),
        (drop_seccomp, "/linux/seccomp"),
        (drop_sysctl, "/linux/sysctl"),
        (drop_memory_limits, "/linux/resources/memory"),
        (drop_pids_limit, "/linux/resources/pids"),
        (drop_cpu_limits, "/linux/resources/cpu"),
        (drop_device_rules, "/linux/resources/devices"),
        (drop_devices, "/linux/devices"),
        (drop_prestart_hooks, "/hooks/prestart"),
        (drop_create_runtime_hooks, "/hooks/createRuntime"),
        (drop_poststop_hooks, "/hooks/poststop"),
        (drop_rootfs_propagation, "/linux/rootfsPropagation"),
        (writable_root, "/root/readonly"),
    ];

    #[test]
    fn each_edit_changes_exactly_its_field() {
        for (i, (edit, path)) in EDITS.iter().enumerate() {
            let before = rich();
            let mut after = before.clone();
            assert!(
                edit(&mut after),
                "edit {i} ({path}) found nothing to change"
            );
            let mut changed = Vec::new();
            diff(&before, &after, "", &mut changed);
            assert!(!changed.is_empty(), "edit {i} ({path})");
            for c in &changed {
                assert!(c.starts_with(path), "edit {i} ({path}) also changed {c}");
            }
        }
    }

    #[test]
    fn an_edit_without_its_field_is_a_no_op() {
        let empty = json!({"process": {"args": ["/probe"]}});
        for (i, (edit, path)) in EDITS.iter().enumerate() {
            let mut c = empty.clone();
            let changed = edit(&mut c);
            if *path == "/process/env" && changed {
                // extra_env creates the list: adding is its promise-breaking change.
                assert_eq!(c["process"]["env"], json!(["OCI_MUTANT=1"]));
                continue;
            }
            assert!(!changed, "edit {i} ({path}) claims a change");
            assert_eq!(c, empty, "edit {i} ({path})");
        }
    }

    #[test]
    fn capability_drop_removes_one_name_from_every_set() {
        let mut c = base_config();
        assert!(drop_one_capability(&mut c));
        for set in ["bounding", "effective", "permitted", "ambient"] {
            assert_eq!(
                c["process"]["capabilities"][set],
                json!(["CAP_KILL", "CAP_NET_BIND_SERVICE"])
            );
        }
    }

    #[test]
    fn mount_edits_touch_the_scenario_mount_only() {
        let mut c = rich();
        assert!(drop_mount_ro(&mut c));
        assert_eq!(c["mounts"][7]["options"], json!(["rbind"]));
        assert_eq!(c["mounts"][5]["options"], rich()["mounts"][5]["options"]);
        let mut c = rich();
        assert!(drop_scenario_mount(&mut c));
        assert_eq!(c["mounts"].as_array().unwrap().len(), 7);
        let mut c = base_config();
        assert!(!drop_scenario_mount(&mut c));
    }

    #[test]
    fn namespace_drop_keeps_the_others() {
        let mut c = base_config();
        assert!(drop_pid_namespace(&mut c));
        let kinds: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["network", "ipc", "uts", "mount"]);
    }
}
