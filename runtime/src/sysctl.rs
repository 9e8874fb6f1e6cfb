//! linux.sysctl (config-linux.md#sysctl): which keys a container may set, and the file under
//! /proc/sys each one names. /proc/sys is only partly namespaced: a key outside the
//! container's own ipc, net or uts namespace would be written to the host. The rules are
//! runc's validator's, and so is the wording (`linux.sysctl "KEY" ...` holds runc's message):
//!
//! - the System V ipc keys (`kernel.msgmax` ... `kernel.shm_rmid_forced`) and `fs.mqueue.*`
//!   need an ipc namespace in linux.namespaces;
//! - `net.*` needs a network namespace that is not the runtime's own;
//! - `kernel.domainname` needs a uts namespace; `kernel.hostname` is refused, as it conflicts
//!   with the `hostname` field;
//! - anything else is not namespaced and is refused.
//!
//! A key may use `/` instead of `.` as its separator (sysctl.d(5)); then a `.` inside it is
//! part of a name (`net/ipv4/conf/eth0.100/rp_filter`). No component may be empty, `.` or
//! `..`, so a key never leaves /proc/sys (`/tmp/x` has an empty first component).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType, Spec};

/// System V ipc keys of the ipc namespace under /proc/sys/kernel (ipc_namespaces(7)).
const IPC_KERNEL_KEYS: [&str; 8] = [
    "msgmax",
    "msgmnb",
    "msgmni",
    "sem",
    "shmall",
    "shmmax",
    "shmmni",
    "shm_rmid_forced",
];

/// The key's components as file names under /proc/sys.
fn components(key: &str) -> Result<Vec<String>, String> {
    // sysctl.d(5): the first separator decides; in the slash form a `.` belongs to a name.
    let slash_form = key
        .find(['.', '/'])
        .is_some_and(|i| key.as_bytes()[i] == b'/');
    let sep = if slash_form { '/' } else { '.' };
    let parts: Vec<String> = key.split(sep).map(str::to_string).collect();
    for part in &parts {
        if part.is_empty() || part == "." || part == ".." || part.contains('/') {
            return Err(format!(
                "linux.sysctl {key:?}: invalid key (empty, \".\" or \"..\" component, or a \"/\" in a dotted key)"
            ));
        }
    }
    Ok(parts)
}

/// The file under `proc_sys` (normally /proc/sys) that `key` names; refuses keys that would
/// leave it.
pub fn path_of(proc_sys: &Path, key: &str) -> Result<PathBuf, String> {
    let mut path = proc_sys.to_path_buf();
    path.extend(components(key)?);
    Ok(path)
}

/// Refuse every key of `spec`'s linux.sysctl that is malformed or would be written outside
/// the container's namespaces; the error names the first such key (in sorted order).
pub fn check(spec: &Spec) -> Result<(), String> {
    let Some(linux) = spec.linux() else {
        return Ok(());
    };
    let Some(sysctl) = linux.sysctl() else {
        return Ok(());
    };
    let namespaces = linux.namespaces().as_deref().unwrap_or_default();
    let mut keys: Vec<&String> = sysctl.keys().collect();
    keys.sort();
    for key in keys {
        check_key(key, namespaces)?;
    }
    Ok(())
}

fn check_key(key: &str, namespaces: &[LinuxNamespace]) -> Result<(), String> {
    // Classified by file names, so a slash-form key's `.` cannot pass for a separator.
    let parts = components(key)?;
    let names: Vec<&str> = parts.iter().map(String::as_str).collect();
    let refuse = |why: &str| Err(format!("linux.sysctl {key:?} {why}"));
    let ipc = match names[..] {
        ["kernel", name] => IPC_KERNEL_KEYS.contains(&name),
        ["fs", "mqueue", _, ..] => true,
        _ => false,
    };
    if ipc {
        return match private(namespaces, LinuxNamespaceType::Ipc)? {
            true => Ok(()),
            false => refuse("is not allowed in the hosts ipc namespace"),
        };
    }
    if names.len() > 1 && names[0] == "net" {
        return match private(namespaces, LinuxNamespaceType::Network)? {
            true => Ok(()),
            false => refuse("not allowed in host network namespace"),
        };
    }
    if private(namespaces, LinuxNamespaceType::Uts)? {
        match names[..] {
            ["kernel", "domainname"] => return Ok(()),
            ["kernel", "hostname"] => {
                return refuse("is not allowed as it conflicts with the OCI \"hostname\" field")
            }
            _ => {}
        }
    }
    refuse("is not in a separate kernel namespace")
}

