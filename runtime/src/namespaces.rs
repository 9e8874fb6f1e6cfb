//! Which namespaces the container gets and how: created by the one `clone`, created later by
//! `unshare` (cgroup, after the init was moved into its cgroup), created by the parent before
//! the clone (time: offsets must be written before any process enters it), or joined by path.
//!
//! config-linux.md#namespaces: "If a namespace type is not specified in the namespaces array,
//! the container MUST inherit the runtime namespace of that type"; "If a path is specified,
//! that particular file is used to join that type of namespace"; duplicates are an error.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Spec};

#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("linux.namespaces: namespace type {0:?} is listed twice")]
    Duplicate(String),
    #[error("linux.namespaces: cannot open {kind} namespace path {path}: {source}")]
    Open {
        kind: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("linux.uidMappings: a new user namespace needs uid and gid mappings")]
    MissingMappings,
    #[error("linux.uidMappings/gidMappings given, but no new user namespace is configured")]
    MappingsWithoutUserns,
    #[error("linux.timeOffsets given, but no new time namespace is configured")]
    OffsetsWithoutTimens,
    #[error("linux.timeOffsets: unknown clock {0:?} (only monotonic and boottime)")]
    BadClock(String),
}

/// A namespace to join, opened in the parent (so a bad path fails `create` early).
#[derive(Debug)]
pub struct JoinNs {
    pub kind: LinuxNamespaceType,
    pub file: OwnedFd,
}

#[derive(Debug)]
pub struct NamespacePlan {
    /// CLONE_NEW* flags for the single clone.
    pub clone_flags: CloneFlags,
    /// A new cgroup namespace, unshared by init after it was placed in its cgroup, so its
    /// cgroup root is the container's cgroup (what runc does).
    pub new_cgroup: bool,
    /// A new time namespace: the parent unshares it and writes these offsets before cloning.
    pub new_time: Option<String>,
    /// Namespaces joined by init with setns, in order (user first).
    pub join: Vec<JoinNs>,
    /// A pid namespace to join: setns'd by the parent before the clone, since setns on a pid
    /// namespace only affects children.
    pub join_pid: Option<OwnedFd>,
    pub uid_mappings: Vec<LinuxIdMapping>,
    pub gid_mappings: Vec<LinuxIdMapping>,
}

impl NamespacePlan {
    pub fn new_user(&self) -> bool {
        self.clone_flags.contains(CloneFlags::CLONE_NEWUSER)
    }

    /// A user namespace, new or joined by path (what rootless mode requires).
    pub fn has_user(&self) -> bool {
        self.new_user() || self.join.iter().any(|j| j.kind == LinuxNamespaceType::User)
    }

    /// No mount namespace entry at all: the container shares the runtime's mount namespace
    /// (config-linux.md#namespaces "MUST inherit"), so the rootfs is set up in it and entered
    /// with chroot, as runc and crun do.
    pub fn shares_mount_ns(&self) -> bool {
        !self.clone_flags.contains(CloneFlags::CLONE_NEWNS)
            && !self
                .join
                .iter()
                .any(|j| j.kind == LinuxNamespaceType::Mount)
    }

    /// File descriptors the child must keep open across its initial fd cleanup.
    pub fn fds(&self) -> Vec<i32> {
        self.join.iter().map(|j| j.file.as_raw_fd()).collect()
    }
}

pub fn kind_name(kind: LinuxNamespaceType) -> &'static str {
    match kind {
        LinuxNamespaceType::Mount => "mount",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Time => "time",
    }
}

pub fn clone_flag(kind: LinuxNamespaceType) -> CloneFlags {
    match kind {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        // CLONE_NEWTIME (0x80) collides with CSIGNAL in clone(2); it is only ever unshared.
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(0x80),
    }
}

/// Build the plan from the config: validate it and open every namespace path.
pub fn plan(spec: &Spec) -> Result<NamespacePlan, NamespaceError> {
    let mut plan = NamespacePlan {
        clone_flags: CloneFlags::empty(),
        new_cgroup: false,
        new_time: None,
        join: Vec::new(),
        join_pid: None,
        uid_mappings: Vec::new(),
        gid_mappings: Vec::new(),
    };
    let Some(linux) = spec.linux() else {
        return Ok(plan);
    };
    let mut seen = HashMap::new();
    let mut joins = Vec::new();
    for ns in linux.namespaces().as_deref().unwrap_or_default() {
        let kind = ns.typ();
        if seen.insert(kind_name(kind), ()).is_some() {
            return Err(NamespaceError::Duplicate(kind_name(kind).to_string()));
        }
        match ns.path() {
            Some(path) => {
                let file = File::open(path).map_err(|source| NamespaceError::Open {
                    kind: kind_name(kind).to_string(),
                    path: path.clone(),
                    source,
                })?;
                if kind == LinuxNamespaceType::Pid {
                    plan.join_pid = Some(file.into());
                } else {
                    joins.push(JoinNs {
                        kind,
                        file: file.into(),
                    });
                }
            }
            None => match kind {
                LinuxNamespaceType::Cgroup => plan.new_cgroup = true,
                LinuxNamespaceType::Time => plan.new_time = Some(String::new()),
                k => plan.clone_flags |= clone_flag(k),
            },
        }
    }
    // setns into a user namespace must come first: it decides which capabilities we hold in
    // every namespace joined after it.
    joins.sort_by_key(|j| j.kind != LinuxNamespaceType::User);
    plan.join = joins;
    plan.uid_mappings = linux.uid_mappings().clone().unwrap_or_default();
    plan.gid_mappings = linux.gid_mappings().clone().unwrap_or_default();
    let has_maps = !plan.uid_mappings.is_empty() || !plan.gid_mappings.is_empty();
    if plan.new_user() && (plan.uid_mappings.is_empty() || plan.gid_mappings.is_empty()) {
        return Err(NamespaceError::MissingMappings);
    }
    if !plan.new_user() && has_maps {
        return Err(NamespaceError::MappingsWithoutUserns);
    }
    if let Some(offsets) = linux.time_offsets() {
        let Some(text) = plan.new_time.as_mut() else {
            return Err(NamespaceError::OffsetsWithoutTimens);
        };
        *text = render_time_offsets(offsets)?;
    }
    Ok(plan)
}

