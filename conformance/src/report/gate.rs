//! The CI regression gate: a (runtime, scenario) that passed in the baseline and now FAILs,
//! ERRORs, is XFAIL or is missing is a regression. SKIP/UNSUPPORTED now are reported but do
//! not fail the gate (they depend on the host).

use super::{Report, Status};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct GateResult {
    pub regressions: Vec<String>,
    pub warnings: Vec<String>,
    pub fixed: Vec<String>,
}

pub fn compare(baseline: &Report, current: &Report) -> GateResult {
    let now: BTreeMap<(&str, &str), Status> = current
        .results
        .iter()
        .map(|r| ((r.runtime.as_str(), r.id.as_str()), r.status))
        .collect();
    let before: BTreeMap<(&str, &str), Status> = baseline
        .results
        .iter()
        .map(|r| ((r.runtime.as_str(), r.id.as_str()), r.status))
        .collect();
    let mut g = GateResult {
        regressions: vec![],
        warnings: vec![],
        fixed: vec![],
    };
    // A runtime absent from the current report was not run: say so once instead of calling
    // every one of its scenarios a regression.
    let present: std::collections::BTreeSet<&str> =
        current.results.iter().map(|r| r.runtime.as_str()).collect();
    let mut absent: Vec<&str> = before
        .keys()
        .map(|(rt, _)| *rt)
        .filter(|rt| !present.contains(rt))
        .collect();
    absent.dedup();
    for rt in &absent {
        g.warnings
            .push(format!("{rt}: not in this report (not compared)"));
    }
    for ((rt, id), old) in &before {
        if absent.contains(rt) {
            continue;
        }
        let new = now.get(&(*rt, *id)).copied();
        let label = format!("{rt}: {id}");
        match (old, new) {
            (Status::Pass, None) => g.regressions.push(format!("{label}: PASS -> missing")),
            (Status::Pass, Some(Status::Fail | Status::Error | Status::Xfail | Status::Xpass)) => {
                g.regressions.push(format!(
                    "{label}: PASS -> {}",
                    new.map(|s| s.as_str()).unwrap_or("")
                ))
            }
            (Status::Pass, Some(s @ (Status::Skip | Status::Unsupported))) => {
                g.warnings.push(format!("{label}: PASS -> {}", s.as_str()))
            }
            (o, Some(Status::Pass)) if *o != Status::Pass => {
                g.fixed.push(format!("{label}: {} -> PASS", o.as_str()))
            }
            _ => {}
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ScenarioResult;

    fn rep(items: &[(&str, Status)]) -> Report {
        let results: Vec<ScenarioResult> = items
            .iter()
            .map(|(id, st)| ScenarioResult {
                runtime: "runc".into(),
                id: (*id).into(),
                title: String::new(),
                path: String::new(),
                spec: vec![],
                level: "MUST".into(),
                tags: vec![],
                status: *st,
                reason: None,
                duration_ms: 0,
                setup_ms: 0,
                teardown_ms: 0,
                steps: vec![],
                artifacts: None,
            })
            .collect();
        Report {
            schema: crate::report::REPORT_SCHEMA.into(),
            started_unix: 0,
            duration_ms: 0,
            seed: None,
            host: serde_json::Value::Null,
            runtimes: vec![],
            summary: Report::summarize(&results),
            results,
        }
    }

    #[test]
    fn finds_regressions_only_for_previous_passes() {
        let base = rep(&[
            ("a.a", Status::Pass),
            ("a.b", Status::Pass),
            ("a.c", Status::Fail),
            ("a.d", Status::Pass),
            ("a.e", Status::Pass),
        ]);
        let now = rep(&[
            ("a.a", Status::Pass),
            ("a.b", Status::Fail),
            ("a.c", Status::Pass),
            ("a.d", Status::Skip),
        ]);
        let g = compare(&base, &now);
        assert_eq!(
            g.regressions,
            vec!["runc: a.b: PASS -> FAIL", "runc: a.e: PASS -> missing"]
        );
        assert_eq!(g.warnings, vec!["runc: a.d: PASS -> SKIP"]);
        assert_eq!(g.fixed, vec!["runc: a.c: FAIL -> PASS"]);
    }

    #[test]
    fn a_runtime_missing_from_the_report_is_a_warning_not_regressions() {
        let base = rep(&[("a.a", Status::Pass)]);
        let mut now = rep(&[("a.a", Status::Pass)]);
        for r in &mut now.results {
            r.runtime = "crun".into();
        }
        let g = compare(&base, &now);
        assert!(g.regressions.is_empty());
        assert_eq!(g.warnings, vec!["runc: not in this report (not compared)"]);
    }
}
