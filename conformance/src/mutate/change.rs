//! The config.json edits that change a promise instead of dropping it: a value moved to
//! another valid value, an entry added, or one entry of several removed. Like edit/, each
//! reports whether the config had something to change (else the shim does not count it fired).

use super::edit::remove_at;
use serde_json::{json, Value};

/// Drops `opt` from the last mount that has it (a scenario's own mounts come after the
/// defaults).
fn drop_mount_option(c: &mut Value, opt: &str) -> bool {
    let Some(mounts) = c.get_mut("mounts").and_then(Value::as_array_mut) else {
        return false;
    };
    for m in mounts.iter_mut().rev() {
        if let Some(opts) = m.get_mut("options").and_then(Value::as_array_mut) {
            if let Some(i) = opts.iter().position(|o| o == opt) {
                opts.remove(i);
                return true;
            }
        }
    }
    false
}

pub fn drop_mount_nosuid(c: &mut Value) -> bool {
    drop_mount_option(c, "nosuid")
}

pub fn drop_mount_nodev(c: &mut Value) -> bool {
    drop_mount_option(c, "nodev")
}

pub fn drop_mount_noexec(c: &mut Value) -> bool {
    drop_mount_option(c, "noexec")
}

/// Changes the `mode=` of the last tmpfs mount that sets one (0755 becomes 0700, anything
/// else 0755).
pub fn tmpfs_mode_changed(c: &mut Value) -> bool {
    let Some(mounts) = c.get_mut("mounts").and_then(Value::as_array_mut) else {
        return false;
    };
    for m in mounts.iter_mut().rev().filter(|m| m["type"] == "tmpfs") {
        let Some(opts) = m.get_mut("options").and_then(Value::as_array_mut) else {
            continue;
        };
        if let Some(o) = opts
            .iter_mut()
            .find(|o| o.as_str().is_some_and(|s| s.starts_with("mode=")))
        {
            let old = o.as_str().unwrap_or_default().trim_start_matches("mode=0");
            *o = json!(if old == "755" {
                "mode=0700"
            } else {
                "mode=0755"
            });
            return true;
        }
    }
    false
}

/// Halves the soft and hard values of the last rlimit (lowering is always allowed, so the
/// runtime still starts the container).
pub fn rlimit_value_changed(c: &mut Value) -> bool {
    let Some(rl) = c
        .pointer_mut("/process/rlimits")
        .and_then(Value::as_array_mut)
        .and_then(|r| r.last_mut())
    else {
        return false;
    };
    let (Some(soft), Some(hard)) = (rl["soft"].as_u64(), rl["hard"].as_u64()) else {
        return false;
    };
    if hard < 2 {
        return false;
    }
    rl["soft"] = json!(soft / 2);
    rl["hard"] = json!(hard / 2);
    true
}

/// Adds CAP_SYS_ADMIN to every capability set that lacks it.
pub fn extra_capability(c: &mut Value) -> bool {
    let Some(caps) = c
        .pointer_mut("/process/capabilities")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    let mut changed = false;
    for set in caps.values_mut().filter_map(Value::as_array_mut) {
        if !set.iter().any(|n| n == "CAP_SYS_ADMIN") {
            set.push(json!("CAP_SYS_ADMIN"));
            changed = true;
        }
    }
    changed
}

/// Moves a number at `ptr` to another value (`f` of it).
fn change_number(c: &mut Value, ptr: &str, f: fn(i64) -> i64) -> bool {
    match c.pointer_mut(ptr) {
        Some(v) if v.is_i64() => {
            let old = v.as_i64().unwrap_or_default();
            *v = json!(f(old));
            true
        }
        _ => false,
    }
}

pub fn uid_changed(c: &mut Value) -> bool {
    change_number(c, "/process/user/uid", |u| u + 1)
}

pub fn gid_changed(c: &mut Value) -> bool {
    change_number(c, "/process/user/gid", |g| g + 1)
}

/// Adds a supplementary group nobody asked for (gid 4242) to process.user.
pub fn extra_additional_gid(c: &mut Value) -> bool {
    let Some(user) = c
        .pointer_mut("/process/user")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    match user.get_mut("additionalGids").and_then(Value::as_array_mut) {
        Some(g) => g.push(json!(4242)),
        None => {
            user.insert("additionalGids".into(), json!([4242]));
        }
    }
    true
}

