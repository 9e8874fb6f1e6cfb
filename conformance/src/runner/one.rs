//! One scenario on one runtime: requirements -> bundle -> steps -> teardown + leak check ->
//! status (with the runtime's expectations applied) -> artifacts kept or removed.

use super::context::{Env, ScenarioRun, StepError};
use super::{steps, teardown, Keep, RuntimeCtx};
use crate::bundle;
use crate::driver::Globals;
use crate::normalize;
use crate::report::{ScenarioResult, Status, StepRecord};
use crate::scenario::load::Loaded;
use crate::scenario::template::Vars;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Paths {
    pub work: PathBuf,
    pub artifacts: PathBuf,
    pub cgroup_parent: String,
}

fn result(rt: &RuntimeCtx, l: &Loaded, status: Status, reason: Option<String>) -> ScenarioResult {
    let s = &l.scenario;
    ScenarioResult {
        runtime: rt.bin.name.clone(),
        id: s.id.clone(),
        title: s.title.clone(),
        path: l.path.display().to_string(),
        spec: s.spec.clone(),
        level: s.level().as_str().to_string(),
        tags: s.tags.clone(),
        status,
        reason,
        duration_ms: 0,
        setup_ms: 0,
        teardown_ms: 0,
        steps: vec![],
        artifacts: None,
    }
}

/// A result for a scenario that never ran (the run was interrupted).
pub fn not_run(rt: &RuntimeCtx, l: &Loaded, why: &str) -> ScenarioResult {
    result(rt, l, Status::Error, Some(why.to_string()))
}

/// Runs the steps until the first that does not pass.
fn run_steps(run: &mut ScenarioRun, records: &mut Vec<StepRecord>) -> Result<(), (Status, String)> {
    for (i, step) in run.scenario.steps.iter().enumerate() {
        if super::interrupt::interrupted() {
            return Err((Status::Error, format!("interrupted before step {i}")));
        }
        let start = Instant::now();
        let r = steps::execute(run, i, step);
        let mut rec = StepRecord {
            index: i,
            op: step.op.name().to_string(),
            name: step.name.clone(),
            outcome: "pass".into(),
            message: None,
            spec: step.spec.clone(),
            evidence: None,
            duration_ms: start.elapsed().as_millis() as u64,
        };
        let failed = match r {
            Ok(()) => None,
            Err(StepError::Fail(m, ev)) => Some((Status::Fail, "fail", m, ev)),
            Err(StepError::Error(m, ev)) => Some((Status::Error, "error", m, ev)),
        };
        if let Some((status, outcome, msg, ev)) = failed {
            rec.outcome = outcome.into();
            rec.message = Some(msg.clone());
            rec.evidence = ev.map(|b| *b);
            records.push(rec);
            let label = step
                .name
                .clone()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            return Err((status, format!("step {i} {}{label}: {msg}", step.op.name())));
        }
        records.push(rec);
    }
    Ok(())
}

