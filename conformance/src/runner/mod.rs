//! Orchestration of a run: preflight (runtimes exist, versions, features, expectations, base
//! images), scenarios x runtimes on `--jobs` worker threads, events.jsonl as results arrive,
//! and the final report. The process becomes a child subreaper first.

pub mod cgroup_files;
pub mod checkpoint;
pub mod context;
pub mod features;
pub mod interrupt;
pub mod one;
pub mod race;
pub mod retry;
pub mod runtime_copy;
pub mod scratch;
pub mod seccomp_agent;
pub mod steps;
pub mod systemd_unit;
pub mod teardown;
pub mod waits;

use crate::bundle::rootfs;
use crate::driver::{run_command, RuntimeBin};
use crate::host::HostFacts;
use crate::report::judge::Judge;
use crate::report::progress::{self, Progress};
use crate::report::terminal::Stderr;
use crate::report::{Report, RuntimeInfo, ScenarioResult, REPORT_SCHEMA};
use crate::scenario::expectations::Expectations;
use crate::scenario::load::Loaded;
use crate::scenario::Base;
use crate::snapshot;
use context::Env;
use serde_json::Value;
use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Always,
    Fail,
    Never,
}

pub struct Options {
    pub runtimes: Vec<RuntimeBin>,
    pub out: PathBuf,
    pub work_dir: Option<PathBuf>,
    pub jobs: usize,
    pub seed: Option<u64>,
    pub keep: Keep,
    pub probe: Option<PathBuf>,
    pub update_snapshots: bool,
    pub suite_dir: PathBuf,
    pub step_timeout: Duration,
    /// The runtimes whose results count; the others' FAIL/ERROR/XPASS are re-run once.
    pub judge: Judge,
    /// Whether stderr gets the status line (see `report::progress`).
    pub progress: progress::Mode,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("runtime `{name}`: {path} is not an executable file")]
    NoRuntime { name: String, path: PathBuf },
    #[error("duplicate runtime name `{0}`")]
    DuplicateRuntime(String),
    #[error("{0}")]
    Expectations(String),
    #[error("output directory {path}: {source}")]
    Out {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RunError {
    /// Bad input is a usage error (3); an unwritable output directory is a harness error (2).
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Out { .. } => 2,
            _ => 3,
        }
    }
}

/// Base images, built once per run.
pub struct Images {
    busybox: Result<PathBuf, String>,
    probe: Result<PathBuf, String>,
}

impl Images {
    pub fn get(&self, base: Base) -> Result<PathBuf, String> {
        match base {
            Base::Busybox => self.busybox.clone(),
            Base::Probe => self.probe.clone(),
        }
    }
}

