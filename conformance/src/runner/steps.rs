//! Step execution: one function per kind of step. Command steps run the runtime and check
//! exit/stdout/stderr/json/snapshot; observation steps read the host's view of the container.

use super::checkpoint;
use super::context::{error, fail, ScenarioRun, StepError, StepResult};
use super::waits::{container_exit, wait_for};
use crate::driver::argv::ExecOpts;
use crate::driver::Evidence;
use crate::expect::Matcher;
use crate::normalize::mountinfo;
use crate::probe;
use crate::scenario::step::ListFormat;
use crate::scenario::{Op, Step};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

fn with_ev(e: StepError, ev: &Evidence) -> StepError {
    match e {
        StepError::Fail(m, None) => StepError::Fail(m, Some(Box::new(ev.clone()))),
        StepError::Error(m, None) => StepError::Error(m, Some(Box::new(ev.clone()))),
        other => other,
    }
}

pub(super) fn check(what: &str, m: &Matcher, actual: &Value) -> StepResult {
    m.check(actual).map_err(|e| fail(format!("{what}: {e}")))
}

/// The exit status as a shell reports it: the code, or 128+signal.
fn exit_value(ev: &Evidence) -> i64 {
    match (ev.status, ev.signal) {
        (Some(c), _) => c as i64,
        (None, Some(s)) => 128 + s as i64,
        _ => -1,
    }
}

fn check_command(run: &ScenarioRun, step: &Step, ev: &Evidence) -> StepResult {
    let e = &step.expect;
    let exit_m = e
        .exit
        .clone()
        .unwrap_or_else(|| Matcher::equals(Value::from(0)));
    let r = (|| {
        check("exit", &exit_m, &Value::from(exit_value(ev))).map_err(|err| match err {
            StepError::Fail(m, x) => {
                StepError::Fail(format!("{m} (stderr: {})", ev.stderr.trim()), x)
            }
            other => other,
        })?;
        if let Some(m) = &e.stdout {
            check("stdout", m, &Value::String(ev.stdout.clone()))?;
        }
        if let Some(m) = &e.stderr {
            check("stderr", m, &Value::String(ev.stderr.clone()))?;
        }
        if let Some(m) = &e.json {
            let v: Value = serde_json::from_str(&ev.stdout).map_err(|err| {
                fail(format!(
                    "stdout is not JSON ({err}): {:?}",
                    truncate(&ev.stdout)
                ))
            })?;
            check("json", m, &v)?;
        }
        run.snapshot(step, &ev.stdout)
    })();
    r.map_err(|err| with_ev(err, ev))
}

pub(super) fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

fn write_json(path: &Path, v: &Value) -> Result<(), StepError> {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap_or_default())
        .map_err(|e| error(format!("cannot write {}: {e}", path.display())))
}

