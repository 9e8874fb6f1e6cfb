//! A mutation campaign: the reference runs the selection once, then each mutant runs the
//! scenarios the reference passes (touched areas first, stopping at the first confirmed kill
//! with `first_kill`), and the result says which scenarios killed which mutant.

use super::catalog::Mutant;
use super::plan;
use super::score::{self, Score};
use crate::driver::RuntimeBin;
use crate::host::HostFacts;
use crate::report::judge::Judge;
use crate::report::{Report, Status};
use crate::runner::{self, interrupt, Keep, Options, RunError};
use crate::scenario::load::Loaded;
use serde::Serialize;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error(transparent)]
    Run(#[from] RunError),
    /// SIGINT/SIGTERM: the runner marks what it did not run as ERROR, which would read as kills.
    #[error("interrupted; the results so far are incomplete and not scored")]
    Interrupted,
}

pub struct Campaign {
    /// The reference runtime; mutants run under its name, so its expectations apply to them.
    pub reference: RuntimeBin,
    /// The oci-conform binary the wrapper scripts call back into.
    pub self_exe: PathBuf,
    pub out: PathBuf,
    pub settings: Settings,
    pub first_kill: bool,
}

/// What every run of a campaign shares (the runner's [`Options`] minus runtimes and out).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Each run gets its own directory under it (default: its out directory's `work`).
    pub work_dir: Option<PathBuf>,
    pub jobs: usize,
    pub probe: Option<PathBuf>,
    pub suite_dir: PathBuf,
    pub step_timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct MutantResult {
    pub name: String,
    pub breaks: String,
    pub spec: String,
    pub level: String,
    pub killed: bool,
    /// Confirmed kills (each FAILed or ERRORed twice where the reference PASSed).
    pub killed_by: Vec<String>,
    /// Kills that did not repeat on the re-run (flakes, not counted).
    pub unconfirmed: Vec<String>,
    pub scenarios_run: usize,
    /// How many runtime commands the mutation changed (0: the pack never gave it a chance).
    pub fired: usize,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub reference: String,
    pub reference_pass: usize,
    pub reference_ms: u64,
    pub first_kill: bool,
    pub mutants: Vec<MutantResult>,
    pub score: Score,
    pub survivors: Vec<String>,
    pub duration_ms: u64,
}

/// The wrapper script of a mutant: the runtime the runner is given.
pub fn wrapper_script(self_exe: &Path, m: &Mutant, reference: &Path, log: &Path) -> String {
    let q = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    format!(
        "#!/bin/sh\n# oci-conform mutant `{}`: {} ({} {}).\nexec {} mutate --shim {} --reference {} --shim-log {} -- \"$@\"\n",
        m.name,
        m.breaks,
        m.spec,
        m.level,
        q(self_exe),
        m.name,
        q(reference),
        q(log)
    )
}

fn write_wrapper(path: &Path, text: &str) -> Result<(), RunError> {
    let io = |source| RunError::Out {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(path, text).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io)
}

impl Campaign {
    fn run_once(
        &self,
        bin: RuntimeBin,
        out: PathBuf,
        scenarios: &[Loaded],
        host: &HostFacts,
    ) -> Result<Report, CampaignError> {
        let s = &self.settings;
        let o = Options {
            runtimes: vec![bin],
            work_dir: s
                .work_dir
                .as_ref()
                .map(|w| w.join(out.file_name().unwrap_or_default())),
            out,
            jobs: s.jobs.max(1),
            seed: None,
            // Bundles of thousands of runs would fill the disk; the events say what failed.
            keep: Keep::Never,
            probe: s.probe.clone(),
            update_snapshots: false,
            suite_dir: s.suite_dir.clone(),
            step_timeout: s.step_timeout,
            judge: Judge::default(),
            progress: Default::default(),
        };
        let report = runner::run(&o, scenarios, host.clone())?;
        if interrupt::interrupted() {
            return Err(CampaignError::Interrupted);
        }
        Ok(report)
    }

    /// Runs the reference on every selected scenario (the baseline of every mutant).
    pub fn reference_run(
        &self,
        scenarios: &[Loaded],
        host: &HostFacts,
    ) -> Result<Report, CampaignError> {
        self.run_once(
            self.reference.clone(),
            self.out.join("reference"),
            scenarios,
            host,
        )
    }

