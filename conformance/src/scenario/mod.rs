//! Scenario schema (`oci-conform/v1`): one YAML file = one scenario = one container lifecycle.
//!
//! Owns the serde types (every struct denies unknown fields), loading with file:line:column
//! errors, linting, the filter language and the hand-written JSON Schema for editors.

pub mod agent_rules;
pub mod checkpoint;
pub mod duration;
pub mod expectations;
pub mod filter;
pub mod lint;
pub mod load;
pub mod position;
pub mod schema;
pub mod step;
pub mod template;
pub mod validate;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use duration::Dur;
pub use step::{Expect, Op, SnapshotRef, Step};

/// The only schema version this runner understands.
pub const SCHEMA_V1: &str = "oci-conform/v1";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Must be `oci-conform/v1`.
    pub schema: String,
    /// Stable dotted id, unique across the pack (`area.short-name`).
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The spec sections this scenario proves; at least one.
    pub spec: Vec<SpecRef>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub requires: Requires,
    /// `systemd`: every runtime command gets `--systemd-cgroup` and the default cgroupsPath is
    /// in systemd's `slice:prefix:name` form; implies systemd as PID 1 with its D-Bus.
    #[serde(default)]
    pub cgroup_driver: CgroupDriver,
    pub bundle: BundleSpec,
    #[serde(default)]
    pub scratch: ScratchSpec,
    /// Run a disposable copy of the runtime binary, made in the scratch directory, and FAIL
    /// when its sha256 changed by the end (CVE-2019-5736: the installed binary is never at
    /// stake). See `runner::runtime_copy`.
    #[serde(default)]
    pub runtime_copy: bool,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub teardown: Teardown,
    /// Deadline for the whole scenario (default 60s).
    #[serde(default)]
    pub timeout: Option<Dur>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpecRef {
    /// `file.md#anchor` in the runtime-spec, e.g. `runtime.md#lifecycle`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub level: Level,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

/// Host and runtime requirements. Unmet host requirements give SKIP with the reason;
/// unmet `features` (from `<runtime> features`) give UNSUPPORTED.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    #[serde(default)]
    pub privilege: Privilege,
    #[serde(default)]
    pub cgroup: CgroupReq,
    #[serde(default)]
    pub cgroup_controllers: Vec<String>,
    /// Interface files that must exist where the container's cgroup goes, for what a kernel
    /// option or module decides (`cpu.rt_runtime_us` needs CONFIG_RT_GROUP_SCHED,
    /// `io.bfq.weight` the BFQ scheduler). `a|b` accepts either file.
    #[serde(default)]
    pub cgroup_files: Vec<String>,
    /// Block devices (`MAJOR:MINOR`) that must exist on the host: the kernel refuses an I/O
    /// throttle for a device it does not have.
    #[serde(default)]
    pub block_devices: Vec<String>,
    /// Minimum kernel version, `major.minor`.
    #[serde(default)]
    pub kernel: Option<String>,
    /// `criu: works` (or `true`): `criu check` must pass; the SKIP quotes criu's own reason.
    #[serde(default, deserialize_with = "criu_requirement")]
    pub criu: bool,
    #[serde(default)]
    pub seccomp: bool,
    #[serde(default)]
    pub apparmor: bool,
    /// `enabled` (or `true`): SELinux with a policy loaded; `disabled`: a host without it
    /// (scenarios about what a runtime answers there).
    #[serde(default, deserialize_with = "selinux_requirement")]
    pub selinux: SelinuxReq,
    #[serde(default)]
    pub userns: bool,
    #[serde(default)]
    pub systemd: bool,
    /// Feature paths in `<runtime> features` JSON: `a.b` must be true, `a.b:item` must be an
    /// array containing `item` (e.g. `linux.namespaces:cgroup`, `hooks:createRuntime`).
    #[serde(default)]
    pub features: Vec<String>,
    /// Capabilities the runner must hold in its bounding set (the runtime it starts can only
    /// grant those), e.g. CAP_SYS_RESOURCE to raise an rlimit.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Capabilities the runner must NOT hold: scenarios about capabilities that cannot be
    /// granted.
    #[serde(default)]
    pub without_capabilities: Vec<String>,
}

/// `requires.criu`: `works` names what is checked (criu's own `criu check`); `true` is the
/// older spelling and means the same; `false` is the default.
fn criu_requirement<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Word {
        Flag(bool),
        Text(String),
    }
    match Word::deserialize(d)? {
        Word::Flag(b) => Ok(b),
        Word::Text(t) if t == "works" => Ok(true),
        Word::Text(t) => Err(serde::de::Error::custom(format!(
            "requires.criu: expected `works` (or true/false), got `{t}`"
        ))),
    }
}

