//! One scenario on one runtime: its paths, template variables and what the steps learned
//! (the init pid, a foreground `run`'s exit), plus the helpers steps share.

use crate::driver::argv::Argv;
use crate::driver::{run_command, Evidence, Globals, RuntimeBin};
use crate::host::HostFacts;
use crate::normalize::{self, Normalizer};
use crate::scenario::template::Vars;
use crate::scenario::{Scenario, Step};
use crate::snapshot::{self, Outcome};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Shared by every scenario of a run.
pub struct Env {
    pub host: HostFacts,
    pub snapshots: snapshot::Store,
    pub step_timeout: Duration,
}

/// Why a step did not pass.
#[derive(Debug)]
pub enum StepError {
    Fail(String, Option<Box<Evidence>>),
    Error(String, Option<Box<Evidence>>),
}

pub type StepResult = Result<(), StepError>;

pub fn fail(msg: impl Into<String>) -> StepError {
    StepError::Fail(msg.into(), None)
}

pub fn error(msg: impl Into<String>) -> StepError {
    StepError::Error(msg.into(), None)
}

pub struct ScenarioRun<'a> {
    pub env: &'a Env,
    pub scenario: &'a Scenario,
    /// The runtime binary the steps run: the installed one, or the scenario's disposable
    /// copy (`runtime_copy`).
    pub bin: std::borrow::Cow<'a, RuntimeBin>,
    /// Background symlink swaps of `race` steps, stopped at teardown.
    pub races: Vec<super::race::Race>,
    /// The copy and its digest before the steps, when the scenario asked for one.
    pub runtime_copy: Option<super::runtime_copy::RuntimeCopy>,
    pub globals: Globals,
    pub id: String,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub scratch: PathBuf,
    pub artifacts: PathBuf,
    pub cgroup_path: String,
    /// Where the systemd driver puts the container (`cgroup_driver: systemd` with a
    /// cgroupsPath in systemd's form); `None` otherwise.
    pub systemd: Option<crate::systemd::SystemdPath>,
    pub vars: Vars,
    pub norm: normalize::Context,
    pub init_pid: Option<i32>,
    pub init_reaped: bool,
    /// The container `init_pid` belongs to: the scenario's own, or the id a restore used.
    pub init_id: String,
    /// Inits of the scenario's other containers, still ours to wait for and reap: the
    /// original after a restore under a new id (`--leave-running`).
    pub other_inits: Vec<(String, i32)>,
    /// Every container id besides `id` that a step named (a restore's new id, `id:` fields):
    /// teardown kills and deletes each.
    pub other_ids: Vec<String>,
    pub foreground_exit: Option<Evidence>,
    pub detached_pids: Vec<i32>,
    pub deadline: Instant,
    /// Listening when the config asks for a terminal or an exec step for a tty.
    pub console: Option<crate::driver::console::Console>,
    /// `process.terminal` of the rendered config.
    pub terminal: bool,
}

