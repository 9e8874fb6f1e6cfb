//! Steps that wait on a container: `wait_for` a status, `container_exit` of an init (the
//! scenario's own, or another container's after a restore under a new id).

use super::context::{error, fail, ScenarioRun, StepError, StepResult};
use super::steps::{check, truncate};
use crate::driver::signal;
use crate::driver::subreaper::{wait_exit, Exit, ReapError};
use crate::scenario::step::ContainerStatus;
use crate::scenario::Step;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

pub fn wait_for(
    run: &mut ScenarioRun,
    prefix: &Path,
    target: &str,
    want: ContainerStatus,
    within: Duration,
) -> StepResult {
    let start = Instant::now();
    loop {
        let argv = run.argv_for(target).simple("state");
        let ev = run.command(argv, Duration::from_secs(10), prefix)?;
        let current = if ev.status == Some(0) {
            serde_json::from_str::<Value>(&ev.stdout)
                .ok()
                .and_then(|v| v.get("status").and_then(Value::as_str).map(String::from))
                .unwrap_or_else(|| format!("unparseable state output {:?}", truncate(&ev.stdout)))
        } else {
            "gone".to_string()
        };
        if current == want.as_str() {
            return Ok(());
        }
        if start.elapsed() >= within {
            return Err(StepError::Fail(
                format!(
                    "status did not become `{}` within {} ms (last: {current})",
                    want.as_str(),
                    within.as_millis()
                ),
                Some(Box::new(ev)),
            ));
        }
        // A dying pid-namespace init waits for its namespace's zombies that are ours to reap.
        crate::driver::subreaper::reap_orphans();
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn container_exit(
    run: &mut ScenarioRun,
    step: &Step,
    target: &str,
    within: Duration,
) -> StepResult {
    let exit = if target != run.init_id {
        other_init_exit(run, target, within)?
    } else if let Some(pid) = run.init_pid.filter(|_| !run.init_reaped) {
        match wait_exit(pid, within) {
            Ok(x) => {
                run.init_reaped = true;
                x
            }
            Err(e @ ReapError::Timeout { .. }) => return Err(fail(e.to_string())),
            Err(e) => return Err(error(e.to_string())),
        }
    } else if let Some(ev) = &run.foreground_exit {
        // `run` in the foreground: the runtime is the init's parent and exits with its status
        // (128+signal for a signal, as runc does).
        match ev.status {
            Some(c) if c > 128 => Exit::Signal(c - 128),
            Some(c) => Exit::Code(c),
            None => return Err(error("the foreground run was itself killed")),
        }
    } else {
        return Err(error(
            "container_exit: no init pid is known (no successful create or run before it)",
        ));
    };
    check_exit(step, exit)
}

/// The exit of another container's init (the original after a restore under a new id).
fn other_init_exit(
    run: &mut ScenarioRun,
    target: &str,
    within: Duration,
) -> Result<Exit, StepError> {
    let Some(i) = run.other_inits.iter().position(|(id, _)| id == target) else {
        return Err(error(format!(
            "container_exit: no init pid is known for container `{target}`"
        )));
    };
    let pid = run.other_inits[i].1;
    match wait_exit(pid, within) {
        Ok(x) => {
            run.other_inits.remove(i);
            crate::driver::subreaper::release(pid);
            Ok(x)
        }
        Err(e @ ReapError::Timeout { .. }) => Err(fail(e.to_string())),
        Err(e) => Err(error(e.to_string())),
    }
}

fn check_exit(step: &Step, exit: Exit) -> StepResult {
    let e = &step.expect;
    match exit {
        Exit::Code(c) => {
            if let Some(sig) = &e.signal {
                return Err(fail(format!(
                    "init exited with code {c}, expected signal {sig}"
                )));
            }
            if let Some(m) = &e.code {
                check("exit code", m, &Value::from(c))?;
            }
        }
        Exit::Signal(s) => {
            if let Some(want) = &e.signal {
                if signal::parse(want) != Some(s) {
                    return Err(fail(format!(
                        "init was killed by {}, expected {want}",
                        signal::name(s)
                    )));
                }
            } else if e.code.is_some() {
                return Err(fail(format!(
                    "init was killed by {}, expected an exit code",
                    signal::name(s)
                )));
            }
        }
    }
    Ok(())
}
