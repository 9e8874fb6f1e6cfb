//! events.jsonl: one JSON object per line, written as results arrive —
//! `run_start` {seed, total, runtimes, host}, `result` {result}, `run_end` {summary,
//! duration_ms}. `rebuild` turns a log back into a Report, so reports can be regenerated
//! after a run that was killed before it wrote them (results so far are all there). A later
//! result for the same (runtime, scenario) replaces the earlier one (a reference re-run).

use super::{Report, RuntimeInfo, ScenarioResult, REPORT_SCHEMA};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("events line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("no run_start event: not an oci-conform events.jsonl")]
    NoStart,
}

pub fn rebuild(text: &str) -> Result<Report, EventsError> {
    let mut start: Option<Value> = None;
    let mut results: Vec<ScenarioResult> = Vec::new();
    let mut duration_ms = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |message: String| EventsError::Line {
            line: i + 1,
            message,
        };
        let v: Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        match v.get("event").and_then(Value::as_str) {
            Some("run_start") => start = Some(v),
            Some("result") => {
                let r = serde_json::from_value(v.get("result").cloned().unwrap_or(Value::Null))
                    .map_err(|e| bad(format!("result: {e}")))?;
                // A re-run (see runner::retry) logs a later result for the same pair.
                let r: ScenarioResult = r;
                results.retain(|x| (&x.runtime, &x.id) != (&r.runtime, &r.id));
                results.push(r);
            }
            Some("run_end") => {
                duration_ms = v.get("duration_ms").and_then(Value::as_u64).unwrap_or(0)
            }
            other => return Err(bad(format!("unknown event {other:?}"))),
        }
    }
    let start = start.ok_or(EventsError::NoStart)?;
    let runtimes: Vec<RuntimeInfo> =
        serde_json::from_value(start.get("runtimes").cloned().unwrap_or(Value::Null))
            .unwrap_or_default();
    results.sort_by(|a, b| (&a.id, &a.runtime).cmp(&(&b.id, &b.runtime)));
    Ok(Report {
        schema: REPORT_SCHEMA.into(),
        started_unix: 0,
        duration_ms,
        seed: start.get("seed").and_then(Value::as_u64),
        host: start.get("host").cloned().unwrap_or(Value::Null),
        runtimes,
        summary: Report::summarize(&results),
        results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_a_report_from_a_cut_short_log() {
        let log = r#"{"event":"run_start","seed":7,"total":2,"runtimes":[{"name":"runc","path":"/usr/sbin/runc","version":"1.1.5"}],"host":{"euid":0}}
{"event":"result","result":{"runtime":"runc","id":"b.y","title":"","path":"","spec":[],"level":"MUST","tags":[],"status":"FAIL","reason":"x","duration_ms":3}}
{"event":"result","result":{"runtime":"runc","id":"a.x","title":"","path":"","spec":[],"level":"MUST","tags":[],"status":"PASS","duration_ms":2}}
"#;
        let r = rebuild(log).unwrap();
        assert_eq!(r.seed, Some(7));
        assert_eq!(
            r.results.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            vec!["a.x", "b.y"]
        );
        assert_eq!(r.summary["runc"]["FAIL"], 1);
        assert_eq!(r.exit_code(), 1);
        assert!(rebuild("{\"event\":\"result\",\"result\":{}}\n").is_err());
        assert!(matches!(rebuild(""), Err(EventsError::NoStart)));
    }
}
