//! `systemd_unit` steps: what systemd says about the unit the systemd cgroup driver made
//! (`systemctl show`): its properties, or that it is gone. Re-asked until `within` when given,
//! since a stop job may still be finishing when the runtime's command returns.

use super::context::{error, fail, ScenarioRun, StepResult};
use super::steps::check;
use crate::scenario::Step;
use crate::systemd::{show, UnitState};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

pub fn systemd_unit(
    run: &ScenarioRun,
    step: &Step,
    unit: Option<&str>,
    within: Option<Duration>,
    prefix: &Path,
) -> StepResult {
    let unit = match unit {
        Some(u) => run.vars.render(u).map_err(|e| error(e.to_string()))?,
        None => match &run.systemd {
            Some(sd) => sd.unit.clone(),
            None => {
                return Err(error(format!(
                "no unit to ask about: cgroupsPath `{}` is not in systemd's slice:prefix:name form",
                run.cgroup_path
            )))
            }
        },
    };
    let props: Vec<&str> = step
        .expect
        .properties
        .iter()
        .flat_map(|p| p.keys().map(String::as_str))
        .collect();
    let deadline = Instant::now() + within.unwrap_or_default();
    loop {
        let state = show(&unit, &props, prefix).map_err(error)?;
        match judge(step, &unit, &state) {
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            other => return other,
        }
    }
}

/// `exists` (default true) first, then each property's matcher.
fn judge(step: &Step, unit: &str, state: &UnitState) -> StepResult {
    let want = step.expect.exists.unwrap_or(true);
    match (want, state.exists()) {
        (true, false) => {
            return Err(fail(format!(
                "systemd has no unit {unit} ({})",
                state.summary()
            )))
        }
        (false, true) => {
            return Err(fail(format!(
                "unit {unit} should be gone but systemd still has it ({})",
                state.summary()
            )))
        }
        _ => {}
    }
    for (k, m) in step.expect.properties.iter().flatten() {
        let v = state
            .get(k)
            .ok_or_else(|| fail(format!("systemctl show {unit} printed no property {k}")))?;
        check(&format!("{unit} {k}"), m, &Value::String(v.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> Step {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn state(text: &str) -> UnitState {
        UnitState {
            properties: text
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    #[test]
    fn properties_and_absence_are_judged() {
        let live = state("LoadState=loaded\nActiveState=active\nSubState=running\nDelegate=yes\nMemoryMax=67108864");
        let gone = state("LoadState=not-found\nActiveState=inactive\nSubState=dead");
        let props = step("{op: systemd_unit, expect: {properties: {Delegate: 'yes', MemoryMax: {equals: '67108864'}}}}");
        assert!(judge(&props, "u.scope", &live).is_ok());
        let why = format!("{:?}", judge(&props, "u.scope", &gone).unwrap_err());
        assert!(why.contains("systemd has no unit u.scope"), "{why}");
        let wrong = step("{op: systemd_unit, expect: {properties: {MemoryMax: '1'}}}");
        let why = format!("{:?}", judge(&wrong, "u.scope", &live).unwrap_err());
        assert!(why.contains("u.scope MemoryMax"), "{why}");
        let absent = step("{op: systemd_unit, expect: {exists: false}}");
        assert!(judge(&absent, "u.scope", &gone).is_ok());
        let why = format!("{:?}", judge(&absent, "u.scope", &live).unwrap_err());
        assert!(why.contains("should be gone"), "{why}");
        let missing = step("{op: systemd_unit, expect: {properties: {NoSuch: x}}}");
        assert!(format!("{:?}", judge(&missing, "u", &live).unwrap_err())
            .contains("no property NoSuch"));
    }
}