pub fn run_one(
    env: &Env,
    rt: &RuntimeCtx,
    l: &Loaded,
    paths: &Paths,
    keep: Keep,
) -> ScenarioResult {
    let start = Instant::now();
    let s = &l.scenario;
    if let Some(reason) = env.host.unmet(&s.requires) {
        return result(rt, l, Status::Skip, Some(reason));
    }
    if let Some(f) = &rt.features {
        if let Some(reason) = super::features::missing(f, &s.requires.features) {
            return result(rt, l, Status::Unsupported, Some(reason));
        }
    }
    let slug = format!("{}__{}", rt.bin.name, s.id);
    let bundle_dir = paths.work.join(&slug);
    let artifacts = paths.artifacts.join(&rt.bin.name).join(&s.id);
    let root = paths.work.join(format!("{slug}.root"));
    let scratch = paths.work.join(format!("{slug}.scratch"));
    let cgroup_path = format!("{}/{}-{}", paths.cgroup_parent, rt.bin.name, s.id);
    let mut res = result(rt, l, Status::Pass, None);
    let image = match rt.images.get(s.bundle.base) {
        Ok(p) => p,
        Err(e) => return finish(res, Status::Error, Some(e), start),
    };
    for d in [&bundle_dir, &artifacts, &root, &scratch] {
        if let Err(e) = std::fs::create_dir_all(d) {
            return finish(
                res,
                Status::Error,
                Some(format!("{}: {e}", d.display())),
                start,
            );
        }
    }
    let mut vars = Vars::default();
    vars.set("id", &s.id);
    vars.set("bundle", bundle_dir.to_string_lossy());
    vars.set("rootfs", bundle_dir.join("rootfs").to_string_lossy());
    vars.set("root", root.to_string_lossy());
    vars.set("scratch", scratch.to_string_lossy());
    vars.set("cgroup_path", &cgroup_path);
    let console_log = scratch.join("console.log");
    vars.set("console", console_log.to_string_lossy());
    let prepared = match bundle::prepare(s, &bundle_dir, &image, &vars, &cgroup_path) {
        Ok(p) => p,
        Err(e) => return finish(res, Status::Error, Some(format!("bundle: {e}")), start),
    };
    let _ = std::fs::write(
        artifacts.join("config.json"),
        serde_json::to_string_pretty(&prepared.config).unwrap_or_default(),
    );
    let effective_cgroup = prepared
        .config
        .pointer("/linux/cgroupsPath")
        .and_then(|v| v.as_str())
        .unwrap_or(&cgroup_path)
        .to_string();
    let timeout = s.timeout.map(|d| d.0).unwrap_or(Duration::from_secs(60));
    let terminal = prepared
        .config
        .pointer("/process/terminal")
        .and_then(|v| v.as_bool())
        == Some(true);
    let wants_tty = s.steps.iter().any(|st| {
        matches!(
            st.op,
            crate::scenario::Op::Exec {
                tty: true,
                detach: true,
                ..
            }
        )
    });
    let console = if terminal || wants_tty {
        match crate::driver::console::Console::start(
            crate::driver::console::socket_path(),
            console_log,
        ) {
            Ok(c) => Some(c),
            Err(e) => return finish(res, Status::Error, Some(e.to_string()), start),
        }
    } else {
        None
    };
    let mut run = ScenarioRun {
        env,
        scenario: s,
        bin: &rt.bin,
        globals: Globals {
            root: root.clone(),
            log: Some(artifacts.join("runtime-log.json")),
        },
        id: s.id.clone(),
        bundle: bundle_dir.clone(),
        rootfs: prepared.rootfs.clone(),
        scratch: scratch.clone(),
        artifacts: artifacts.clone(),
        cgroup_path: effective_cgroup.clone(),
        vars,
        norm: normalize::Context {
            bundle: bundle_dir.to_string_lossy().to_string(),
            bundle_marker: slug.clone(),
            container_id: s.id.clone(),
            cgroup_path: effective_cgroup,
        },
        init_pid: None,
        init_reaped: false,
        foreground_exit: None,
        detached_pids: vec![],
        deadline: Instant::now() + timeout,
        console,
        terminal,
    };
    res.setup_ms = start.elapsed().as_millis() as u64;
    let outcome = run_steps(&mut run, &mut res.steps);
    let t0 = Instant::now();
    let leaks = teardown::teardown(&mut run);
    res.teardown_ms = t0.elapsed().as_millis() as u64;
    let (mut status, mut reason) = match outcome {
        Ok(()) => (Status::Pass, None),
        Err((st, msg)) => (st, Some(msg)),
    };
    if !leaks.is_empty() {
        let leak_msg = format!("leak after teardown: {}", leaks.join("; "));
        reason = Some(match reason {
            Some(r) => format!("{r}; {leak_msg}"),
            None => leak_msg,
        });
        status = Status::Error;
    }
    if let Some(why) = rt.expectations.xfail_reason(&s.id) {
        match status {
            Status::Fail => {
                status = Status::Xfail;
                reason = Some(format!("{why} [{}]", reason.unwrap_or_default()));
            }
            Status::Pass => {
                status = Status::Xpass;
                reason = Some(format!("listed as a known divergence ({why}) but passed: remove it from expectations/{}.yaml", rt.bin.name));
            }
            _ => {}
        }
    }
    let keep_it = match keep {
        Keep::Always => true,
        Keep::Never => false,
        Keep::Fail => matches!(status, Status::Fail | Status::Error | Status::Xpass),
    };
    if keep_it {
        res.artifacts = Some(artifacts.display().to_string());
    } else {
        remove_quietly(&artifacts);
        for d in [&bundle_dir, &root, &scratch] {
            remove_quietly(d);
        }
    }
    finish(res, status, reason, start)
}

fn remove_quietly(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
}

fn finish(
    mut r: ScenarioResult,
    status: Status,
    reason: Option<String>,
    start: Instant,
) -> ScenarioResult {
    r.status = status;
    r.reason = reason;
    r.duration_ms = start.elapsed().as_millis() as u64;
    r
}
