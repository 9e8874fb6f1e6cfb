//! One scenario on one runtime: requirements -> bundle -> steps -> teardown + leak check ->
//! status (with the runtime's expectations applied) -> artifacts kept or removed.

use super::context::{Env, ScenarioRun, StepError};
use super::runtime_copy::RuntimeCopy;
use super::{steps, teardown, Keep, RuntimeCtx};
use crate::bundle;
use crate::driver::console::{self, Console};
use crate::driver::Globals;
use crate::normalize;
use crate::report::{ScenarioResult, Status, StepRecord};
use crate::scenario::load::Loaded;
use crate::scenario::template::Vars;
use crate::scenario::{CgroupDriver, Op};
use crate::systemd::SystemdPath;
use std::borrow::Cow;
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

/// Per-scenario directories and names.
struct Layout {
    slug: String,
    bundle: PathBuf,
    artifacts: PathBuf,
    root: PathBuf,
    scratch: PathBuf,
    images: PathBuf,
    cgroup_path: String,
    /// Unique per run, runtime and scenario: `<runtime>-<id>-<runner pid>`.
    cgroup_name: String,
}

impl Layout {
    fn new(rt: &RuntimeCtx, id: &str, paths: &Paths, driver: CgroupDriver) -> Layout {
        // The slug is the bundle's last path component: unique per run, so normalizers can
        // find the bundle even where a mount shows it relative to its filesystem.
        let slug = format!("{}__{id}", rt.bin.name);
        let (cgroup_path, cgroup_name) =
            default_cgroups_path(driver, &paths.cgroup_parent, &rt.bin.name, id);
        Layout {
            bundle: paths.work.join(&slug),
            artifacts: paths.artifacts.join(&rt.bin.name).join(id),
            root: paths.work.join(format!("{slug}.root")),
            scratch: paths.work.join(format!("{slug}.scratch")),
            images: paths.work.join(format!("{slug}.images")),
            cgroup_path,
            cgroup_name,
            slug,
        }
    }

    fn dirs(&self) -> [&PathBuf; 5] {
        [
            &self.bundle,
            &self.artifacts,
            &self.root,
            &self.scratch,
            &self.images,
        ]
    }

    fn vars(&self, id: &str) -> Vars {
        let mut vars = Vars::default();
        vars.set("id", id);
        vars.set("bundle", self.bundle.to_string_lossy());
        vars.set("rootfs", self.bundle.join("rootfs").to_string_lossy());
        vars.set("root", self.root.to_string_lossy());
        vars.set("scratch", self.scratch.to_string_lossy());
        vars.set("images", self.images.to_string_lossy());
        vars.set("cgroup_path", &self.cgroup_path);
        vars.set("cgroup_name", &self.cgroup_name);
        vars.set(
            "console",
            self.scratch.join("console.log").to_string_lossy(),
        );
        vars
    }
}

/// The default linux.cgroupsPath and the `cgroup_name` template of a scenario: under the
/// run's parent `/oci-conform-<pid>` for cgroupfs; in systemd's form (runc.8:
/// "slice:prefix:name") the scope `oci-conform-<runtime>-<id>-<pid>.scope` in system.slice,
/// apart per run and runtime.
fn default_cgroups_path(
    driver: CgroupDriver,
    parent: &str,
    runtime: &str,
    id: &str,
) -> (String, String) {
    let run_pid = parent.rsplit('-').next().unwrap_or_default();
    let name = format!("{runtime}-{id}-{run_pid}");
    let path = match driver {
        CgroupDriver::Cgroupfs => format!("{parent}/{runtime}-{id}"),
        CgroupDriver::Systemd => format!("system.slice:oci-conform:{name}"),
    };
    (path, name)
}

/// Phase 1: host requirements (SKIP) and runtime features (UNSUPPORTED).
fn requirement_gate(
    env: &Env,
    rt: &RuntimeCtx,
    l: &Loaded,
    cgroup_parent: &str,
) -> Option<ScenarioResult> {
    let s = &l.scenario;
    let files = || super::cgroup_files::unmet(&env.host, cgroup_parent, &s.requires.cgroup_files);
    let devices = || super::cgroup_files::missing_block_device(&s.requires.block_devices);
    if let Some(reason) = env.host.unmet_scenario(s).or_else(files).or_else(devices) {
        return Some(result(rt, l, Status::Skip, Some(reason)));
    }
    let f = rt.features.as_ref()?;
    let reason = super::features::missing(f, &s.requires.features)?;
    Some(result(rt, l, Status::Unsupported, Some(reason)))
}