/// `/proc/self/timens_offsets` lines: "<clock> <secs> <nanosecs>".
fn render_time_offsets(
    offsets: &HashMap<String, oci_spec::runtime::LinuxTimeOffset>,
) -> Result<String, NamespaceError> {
    let mut keys: Vec<&String> = offsets.keys().collect();
    keys.sort();
    let mut out = String::new();
    for clock in keys {
        if clock != "monotonic" && clock != "boottime" {
            return Err(NamespaceError::BadClock(clock.clone()));
        }
        let o = &offsets[clock];
        out.push_str(&format!(
            "{clock} {} {}\n",
            o.secs().unwrap_or(0),
            o.nanosecs().unwrap_or(0)
        ));
    }
    Ok(out)
}

/// The text for `/proc/<pid>/uid_map` or `gid_map`.
pub fn render_id_map(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Spec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn new_namespaces_become_clone_flags_and_cgroup_is_deferred() {
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[
            {"type":"pid"},{"type":"mount"},{"type":"network"},{"type":"cgroup"},{"type":"uts"}]}}),
        );
        let p = plan(&s).unwrap();
        assert!(p.clone_flags.contains(CloneFlags::CLONE_NEWPID));
        assert!(p
            .clone_flags
            .contains(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET));
        assert!(!p.clone_flags.contains(CloneFlags::CLONE_NEWCGROUP));
        assert!(p.new_cgroup);
    }

    #[test]
    fn duplicates_and_bad_paths_are_errors() {
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[
            {"type":"pid"},{"type":"pid"}]}}),
        );
        assert!(matches!(plan(&s), Err(NamespaceError::Duplicate(_))));
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[
            {"type":"network","path":"/nonexistent/ns"}]}}),
        );
        let err = plan(&s).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ns"), "{err}");
    }

    #[test]
    fn user_namespace_needs_mappings() {
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"user"}]}}),
        );
        assert!(matches!(plan(&s), Err(NamespaceError::MissingMappings)));
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"user"}],
            "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
            "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}}),
        );
        let p = plan(&s).unwrap();
        assert_eq!(render_id_map(&p.uid_mappings), "0 1000 1\n");
    }

    #[test]
    fn a_mount_namespace_entry_new_or_joined_means_no_sharing() {
        let none =
            spec(serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"pid"}]}}));
        assert!(plan(&none).unwrap().shares_mount_ns());
        let new = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"mount"}]}}),
        );
        assert!(!plan(&new).unwrap().shares_mount_ns());
        let joined = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[
            {"type":"mount","path":"/proc/self/ns/mnt"}]}}),
        );
        assert!(!plan(&joined).unwrap().shares_mount_ns());
    }

    #[test]
    fn has_user_counts_new_and_joined_user_namespaces() {
        let none = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[
            {"type":"pid"},{"type":"mount"}]}}),
        );
        assert!(!plan(&none).unwrap().has_user());
        let joined = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[
            {"type":"user","path":"/proc/self/ns/user"}]}}),
        );
        assert!(plan(&joined).unwrap().has_user());
        let new = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"user"}],
            "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
            "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]}}),
        );
        assert!(plan(&new).unwrap().has_user());
    }

    #[test]
    fn time_offsets_render_and_need_a_time_namespace() {
        let s = spec(
            serde_json::json!({"ociVersion":"1.2.0","linux":{"namespaces":[{"type":"time"}],
            "timeOffsets":{"monotonic":{"secs":10,"nanosecs":5},"boottime":{"secs":-3}}}}),
        );
        let p = plan(&s).unwrap();
        assert_eq!(p.new_time.unwrap(), "boottime -3 0\nmonotonic 10 5\n");
        let s = spec(serde_json::json!({"ociVersion":"1.2.0","linux":{
            "timeOffsets":{"monotonic":{"secs":10}}}}));
        assert!(matches!(
            plan(&s),
            Err(NamespaceError::OffsetsWithoutTimens)
        ));
    }
}
