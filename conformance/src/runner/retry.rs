//! One re-run of a reference runtime's non-PASS results. A reference runtime (one that is not
//! judged) informs: its flakes (runc's cgroup cleanup race, say) must not read as a finding.
//! The re-run result replaces the first one and its reason keeps both, so the report shows
//! the flake instead of hiding it. Judged runtimes are never retried: a flake of theirs is a
//! defect to fix.

use crate::report::judge::{Judge, RETRIED};
use crate::report::{ScenarioResult, Status};

/// Worth a second look: a FAIL, ERROR or XPASS of a runtime that is not judged.
pub fn wanted(r: &ScenarioResult, judge: &Judge) -> bool {
    !judge.judges(&r.runtime) && matches!(r.status, Status::Fail | Status::Error | Status::Xpass)
}

/// The second result, with a reason that records the first.
pub fn annotate(first: &ScenarioResult, mut second: ScenarioResult) -> ScenarioResult {
    let was = format!(
        "{RETRIED} first {} ({})",
        first.status.as_str(),
        first.reason.as_deref().unwrap_or("no reason")
    );
    second.reason = Some(match second.reason.take() {
        Some(now) => format!("{was}; then {}: {now}", second.status.as_str()),
        None => format!("{was}; then {}", second.status.as_str()),
    });
    second
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tap::tests::sample;

    #[test]
    fn only_bad_results_of_reference_runtimes_are_retried() {
        let r = sample();
        let ferrun_only = Judge::new(&["ferrun".into()]);
        let retried: Vec<&str> = r
            .results
            .iter()
            .filter(|x| wanted(x, &ferrun_only))
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(retried, vec!["a.fail"]);
        assert!(!r.results.iter().any(|x| wanted(x, &Judge::default())));
    }

    #[test]
    fn the_reason_keeps_both_attempts() {
        let r = sample();
        let first = r.results.iter().find(|x| x.id == "a.fail").unwrap();
        let mut second = first.clone();
        second.status = Status::Pass;
        second.reason = None;
        let a = annotate(first, second);
        assert_eq!(a.status, Status::Pass);
        assert_eq!(
            a.reason.as_deref(),
            Some("retried once: first FAIL (step 0 create: exit: expected 0 but got 1); then PASS")
        );
    }
}