/// Sets another umask where one is set (022 becomes 077, anything else 022); its absence is
/// edit/'s drop_umask.
pub fn umask_changed(c: &mut Value) -> bool {
    change_number(c, "/process/user/umask", |m| {
        if m == 0o022 {
            0o077
        } else {
            0o022
        }
    })
}

/// Changes the value of the last process.env entry (appends `_mutant`).
pub fn env_value_changed(c: &mut Value) -> bool {
    match c
        .pointer_mut("/process/env")
        .and_then(Value::as_array_mut)
        .and_then(|e| e.last_mut())
    {
        Some(v) if v.as_str().is_some_and(|s| s.contains('=')) => {
            *v = json!(format!("{}_mutant", v.as_str().unwrap_or_default()));
            true
        }
        _ => false,
    }
}

/// Appends an argument to process.args.
pub fn extra_arg(c: &mut Value) -> bool {
    match c.pointer_mut("/process/args").and_then(Value::as_array_mut) {
        Some(a) if !a.is_empty() => {
            a.push(json!("oci-mutant"));
            true
        }
        _ => false,
    }
}

/// Moves process.cwd to another directory that exists in every rootfs (/dev, or /proc when
/// the cwd is /dev).
pub fn cwd_changed(c: &mut Value) -> bool {
    match c.pointer_mut("/process/cwd") {
        Some(cwd) if cwd.is_string() => {
            *cwd = json!(if cwd == "/dev" { "/proc" } else { "/dev" });
            true
        }
        _ => false,
    }
}

pub fn hostname_changed(c: &mut Value) -> bool {
    match c.get_mut("hostname") {
        Some(h) if h.as_str().is_some_and(|s| !s.is_empty()) => {
            *h = json!(format!("{}x", h.as_str().unwrap_or_default()));
            true
        }
        _ => false,
    }
}

/// Pops the last entry of an array at `ptr`, only when others stay (a partial drop).
fn drop_last_of_several(c: &mut Value, ptr: &str) -> bool {
    match c.pointer_mut(ptr).and_then(Value::as_array_mut) {
        Some(a) if a.len() >= 2 => a.pop().is_some(),
        _ => false,
    }
}

pub fn drop_one_masked_path(c: &mut Value) -> bool {
    drop_last_of_several(c, "/linux/maskedPaths")
}

pub fn drop_one_readonly_path(c: &mut Value) -> bool {
    drop_last_of_several(c, "/linux/readonlyPaths")
}

pub fn oom_score_adj_changed(c: &mut Value) -> bool {
    change_number(c, "/process/oomScoreAdj", |o| {
        if o < 1000 {
            o + 1
        } else {
            o - 1
        }
    })
}

/// The seccomp default action becomes SCMP_ACT_ALLOW (where it was something else).
pub fn seccomp_default_allow(c: &mut Value) -> bool {
    match c.pointer_mut("/linux/seccomp/defaultAction") {
        Some(a) if a != "SCMP_ACT_ALLOW" => {
            *a = json!("SCMP_ACT_ALLOW");
            true
        }
        _ => false,
    }
}

/// Drops the last seccomp rule.
pub fn seccomp_drop_one_rule(c: &mut Value) -> bool {
    c.pointer_mut("/linux/seccomp/syscalls")
        .and_then(Value::as_array_mut)
        .and_then(|s| s.pop())
        .is_some()
}

/// Changes the value of the first numeric sysctl (n becomes n + 1).
pub fn sysctl_value_changed(c: &mut Value) -> bool {
    let Some(s) = c
        .pointer_mut("/linux/sysctl")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    for v in s.values_mut() {
        if let Some(n) = v.as_str().and_then(|t| t.trim().parse::<i64>().ok()) {
            *v = json!((n + 1).to_string());
            return true;
        }
    }
    false
}

/// Moves a limit at `ptr` with `f`, where it is a real limit: -1 (unlimited) and 0 (unset)
/// would stay meaningless after the change.
fn change_limit(c: &mut Value, ptr: &str, f: fn(i64) -> i64) -> bool {
    match c.pointer(ptr).and_then(Value::as_i64) {
        Some(l) if l > 0 => change_number(c, ptr, f),
        _ => false,
    }
}

/// Doubles the memory limit.
pub fn memory_limit_doubled(c: &mut Value) -> bool {
    change_limit(c, "/linux/resources/memory/limit", |l| l * 2)
}

/// Doubles the cpu quota.
pub fn cpu_quota_changed(c: &mut Value) -> bool {
    change_limit(c, "/linux/resources/cpu/quota", |q| q * 2)
}