impl ScenarioRun<'_> {
    pub fn argv(&self) -> Argv<'_> {
        Argv {
            bin: &self.bin,
            globals: &self.globals,
            id: &self.id,
        }
    }

    /// Argument vectors for another container of the scenario.
    pub fn argv_for<'b>(&'b self, id: &'b str) -> Argv<'b> {
        Argv {
            bin: &self.bin,
            globals: &self.globals,
            id,
        }
    }

    /// The container id the step addresses (its `id:` rendered, else the scenario's). A new
    /// id is remembered before the step runs, so teardown covers a half-done restore too.
    pub fn target(&mut self, step: &Step) -> Result<String, StepError> {
        let Some(raw) = step.op.target_id() else {
            return Ok(self.id.clone());
        };
        let id = self.vars.render(raw).map_err(|e| error(e.to_string()))?;
        if id != self.id && !self.other_ids.contains(&id) {
            self.other_ids.push(id.clone());
        }
        Ok(id)
    }

    /// Every container id of the scenario, its own first.
    pub fn all_ids(&self) -> Vec<String> {
        std::iter::once(self.id.clone())
            .chain(self.other_ids.iter().cloned())
            .collect()
    }

    /// A restore made `pid` the init of container `id`. The previous init stays reserved
    /// (in `other_inits`) when it belongs to another container that may still run; under the
    /// same id it is the checkpointed process, gone, and is released to the orphan sweep.
    pub fn adopt_init(&mut self, id: &str, pid: i32) {
        if self.init_id != id && !self.init_reaped {
            if let Some(old) = self.init_pid.take() {
                self.other_inits.push((self.init_id.clone(), old));
            }
        }
        self.init_id = id.to_string();
        self.set_init(pid);
    }

    /// The container's cgroup relative to a hierarchy's mount: the systemd unit's place, the
    /// cgroupfs path itself, or `None` when neither can be told (a malformed systemd path).
    pub fn cgroup_rel(&self) -> Option<String> {
        match &self.systemd {
            Some(sd) => Some(sd.cgroup_rel()),
            None if self.globals.systemd_cgroup || self.cgroup_path.contains(':') => None,
            None => Some(self.cgroup_path.clone()),
        }
    }

    /// `{{scratch}}/init.pid`: where create, `run --detach` and a detached restore have the
    /// runtime write the init's pid.
    pub fn init_pid_file(&self) -> PathBuf {
        self.scratch.join("init.pid")
    }

    /// The pid in `init_pid_file`, when the runtime wrote a positive number there.
    pub fn read_init_pid_file(&self) -> Option<i32> {
        std::fs::read_to_string(self.init_pid_file())
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
            .filter(|p| *p > 0)
    }

    pub fn io_prefix(&self, index: usize, step: &Step) -> PathBuf {
        self.artifacts
            .join(format!("{:02}-{}", index, step.op.name()))
    }

    /// The step's deadline: its own or the default, never past the scenario's.
    pub fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub fn step_deadline(&self, step: &Step) -> Result<Duration, StepError> {
        let want = step.timeout.map(|d| d.0).unwrap_or(self.env.step_timeout);
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(error("scenario deadline exceeded"));
        }
        Ok(want.min(left))
    }

    /// Runs a runtime command; a spawn failure or a deadline is an ERROR with evidence.
    pub fn command(
        &self,
        argv: Vec<String>,
        timeout: Duration,
        prefix: &Path,
    ) -> Result<Evidence, StepError> {
        let _ = std::fs::write(
            prefix.with_extension("argv"),
            serde_json::to_string(&argv).unwrap_or_default(),
        );
        let ev = run_command(&argv, timeout, prefix).map_err(|e| error(e.to_string()))?;
        if ev.timed_out {
            let msg = format!(
                "`{}` did not finish within {} ms and was killed (hung runtime)",
                short_argv(&ev.argv),
                timeout.as_millis()
            );
            return Err(StepError::Error(msg, Some(Box::new(ev))));
        }
        Ok(ev)
    }

    /// `state` as JSON, for steps that need the pid or status.
    pub fn state(&self, prefix: &Path) -> Result<(Evidence, Value), StepError> {
        let ev = self.command(self.argv().simple("state"), Duration::from_secs(10), prefix)?;
        if ev.status != Some(0) {
            let msg = format!("state failed: {}", ev.stderr.trim());
            return Err(StepError::Fail(msg, Some(Box::new(ev))));
        }
        match serde_json::from_str::<Value>(&ev.stdout) {
            Ok(v) => Ok((ev, v)),
            Err(e) => Err(StepError::Fail(
                format!("state printed something that is not JSON ({e})"),
                Some(Box::new(ev)),
            )),
        }
    }

    /// Remembers the init pid and reserves it so the orphan sweep leaves its exit status to
    /// `container_exit` (the init is re-parented to us when the runtime exits).
    pub fn set_init(&mut self, pid: i32) {
        if let Some(old) = self.init_pid.replace(pid) {
            crate::driver::subreaper::release(old);
        }
        self.init_reaped = false;
        crate::driver::subreaper::reserve(pid);
    }

    /// The container's init pid: remembered from create/run, else asked from `state`.
    pub fn pid(&mut self, prefix: &Path) -> Result<i32, StepError> {
        if let Some(p) = self.init_pid {
            return Ok(p);
        }
        let (ev, v) = self.state(prefix)?;
        match v.get("pid").and_then(Value::as_i64) {
            Some(p) if p > 0 => {
                self.set_init(p as i32);
                Ok(p as i32)
            }
            _ => Err(StepError::Fail(
                "state reports no running init pid".into(),
                Some(Box::new(ev)),
            )),
        }
    }

    /// Compares a snapshot if the step asks for one.
    pub fn snapshot(&self, step: &Step, raw: &str) -> StepResult {
        let Some(snap) = &step.expect.snapshot else {
            return Ok(());
        };
        let normalizer: Normalizer = snap
            .normalize
            .unwrap_or_else(|| step.op.default_normalizer());
        let value = normalizer
            .apply(raw, &self.norm)
            .map_err(|e| fail(format!("snapshot {}: {e}", snap.name)))?;
        match self
            .env
            .snapshots
            .check(&self.scenario.id, &snap.name, &value)
        {
            Ok(Outcome::Matched | Outcome::Written) => Ok(()),
            Ok(Outcome::Missing { path }) => Err(fail(format!(
                "snapshot `{}` has no file {} (run with --update-snapshots and review it)",
                snap.name,
                path.display()
            ))),
            Ok(Outcome::Mismatch { path, diff }) => Err(fail(format!(
                "snapshot `{}` differs from {}:\n{diff}",
                snap.name,
                path.display()
            ))),
            Err(e) => Err(error(e.to_string())),
        }
    }
}

/// argv without the global flags, for messages.
pub fn short_argv(argv: &[String]) -> String {
    let mut out = Vec::new();
    let mut skip = false;
    for (i, a) in argv.iter().enumerate() {
        if skip {
            skip = false;
            continue;
        }
        if i > 0 && matches!(a.as_str(), "--root" | "--log" | "--log-format") {
            skip = true;
            continue;
        }
        out.push(if i == 0 {
            Path::new(a)
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_else(|| a.clone())
        } else {
            a.clone()
        });
    }
    out.join(" ")
}
