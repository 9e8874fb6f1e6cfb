//! Runs one config on every runtime, side by side, through the runner's own `run_one` (so
//! bundles, teardown, the leak check and SIGINT handling are the same as for `run`), and
//! collects what each runtime showed. Each runtime writes its snapshots to its own
//! directory (`--update-snapshots` into a scratch store), which is read and emptied after.

use super::compare::{Observation, Outcome};
use super::emit;
use super::grammar::Feature;
use crate::host::{CgroupMode, HostFacts};
use crate::report::{ScenarioResult, Status};
use crate::runner::context::Env;
use crate::runner::{one, Keep, Session};
use crate::snapshot;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub struct Executor<'a> {
    session: &'a Session,
    envs: Vec<Env>,
    mode: CgroupMode,
    keep: Keep,
    /// Where the observing scenarios are written (they are part of the evidence).
    dir: PathBuf,
    /// Configs run so far (each on every runtime), minimizer runs included.
    pub runs: usize,
}

impl<'a> Executor<'a> {
    pub fn new(
        session: &'a Session,
        host: &HostFacts,
        step_timeout: Duration,
        keep: Keep,
    ) -> Result<Executor<'a>, String> {
        let dir = session.work.join("fuzz");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let envs = session
            .runtimes
            .iter()
            .map(|rt| Env {
                host: host.clone(),
                snapshots: snapshot::Store {
                    dir: dir.join(format!("snapshots-{}", rt.bin.name)),
                    update: true,
                },
                step_timeout,
            })
            .collect();
        Ok(Executor {
            session,
            envs,
            mode: host.cgroup_mode,
            keep,
            dir,
            runs: 0,
        })
    }

    pub fn mode(&self) -> CgroupMode {
        self.mode
    }

    /// The observations of every runtime (in `--runtimes` order) for this config.
    pub fn observe(&mut self, id: &str, features: &[Feature]) -> Result<Vec<Observation>, String> {
        let text = emit::observing(id, features, self.mode);
        let path = self.dir.join(format!("{id}.yaml"));
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        let loaded = emit::load(&path, &text).map_err(|e| e.to_string())?;
        self.runs += 1;
        let (session, keep) = (self.session, self.keep);
        let results: Vec<ScenarioResult> = std::thread::scope(|s| {
            let handles: Vec<_> = session
                .runtimes
                .iter()
                .zip(&self.envs)
                .map(|(rt, env)| {
                    let loaded = &loaded;
                    s.spawn(move || one::run_one(env, rt, loaded, &session.paths, keep))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("run_one does not panic"))
                .collect()
        });
        let obs = results
            .iter()
            .zip(&self.envs)
            .map(|(r, env)| observation(r, &env.snapshots.dir, id))
            .collect();
        if keep == Keep::Never {
            let _ = std::fs::remove_file(&path);
        }
        Ok(obs)
    }
}

fn outcome(r: &ScenarioResult) -> Outcome {
    let failed = r.steps.iter().find(|s| s.outcome != "pass");
    let leak = r
        .reason
        .as_deref()
        .is_some_and(|m| m.contains("leak after teardown"));
    match (r.status, failed) {
        (Status::Pass, _) => Outcome::Pass,
        (_, Some(s)) => Outcome::Failed {
            index: s.index,
            op: s.op.clone(),
        },
        (_, None) if leak => Outcome::Leak,
        (status, None) => Outcome::Harness(format!(
            "{}: {}",
            status.as_str(),
            r.reason.as_deref().unwrap_or("")
        )),
    }
}

/// The result and the snapshots it wrote (read, then removed for the next config).
fn observation(r: &ScenarioResult, dir: &std::path::Path, id: &str) -> Observation {
    let mut snapshots = BTreeMap::new();
    for (name, _) in emit::observations(CgroupMode::V1) {
        let path = dir.join(snapshot::file_name(id, name));
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Some(body) = snapshot::parse_snap(&text) {
                snapshots.insert(name.to_string(), body);
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    Observation {
        runtime: r.runtime.clone(),
        outcome: outcome(r),
        snapshots,
        reason: r.reason.clone(),
    }
}

impl Executor<'_> {
    pub fn runtime_name(&self, i: usize) -> String {
        self.session.runtimes[i].bin.name.clone()
    }
}