pub struct RuntimeCtx {
    pub bin: RuntimeBin,
    pub version: String,
    pub features: Option<Value>,
    pub expectations: Expectations,
    pub images: Arc<Images>,
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn quick(argv: Vec<String>, dir: &Path, tag: &str) -> Option<String> {
    let ev = run_command(&argv, Duration::from_secs(5), &dir.join(tag)).ok()?;
    (ev.status == Some(0)).then_some(ev.stdout)
}

/// `<runtime> features` as JSON, or None when the runtime has no such command.
pub fn runtime_features(bin: &RuntimeBin, scratch: &Path) -> Option<Value> {
    quick(
        crate::driver::argv::Argv::features(bin),
        scratch,
        &format!("{}-features", bin.name),
    )
    .and_then(|t| serde_json::from_str(&t).ok())
}

fn build_images(cache: &Path, probe: Option<&Path>, needed: &[Base]) -> Images {
    let busybox = rootfs::ensure_image(cache, Base::Busybox, None).map_err(|e| e.to_string());
    let probe = if needed.contains(&Base::Probe) {
        rootfs::find_probe(probe)
            .and_then(|p| rootfs::ensure_image(cache, Base::Probe, Some(&p)))
            .map_err(|e| e.to_string())
    } else {
        Err("not built: no selected scenario uses it".into())
    };
    Images { busybox, probe }
}

/// A runtime's expectations; an entry naming no scenario of the suite is refused like a
/// malformed file.
fn expectations_of(
    o: &Options,
    name: &str,
    ids: &BTreeSet<String>,
) -> Result<Expectations, RunError> {
    let path = o
        .suite_dir
        .join("expectations")
        .join(format!("{name}.yaml"));
    let x = Expectations::load(&path).map_err(|e| RunError::Expectations(e.to_string()))?;
    let unknown: Vec<String> = x
        .unknown_ids(&path, ids)
        .iter()
        .map(|e| e.to_string())
        .collect();
    if unknown.is_empty() {
        Ok(x)
    } else {
        Err(RunError::Expectations(unknown.join("\n")))
    }
}

fn preflight(
    o: &Options,
    scenarios: &[Loaded],
    pre: &Path,
    images: Arc<Images>,
) -> Result<Vec<RuntimeCtx>, RunError> {
    let ids = crate::scenario::lint::suite_ids(scenarios, &o.suite_dir);
    let mut out: Vec<RuntimeCtx> = Vec::new();
    for bin in &o.runtimes {
        if out.iter().any(|r| r.bin.name == bin.name) {
            return Err(RunError::DuplicateRuntime(bin.name.clone()));
        }
        if !is_executable(&bin.path) {
            return Err(RunError::NoRuntime {
                name: bin.name.clone(),
                path: bin.path.clone(),
            });
        }
        let version = quick(
            vec![bin.path.display().to_string(), "--version".into()],
            pre,
            &format!("{}-version", bin.name),
        )
        .map(|v| v.lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
        let features = runtime_features(bin, pre);
        let expectations = expectations_of(o, &bin.name, &ids)?;
        out.push(RuntimeCtx {
            bin: bin.clone(),
            version,
            features,
            expectations,
            images: images.clone(),
        });
    }
    Ok(out)
}

/// SplitMix64: a tiny deterministic shuffle so `--seed` reproduces an order.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn mkdir(p: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(p).map_err(|source| RunError::Out {
        path: p.to_path_buf(),
        source,
    })
}

struct Dirs {
    out: PathBuf,
    work: PathBuf,
    artifacts: PathBuf,
    preflight: PathBuf,
}

/// Output, work and artifact directories, emptied of a previous run's leftovers.
fn prepare_dirs(o: &Options) -> Result<Dirs, RunError> {
    let canon = |p: &PathBuf| -> Result<PathBuf, RunError> {
        mkdir(p)?;
        std::fs::canonicalize(p).map_err(|source| RunError::Out {
            path: p.clone(),
            source,
        })
    };
    let out = canon(&o.out)?;
    let work = match &o.work_dir {
        Some(w) => canon(w)?,
        None => out.join("work"),
    };
    let artifacts = out.join("artifacts");
    for d in [&work, &artifacts] {
        let _ = std::fs::remove_dir_all(d);
        mkdir(d)?;
    }
    let preflight = work.join("preflight");
    mkdir(&preflight)?;
    Ok(Dirs {
        out,
        work,
        artifacts,
        preflight,
    })
}

/// (runtime, scenario) pairs, sorted by scenario or shuffled by the seed.
fn job_list(runtimes: usize, scenarios: usize, seed: Option<u64>) -> Vec<(usize, usize)> {
    let mut jobs: Vec<(usize, usize)> = (0..scenarios)
        .flat_map(|si| (0..runtimes).map(move |ri| (ri, si)))
        .collect();
    if let Some(seed) = seed {
        shuffle(&mut jobs, seed);
    }
    jobs
}

fn event(events: &mut std::fs::File, v: Value) {
    let _ = writeln!(events, "{v}");
}

/// How often the status line's clock moves while no result arrives.
const TICK: Duration = Duration::from_millis(500);

