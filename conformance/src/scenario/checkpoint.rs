//! The fields of the `checkpoint` and `restore` steps: runc's flags by the same names
//! (runc-checkpoint(8), runc-restore(8)), so a scenario reads like the command line it runs.

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// runc's `--manage-cgroups-mode`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CgroupsMode {
    Soft,
    Full,
    Strict,
    Ignore,
}

impl CgroupsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupsMode::Soft => "soft",
            CgroupsMode::Full => "full",
            CgroupsMode::Strict => "strict",
            CgroupsMode::Ignore => "ignore",
        }
    }
}

/// `checkpoint`: each field is the runc flag of the same name (`leave_running` is
/// `--leave-running`); paths are templated. The images go to `{{images}}` unless
/// `image_path` says otherwise.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_path: Option<String>,
    /// Given to the runtime as written: runc resolves it relative to the image path
    /// (`../pre`), as criu does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_path: Option<String>,
    #[serde(default)]
    pub leave_running: bool,
    #[serde(default)]
    pub tcp_established: bool,
    #[serde(default)]
    pub ext_unix_sk: bool,
    #[serde(default)]
    pub shell_job: bool,
    #[serde(default)]
    pub file_locks: bool,
    #[serde(default)]
    pub pre_dump: bool,
    #[serde(default)]
    pub auto_dedup: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_cgroups_mode: Option<CgroupsMode>,
    /// `--empty-ns TYPE` (e.g. `network`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_ns: Option<String>,
    /// Further flags, before the container id.
    #[serde(default)]
    pub args: Vec<String>,
}

/// `restore`: runc's flags by the same names. `detach` (default true) adds
/// `--pid-file {{scratch}}/init.pid` like `run --detach`, so `container_exit` and
/// `inspect_*` follow the restored init. `id` restores under a new container id.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Default the scenario's bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    #[serde(default = "yes")]
    pub detach: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_path: Option<String>,
    #[serde(default)]
    pub tcp_established: bool,
    #[serde(default)]
    pub ext_unix_sk: bool,
    #[serde(default)]
    pub shell_job: bool,
    #[serde(default)]
    pub file_locks: bool,
    #[serde(default)]
    pub no_pivot: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_cgroups_mode: Option<CgroupsMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_ns: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Op, Step};

    fn step(yaml: &str) -> Result<Step, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn restore_detaches_by_default_and_takes_a_new_id() {
        let s = step("{op: restore, id: other, no_pivot: true}").unwrap();
        let Op::Restore(r) = &s.op else {
            panic!("{:?}", s.op)
        };
        assert!(r.detach && r.no_pivot);
        assert_eq!(s.op.target_id(), Some("other"));
        assert_eq!(s.op.name(), "restore");
    }

    #[test]
    fn checkpoint_fields_are_runc_flags_and_nothing_else() {
        let s =
            step("{op: checkpoint, pre_dump: true, image_path: x, manage_cgroups_mode: strict}")
                .unwrap();
        let Op::Checkpoint(c) = &s.op else {
            panic!("{:?}", s.op)
        };
        assert!(c.pre_dump && !c.leave_running);
        assert_eq!(c.manage_cgroups_mode, Some(super::CgroupsMode::Strict));
        assert!(step("{op: checkpoint, leave_runing: true}")
            .unwrap_err()
            .contains("leave_runing"));
        assert!(step("{op: checkpoint, manage_cgroups_mode: half}")
            .unwrap_err()
            .contains("half"));
        // restore has no pre-dump; checkpoint has no bundle.
        assert!(step("{op: restore, pre_dump: true}").is_err());
        assert!(step("{op: checkpoint, bundle: /b}").is_err());
    }

    fn requires(text: &str) -> Result<crate::scenario::Requires, String> {
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn criu_works_is_the_requirement_and_true_its_synonym() {
        assert!(requires("{criu: works}").unwrap().criu);
        assert!(requires("{criu: true}").unwrap().criu);
        assert!(!requires("{criu: false}").unwrap().criu);
        assert!(!requires("{}").unwrap().criu);
        let e = requires("{criu: maybe}").unwrap_err();
        assert!(e.contains("expected `works`"), "{e}");
    }

    #[test]
    fn lifecycle_ops_take_an_id_and_default_to_the_scenarios() {
        for op in [
            "state",
            "kill",
            "delete",
            "pause",
            "resume",
            "container_exit",
        ] {
            let s = step(&format!("{{op: {op}, id: r}}")).unwrap();
            assert_eq!(s.op.target_id(), Some("r"), "{op}");
            assert_eq!(step(&format!("{{op: {op}}}")).unwrap().op.target_id(), None);
        }
        let s = step("{op: wait_for, status: running, within: 1s, id: r}").unwrap();
        assert_eq!(s.op.target_id(), Some("r"));
        let s = step("{op: exec, args: [sh], id: r}").unwrap();
        assert_eq!(s.op.target_id(), Some("r"));
        assert!(step("{op: start, id: r}").is_err(), "start has no id field");
    }
}