    /// Runs one mutant against the scenarios the reference passed.
    pub fn mutant(
        &self,
        m: &Mutant,
        baseline: &BTreeMap<String, Status>,
        scenarios: &[Loaded],
        host: &HostFacts,
    ) -> Result<MutantResult, CampaignError> {
        let started = Instant::now();
        let dir = self.out.join("mutants").join(m.name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|source| RunError::Out {
            path: dir.clone(),
            source,
        })?;
        let log = dir.join("fired.log");
        let wrapper = dir.join("runtime");
        write_wrapper(
            &wrapper,
            &wrapper_script(&self.self_exe, m, &self.reference.path, &log),
        )?;
        let bin = RuntimeBin {
            name: self.reference.name.clone(),
            path: wrapper,
        };
        let passing: Vec<&Loaded> = scenarios
            .iter()
            .filter(|l| baseline.get(&l.scenario.id) == Some(&Status::Pass))
            .collect();
        let refs: Vec<&crate::scenario::Scenario> = passing.iter().map(|l| &l.scenario).collect();
        let order = plan::order(&refs, m.areas);
        let touched = refs.iter().filter(|s| plan::touches(s, m.areas)).count();
        let start = self.settings.jobs.max(2);
        let mut result = MutantResult {
            name: m.name.into(),
            breaks: m.breaks.into(),
            spec: m.spec.into(),
            level: m.level.into(),
            killed: false,
            killed_by: Vec::new(),
            unconfirmed: Vec::new(),
            scenarios_run: 0,
            fired: 0,
            duration_ms: 0,
        };
        for (k, batch) in plan::batches(&order, touched, start, self.first_kill)
            .iter()
            .enumerate()
        {
            let chosen: Vec<Loaded> = batch.iter().map(|&i| passing[i].clone()).collect();
            result.scenarios_run += chosen.len();
            let report =
                self.run_once(bin.clone(), dir.join(format!("batch-{k}")), &chosen, host)?;
            let suspects = score::kills(baseline, &report.results);
            if suspects.is_empty() {
                continue;
            }
            // A kill must repeat: one re-run of the suspects tells a flake from a kill.
            let again: Vec<Loaded> = chosen
                .iter()
                .filter(|l| suspects.contains(&l.scenario.id))
                .cloned()
                .collect();
            let confirm =
                self.run_once(bin.clone(), dir.join(format!("confirm-{k}")), &again, host)?;
            let confirmed = score::kills(baseline, &confirm.results);
            result
                .unconfirmed
                .extend(suspects.into_iter().filter(|s| !confirmed.contains(s)));
            result.killed_by.extend(confirmed);
            if self.first_kill && !result.killed_by.is_empty() {
                break;
            }
        }
        result.killed = !result.killed_by.is_empty();
        result.fired = std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        result.duration_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }
}

/// The closing figures of a campaign.
pub fn outcome(
    reference: &str,
    reference_report: &Report,
    mutants: Vec<MutantResult>,
    first_kill: bool,
    duration_ms: u64,
) -> Outcome {
    let flags: Vec<bool> = mutants.iter().map(|m| m.killed).collect();
    Outcome {
        reference: reference.into(),
        reference_pass: reference_report
            .results
            .iter()
            .filter(|r| r.status == Status::Pass)
            .count(),
        reference_ms: reference_report.duration_ms,
        first_kill,
        score: Score::of(&flags),
        survivors: mutants
            .iter()
            .filter(|m| !m.killed)
            .map(|m| m.name.clone())
            .collect(),
        mutants,
        duration_ms,
    }
}

/// The stdout table: one row per mutant.
pub fn table(o: &Outcome) -> String {
    let mut s = format!(
        "{:<28} {:<8} {:<6} {:>5} {:>5} {:>7}  {}\n",
        "MUTANT", "RESULT", "LEVEL", "RAN", "FIRED", "SECONDS", "KILLED BY"
    );
    for m in &o.mutants {
        let by = match m.killed_by.as_slice() {
            [] if m.fired == 0 => "- (the mutation never fired)".to_string(),
            [] => "-".to_string(),
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
        };
        s.push_str(&format!(
            "{:<28} {:<8} {:<6} {:>5} {:>5} {:>7.1}  {}\n",
            m.name,
            if m.killed { "killed" } else { "SURVIVED" },
            m.level,
            m.scenarios_run,
            m.fired,
            m.duration_ms as f64 / 1000.0,
            by
        ));
    }
    s.push_str(&format!(
        "mutation score: {} in {:.0} s (reference {} PASS in {:.0} s){}\n",
        o.score,
        o.duration_ms as f64 / 1000.0,
        o.reference_pass,
        o.reference_ms as f64 / 1000.0,
        if o.survivors.is_empty() {
            String::new()
        } else {
            format!("; survivors: {}", o.survivors.join(", "))
        }
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutate::catalog;

    #[test]
    fn the_wrapper_calls_back_with_the_mutant_and_quotes_paths() {
        let m = catalog::find("drop-hostname").unwrap();
        let w = wrapper_script(
            Path::new("/x/oci-conform"),
            m,
            Path::new("/usr/sbin/runc"),
            Path::new("/o/it's/fired.log"),
        );
        assert!(w.starts_with("#!/bin/sh\n"));
        assert!(w.contains(
            "exec '/x/oci-conform' mutate --shim drop-hostname --reference '/usr/sbin/runc' --shim-log '/o/it'\\''s/fired.log' -- \"$@\""
        ));
    }
}
