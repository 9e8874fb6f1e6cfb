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
                if let Some(a) = &res.artifacts {
                    let _ = writeln!(out, "  artifacts: {}", serde_json::Value::String(a.clone()));
                }
                let _ = writeln!(out, "  ...");
            }
        }
    }
    out
}