/// Phase 2: directories, bundle, console socket -> a ready ScenarioRun.
fn setup<'a>(
    env: &'a Env,
    rt: &'a RuntimeCtx,
    l: &'a Loaded,
    lay: &Layout,
) -> Result<ScenarioRun<'a>, String> {
    let s = &l.scenario;
    let image = rt.images.get(s.bundle.base)?;
    for d in lay.dirs() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    super::scratch::prepare(&lay.scratch, &s.scratch)?;
    let runtime_copy = s
        .runtime_copy
        .then(|| RuntimeCopy::make(&rt.bin, &lay.scratch, &lay.artifacts))
        .transpose()?;
    let mut vars = lay.vars(&s.id);
    let prepared = bundle::prepare(s, &lay.bundle, &image, &vars, &lay.cgroup_path)
        .map_err(|e| format!("bundle: {e}"))?;
    let _ = std::fs::write(
        lay.artifacts.join("config.json"),
        serde_json::to_string_pretty(&prepared.config).unwrap_or_default(),
    );
    let cfg = &prepared.config;
    let cgroup_path = cfg
        .pointer("/linux/cgroupsPath")
        .and_then(|v| v.as_str())
        .unwrap_or(&lay.cgroup_path)
        .to_string();
    let systemd = match s.cgroup_driver {
        CgroupDriver::Systemd => SystemdPath::parse(&cgroup_path),
        CgroupDriver::Cgroupfs => None,
    };
    if let Some(sd) = &systemd {
        // For steps only: they come from the rendered cgroupsPath.
        vars.set("unit", &sd.unit);
        vars.set("cgroup_dir", unified_dir(env, &sd.cgroup_rel()));
    }
    let terminal = cfg.pointer("/process/terminal").and_then(|v| v.as_bool()) == Some(true);
    let wants_tty = s.steps.iter().any(|st| {
        matches!(
            st.op,
            Op::Exec {
                tty: true,
                detach: true,
                ..
            }
        )
    });
    let console = if terminal || wants_tty {
        let log = lay.scratch.join("console.log");
        Some(Console::start(console::socket_path(), log).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let timeout = s.timeout.map(|d| d.0).unwrap_or(Duration::from_secs(60));
    Ok(ScenarioRun {
        env,
        scenario: s,
        bin: match &runtime_copy {
            Some(c) => Cow::Owned(c.bin.clone()),
            None => Cow::Borrowed(&rt.bin),
        },
        runtime_copy,
        races: vec![],
        globals: Globals {
            root: lay.root.clone(),
            log: Some(lay.artifacts.join("runtime-log.json")),
            systemd_cgroup: s.cgroup_driver == CgroupDriver::Systemd,
        },
        id: s.id.clone(),
        bundle: lay.bundle.clone(),
        rootfs: prepared.rootfs.clone(),
        scratch: lay.scratch.clone(),
        artifacts: lay.artifacts.clone(),
        cgroup_path: cgroup_path.clone(),
        systemd,
        vars,
        norm: normalize::Context {
            bundle: lay.bundle.to_string_lossy().to_string(),
            bundle_marker: lay.slug.clone(),
            container_id: s.id.clone(),
            cgroup_path,
        },
        init_pid: None,
        init_reaped: false,
        init_id: s.id.clone(),
        other_inits: vec![],
        other_ids: vec![],
        foreground_exit: None,
        detached_pids: vec![],
        deadline: Instant::now() + timeout,
        console,
        terminal,
    })
}

/// The host directory of a cgroup path in the unified (v2) hierarchy, where systemd keeps
/// its units' cgroups (`/sys/fs/cgroup` on v2, `/sys/fs/cgroup/unified` on a hybrid host).
fn unified_dir(env: &Env, rel: &str) -> String {
    let mount = env
        .host
        .hierarchies
        .iter()
        .find(|h| h.v2)
        .map(|h| h.mount.as_str())
        .unwrap_or("/sys/fs/cgroup");
    format!("{}{rel}", mount.trim_end_matches('/'))
}

/// Phase 4: steps outcome + leaks + the runtime's expectations -> final status.
fn classify(
    rt: &RuntimeCtx,
    id: &str,
    outcome: Result<(), (Status, String)>,
    leaks: &[String],
) -> (Status, Option<String>) {
    let (status, reason) = with_leaks(outcome, leaks);
    let reason = match rt.expectations.flaky_reason(id) {
        Some(why) if status != Status::Pass => Some(format!(
            "{} [known flake of {}: {why}]",
            reason.unwrap_or_default(),
            rt.bin.name
        )),
        _ => reason,
    };
    match (rt.expectations.xfail_reason(id), status) {
        (Some(why), Status::Fail) => (Status::Xfail, Some(format!("{why} [{}]", reason.unwrap_or_default()))),
        (Some(why), Status::Pass) => (
            Status::Xpass,
            Some(format!(
                "listed as a known divergence ({why}) but passed: remove it from expectations/{}.yaml",
                rt.bin.name
            )),
        ),
        _ => (status, reason),
    }
}

/// After teardown (the runtime's last command has run): a changed runtime copy is a FAIL,
/// whatever the steps saw, joining their reason.
fn with_runtime_copy(
    outcome: Result<(), (Status, String)>,
    run: &ScenarioRun,
) -> Result<(), (Status, String)> {
    let Some(why) = run
        .runtime_copy
        .as_ref()
        .and_then(|c| c.tampered(&run.artifacts))
    else {
        return outcome;
    };
    match outcome {
        Ok(()) => Err((Status::Fail, why)),
        Err((_, msg)) => Err((Status::Fail, format!("{msg}; {why}"))),
    }
}

/// Folds the leak check into the steps' outcome. A leak alone is an ERROR: nothing observed
/// a violation, and the harness cannot tell whose the leftover is. After a FAIL it stays a FAIL
/// (the leak joins the reason): a step saw the runtime break the spec, often the very thing
/// that leaked (a `delete` that leaves its state behind), and hiding that behind ERROR would
/// blame the harness for the runtime's defect.
fn with_leaks(outcome: Result<(), (Status, String)>, leaks: &[String]) -> (Status, Option<String>) {
    let (status, reason) = match outcome {
        Ok(()) => (Status::Pass, None),
        Err((st, msg)) => (st, Some(msg)),
    };
    if leaks.is_empty() {
        return (status, reason);
    }
    let leak_msg = format!("leak after teardown: {}", leaks.join("; "));
    let reason = Some(match reason {
        Some(r) => format!("{r}; {leak_msg}"),
        None => leak_msg,
    });
    match status {
        Status::Fail => (Status::Fail, reason),
        _ => (Status::Error, reason),
    }
}

/// Runs one scenario on one runtime: requirements, setup, steps, teardown (always once
/// set up), classification, artifacts kept or removed per `keep`.
pub fn run_one(
    env: &Env,
    rt: &RuntimeCtx,
    l: &Loaded,
    paths: &Paths,
    keep: Keep,
) -> ScenarioResult {
    let start = Instant::now();
    if let Some(r) = requirement_gate(env, rt, l, &paths.cgroup_parent) {
        return r;
    }
    let lay = Layout::new(rt, &l.scenario.id, paths, l.scenario.cgroup_driver);
    let mut res = result(rt, l, Status::Pass, None);
    let mut run = match setup(env, rt, l, &lay) {
        Ok(r) => r,
        Err(e) => {
            super::scratch::release(&lay.scratch);
            for d in lay.dirs() {
                if keep == Keep::Never {
                    remove_quietly(d);
                }
            }
            return finish(res, Status::Error, Some(e), start);
        }
    };
    res.setup_ms = start.elapsed().as_millis() as u64;
    let outcome = run_steps(&mut run, &mut res.steps);
    let t0 = Instant::now();
    let leaks = teardown::teardown(&mut run);
    let outcome = with_runtime_copy(outcome, &run);
    drop(run);
    res.teardown_ms = t0.elapsed().as_millis() as u64;
    let (status, reason) = classify(rt, &l.scenario.id, outcome, &leaks);
    let keep_it = match keep {
        Keep::Always => true,
        Keep::Never => false,
        Keep::Fail => matches!(status, Status::Fail | Status::Error | Status::Xpass),
    };
    if keep_it {
        res.artifacts = Some(lay.artifacts.display().to_string());
    } else {
        for d in lay.dirs() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_systemd_driver_gets_a_scope_per_run_and_runtime() {
        let (path, name) = default_cgroups_path(
            CgroupDriver::Systemd,
            "/oci-conform-42",
            "runc",
            "systemd.x",
        );
        assert_eq!(path, "system.slice:oci-conform:runc-systemd.x-42");
        assert_eq!(name, "runc-systemd.x-42");
        let sd = SystemdPath::parse(&path).unwrap();
        assert_eq!(sd.unit, "oci-conform-runc-systemd.x-42.scope");
        assert_eq!(
            sd.cgroup_rel(),
            "/system.slice/oci-conform-runc-systemd.x-42.scope"
        );
        let (path, _) =
            default_cgroups_path(CgroupDriver::Cgroupfs, "/oci-conform-42", "runc", "a.b");
        assert_eq!(path, "/oci-conform-42/runc-a.b");
    }

    #[test]
    fn a_failed_step_stays_a_fail_when_teardown_finds_leaks() {
        let leaks = vec!["state directory /r/x remains after delete --force".to_string()];
        let fail = Err((Status::Fail, "step 5 wait_for: still listed".to_string()));
        let (status, reason) = with_leaks(fail, &leaks);
        assert_eq!(status, Status::Fail);
        let reason = reason.unwrap();
        assert!(
            reason
                .starts_with("step 5 wait_for: still listed; leak after teardown: state directory"),
            "{reason}"
        );
    }

    #[test]
    fn a_leak_alone_or_after_an_error_is_an_error() {
        let leaks = vec!["cgroup /sys/fs/cgroup/pids/x remains".to_string()];
        assert_eq!(with_leaks(Ok(()), &leaks).0, Status::Error);
        let err = Err((Status::Error, "bundle: no".to_string()));
        assert_eq!(with_leaks(err, &leaks).0, Status::Error);
        assert_eq!(with_leaks(Ok(()), &[]), (Status::Pass, None));
    }
}
