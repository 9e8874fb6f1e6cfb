//! What ferrun persists per container (`state.json`) and the OCI state it prints.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::status::Status;
use crate::hooks::{run_hooks_all, HookKind};
use crate::logging;

/// The runtime-spec level ferrun implements; printed as `ociVersion`.
pub const OCI_VERSION: &str = "1.2.0";

/// Persisted in `<root>/<id>/state.json`. Private to ferrun (runc's file is private too), but
/// kept plain so a human can read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerState {
    pub id: String,
    /// Host pid of the container's init (0 before it exists).
    pub pid: i32,
    /// `/proc/<pid>/stat` start time, to tell our init from a recycled pid.
    pub pid_start_time: u64,
    /// `creating` until `create` has finished, then `created`. Only a hint: the status a
    /// command acts on comes from the init and the cgroup (`StateStore::status`), since a
    /// killed command can leave any recorded value behind.
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The resolved cgroup path, so `delete` and `kill --all` find the cgroup again.
    pub cgroup_path: Option<String>,
    /// `--systemd-cgroup`: the unit that holds the cgroup, for `delete` (stop it) and `update`
    /// (set its properties); runc keeps the same in its state.json's `config.cgroups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systemd: Option<crate::cgroups::systemd::UnitRecord>,
    /// The config's hooks: `poststop` runs at `delete`, long after `create` read config.json.
    #[serde(default)]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The container has a pid namespace of its own (new, not joined by path): its init's
    /// death ends every process in it, so `delete` kills only the init and leaves alone
    /// other processes that share the cgroup, as runc's `destroy` does. Records without it
    /// read false: kill everything in the cgroup.
    #[serde(default)]
    pub own_pid_namespace: bool,
    /// The container was made by `restore` from a CRIU image (runc's restoredState): its
    /// init is CRIU's restored process, its `created` the checkpointed container's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restored: bool,
}

impl ContainerState {
    /// Run the poststart or poststop hooks with this state on stdin. Their failures are only
    /// warnings, and every hook runs (config.md#poststart, #poststop: "the remaining hooks and
    /// lifecycle continue").
    pub fn run_warning_hooks(&self, kind: HookKind) {
        let hooks = self.hooks.as_ref().and_then(|h| match kind {
            HookKind::Poststart => h.poststart().clone(),
            HookKind::Poststop => h.poststop().clone(),
            _ => None,
        });
        let Some(hooks) = hooks else { return };
        let json = self.oci_state_unchecked().hook_json_string();
        for e in run_hooks_all(kind, &hooks, json.as_bytes()) {
            logging::warn(&format!(
                "{} hook of container {:?}: {e}",
                kind.name(),
                self.id
            ));
        }
    }

    /// The state as runtime.md#state and runc's `state`/`list --format json` print it, with
    /// the status `StateStore::status` derived.
    pub fn oci_state(&self, status: Status) -> OciState {
        self.oci_state_with(status)
    }

    /// The state with the recorded status, not checked against the process (for hooks, which
    /// run while the status is being changed).
    pub fn oci_state_unchecked(&self) -> OciState {
        self.oci_state_with(self.status)
    }

    fn oci_state_with(&self, status: Status) -> OciState {
        OciState {
            oci_version: OCI_VERSION.to_string(),
            id: self.id.clone(),
            // runc prints pid 0 once the container has stopped.
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            status,
            bundle: self.bundle.clone(),
            rootfs: self.rootfs.clone(),
            created: self.created.clone(),
            owner: self.owner.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

/// runc's `containerState` JSON: the OCI state fields plus rootfs, created and owner.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OciState {
    #[serde(rename = "ociVersion")]
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(skip_serializing_if = "HashMap::is_empty", default)]
    pub annotations: HashMap<String, String>,
}

impl OciState {
    /// The JSON hooks receive on stdin (config.md#posix-platform-hooks: "the state of the
    /// container"). Only runtime.md's fields, as the spec's state schema lists them.
    pub fn hook_json_string(&self) -> String {
        let mut v = serde_json::json!({
            "ociVersion": self.oci_version,
            "id": self.id,
            "status": self.status,
            "pid": self.pid,
            "bundle": self.bundle,
        });
        if !self.annotations.is_empty() {
            v["annotations"] = serde_json::json!(self.annotations);
        }
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: Status, pid: i32) -> ContainerState {
        ContainerState {
            id: "c1".into(),
            pid,
            pid_start_time: 0,
            status,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            owner: "root".into(),
            annotations: HashMap::new(),
            cgroup_path: None,
            systemd: None,
            hooks: None,
            own_pid_namespace: false,
            restored: false,
        }
    }

    #[test]
    fn stopped_reads_with_pid_zero() {
        let s = sample(Status::Created, 42);
        let oci = s.oci_state(Status::Stopped);
        assert_eq!(oci.status, Status::Stopped);
        assert_eq!(oci.pid, 0);
    }

    #[test]
    fn state_json_has_runc_field_names() {
        let mut s = sample(Status::Stopped, 0);
        s.annotations.insert("k".into(), "v".into());
        let v: serde_json::Value = serde_json::to_value(s.oci_state(Status::Stopped)).unwrap();
        for f in [
            "ociVersion",
            "id",
            "pid",
            "status",
            "bundle",
            "rootfs",
            "created",
            "owner",
        ] {
            assert!(v.get(f).is_some(), "missing {f}");
        }
        assert_eq!(v["annotations"]["k"], "v");
        assert_eq!(v["status"], "stopped");
    }
}