/// Raises the pids limit by one.
pub fn pids_limit_changed(c: &mut Value) -> bool {
    change_limit(c, "/linux/resources/pids/limit", |l| l + 1)
}

/// Adds /dev/oci-mutant (the null device's numbers) to linux.devices.
pub fn extra_device(c: &mut Value) -> bool {
    let Some(linux) = c.get_mut("linux").and_then(Value::as_object_mut) else {
        return false;
    };
    let dev = json!({"path": "/dev/oci-mutant", "type": "c", "major": 1, "minor": 3,
                     "fileMode": 438, "uid": 0, "gid": 0});
    match linux.get_mut("devices").and_then(Value::as_array_mut) {
        Some(d) => d.push(dev),
        None => {
            linux.insert("devices".into(), json!([dev]));
        }
    }
    true
}

pub fn drop_poststart_hooks(c: &mut Value) -> bool {
    remove_at(c, &["hooks"], "poststart")
}

pub fn drop_create_container_hooks(c: &mut Value) -> bool {
    remove_at(c, &["hooks"], "createContainer")
}

pub fn drop_start_container_hooks(c: &mut Value) -> bool {
    remove_at(c, &["hooks"], "startContainer")
}

/// Removes `key` from every hook of every kind.
fn strip_hooks(c: &mut Value, key: &str) -> bool {
    let Some(hooks) = c.get_mut("hooks").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut changed = false;
    for list in hooks.values_mut().filter_map(Value::as_array_mut) {
        for h in list.iter_mut().filter_map(Value::as_object_mut) {
            changed |= h.remove(key).is_some();
        }
    }
    changed
}

pub fn hook_args_dropped(c: &mut Value) -> bool {
    strip_hooks(c, "args")
}

pub fn hook_env_dropped(c: &mut Value) -> bool {
    strip_hooks(c, "env")
}

pub fn hook_timeout_ignored(c: &mut Value) -> bool {
    strip_hooks(c, "timeout")
}

/// root.readonly forced on where the config leaves the root writable.
pub fn readonly_root_forced(c: &mut Value) -> bool {
    match c.get_mut("root").and_then(Value::as_object_mut) {
        Some(r) if r.get("readonly") != Some(&json!(true)) => {
            r.insert("readonly".into(), json!(true));
            true
        }
        _ => false,
    }
}

