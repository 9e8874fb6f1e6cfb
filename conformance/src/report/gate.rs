//! The CI regression gate: a (runtime, scenario) that passed in the baseline and now FAILs,
//! ERRORs, is XFAIL or is missing is a regression. SKIP/UNSUPPORTED now are reported but do
//! not fail the gate (they depend on the host).
//!
//! Only judged runtimes gate; a reference runtime's regressions are information. A gate that
//! compared no judged result proves nothing and fails (`compared == 0`), as does a judged
//! runtime missing from the current report.

use super::judge::Judge;
use super::{Report, Status};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GateResult {
    /// Regressions of judged runtimes: these fail the gate.
    pub regressions: Vec<String>,
    /// Regressions of reference runtimes: reported, never failing.
    pub informational: Vec<String>,
    pub warnings: Vec<String>,
    pub fixed: Vec<String>,
    /// Baseline PASSes of judged runtimes that were compared with the current report.
    pub compared: usize,
    /// Judged runtimes of the baseline that the current report does not hold.
    pub judged_absent: Vec<String>,
}

type Statuses<'a> = BTreeMap<(&'a str, &'a str), Status>;

fn statuses(r: &Report) -> Statuses<'_> {
    r.results
        .iter()
        .map(|r| ((r.runtime.as_str(), r.id.as_str()), r.status))
        .collect()
}

/// The regression (if any) of one baseline result; warnings and fixes go into `g`.
fn judge_one(g: &mut GateResult, label: &str, old: Status, new: Option<Status>) -> Option<String> {
    match (old, new) {
        (Status::Pass, None) => Some(format!("{label}: PASS -> missing")),
        (
            Status::Pass,
            Some(s @ (Status::Fail | Status::Error | Status::Xfail | Status::Xpass)),
        ) => Some(format!("{label}: PASS -> {}", s.as_str())),
        (Status::Pass, Some(s @ (Status::Skip | Status::Unsupported))) => {
            g.warnings.push(format!("{label}: PASS -> {}", s.as_str()));
            None
        }
        (o, Some(Status::Pass)) if o != Status::Pass => {
            g.fixed.push(format!("{label}: {} -> PASS", o.as_str()));
            None
        }
        _ => None,
    }
}

pub fn compare(baseline: &Report, current: &Report, judge: &Judge) -> GateResult {
    let now = statuses(current);
    let before = statuses(baseline);
    let mut g = GateResult::default();
    // A runtime absent from the current report was not run: say so once instead of calling
    // every one of its scenarios a regression (and fail when it is a judged one).
    let present: BTreeSet<&str> = current.results.iter().map(|r| r.runtime.as_str()).collect();
    let absent: BTreeSet<&str> = before
        .keys()
        .map(|(rt, _)| *rt)
        .filter(|rt| !present.contains(rt))
        .collect();
    for rt in &absent {
        if judge.judges(rt) {
            g.judged_absent.push(rt.to_string());
        } else {
            g.warnings
                .push(format!("{rt}: not in this report (not compared)"));
        }
    }
    for ((rt, id), old) in &before {
        if absent.contains(rt) {
            continue;
        }
        let judged = judge.judges(rt);
        // Only a baseline PASS can regress: that is what a comparison proves something about.
        g.compared += usize::from(judged && *old == Status::Pass);
        let label = format!("{rt}: {id}");
        if let Some(reg) = judge_one(&mut g, &label, *old, now.get(&(*rt, *id)).copied()) {
            if judged {
                g.regressions.push(reg);
            } else {
                g.informational.push(reg);
            }
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
        let g = compare(&base, &now, &Judge::default());
        assert_eq!(
            g.regressions,
            vec!["runc: a.b: PASS -> FAIL", "runc: a.e: PASS -> missing"]
        );
        assert_eq!(g.warnings, vec!["runc: a.d: PASS -> SKIP"]);
        assert_eq!(g.fixed, vec!["runc: a.c: FAIL -> PASS"]);
    }

    #[test]
    fn a_judged_runtime_missing_from_the_report_compares_nothing() {
        let base = rep(&[("a.a", Status::Pass)]);
        let mut now = rep(&[("a.a", Status::Pass)]);
        for r in &mut now.results {
            r.runtime = "crun".into();
        }
        let g = compare(&base, &now, &Judge::default());
        assert!(g.regressions.is_empty());
        assert_eq!(g.judged_absent, vec!["runc"]);
        assert_eq!(g.compared, 0, "nothing was compared: the gate must fail");
        let g = compare(&base, &now, &Judge::new(&["crun".into()]));
        assert_eq!(g.warnings, vec!["runc: not in this report (not compared)"]);
        assert!(g.judged_absent.is_empty());
    }

    #[test]
    fn reference_runtimes_inform_and_do_not_count() {
        let base = rep(&[("a.a", Status::Pass), ("a.b", Status::Pass)]);
        let now = rep(&[("a.a", Status::Error), ("a.b", Status::Pass)]);
        let g = compare(&base, &now, &Judge::new(&["ferrun".into()]));
        assert!(g.regressions.is_empty());
        assert_eq!(g.informational, vec!["runc: a.a: PASS -> ERROR"]);
        assert_eq!(g.compared, 0);
        let g = compare(&base, &now, &Judge::new(&["runc".into()]));
        assert_eq!(g.regressions, vec!["runc: a.a: PASS -> ERROR"]);
        assert_eq!(g.compared, 2);
    }
}