/// Runs the jobs on `o.jobs` worker threads; results are logged and reported as they arrive.
fn execute(
    o: &Options,
    env: &Env,
    runtimes: &[RuntimeCtx],
    scenarios: &[Loaded],
    paths: &one::Paths,
    jobs: Vec<(usize, usize)>,
    events: &mut std::fs::File,
) -> Vec<ScenarioResult> {
    let started = Instant::now();
    let mut progress = Progress::new(Stderr, o.progress, jobs.len(), o.jobs.max(1));
    let mut results = Vec::with_capacity(jobs.len());
    let queue = Mutex::new(VecDeque::from(jobs));
    let (tx, rx) = mpsc::channel::<ScenarioResult>();
    std::thread::scope(|scope| {
        for _ in 0..o.jobs.max(1) {
            let (tx, queue) = (tx.clone(), &queue);
            scope.spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some((ri, si)) = next else { break };
                let (rt, l) = (&runtimes[ri], &scenarios[si]);
                let r = if interrupt::interrupted() {
                    one::not_run(rt, l, "interrupted before it started")
                } else {
                    one::run_one(env, rt, l, paths, o.keep)
                };
                if tx.send(r).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        loop {
            match rx.recv_timeout(TICK) {
                Ok(r) => {
                    event(events, serde_json::json!({"event": "result", "result": r}));
                    progress.result(&r, started.elapsed());
                    results.push(r);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupt::interrupted() {
                        progress.interrupted();
                    }
                    progress.tick(started.elapsed());
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    progress.finish();
    results
}

/// Re-runs the reference runtimes' FAIL/ERROR/XPASS once (see `retry`); the annotated result
/// replaces the first in `results` and, as a later `result` event, in events.jsonl.
fn retry_references(
    o: &Options,
    env: &Env,
    runtimes: &[RuntimeCtx],
    scenarios: &[Loaded],
    paths: &one::Paths,
    results: &mut [ScenarioResult],
    events: &mut std::fs::File,
) {
    let index = |r: &ScenarioResult| {
        let ri = runtimes.iter().position(|x| x.bin.name == r.runtime)?;
        let si = scenarios.iter().position(|l| l.scenario.id == r.id)?;
        Some((ri, si))
    };
    let jobs: Vec<(usize, usize)> = results
        .iter()
        .filter(|r| retry::wanted(r, &o.judge))
        .filter_map(index)
        .collect();
    if jobs.is_empty() || interrupt::interrupted() {
        return;
    }
    eprintln!(
        "oci-conform: re-running {} result(s) of reference runtimes once",
        jobs.len()
    );
    // Fresh bundles and roots, and the first attempt's kept artifacts stay where they are.
    let again = one::Paths {
        work: paths.work.join("retry"),
        artifacts: paths.artifacts.join("retry"),
        cgroup_parent: paths.cgroup_parent.clone(),
    };
    // The raw second attempt is logged as it arrives, the annotated one after it: a rebuild
    // from events.jsonl keeps the last result of a (runtime, scenario).
    for second in execute(o, env, runtimes, scenarios, &again, jobs, events) {
        if let Some(first) = results
            .iter_mut()
            .find(|r| r.runtime == second.runtime && r.id == second.id)
        {
            *first = retry::annotate(first, second);
            event(
                events,
                serde_json::json!({"event": "result", "result": first}),
            );
        }
    }
}

/// What a run sets up before its first scenario: the runtimes after preflight (versions,
/// features, expectations), the base images and the directories. `run` uses it, and so does
/// `fuzz`, which drives `one::run_one` itself.
pub struct Session {
    pub runtimes: Vec<RuntimeCtx>,
    pub paths: one::Paths,
    pub out: PathBuf,
    pub work: PathBuf,
    preflight: PathBuf,
}

/// Becomes a child subreaper, installs the SIGINT/SIGTERM flag, prepares the directories,
/// builds the `bases` images and runs the preflight. `scenarios` are the selected ones, for
/// the expectations' id check (which also knows the whole suite under `o.suite_dir`).
pub fn open(o: &Options, scenarios: &[Loaded], bases: &[Base]) -> Result<Session, RunError> {
    if let Err(e) = crate::driver::subreaper::become_subreaper() {
        eprintln!(
            "oci-conform: warning: cannot become a child subreaper ({e}); container_exit will fail"
        );
    }
    interrupt::install();
    let dirs = prepare_dirs(o)?;
    let images = Arc::new(build_images(
        &dirs.work.join("images"),
        o.probe.as_deref(),
        bases,
    ));
    let runtimes = preflight(o, scenarios, &dirs.preflight, images)?;
    let paths = one::Paths {
        work: dirs.work.clone(),
        artifacts: dirs.artifacts.clone(),
        cgroup_parent: format!("/oci-conform-{}", std::process::id()),
    };
    Ok(Session {
        runtimes,
        paths,
        out: dirs.out,
        work: dirs.work,
        preflight: dirs.preflight,
    })
}

/// Removes the run's cgroup parent, and the images and preflight output unless kept.
pub fn close(s: &Session, host: &HostFacts, keep: Keep) {
    teardown::remove_run_cgroup_parent(host, &s.paths.cgroup_parent);
    if keep != Keep::Always {
        let _ = std::fs::remove_dir_all(s.work.join("images"));
        let _ = std::fs::remove_dir_all(&s.preflight);
    }
}

/// Runs every scenario on every runtime and returns the report (the caller writes it).
pub fn run(o: &Options, scenarios: &[Loaded], host: HostFacts) -> Result<Report, RunError> {
    let started = Instant::now();
    let started_unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let needed: Vec<Base> = scenarios.iter().map(|l| l.scenario.bundle.base).collect();
    let session = open(o, scenarios, &needed)?;
    let env = Env {
        host: host.clone(),
        snapshots: snapshot::Store {
            dir: o.suite_dir.join("snapshots"),
            update: o.update_snapshots,
        },
        step_timeout: o.step_timeout,
    };
    let runtimes = &session.runtimes;
    let paths = &session.paths;
    let jobs = job_list(runtimes.len(), scenarios.len(), o.seed);
    let events_path = session.out.join("events.jsonl");
    let mut events = std::fs::File::create(&events_path).map_err(|source| RunError::Out {
        path: events_path,
        source,
    })?;
    let host_json = serde_json::to_value(&host).unwrap_or(Value::Null);
    let rt_info: Vec<RuntimeInfo> = runtimes
        .iter()
        .map(|r| RuntimeInfo {
            name: r.bin.name.clone(),
            path: r.bin.path.display().to_string(),
            version: r.version.clone(),
        })
        .collect();
    event(
        &mut events,
        serde_json::json!({"event": "run_start", "seed": o.seed, "total": jobs.len(), "runtimes": rt_info, "host": host_json}),
    );
    let mut results = execute(o, &env, runtimes, scenarios, paths, jobs, &mut events);
    retry_references(
        o,
        &env,
        runtimes,
        scenarios,
        paths,
        &mut results,
        &mut events,
    );
    close(&session, &host, o.keep);
    results.sort_by(|a, b| (&a.id, &a.runtime).cmp(&(&b.id, &b.runtime)));
    let report = Report {
        schema: REPORT_SCHEMA.into(),
        started_unix,
        duration_ms: started.elapsed().as_millis() as u64,
        seed: o.seed,
        host: host_json,
        runtimes: rt_info,
        summary: Report::summarize(&results),
        results,
    };
    event(
        &mut events,
        serde_json::json!({"event": "run_end", "summary": report.summary, "duration_ms": report.duration_ms}),
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_sorted_without_a_seed_and_reproducible_with_one() {
        assert_eq!(job_list(2, 2, None), vec![(0, 0), (1, 0), (0, 1), (1, 1)]);
        let a = job_list(3, 20, Some(7));
        assert_eq!(a, job_list(3, 20, Some(7)));
        assert_ne!(a, job_list(3, 20, None));
        assert_ne!(a, job_list(3, 20, Some(8)));
        let mut sorted = a.clone();
        sorted.sort();
        let mut all = job_list(3, 20, None);
        all.sort();
        assert_eq!(sorted, all, "a shuffle keeps every job exactly once");
    }
}