/// Whether linux.namespaces gives the container its own namespace of `kind`: a new one, or a
/// path that is not the runtime's own (runc checks this for net; joining the host's ipc or
/// uts namespace by path would write to the host just the same).
fn private(namespaces: &[LinuxNamespace], kind: LinuxNamespaceType) -> Result<bool, String> {
    let Some(ns) = namespaces.iter().find(|n| n.typ() == kind) else {
        return Ok(false);
    };
    let Some(path) = ns.path() else {
        return Ok(true);
    };
    let own = match kind {
        LinuxNamespaceType::Network => "/proc/self/ns/net",
        LinuxNamespaceType::Ipc => "/proc/self/ns/ipc",
        LinuxNamespaceType::Uts => "/proc/self/ns/uts",
        // Only the three namespaces above hold sysctls.
        _ => return Ok(true),
    };
    let stat = |p: &Path| {
        std::fs::metadata(p).map_err(|e| format!("linux.namespaces {}: {e}", p.display()))
    };
    let (theirs, ours) = (stat(path)?, stat(Path::new(own))?);
    Ok((theirs.dev(), theirs.ino()) != (ours.dev(), ours.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(namespaces: serde_json::Value, key: &str) -> Spec {
        serde_json::from_value(serde_json::json!({"ociVersion": "1.2.0",
            "linux": {"namespaces": namespaces, "sysctl": {key: "1"}}}))
        .unwrap()
    }

    fn all() -> serde_json::Value {
        serde_json::json!([{"type": "mount"}, {"type": "ipc"}, {"type": "network"}, {"type": "uts"}])
    }

    #[test]
    fn namespaced_keys_pass_with_their_namespace() {
        for key in [
            "kernel.msgmax",
            "kernel.shm_rmid_forced",
            "fs.mqueue.msg_max",
            "net.ipv4.ip_forward",
            "net/ipv4/ip_forward",
            "net/ipv4/conf/eth0.100/rp_filter",
            "kernel.domainname",
        ] {
            assert_eq!(check(&spec(all(), key)), Ok(()), "{key}");
        }
    }

    #[test]
    fn host_keys_are_refused_naming_the_key() {
        for key in [
            "fs.lease-break-time",
            "kernel.core_pattern",
            "vm.swappiness",
        ] {
            let e = check(&spec(all(), key)).unwrap_err();
            assert_eq!(
                e,
                format!("linux.sysctl {key:?} is not in a separate kernel namespace")
            );
        }
        let e = check(&spec(all(), "kernel.hostname")).unwrap_err();
        assert!(
            e.contains("conflicts with the OCI \"hostname\" field"),
            "{e}"
        );
    }

    #[test]
    fn namespaced_keys_without_their_namespace_are_refused() {
        let mount = serde_json::json!([{"type": "mount"}]);
        let e = check(&spec(mount.clone(), "kernel.shmmax")).unwrap_err();
        assert!(e.contains("hosts ipc namespace"), "{e}");
        let e = check(&spec(mount.clone(), "fs.mqueue.queues_max")).unwrap_err();
        assert!(e.contains("hosts ipc namespace"), "{e}");
        let e = check(&spec(mount.clone(), "net.core.somaxconn")).unwrap_err();
        assert!(e.contains("host network namespace"), "{e}");
        let e = check(&spec(mount, "kernel.domainname")).unwrap_err();
        assert!(e.contains("not in a separate kernel namespace"), "{e}");
        // Joining the runtime's own network namespace by path is the host's.
        let host_net = serde_json::json!([{"type": "mount"},
            {"type": "network", "path": "/proc/self/ns/net"}]);
        let e = check(&spec(host_net, "net.ipv4.ip_forward")).unwrap_err();
        assert!(e.contains("host network namespace"), "{e}");
    }

    #[test]
    fn keys_that_would_leave_proc_sys_are_refused() {
        for key in [
            "/tmp/x",
            "net.ipv4..ip_forward",
            "net.ipv4.",
            "net.ipv4/../../x",
            "net/ipv4/../../../etc/x",
            "net/ipv4/./x",
            "",
        ] {
            let e = check(&spec(all(), key)).unwrap_err();
            assert!(e.contains("invalid key"), "{key}: {e}");
            assert!(path_of(Path::new("/proc/sys"), key).is_err(), "{key}");
        }
        assert_eq!(
            path_of(Path::new("/proc/sys"), "net/ipv4/conf/eth0.100/rp_filter").unwrap(),
            Path::new("/proc/sys/net/ipv4/conf/eth0.100/rp_filter")
        );
        assert_eq!(
            path_of(Path::new("/proc/sys"), "kernel.msgmax").unwrap(),
            Path::new("/proc/sys/kernel/msgmax")
        );
    }
}