/// Runs a step; `Ok(())` is a pass.
pub fn execute(run: &mut ScenarioRun, index: usize, step: &Step) -> StepResult {
    let timeout = run.step_deadline(step)?;
    let target = run.target(step)?;
    let prefix = run.io_prefix(index, step);
    let render = |v: &[String]| run.vars.render_all(v).map_err(|e| error(e.to_string()));
    let argv = match &step.op {
        Op::Create { args, pid_file } => {
            let pf = pid_file.then(|| run.init_pid_file());
            let args = with_console(run, render(args)?);
            run.argv().create(&run.bundle, pf.as_deref(), &args)
        }
        Op::Start {} => run.argv().simple("start"),
        Op::State { .. } => run.argv_for(&target).simple("state"),
        Op::Pause { .. } => run.argv_for(&target).simple("pause"),
        Op::Resume { .. } => run.argv_for(&target).simple("resume"),
        Op::Run { detach, args } => {
            if *detach {
                // --pid-file, like create: the pid is known even if the init exits at once.
                let mut args = with_console(run, render(args)?);
                args.extend([
                    "--pid-file".to_string(),
                    run.init_pid_file().display().to_string(),
                ]);
                run.argv().run(&run.bundle, true, &args)
            } else {
                run.argv().run(&run.bundle, false, &render(args)?)
            }
        }
        Op::List { format, quiet } => run.argv().list(*format == ListFormat::Json, *quiet),
        Op::Kill { signal, all, .. } => run.argv_for(&target).kill(signal, *all),
        Op::Delete { force, .. } => run.argv_for(&target).delete(*force),
        Op::Ps { format } => run.argv().ps(*format == ListFormat::Json),
        Op::Events { .. } => run.argv().events_stats(),
        Op::Exec { .. } => exec_argv(run, index, step, &target)?,
        Op::Checkpoint(c) => checkpoint::checkpoint_argv(run, c, &target)?,
        Op::Restore(r) => checkpoint::restore_argv(run, r, &target)?,
        Op::Update { resources, args } => {
            let file = match resources {
                Some(r) => {
                    let path = prefix.with_extension("resources.json");
                    let rendered = run.vars.render_value(r).map_err(|e| error(e.to_string()))?;
                    write_json(&path, &rendered)?;
                    Some(path)
                }
                None => None,
            };
            run.argv().update(file.as_deref(), &render(args)?)
        }
        Op::Raw { args, global_flags } => run.argv().raw(&render(args)?, *global_flags),
        // `within` is the step's own deadline, still bounded by the scenario's.
        Op::WaitFor { status, within, .. } => {
            let within = within.0.min(run.time_left());
            return wait_for(run, &prefix, &target, *status, within);
        }
        Op::ContainerExit { within, .. } => {
            let within = within.map(|d| d.0).unwrap_or(Duration::from_secs(10));
            return container_exit(run, step, &target, within.min(run.time_left()));
        }
        Op::InspectMounts {} => return inspect_mounts(run, step, &prefix),
        Op::InspectCgroup {} => return inspect_cgroup(run, step, &prefix),
        Op::InspectProc { file } => return inspect_proc(run, step, &prefix, file),
        Op::ReadFile { path, within } => {
            let within = within.map(|d| d.0.min(run.time_left()));
            return read_file(run, step, path, within);
        }
        Op::Sleep { duration } => {
            std::thread::sleep(duration.0.min(timeout));
            return Ok(());
        }
        Op::Race {
            path,
            target,
            duration,
        } => return super::race::start(run, path, target, duration.0),
        Op::SeccompAgent { rules, default } => {
            return super::seccomp_agent::start(run, rules, default, &prefix)
        }
        Op::SeccompAgentStop {} => return super::seccomp_agent::stop(run),
        Op::SystemdUnit { unit, within } => {
            let within = within.map(|d| d.0.min(run.time_left()));
            let unit = unit.as_deref();
            return super::systemd_unit::systemd_unit(run, step, unit, within, &prefix);
        }
    };
    let ev = run.command(argv, timeout, &prefix)?;
    after_command(run, index, step, &ev, &prefix)?;
    if let Op::Restore(r) = &step.op {
        checkpoint::after_restore(run, r, &target, &ev);
    }
    check_command(run, step, &ev)
}

/// Remembers what later steps need: the init pid after create / run -d, a foreground run's
/// exit, a detached exec's pid.
fn after_command(
    run: &mut ScenarioRun,
    index: usize,
    step: &Step,
    ev: &Evidence,
    prefix: &Path,
) -> StepResult {
    if ev.status != Some(0) {
        if let Op::Run { detach: false, .. } = step.op {
            run.foreground_exit = Some(ev.clone());
        }
        return Ok(());
    }
    match &step.op {
        Op::Create { .. } | Op::Run { detach: true, .. } => {
            run.init_pid = None;
            run.init_id = run.id.clone();
            // The pid file first (written before the runtime returns, so it is there even when
            // the init has already exited), else `state`. A runtime whose state fails right
            // after a successful create is reported by the step that needs the pid.
            if let Some(p) = run.read_init_pid_file() {
                run.set_init(p);
            } else if let Ok((_, v)) = run.state(&prefix.with_extension("state")) {
                if let Some(p) = v.get("pid").and_then(Value::as_i64).filter(|p| *p > 0) {
                    run.set_init(p as i32);
                }
            }
        }
        Op::Run { detach: false, .. } => run.foreground_exit = Some(ev.clone()),
        Op::Exec { detach: true, .. } => {
            let pf = run.scratch.join(format!("exec-{index}.pid"));
            if let Some(pid) = std::fs::read_to_string(pf)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                run.detached_pids.push(pid);
            }
        }
        _ => {}
    }
    Ok(())
}

/// `--console-socket` for create / run -d when process.terminal is true (runc refuses a
/// detached terminal without one).
pub(super) fn with_console(run: &ScenarioRun, mut args: Vec<String>) -> Vec<String> {
    if let Some(c) = run.console.as_ref().filter(|_| run.terminal) {
        args.extend([
            "--console-socket".to_string(),
            c.socket.display().to_string(),
        ]);
    }
    args
}

fn exec_argv(
    run: &ScenarioRun,
    index: usize,
    step: &Step,
    target: &str,
) -> Result<Vec<String>, StepError> {
    let Op::Exec {
        args,
        env,
        cwd,
        user,
        cap,
        no_new_privs,
        detach,
        tty,
        process,
        flags,
        ..
    } = &step.op
    else {
        return Err(error("exec_argv on a non-exec step"));
    };
    let r = |v: &[String]| run.vars.render_all(v).map_err(|e| error(e.to_string()));
    let prefix = run.io_prefix(index, step);
    let process_file = match process {
        Some(p) => {
            let path = prefix.with_extension("process.json");
            write_json(
                &path,
                &run.vars.render_value(p).map_err(|e| error(e.to_string()))?,
            )?;
            Some(path)
        }
        None => None,
    };
    let pid_file = detach.then(|| run.scratch.join(format!("exec-{index}.pid")));
    let opts = ExecOpts {
        args: r(args)?,
        env: r(env)?,
        cwd: cwd.clone(),
        user: user.clone(),
        cap: cap.clone(),
        no_new_privs: *no_new_privs,
        detach: *detach,
        tty: *tty,
        // runc proxies a foreground tty through its own stdio; only a detached one needs the
        // console socket (and runc refuses the socket without --detach).
        console_socket: match (tty & detach, &run.console) {
            (true, Some(c)) => Some(c.socket.clone()),
            (true, None) => return Err(error("exec tty: no console socket could be set up")),
            _ => None,
        },
        process_file,
        pid_file,
        flags: r(flags)?,
    };
    Ok(run.argv_for(target).exec(&opts))
}

