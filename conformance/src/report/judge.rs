//! Which runtimes a run judges, the exit code that follows from their results, and the
//! closing line per runtime. A judged runtime's FAIL/XPASS gives exit 1 and its ERROR exit 2;
//! the other runtimes (references such as runc) are recorded and reported but never change
//! the exit code: their flakes must not turn CI red for a runtime that did not regress.

use super::{Report, Status};

/// Exit codes shared by `run`, `report` and `gate` (documented in docs/conformance.md).
pub const EXIT_OK: i32 = 0;
/// A judged runtime FAILed or XPASSed (`gate`: a judged runtime regressed).
pub const EXIT_FAIL: i32 = 1;
/// A judged runtime's scenario ERRORed: the harness could not tell (`gate`: nothing judged
/// was compared).
pub const EXIT_ERROR: i32 = 2;

/// The judged runtimes; empty means every runtime is judged (the default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judge {
    names: Vec<String>,
}

impl Judge {
    /// `--judge a,b --judge c` -> [a, b, c]; no names: judge all.
    pub fn new(specs: &[String]) -> Judge {
        let names = specs
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        Judge { names }
    }

    pub fn judges(&self, runtime: &str) -> bool {
        self.names.is_empty() || self.names.iter().any(|n| n == runtime)
    }

    /// The names not among `runtimes` (a typo would otherwise judge nothing).
    pub fn unknown<'a>(&'a self, runtimes: &[&str]) -> Vec<&'a str> {
        self.names
            .iter()
            .filter(|n| !runtimes.contains(&n.as_str()))
            .map(String::as_str)
            .collect()
    }
}

impl Report {
    /// 0 when every judged result is fine, 1 on a judged FAIL/XPASS, 2 on a judged ERROR
    /// (ERROR wins: the run itself is unreliable).
    pub fn exit_code_for(&self, judge: &Judge) -> i32 {
        let judged = || self.results.iter().filter(|r| judge.judges(&r.runtime));
        if judged().any(|r| r.status == Status::Error) {
            EXIT_ERROR
        } else if judged().any(|r| r.status.is_failure()) {
            EXIT_FAIL
        } else {
            EXIT_OK
        }
    }

    /// One line per runtime, e.g. `ferrun: 239 passed, 0 failed, 0 errors, 12 skipped,
    /// 3 unsupported, 2 xfail, 0 xpass (judged)`.
    pub fn closing_lines(&self, judge: &Judge) -> Vec<String> {
        let mut names: Vec<&str> = self.runtimes.iter().map(|r| r.name.as_str()).collect();
        for r in &self.results {
            if !names.contains(&r.runtime.as_str()) {
                names.push(&r.runtime);
            }
        }
        names
            .iter()
            .map(|rt| {
                let mine = || self.results.iter().filter(|r| r.runtime == *rt);
                let n = |s: Status| mine().filter(|r| r.status == s).count();
                let retried = mine().filter(|r| is_retried(r)).count();
                let role = if judge.judges(rt) {
                    "judged".to_string()
                } else if retried > 0 {
                    format!("reference, not judged; {retried} retried")
                } else {
                    "reference, not judged".to_string()
                };
                format!(
                    "{rt}: {} passed, {} failed, {} errors, {} skipped, {} unsupported, {} xfail, {} xpass ({role})",
                    n(Status::Pass),
                    n(Status::Fail),
                    n(Status::Error),
                    n(Status::Skip),
                    n(Status::Unsupported),
                    n(Status::Xfail),
                    n(Status::Xpass),
                )
            })
            .collect()
    }
}

/// The reason prefix a re-run result carries (see `runner::retry`).
pub const RETRIED: &str = "retried once:";

fn is_retried(r: &super::ScenarioResult) -> bool {
    r.reason.as_deref().is_some_and(|s| s.starts_with(RETRIED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tap::tests::sample;

    #[test]
    fn only_judged_runtimes_set_the_exit_code() {
        let r = sample();
        assert_ne!(r.exit_code_for(&Judge::default()), EXIT_OK);
        assert_eq!(r.exit_code_for(&Judge::new(&["ferrun".into()])), EXIT_OK);
        assert_eq!(
            r.exit_code_for(&Judge::new(&["ferrun,runc".into()])),
            r.exit_code()
        );
    }

    #[test]
    fn closing_lines_name_the_role() {
        let r = sample();
        let lines = r.closing_lines(&Judge::new(&["nobody".into()]));
        assert!(lines.iter().all(|l| l.ends_with("(reference, not judged)")));
        let lines = r.closing_lines(&Judge::default());
        assert!(lines.iter().all(|l| l.ends_with("(judged)")), "{lines:?}");
        assert!(lines[0].contains(" passed, "), "{lines:?}");
    }

    #[test]
    fn judge_lists_and_unknown_names() {
        let j = Judge::new(&["ferrun, crun".into(), "x".into()]);
        assert!(j.judges("crun") && !j.judges("runc"));
        assert_eq!(j.unknown(&["ferrun", "crun"]), vec!["x"]);
        assert!(Judge::default().judges("anything"));
    }
}
