//! What systemd says about a unit, through `systemctl show` (the harness observes; it never
//! needs D-Bus itself). Every call is bounded: a hung systemd fails the step, not the run.

use crate::driver::{run_command, Evidence};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(10);

/// A unit's properties as `systemctl show` prints them (`Key=Value`), always with LoadState
/// and ActiveState.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitState {
    pub properties: BTreeMap<String, String>,
}

impl UnitState {
    /// systemd knows the unit (LoadState is not `not-found`): running, failed, or kept.
    pub fn exists(&self) -> bool {
        !matches!(
            self.properties.get("LoadState").map(String::as_str),
            None | Some("not-found")
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    /// `LoadState/ActiveState/SubState`, for messages.
    pub fn summary(&self) -> String {
        let g = |k| self.get(k).unwrap_or("?");
        format!(
            "LoadState={} ActiveState={} SubState={}",
            g("LoadState"),
            g("ActiveState"),
            g("SubState")
        )
    }

    fn parse(text: &str) -> UnitState {
        let properties = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        UnitState { properties }
    }
}

fn systemctl(args: &[&str], io_prefix: &Path) -> Result<Evidence, String> {
    let mut argv = vec!["systemctl".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let ev = run_command(&argv, BOUND, io_prefix).map_err(|e| e.to_string())?;
    if ev.timed_out {
        return Err(format!(
            "`{}` did not finish within {} s",
            argv.join(" "),
            BOUND.as_secs()
        ));
    }
    Ok(ev)
}

/// `systemctl show --property=...` of `unit`; output kept at `io_prefix.{stdout,stderr}`.
pub fn show(unit: &str, props: &[&str], io_prefix: &Path) -> Result<UnitState, String> {
    let mut want = vec!["LoadState", "ActiveState", "SubState"];
    for p in props {
        if !want.contains(p) {
            want.push(p);
        }
    }
    let arg = format!("--property={}", want.join(","));
    let ev = systemctl(&["show", &arg, "--", unit], io_prefix)?;
    if ev.status != Some(0) {
        return Err(format!(
            "systemctl show {unit} failed: {}",
            ev.stderr.trim()
        ));
    }
    Ok(UnitState::parse(&ev.stdout))
}

/// Stops a unit the runtime left behind and forgets its failed state: teardown's cleanup of
/// a leak (it must not outlive the scenario that found it).
pub fn stop_and_reset(unit: &str, io_prefix: &Path) {
    let _ = systemctl(&["stop", "--", unit], &io_prefix.with_extension("stop"));
    let _ = systemctl(
        &["reset-failed", "--", unit],
        &io_prefix.with_extension("reset"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_show_output_and_knows_a_missing_unit() {
        let s = UnitState::parse(
            "LoadState=loaded\nActiveState=active\nSubState=running\nDelegate=yes\nMemoryMax=67108864\nExecStart=a=b\n",
        );
        assert!(s.exists());
        assert_eq!(s.get("Delegate"), Some("yes"));
        assert_eq!(s.get("ExecStart"), Some("a=b"), "only the first = splits");
        assert_eq!(
            s.summary(),
            "LoadState=loaded ActiveState=active SubState=running"
        );
        let gone = UnitState::parse("LoadState=not-found\nActiveState=inactive\nSubState=dead\n");
        assert!(!gone.exists());
        assert!(!UnitState::default().exists());
    }
}
