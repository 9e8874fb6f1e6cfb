//! The runtime matrix: scenarios as rows, runtimes as columns (from one or more report.json
//! files), plus pass counts per spec level.

use super::{Report, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub id: String,
    pub level: String,
    pub statuses: BTreeMap<String, Status>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Count {
    pub pass: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub runtimes: Vec<String>,
    /// level -> runtime -> counts (PASS and XFAIL-free passes over all results of that level).
    pub levels: BTreeMap<String, BTreeMap<String, Count>>,
    pub rows: Vec<Row>,
}

pub fn build(reports: &[Report], only_diverging: bool) -> Matrix {
    let mut runtimes: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for rep in reports {
        for rt in &rep.runtimes {
            if !runtimes.contains(&rt.name) {
                runtimes.push(rt.name.clone());
            }
        }
        for r in &rep.results {
            let row = rows.entry(r.id.clone()).or_insert_with(|| Row {
                id: r.id.clone(),
                level: r.level.clone(),
                statuses: BTreeMap::new(),
            });
            row.statuses.insert(r.runtime.clone(), r.status);
        }
    }
    let mut levels: BTreeMap<String, BTreeMap<String, Count>> = BTreeMap::new();
    for row in rows.values() {
        for (rt, st) in &row.statuses {
            let c = levels
                .entry(row.level.clone())
                .or_default()
                .entry(rt.clone())
                .or_default();
            c.total += 1;
            if *st == Status::Pass {
                c.pass += 1;
            }
        }
    }
    let rows = rows
        .into_values()
        .filter(|row| {
            !only_diverging || {
                let first = row.statuses.values().next();
                row.statuses.len() < runtimes.len()
                    || row.statuses.values().any(|s| Some(s) != first)
            }
        })
        .collect();
    Matrix {
        runtimes,
        levels,
        rows,
    }
}

pub fn markdown(m: &Matrix) -> String {
    let mut out = String::from("## Pass counts by spec level\n\n| level |");
    for rt in &m.runtimes {
        let _ = write!(out, " {rt} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.runtimes.len()));
    out.push('\n');
    for level in ["MUST", "SHOULD", "MAY"] {
        let Some(per) = m.levels.get(level) else {
            continue;
        };
        let _ = write!(out, "| {level} |");
        for rt in &m.runtimes {
            let c = per.get(rt).cloned().unwrap_or_default();
            let _ = write!(out, " {}/{} |", c.pass, c.total);
        }
        out.push('\n');
    }
    out.push_str("\n## Scenarios\n\n| scenario | level |");
    for rt in &m.runtimes {
        let _ = write!(out, " {rt} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(m.runtimes.len()));
    out.push('\n');
    for row in &m.rows {
        let _ = write!(out, "| `{}` | {} |", row.id, row.level);
        for rt in &m.runtimes {
            let cell = row.statuses.get(rt).map(|s| s.as_str()).unwrap_or("—");
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{RuntimeInfo, ScenarioResult};

    fn res(rt: &str, id: &str, st: Status) -> ScenarioResult {
        ScenarioResult {
            runtime: rt.into(),
            id: id.into(),
            title: String::new(),
            path: String::new(),
            spec: vec![],
            level: "MUST".into(),
            tags: vec![],
            status: st,
            reason: None,
            duration_ms: 1,
            setup_ms: 0,
            teardown_ms: 0,
            steps: vec![],
            artifacts: None,
        }
    }

    fn report(rt: &str, results: Vec<ScenarioResult>) -> Report {
        Report {
            schema: crate::report::REPORT_SCHEMA.into(),
            started_unix: 0,
            duration_ms: 0,
            seed: None,
            host: serde_json::Value::Null,
            runtimes: vec![RuntimeInfo {
                name: rt.into(),
                path: String::new(),
                version: String::new(),
            }],
            summary: Report::summarize(&results),
            results,
        }
    }

    #[test]
    fn columns_counts_and_divergence() {
        let a = report(
            "runc",
            vec![
                res("runc", "a.x", Status::Pass),
                res("runc", "a.y", Status::Pass),
            ],
        );
        let b = report(
            "crun",
            vec![
                res("crun", "a.x", Status::Pass),
                res("crun", "a.y", Status::Fail),
            ],
        );
        let m = build(&[a.clone(), b.clone()], false);
        assert_eq!(m.runtimes, vec!["runc", "crun"]);
        assert_eq!(m.levels["MUST"]["runc"], Count { pass: 2, total: 2 });
        assert_eq!(m.levels["MUST"]["crun"], Count { pass: 1, total: 2 });
        assert_eq!(m.rows.len(), 2);
        let d = build(&[a, b], true);
        assert_eq!(
            d.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["a.y"]
        );
        let md = markdown(&d);
        assert!(md.contains("| MUST | 2/2 | 1/2 |"), "{md}");
        assert!(md.contains("| `a.y` | MUST | PASS | FAIL |"), "{md}");
    }
}