/// `requires.selinux`.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SelinuxReq {
    #[default]
    Any,
    Enabled,
    Disabled,
}

/// `requires.selinux`: `enabled` or `disabled`; `true` is the older spelling of `enabled`,
/// `false` (the default) asks for nothing.
fn selinux_requirement<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SelinuxReq, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Word {
        Flag(bool),
        Text(String),
    }
    match Word::deserialize(d)? {
        Word::Flag(true) => Ok(SelinuxReq::Enabled),
        Word::Flag(false) => Ok(SelinuxReq::Any),
        Word::Text(t) if t == "enabled" => Ok(SelinuxReq::Enabled),
        Word::Text(t) if t == "disabled" => Ok(SelinuxReq::Disabled),
        Word::Text(t) => Err(serde::de::Error::custom(format!(
            "requires.selinux: expected `enabled` or `disabled` (or true/false), got `{t}`"
        ))),
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Privilege {
    /// Runs as whoever runs the suite.
    #[default]
    Any,
    /// Needs euid 0.
    Root,
    /// Needs a non-root euid.
    Rootless,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CgroupReq {
    #[default]
    Any,
    /// Controllers on cgroup v1 hierarchies (a pure v1 or a hybrid host).
    V1,
    /// A pure cgroup v2 (unified) host.
    V2,
    /// v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified.
    Hybrid,
}

/// Who manages the container's cgroup: the runtime through cgroupfs (default), or systemd
/// through a transient unit (runc's `--systemd-cgroup`).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CgroupDriver {
    #[default]
    Cgroupfs,
    Systemd,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    /// /bin/busybox (static) plus its applet symlinks.
    Busybox,
    /// busybox plus the static oci-probe helper at /probe.
    #[default]
    Probe,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSpec {
    #[serde(default)]
    pub base: Base,
    /// JSON merge patch (RFC 7396) over the base config.json.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// JSON Patch (RFC 6902) applied after the merge patch.
    #[serde(default)]
    pub patch: Vec<PatchOp>,
    /// Extra files written into the rootfs (path inside the rootfs -> file).
    #[serde(default)]
    pub files: BTreeMap<String, FileSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    #[serde(default)]
    pub content: String,
    /// Octal mode as a string (`"0755"`); default 0644.
    #[serde(default)]
    pub mode: Option<String>,
    /// Make a symbolic link to this target instead of a file (no content, no mode): e.g. a
    /// mount destination that is a symlink in the rootfs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symlink: Option<String>,
    /// A directory instead of a file (no content; default mode 0755).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub directory: bool,
    /// `UID:GID` to chown it to (default: the runner's own ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// `scratch`: what the runner puts into the scenario's host scratch directory (`{{scratch}}`)
/// before the bundle is made, and takes down at teardown: the host side of a bind source.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScratchSpec {
    /// Bind the scratch directory onto itself and make that mount shared (MS_SHARED) before
    /// anything else: a host-side peer group under a rootfs (`root.path: "{{scratch}}/..."`),
    /// where a private host `/` would hide what rootfsPropagation changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    /// Directories (relative to the scratch directory) to mount a fresh tmpfs on, in order:
    /// a mount inside a bind source, for what happens to submounts.
    #[serde(default)]
    pub tmpfs: Vec<String>,
    /// Files and directories (relative to the scratch directory), made after the tmpfs mounts.
    #[serde(default)]
    pub files: BTreeMap<String, FileSpec>,
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum PatchOp {
    Add {
        path: String,
        value: serde_json::Value,
    },
    Remove {
        path: String,
    },
    Replace {
        path: String,
        value: serde_json::Value,
    },
    Move {
        from: String,
        path: String,
    },
    Copy {
        from: String,
        path: String,
    },
    Test {
        path: String,
        value: serde_json::Value,
    },
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Teardown {
    /// kill, delete --force, then the leak check. The only mode: teardown always runs.
    #[default]
    Auto,
}

impl Scenario {
    /// The first spec level, used for per-level pass counts.
    pub fn level(&self) -> Level {
        self.spec
            .iter()
            .map(|s| s.level)
            .min()
            .unwrap_or(Level::May)
    }

    /// The scenario's area (see [`area_of`]).
    pub fn area(&self) -> &str {
        area_of(&self.id)
    }
}

/// The area of a scenario id: its first dotted component (`lifecycle.exec` -> `lifecycle`),
/// what `--filter area:` selects, JUnit's classname and the HTML matrix's bars group by.
pub fn area_of(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}
