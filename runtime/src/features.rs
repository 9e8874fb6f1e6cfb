//! `ferrun features`: the runtime-spec features document (features.md), listing only what
//! ferrun really implements. Tests tie each list to the code that implements it.

use serde_json::{json, Value};

/// Every option `rootfs::options::parse_options` understands.
pub const MOUNT_OPTIONS: &[&str] = &[
    "acl",
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "iversion",
    "lazytime",
    "loud",
    "mand",
    "noacl",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

pub fn features() -> Value {
    let libseccomp = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    // The security module derives its parts from the code that enforces them (actions the
    // seccomp planner accepts, flags probed on a real libseccomp filter, the caps crate's list).
    let sec = crate::security::features::seccomp();
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::container::state::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": MOUNT_OPTIONS,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": crate::security::features::capabilities(),
            "cgroup": {"v1": true, "v2": true, "systemd": true, "systemdUser": false, "rdma": true},
            "seccomp": sec,
            "apparmor": crate::security::features::apparmor(),
            "selinux": crate::security::features::selinux(),
            "intelRdt": crate::security::features::intel_rdt(),
            "mountExtensions": {"idmap": {"enabled": true}}
        },
        "annotations": {
            "io.github.ferrun.version": env!("CARGO_PKG_VERSION"),
            // runc's org.opencontainers.runc.checkpoint.enabled: `checkpoint` and `restore`
            // work through CRIU (criu swrk) when a criu binary is installed.
            "io.github.ferrun.checkpoint.enabled": "true",
            "io.github.seccomp.libseccomp.version": libseccomp
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_parses_as_oci_features() {
        let f: oci_spec::runtime::Features = serde_json::from_value(features()).unwrap();
        assert_eq!(f.oci_version_max(), "1.2.0");
        let a = f.annotations().clone().unwrap_or_default();
        assert_eq!(a["io.github.ferrun.checkpoint.enabled"], "true");
    }

    /// An option the table does not know is passed on to the filesystem as data.
    #[test]
    fn every_listed_mount_option_is_understood() {
        for o in MOUNT_OPTIONS {
            let parsed = crate::rootfs::options::parse_options(&[o.to_string()]);
            assert_eq!(parsed.data, "", "{o} is not in the option table");
        }
        assert_eq!(
            crate::rootfs::options::parse_options(&["size=1m".into()]).data,
            "size=1m"
        );
    }
}