fn inspect_mounts(run: &mut ScenarioRun, step: &Step, prefix: &Path) -> StepResult {
    let pid = run.pid(&prefix.with_extension("state"))?;
    let raw = probe::mountinfo(pid).map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::write(prefix.with_extension("mountinfo"), &raw);
    if let Some(m) = &step.expect.mounts {
        check("mounts", m, &mountinfo::to_json(&mountinfo::parse(&raw)))?;
    }
    run.snapshot(step, &raw)
}

fn inspect_cgroup(run: &mut ScenarioRun, step: &Step, prefix: &Path) -> StepResult {
    let pid = run.pid(&prefix.with_extension("state"))?;
    // A key `a|b` names alternatives (as in requires.cgroup_files): the first that exists
    // for the container is checked.
    let names: Vec<String> = step
        .expect
        .files
        .iter()
        .flat_map(|f| f.keys())
        .flat_map(|k| k.split('|').map(|n| n.trim().to_string()))
        .collect();
    let host = &run.env.host;
    let obs = probe::cgroup_files(pid, &names, host.cgroup_mode, &host.hierarchies)
        .map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::write(prefix.with_extension("cgroup.json"), obs.to_string());
    for (key, m) in step.expect.files.iter().flatten() {
        let found = key
            .split('|')
            .map(str::trim)
            .find(|n| !obs["files"][*n].is_null());
        let Some(name) = found else {
            return Err(fail(format!(
                "cgroup file `{key}` does not exist for the container (cgroup path {})",
                obs["path"]
            )));
        };
        check(&format!("cgroup {name}"), m, &obs["files"][name])?;
    }
    run.snapshot(step, &obs.to_string())
}

fn inspect_proc(run: &mut ScenarioRun, step: &Step, prefix: &Path, file: &str) -> StepResult {
    if file.contains("..") || file.starts_with('/') {
        return Err(error(format!(
            "inspect_proc: file `{file}` must be relative to /proc/<pid>"
        )));
    }
    let pid = run.pid(&prefix.with_extension("state"))?;
    let text = probe::proc_file(pid, file).map_err(|e| fail(e.to_string()))?;
    for (k, m) in step.expect.fields.iter().flatten() {
        let fields = probe::fields(&text);
        let v = fields
            .get(k)
            .ok_or_else(|| fail(format!("/proc/<pid>/{file} has no field `{k}`")))?;
        check(&format!("{file} {k}"), m, &Value::String(v.clone()))?;
    }
    if let Some(m) = &step.expect.content {
        check(file, m, &Value::String(text.clone()))?;
    }
    run.snapshot(step, &text)
}

fn read_file(
    run: &mut ScenarioRun,
    step: &Step,
    path: &str,
    within: Option<Duration>,
) -> StepResult {
    let path = run.vars.render(path).map_err(|e| error(e.to_string()))?;
    let deadline = Instant::now() + within.unwrap_or_default();
    let text = loop {
        match check_file(step, &path) {
            Ok(text) => break text,
            Err(StepError::Fail(..)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => return Err(e),
        }
    };
    match text {
        Some(text) => run.snapshot(step, &text),
        None => Ok(()),
    }
}

/// One look at the file: `Ok(None)` when it is expected to be absent and is.
fn check_file(step: &Step, path: &str) -> Result<Option<String>, StepError> {
    let text = std::fs::read_to_string(path);
    let e = &step.expect;
    match (&text, e.exists) {
        (Ok(_), Some(false)) => return Err(fail(format!("{path} exists but should not"))),
        (Err(err), Some(true) | None) => return Err(fail(format!("cannot read {path}: {err}"))),
        (Err(_), Some(false)) => return Ok(None),
        _ => {}
    }
    let text = text.unwrap_or_default();
    if let Some(m) = &e.content {
        check("content", m, &Value::String(text.clone()))?;
    }
    if let Some(m) = &e.json {
        let v: Value = serde_json::from_str(&text)
            .map_err(|err| fail(format!("{path} is not JSON: {err}")))?;
        check("json", m, &v)?;
    }
    Ok(Some(text))
}
