//! Steps: `op` selects the operation; `name`, `spec`, `timeout` and `expect` are common to all.
//!
//! A step is first read as a YAML mapping (duplicate keys are rejected there), then split into
//! the common fields and the op-specific ones; errors carry the step's line and column because
//! serde_yaml attaches the position of the mapping being visited.

pub use super::checkpoint::{CgroupsMode, Checkpoint, Restore};
use super::{Dur, SpecRef};
use crate::expect::Matcher;
use crate::normalize::Normalizer;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: Option<String>,
    pub spec: Option<SpecRef>,
    pub timeout: Option<Dur>,
    pub expect: Expect,
    #[serde(flatten)]
    pub op: Op,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    Create {
        /// Extra flags after `create` (e.g. `--no-pivot`).
        #[serde(default)]
        args: Vec<String>,
        /// Pass `--pid-file {{scratch}}/init.pid` (default): the runner learns the init's pid
        /// even when it exits before `state` could be asked.
        #[serde(default = "yes")]
        pid_file: bool,
    },
    Start {},
    Run {
        #[serde(default)]
        detach: bool,
        #[serde(default)]
        args: Vec<String>,
    },
    State {
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    List {
        #[serde(default)]
        format: ListFormat,
        #[serde(default)]
        quiet: bool,
    },
    Kill {
        #[serde(default = "default_signal")]
        signal: String,
        #[serde(default)]
        all: bool,
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    Delete {
        #[serde(default)]
        force: bool,
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    Exec {
        args: Vec<String>,
        #[serde(default)]
        env: Vec<String>,
        #[serde(default)]
        cwd: Option<String>,
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        cap: Vec<String>,
        #[serde(default)]
        no_new_privs: bool,
        #[serde(default)]
        detach: bool,
        /// `--tty` with the scenario's console socket; output lands in `{{console}}`.
        #[serde(default)]
        tty: bool,
        /// A process.json (written to a file and passed with `--process`).
        #[serde(default)]
        process: Option<serde_json::Value>,
        /// Extra flags before the container id.
        #[serde(default)]
        flags: Vec<String>,
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    Pause {
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    Resume {
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    Ps {
        #[serde(default)]
        format: ListFormat,
    },
    Events {
        /// Only `--stats` (one sample) is supported: a streaming step would never end.
        #[serde(default = "yes")]
        stats: bool,
    },
    Update {
        /// A linux.resources object written to a file and passed with `-r FILE`.
        #[serde(default)]
        resources: Option<serde_json::Value>,
        #[serde(default)]
        args: Vec<String>,
    },
    WaitFor {
        status: ContainerStatus,
        within: Dur,
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    ContainerExit {
        #[serde(default)]
        within: Option<Dur>,
        /// Another container of the scenario (e.g. one restored under a new id); default the
        /// scenario's own.
        #[serde(default)]
        id: Option<String>,
    },
    /// `checkpoint` with runc's flags (runc-checkpoint(8)); see [`Checkpoint`].
    Checkpoint(Checkpoint),
    /// `restore` with runc's flags (runc-restore(8)); see [`Restore`].
    Restore(Restore),
    InspectMounts {},
    InspectCgroup {},
    InspectProc {
        /// File under /proc/<init pid>/ (default `status`).
        #[serde(default = "default_proc_file")]
        file: String,
    },
    /// Read a file on the host (templated path), e.g. what a hook wrote.
    ReadFile {
        path: String,
        /// Re-read until the expectation holds or this much time has passed: for what a
        /// runtime may still be finishing when its command returns (a startContainer hook,
        /// runc's async poststart), instead of a fixed sleep that is flaky under load.
        #[serde(default)]
        within: Option<Dur>,
    },
    /// Any runtime command line; `{{id}}`, `{{bundle}}`... are expanded.
    Raw {
        args: Vec<String>,
        /// Prepend the scenario's `--root` and `--log` global flags.
        #[serde(default = "yes")]
        global_flags: bool,
    },
    Sleep {
        #[serde(rename = "for")]
        duration: Dur,
    },
    /// In the background, swaps the directory `path` with a symlink to `target` (atomic
    /// renameat2 exchanges) for `for`, or until teardown: the mount race of CVE-2021-30465.
    /// Both templated; `path` must exist (bundle.files).
    Race {
        path: String,
        target: String,
        #[serde(rename = "for")]
        duration: Dur,
    },
    /// Starts oci-seccomp-agent in the background, listening on `{{scratch}}/agent.sock` (the
    /// config's `linux.seccomp.listenerPath`) and logging to `{{scratch}}/agent.log` (JSON
    /// lines) and `{{scratch}}/agent.json` (one document); stopped at teardown.
    SeccompAgent {
        /// Syscall name (or `a,b`) -> `errno:NAME`, `errno:N`, `success[:N]` or `continue`.
        #[serde(default)]
        rules: BTreeMap<String, String>,
        /// The answer to syscalls no rule names.
        #[serde(default = "default_agent_action")]
        default: String,
    },
    /// Stops the agent now (SIGTERM, bounded): the "agent dies" case.
    SeccompAgentStop {},
    /// `systemctl show` of a unit: its properties (`expect.properties`) or that systemd no
    /// longer knows it (`expect.exists: false`). For `cgroup_driver: systemd` scenarios.
    SystemdUnit {
        /// Templated; default `{{unit}}`, the unit the scenario's cgroupsPath names.
        #[serde(default)]
        unit: Option<String>,
        /// Re-ask until the expectation holds or this much time has passed: a stop job may
        /// still be finishing when the runtime's command returns.
        #[serde(default)]
        within: Option<Dur>,
    },
}

fn default_agent_action() -> String {
    "continue".to_string()
}

fn default_signal() -> String {
    "TERM".to_string()
}
fn default_proc_file() -> String {
    "status".to_string()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    #[default]
    Json,
    Table,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContainerStatus {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
    /// `state` fails: the container no longer exists.
    Gone,
}

impl ContainerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerStatus::Creating => "creating",
            ContainerStatus::Created => "created",
            ContainerStatus::Running => "running",
            ContainerStatus::Paused => "paused",
            ContainerStatus::Stopped => "stopped",
            ContainerStatus::Gone => "gone",
        }
    }
}

/// Expectations. Which keys an op accepts is checked by [`Op::allowed_expect_keys`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<Matcher>,
    /// stdout (or a read file) parsed as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, Matcher>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, Matcher>>,
    /// systemd unit properties (`systemctl show` names) -> matcher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<BTreeMap<String, Matcher>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotRef>,
}

impl Expect {
    /// Names of the keys that are set, for per-op validation.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        let pairs: [(&'static str, bool); 13] = [
            ("exit", self.exit.is_some()),
            ("stdout", self.stdout.is_some()),
            ("stderr", self.stderr.is_some()),
            ("json", self.json.is_some()),
            ("mounts", self.mounts.is_some()),
            ("files", self.files.is_some()),
            ("fields", self.fields.is_some()),
            ("properties", self.properties.is_some()),
            ("content", self.content.is_some()),
            ("exists", self.exists.is_some()),
            ("code", self.code.is_some()),
            ("signal", self.signal.is_some()),
            ("snapshot", self.snapshot.is_some()),
        ];
        for (name, set) in pairs {
            if set {
                k.push(name);
            }
        }
        k
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRef {
    /// Stored as `snapshots/<scenario-id>__<name>.snap`.
    pub name: String,
    /// Defaults to the op's natural normalizer (state: oci-state, inspect_mounts: mountinfo,
    /// inspect_cgroup: cgroup, otherwise text).
    #[serde(default)]
    pub normalize: Option<Normalizer>,
}

const COMMAND_KEYS: &[&str] = &["exit", "stdout", "stderr", "json", "snapshot"];

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Start {} => "start",
            Op::Run { .. } => "run",
            Op::State { .. } => "state",
            Op::List { .. } => "list",
            Op::Kill { .. } => "kill",
            Op::Delete { .. } => "delete",
            Op::Exec { .. } => "exec",
            Op::Pause { .. } => "pause",
            Op::Resume { .. } => "resume",
            Op::Ps { .. } => "ps",
            Op::Events { .. } => "events",
            Op::Update { .. } => "update",
            Op::WaitFor { .. } => "wait_for",
            Op::ContainerExit { .. } => "container_exit",
            Op::InspectMounts {} => "inspect_mounts",
            Op::InspectCgroup {} => "inspect_cgroup",
            Op::InspectProc { .. } => "inspect_proc",
            Op::ReadFile { .. } => "read_file",
            Op::Raw { .. } => "raw",
            Op::Sleep { .. } => "sleep",
            Op::Race { .. } => "race",
            Op::SeccompAgent { .. } => "seccomp_agent",
            Op::SeccompAgentStop {} => "seccomp_agent_stop",
            Op::SystemdUnit { .. } => "systemd_unit",
            Op::Checkpoint(_) => "checkpoint",
            Op::Restore(_) => "restore",
        }
    }

    /// The container a step addresses when it names one (`id:`, or restore's new id); `None`
    /// means the scenario's own container.
    pub fn target_id(&self) -> Option<&str> {
        match self {
            Op::State { id }
            | Op::Kill { id, .. }
            | Op::Delete { id, .. }
            | Op::Exec { id, .. }
            | Op::Pause { id }
            | Op::Resume { id }
            | Op::WaitFor { id, .. }
            | Op::ContainerExit { id, .. } => id.as_deref(),
            Op::Checkpoint(c) => c.id.as_deref(),
            Op::Restore(r) => r.id.as_deref(),
            _ => None,
        }
    }

    /// True for ops that run the runtime binary (and so default to `exit: 0`).
    pub fn is_command(&self) -> bool {
        self.allowed_expect_keys() == COMMAND_KEYS
    }

    pub fn allowed_expect_keys(&self) -> &'static [&'static str] {
        match self {
            Op::WaitFor { .. } | Op::Sleep { .. } | Op::Race { .. } => &[],
            Op::SeccompAgent { .. } | Op::SeccompAgentStop {} => &[],
            Op::ContainerExit { .. } => &["code", "signal"],
            Op::InspectMounts {} => &["mounts", "snapshot"],
            Op::InspectCgroup {} => &["files", "snapshot"],
            Op::InspectProc { .. } => &["fields", "content", "snapshot"],
            Op::ReadFile { .. } => &["exists", "content", "json", "snapshot"],
            Op::SystemdUnit { .. } => &["properties", "exists"],
            _ => COMMAND_KEYS,
        }
    }

    pub fn default_normalizer(&self) -> Normalizer {
        match self {
            Op::State { .. } => Normalizer::OciState,
            Op::InspectMounts {} => Normalizer::Mountinfo,
            Op::InspectCgroup {} => Normalizer::Cgroup,
            _ => Normalizer::Text,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    spec: Option<SpecRef>,
    #[serde(default)]
    timeout: Option<Dur>,
    #[serde(default)]
    expect: Option<Expect>,
}

const COMMON_KEYS: &[&str] = &["name", "spec", "timeout", "expect"];

fn split_step(map: serde_yaml::Mapping) -> Result<Step, String> {
    let mut common = serde_yaml::Mapping::new();
    let mut rest = serde_yaml::Mapping::new();
    for (k, v) in map {
        let is_common = k.as_str().is_some_and(|s| COMMON_KEYS.contains(&s));
        if is_common {
            common.insert(k, v);
        } else {
            rest.insert(k, v);
        }
    }
    let common: Common = serde_yaml::from_value(serde_yaml::Value::Mapping(common))
        .map_err(|e| strip_location(&e))?;
    let op: Op =
        serde_yaml::from_value(serde_yaml::Value::Mapping(rest)).map_err(|e| strip_location(&e))?;
    let expect = common.expect.unwrap_or_default();
    let allowed = op.allowed_expect_keys();
    for key in expect.keys() {
        if !allowed.contains(&key) {
            return Err(format!(
                "expect.{key} is not valid for op `{}` (allowed: {})",
                op.name(),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ));
        }
    }
    // An empty map checks nothing: the same trap as an empty matcher.
    for (key, map) in [
        ("files", &expect.files),
        ("fields", &expect.fields),
        ("properties", &expect.properties),
    ] {
        if map.as_ref().is_some_and(|m| m.is_empty()) {
            return Err(format!("expect.{key} is empty: name what to check"));
        }
    }
    if expect.exists == Some(false) && expect.properties.is_some() {
        return Err("expect.properties with exists: false: a unit that is gone has none".into());
    }
    if matches!(op, Op::SystemdUnit { .. })
        && expect.properties.is_none()
        && expect.exists.is_none()
    {
        return Err("systemd_unit needs expect.properties or expect.exists".into());
    }
    Ok(Step {
        name: common.name,
        spec: common.spec,
        timeout: common.timeout,
        expect,
        op,
    })
}

/// Errors from `from_value` have no position of their own; the caller's position is used.
fn strip_location(e: &serde_yaml::Error) -> String {
    e.to_string()
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StepVisitor;
        impl<'de> Visitor<'de> for StepVisitor {
            type Value = Step;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a step mapping with an `op` key")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Step, A::Error> {
                let mapping = serde_yaml::Mapping::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                split_step(mapping).map_err(A::Error::custom)
            }
        }
        d.deserialize_map(StepVisitor)
    }
}
