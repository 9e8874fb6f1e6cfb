//! TAP 14: one test point per (runtime, scenario). SKIP/UNSUPPORTED are `# SKIP`, XFAIL is
//! `not ok ... # TODO` (an expected failure), FAIL/ERROR/XPASS are `not ok` with a YAML block.

use super::{one_line, Report, Status};
use std::fmt::Write;

pub fn render(r: &Report) -> String {
    let mut out = String::from("TAP version 14\n");
    let _ = writeln!(out, "1..{}", r.results.len());
    for (i, res) in r.results.iter().enumerate() {
        let n = i + 1;
        let name = format!("{}: {} - {}", res.runtime, res.id, one_line(&res.title));
        let reason = res.reason.as_deref().map(one_line).unwrap_or_default();
        match res.status {
            Status::Pass => {
                let _ = writeln!(out, "ok {n} - {name}");
            }
            Status::Skip => {
                let _ = writeln!(out, "ok {n} - {name} # SKIP {reason}");
            }
            Status::Unsupported => {
                let _ = writeln!(out, "ok {n} - {name} # SKIP unsupported: {reason}");
            }
            Status::Xfail => {
                let _ = writeln!(out, "not ok {n} - {name} # TODO {reason}");
            }
            Status::Fail | Status::Error | Status::Xpass => {
                let _ = writeln!(out, "not ok {n} - {name}");
                let _ = writeln!(out, "  ---");
                let _ = writeln!(out, "  status: {}", res.status.as_str());
                let _ = writeln!(
                    out,
                    "  message: {}",
                    serde_json::Value::String(reason.clone())
                );
                if let Some(e) = res.failed_evidence() {
                    let _ = writeln!(out, "  argv: {}", serde_json::Value::from(e.argv.clone()));
                    let _ = writeln!(
                        out,
                        "  exit: {}",
                        e.status
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "null".into())
                    );
                    let _ = writeln!(
                        out,
                        "  stderr: {}",
                        serde_json::Value::String(e.stderr.clone())
                    );
                }
                if let Some(a) = &res.artifacts {
                    let _ = writeln!(out, "  artifacts: {}", serde_json::Value::String(a.clone()));
                }
                let _ = writeln!(out, "  ...");
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::{ScenarioResult, StepRecord};

    pub fn sample() -> Report {
        let mk = |id: &str, st: Status, reason: Option<&str>| ScenarioResult {
            runtime: "runc".into(),
            id: id.into(),
            title: "t <x>".into(),
            path: String::new(),
            spec: vec![],
            level: "MUST".into(),
            tags: vec![],
            status: st,
            reason: reason.map(String::from),
            duration_ms: 5,
            setup_ms: 0,
            teardown_ms: 0,
            steps: vec![],
            artifacts: None,
        };
        let mut failed = mk(
            "a.fail",
            Status::Fail,
            Some("step 0 create: exit: expected 0 but got 1"),
        );
        failed.steps.push(StepRecord {
            index: 0,
            op: "create".into(),
            name: None,
            outcome: "fail".into(),
            message: None,
            spec: None,
            evidence: Some(crate::driver::Evidence {
                argv: vec!["runc".into(), "create".into()],
                status: Some(1),
                stderr: "boom & <bang>".into(),
                ..Default::default()
            }),
            duration_ms: 1,
        });
        let results = vec![
            mk("a.pass", Status::Pass, None),
            mk("a.skip", Status::Skip, Some("needs criu")),
            mk("a.xfail", Status::Xfail, Some("known")),
            failed,
        ];
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
    fn tap14_directives_and_yaml_block() {
        let t = render(&sample());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "TAP version 14");
        assert_eq!(lines[1], "1..4");
        assert_eq!(lines[2], "ok 1 - runc: a.pass - t <x>");
        assert_eq!(lines[3], "ok 2 - runc: a.skip - t <x> # SKIP needs criu");
        assert_eq!(lines[4], "not ok 3 - runc: a.xfail - t <x> # TODO known");
        assert_eq!(lines[5], "not ok 4 - runc: a.fail - t <x>");
        assert_eq!(lines[6], "  ---");
        assert!(
            t.contains("  argv: [\"runc\",\"create\"]\n  exit: 1\n  stderr: \"boom & <bang>\"\n"),
            "{t}"
        );
        assert!(t.ends_with("  ...\n"));
    }
}
