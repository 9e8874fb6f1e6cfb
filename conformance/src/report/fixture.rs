//! Test fixtures: a result and a report with every field but the ones a test cares about at
//! a neutral default, so each report module's tests state only what they check.

use super::{Report, RuntimeInfo, ScenarioResult, Status, REPORT_SCHEMA};

/// A MUST-level result of `rt` for scenario `id`, with no reason, steps or timings.
pub fn result(rt: &str, id: &str, status: Status) -> ScenarioResult {
    ScenarioResult {
        runtime: rt.into(),
        id: id.into(),
        title: String::new(),
        path: String::new(),
        spec: vec![],
        level: "MUST".into(),
        tags: vec![],
        status,
        reason: None,
        duration_ms: 1,
        setup_ms: 0,
        teardown_ms: 0,
        steps: vec![],
        artifacts: None,
    }
}

/// A report of one runtime, `rt` (version "`rt` 1.0"), holding `results`.
pub fn report(rt: &str, results: Vec<ScenarioResult>) -> Report {
    Report {
        schema: REPORT_SCHEMA.into(),
        started_unix: 0,
        duration_ms: 0,
        seed: None,
        host: serde_json::Value::Null,
        runtimes: vec![RuntimeInfo {
            name: rt.into(),
            path: String::new(),
            version: format!("{rt} 1.0"),
        }],
        summary: Report::summarize(&results),
        results,
    }
}
