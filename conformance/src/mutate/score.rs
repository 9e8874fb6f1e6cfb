//! What counts as a kill, and the mutation score.

use crate::report::{ScenarioResult, Status};
use serde::Serialize;
use std::collections::BTreeMap;

/// The reference's status per scenario id.
pub fn baseline(results: &[ScenarioResult], runtime: &str) -> BTreeMap<String, Status> {
    results
        .iter()
        .filter(|r| r.runtime == runtime)
        .map(|r| (r.id.clone(), r.status))
        .collect()
}

/// Scenarios that kill the mutant: PASS on the reference, FAIL or ERROR on the mutant. A
/// scenario the reference does not pass cannot tell the mutant apart, whatever it shows.
pub fn kills(reference: &BTreeMap<String, Status>, mutant: &[ScenarioResult]) -> Vec<String> {
    mutant
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error))
        .filter(|r| reference.get(&r.id) == Some(&Status::Pass))
        .map(|r| r.id.clone())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Score {
    pub killed: usize,
    pub total: usize,
}

impl Score {
    pub fn of<'a>(killed: impl IntoIterator<Item = &'a bool>) -> Score {
        let mut s = Score {
            killed: 0,
            total: 0,
        };
        for k in killed {
            s.total += 1;
            s.killed += usize::from(*k);
        }
        s
    }

    /// Whole percent, rounded down (a score of 99.9% is not 100%).
    pub fn percent(&self) -> usize {
        (self.killed * 100).checked_div(self.total).unwrap_or(0)
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} killed ({}%)",
            self.killed,
            self.total,
            self.percent()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, status: Status) -> ScenarioResult {
        serde_json::from_value(serde_json::json!({
            "runtime": "runc", "id": id, "title": "", "path": "", "spec": [], "level": "MUST",
            "tags": [], "status": status.as_str(), "duration_ms": 0
        }))
        .unwrap()
    }

    #[test]
    fn kills_need_a_reference_pass() {
        let reference = baseline(
            &[
                r("a", Status::Pass),
                r("b", Status::Xfail),
                r("c", Status::Pass),
                r("d", Status::Pass),
                r("e", Status::Skip),
            ],
            "runc",
        );
        let mutant = [
            r("a", Status::Fail),
            r("b", Status::Fail),
            r("c", Status::Pass),
            r("d", Status::Error),
            r("e", Status::Fail),
            r("z", Status::Fail),
        ];
        assert_eq!(kills(&reference, &mutant), ["a", "d"]);
    }

    #[test]
    fn score_counts_and_rounds_down() {
        let s = Score::of(&[true, true, false]);
        assert_eq!((s.killed, s.total, s.percent()), (2, 3, 66));
        assert_eq!(Score::of(&[]).percent(), 0);
        assert_eq!(Score::of(&[true]).to_string(), "1/1 killed (100%)");
    }
}