/// noNewPrivileges forced on where the config leaves it off.
pub fn no_new_privileges_forced(c: &mut Value) -> bool {
    match c.get_mut("process").and_then(Value::as_object_mut) {
        Some(p) if p.get("noNewPrivileges") != Some(&json!(true)) => {
            p.insert("noNewPrivileges".into(), json!(true));
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::config::base_config;

    fn rich() -> Value {
        let mut c = base_config();
        c["process"]["cwd"] = json!("/tmp");
        c["process"]["args"] = json!(["/probe", "a"]);
        c["process"]["env"] = json!(["PATH=/bin", "FOO=bar"]);
        c["process"]["user"] =
            json!({"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5]});
        c["process"]["oomScoreAdj"] = json!(100);
        c["process"]["noNewPrivileges"] = json!(false);
        c["root"]["readonly"] = json!(false);
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/data", "type": "tmpfs",
            "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=0755"]}));
        let l = &mut c["linux"];
        l["seccomp"] = json!({"defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]});
        l["sysctl"] = json!({"net.core.somaxconn": "256"});
        l["resources"]["memory"] = json!({"limit": 100});
        l["devices"] = json!([]);
        l["resources"]["pids"] = json!({"limit": 10});
        l["resources"]["cpu"] = json!({"quota": 5000, "period": 100000});
        c["hooks"] = json!({"poststart": [{"path": "/a", "args": ["a", "1"], "env": ["X=1"],
            "timeout": 2}], "createContainer": [{"path": "/b"}], "startContainer": [{"path": "/c"}]});
        c
    }

    type Edit = fn(&mut Value) -> bool;

    /// (edit, the JSON pointer of the one value it may change)
    const EDITS: &[(Edit, &str)] = &[
        (drop_mount_nosuid, "/mounts/7/options"),
        (drop_mount_nodev, "/mounts/7/options"),
        (drop_mount_noexec, "/mounts/7/options"),
        (tmpfs_mode_changed, "/mounts/7/options"),
        (rlimit_value_changed, "/process/rlimits"),
        (extra_capability, "/process/capabilities"),
        (uid_changed, "/process/user/uid"),
        (gid_changed, "/process/user/gid"),
        (extra_additional_gid, "/process/user/additionalGids"),
        (umask_changed, "/process/user/umask"),
        (env_value_changed, "/process/env"),
        (extra_arg, "/process/args"),
        (cwd_changed, "/process/cwd"),
        (hostname_changed, "/hostname"),
        (drop_one_masked_path, "/linux/maskedPaths"),
        (drop_one_readonly_path, "/linux/readonlyPaths"),
        (oom_score_adj_changed, "/process/oomScoreAdj"),
        (seccomp_default_allow, "/linux/seccomp/defaultAction"),
        (seccomp_drop_one_rule, "/linux/seccomp/syscalls"),
        (sysctl_value_changed, "/linux/sysctl"),
        (memory_limit_doubled, "/linux/resources/memory/limit"),
        (cpu_quota_changed, "/linux/resources/cpu/quota"),
        (pids_limit_changed, "/linux/resources/pids/limit"),
        (extra_device, "/linux/devices"),
        (drop_poststart_hooks, "/hooks"),
        (drop_create_container_hooks, "/hooks"),
        (drop_start_container_hooks, "/hooks"),
        (hook_args_dropped, "/hooks/poststart/0"),
        (hook_env_dropped, "/hooks/poststart/0"),
        (hook_timeout_ignored, "/hooks/poststart/0"),
        (readonly_root_forced, "/root/readonly"),
        (no_new_privileges_forced, "/process/noNewPrivileges"),
    ];

    /// Blanks the value at `ptr` in both documents: what stays must be equal.
    fn without(mut v: Value, ptr: &str) -> Value {
        if let Some(x) = v.pointer_mut(ptr) {
            *x = Value::Null;
        }
        v
    }

    #[test]
    fn each_edit_changes_exactly_its_value() {
        for (i, (edit, ptr)) in EDITS.iter().enumerate() {
            let before = rich();
            let mut after = before.clone();
            assert!(edit(&mut after), "edit {i} ({ptr}) found nothing to change");
            assert_ne!(before, after, "edit {i} ({ptr})");
            assert_eq!(
                without(before, ptr),
                without(after, ptr),
                "edit {i} ({ptr}) changed something else"
            );
        }
    }

    #[test]
    fn an_edit_without_its_field_changes_nothing() {
        let empty = json!({"process": {"args": []}, "mounts": [], "hooks": {}});
        for (i, (edit, ptr)) in EDITS.iter().enumerate() {
            let mut c = empty.clone();
            if *ptr == "/linux/devices" || *ptr == "/process/noNewPrivileges" {
                continue; // adding is their promise-breaking change: checked below
            }
            assert!(!edit(&mut c), "edit {i} ({ptr}) claims a change");
            assert_eq!(c, empty, "edit {i} ({ptr})");
        }
        assert!(!extra_device(&mut json!({})));
        let mut c = empty.clone();
        assert!(no_new_privileges_forced(&mut c));
        assert_eq!(c["process"]["noNewPrivileges"], true);
    }

    #[test]
    fn changed_values_are_other_valid_values() {
        let mut c = rich();
        assert!(rlimit_value_changed(&mut c));
        assert_eq!(
            c["process"]["rlimits"][0],
            json!({"type": "RLIMIT_NOFILE", "hard": 512, "soft": 512})
        );
        assert!(tmpfs_mode_changed(&mut c));
        assert_eq!(c["mounts"][7]["options"][3], "mode=0700");
        assert!(umask_changed(&mut c));
        assert_eq!(c["process"]["user"]["umask"], 0o077);
        assert!(env_value_changed(&mut c));
        assert_eq!(c["process"]["env"][1], "FOO=bar_mutant");
        assert!(cwd_changed(&mut c));
        assert_eq!(c["process"]["cwd"], "/dev");
        assert!(sysctl_value_changed(&mut c));
        assert_eq!(c["linux"]["sysctl"]["net.core.somaxconn"], "257");
        assert!(drop_one_masked_path(&mut c));
        assert_eq!(c["linux"]["maskedPaths"].as_array().unwrap().len(), 9);
        let mut c = base_config();
        assert!(extra_capability(&mut c));
        assert!(!extra_capability(&mut c), "already there: nothing to add");
        assert!(
            !readonly_root_forced(&mut c),
            "base root is read-only already"
        );
        assert!(!no_new_privileges_forced(&mut c));
    }
}
