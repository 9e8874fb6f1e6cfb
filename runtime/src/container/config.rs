//! Loading and checking a bundle's config.json before anything is created.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("bundle {path}: {source}")]
    Bundle {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid {path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("config.json: {0}")]
    Invalid(String),
    #[error("root.path {path}: {source}")]
    Rootfs {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Unsupported(#[from] crate::security::Unsupported),
}

/// A loaded, validated bundle.
pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
    pub rootfs: PathBuf,
}

pub fn load_bundle(dir: &Path) -> Result<Bundle, ConfigError> {
    let dir = std::fs::canonicalize(dir).map_err(|source| ConfigError::Bundle {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join("config.json");
    let text = std::fs::read(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    // serde_json reports line and column of the offending field or type.
    let parse_err = |source| ConfigError::Parse {
        path: path.clone(),
        source,
    };
    let mut raw: serde_json::Value = serde_json::from_slice(&text).map_err(parse_err)?;
    let warnings = drop_ungrantable_capabilities(&mut raw);
    for warning in &warnings {
        crate::logging::warn(warning);
    }
    // One parse of the text on the good path. A type error found in the value has no
    // position, so only then is the text parsed again for its line and column.
    let spec: Spec = match serde_json::from_value(raw) {
        Ok(spec) => spec,
        Err(e) => {
            let positioned = serde_json::from_slice::<Spec>(&text).err().unwrap_or(e);
            return Err(parse_err(positioned));
        }
    };
    validate(&spec)?;
    crate::rootfs::idmapped::requests(&spec, &dir)
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    crate::security::check_supported(&spec)?;
    // Checks that change nothing (the seccomp profile compiles, capabilities exist, rlimit
    // types are unique): failing here beats failing halfway through the init.
    if let Some(p) = spec.process() {
        let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
        crate::security::validate_process(p, seccomp)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    }
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| ConfigError::Invalid("root is required".into()))?;
    let rootfs_path = dir.join(root.path());
    let rootfs = std::fs::canonicalize(&rootfs_path).map_err(|source| ConfigError::Rootfs {
        path: rootfs_path,
        source,
    })?;
    for ignored in crate::rootfs::bind::ignored_options(&spec, &rootfs) {
        crate::logging::debug(&ignored);
    }
    Ok(Bundle { dir, spec, rootfs })
}

/// config.md#linux-process: capabilities that "cannot be mapped to a relevant kernel interface,
/// or cannot be granted otherwise MUST be logged as a warning" and runtimes "SHOULD NOT fail".
/// Unknown names and names outside our own bounding set are removed from every set, each with
/// a warning (runc does the same).
pub fn drop_ungrantable_capabilities(raw: &mut serde_json::Value) -> Vec<String> {
    // One PR_CAPBSET_READ per name: reading the whole set would probe all 41 known caps.
    let grantable = |name: &str| {
        serde_json::from_value::<oci_spec::runtime::Capability>(serde_json::Value::String(
            name.to_string(),
        ))
        .is_ok()
            && name
                .parse::<caps::Capability>()
                .is_ok_and(|c| caps::has_cap(None, caps::CapSet::Bounding, c).unwrap_or(false))
    };
    let mut warnings = Vec::new();
    let Some(sets) = raw
        .pointer_mut("/process/capabilities")
        .and_then(|c| c.as_object_mut())
    else {
        return warnings;
    };
    for (set, names) in sets.iter_mut() {
        let Some(list) = names.as_array_mut() else {
            continue;
        };
        list.retain(|n| match n.as_str() {
            Some(name) if !grantable(name) => {
                warnings.push(format!("process.capabilities.{set}: {name} cannot be granted here (unknown, or not in the runtime's bounding set); skipped"));
                false
            }
            _ => true,
        });
    }
    warnings
}

/// Checks of the config as a whole that no single module owns.
pub fn validate(spec: &Spec) -> Result<(), ConfigError> {
    let invalid = |m: &str| Err(ConfigError::Invalid(m.to_string()));
    let Some(process) = spec.process() else {
        return invalid("process is required (ferrun does not support process-less containers)");
    };
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return invalid("process.args must contain at least one entry");
    }
    super::checks::check_env("process.env", process.env().iter().flatten())
        .map_err(ConfigError::Invalid)?;
    if let Some(linux) = spec.linux() {
        for (field, maps) in [
            ("linux.uidMappings", linux.uid_mappings()),
            ("linux.gidMappings", linux.gid_mappings()),
        ] {
            super::checks::check_id_mappings(field, maps.as_deref().unwrap_or_default())
                .map_err(ConfigError::Invalid)?;
        }
    }
    if !process.cwd().is_absolute() {
        return invalid(&format!(
            "process.cwd {:?} must be an absolute path",
            process.cwd()
        ));
    }
    let ns_entry = |kind: LinuxNamespaceType| {
        spec.linux()
            .as_ref()
            .and_then(|l| l.namespaces().as_ref())
            .is_some_and(|ns| ns.iter().any(|n| n.typ() == kind))
    };
    // runc's rule (validate.uts): a uts namespace entry, new or joined by path, so the name
    // never lands on the host's own namespace. runc words it "unable to set hostname without
    // a private UTS namespace".
    for (field, value) in [
        ("hostname", spec.hostname()),
        ("domainname", spec.domainname()),
    ] {
        if value.as_deref().is_some_and(|h| !h.is_empty()) && !ns_entry(LinuxNamespaceType::Uts) {
            return invalid(&format!(
                "unable to set {field} without a private UTS namespace (linux.namespaces has no uts entry)"
            ));
        }
    }
    crate::sysctl::check(spec).map_err(ConfigError::Invalid)?;
    if !ns_entry(LinuxNamespaceType::Mount) {
        check_host_mount_namespace(spec)?;
    }
    Ok(())
}

/// A container without a mount namespace entry shares the runtime's mount namespace, as in
/// runc and crun: its mounts are made under the rootfs in that namespace and it is chrooted
/// there. What would have to change the host's own mounts is refused: masking and read-only
/// paths (runc's validate.security rule and wording) and a read-only root, which runc gets
/// by remounting its rootfs bind and ferrun, which makes no such bind here, cannot.
fn check_host_mount_namespace(spec: &Spec) -> Result<(), ConfigError> {
    let linux = spec.linux().as_ref();
    let listed = |v: Option<&Vec<String>>| v.is_some_and(|v| !v.is_empty());
    if listed(linux.and_then(|l| l.masked_paths().as_ref()))
        || listed(linux.and_then(|l| l.readonly_paths().as_ref()))
    {
        return Err(ConfigError::Invalid(
            "unable to restrict sys entries without a private MNT namespace (linux.maskedPaths and linux.readonlyPaths need a mount namespace)".into(),
        ));
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        return Err(ConfigError::Invalid(
            "root.readonly needs a mount namespace in linux.namespaces".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> Spec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn hostname_without_uts_namespace_is_rejected() {
        let s = spec(serde_json::json!({"ociVersion":"1.2.0","hostname":"x",
            "process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"mount"}]}}));
        let e = validate(&s).unwrap_err().to_string();
        assert!(
            e.contains("unable to set hostname without a private UTS namespace"),
            "{e}"
        );
    }

    #[test]
    fn hostname_with_a_joined_uts_namespace_is_accepted() {
        let s = spec(serde_json::json!({"ociVersion":"1.2.0","hostname":"x",
            "process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},
            "linux":{"namespaces":[{"type":"mount"},{"type":"uts","path":"/proc/self/ns/uts"}]}}));
        validate(&s).expect("a joined uts namespace is enough, as in runc");
    }

    #[test]
    fn no_mount_namespace_runs_unless_it_would_touch_host_mounts() {
        let base = serde_json::json!({"ociVersion":"1.2.0",
            "process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},
            "linux":{"namespaces":[{"type":"pid"}]}});
        validate(&spec(base.clone())).expect("no mount namespace is allowed");
        let mut masked = base.clone();
        masked["linux"]["maskedPaths"] = serde_json::json!(["/proc/kcore"]);
        let e = validate(&spec(masked)).unwrap_err().to_string();
        assert!(e.contains("without a private MNT namespace"), "{e}");
        let mut ro = base;
        ro["root"] = serde_json::json!({"path": "rootfs", "readonly": true});
        let e = validate(&spec(ro)).unwrap_err().to_string();
        assert!(e.contains("root.readonly"), "{e}");
    }

    #[test]
    fn empty_args_and_relative_cwd_are_rejected() {
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","process":{"user":{"uid":0,"gid":0},"args":[],"cwd":"/"},
            "linux":{"namespaces":[{"type":"mount"}]}}),
        );
        assert!(validate(&s)
            .unwrap_err()
            .to_string()
            .contains("process.args"));
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"tmp"},
            "linux":{"namespaces":[{"type":"mount"}]}}),
        );
        assert!(validate(&s)
            .unwrap_err()
            .to_string()
            .contains("process.cwd"));
    }

    #[test]
    fn unknown_capabilities_are_dropped_with_a_warning() {
        let mut raw = serde_json::json!({"process": {"capabilities": {
            "bounding": ["CAP_KILL", "CAP_NOT_REAL"], "effective": ["CAP_KILL"]}}});
        let w = drop_ungrantable_capabilities(&mut raw);
        assert_eq!(
            raw["process"]["capabilities"]["bounding"],
            serde_json::json!(["CAP_KILL"])
        );
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("CAP_NOT_REAL") && w[0].contains("bounding"),
            "{w:?}"
        );
    }

    #[test]
    fn wrong_types_name_the_position() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("config.json"),
            r#"{"ociVersion":"1.2.0","process":{"args":"sh"}}"#,
        )
        .unwrap();
        let e = load_bundle(tmp.path()).err().unwrap().to_string();
        assert!(e.contains("config.json") && e.contains("column"), "{e}");
    }
}
