//! The runtime matrix: scenarios as rows, runtimes as columns (from one or more report.json
//! files), plus pass counts per spec level and result counts per status. `html` renders the
//! same matrix as a page.
//!
//! A report may carry a label (`oci-conform matrix cgroup-v2=a/report.json ...`): its columns
//! are then `label/runtime`, so the same runtime measured on several hosts or VM profiles sits
//! side by side. Two unlabelled reports that both hold `runc` would otherwise fight over one
//! column, and that is refused rather than silently keeping the last one.

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

impl Row {
    /// The runtimes disagree: a status differs, or a column of the `columns` has no result.
    pub fn diverges(&self, columns: usize) -> bool {
        let first = self.statuses.values().next();
        self.statuses.len() < columns || self.statuses.values().any(|s| Some(s) != first)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Count {
    pub pass: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// Column names: the runtime, or `label/runtime` for a labelled report.
    pub runtimes: Vec<String>,
    /// level -> column -> counts (PASS and XFAIL-free passes over all results of that level).
    pub levels: BTreeMap<String, BTreeMap<String, Count>>,
    /// column -> status -> count, over every result (filtering does not change it).
    pub statuses: BTreeMap<String, BTreeMap<String, usize>>,
    pub rows: Vec<Row>,
}

/// One report and the label its columns get (None: the bare runtime names).
#[derive(Debug, Clone)]
pub struct Source {
    pub label: Option<String>,
    /// Where the report came from, for error messages.
    pub origin: String,
    pub report: Report,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MatrixError {
    #[error("{origin}: column `{column}` is already filled by an earlier report; label the reports (LABEL=report.json) to keep them apart")]
    DuplicateColumn { column: String, origin: String },
    #[error("`{arg}`: a label may only hold letters, digits, `.`, `_` and `-`")]
    BadLabel { arg: String },
}

/// Splits `LABEL=PATH`; a plain path (or one whose `=` prefix is not a label) has no label.
pub fn parse_source_arg(arg: &str) -> Result<(Option<String>, String), MatrixError> {
    let Some((label, path)) = arg.split_once('=') else {
        return Ok((None, arg.to_string()));
    };
    if label.contains('/') || std::path::Path::new(arg).exists() {
        return Ok((None, arg.to_string()));
    }
    let ok = !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok || path.is_empty() {
        return Err(MatrixError::BadLabel { arg: arg.into() });
    }
    Ok((Some(label.to_string()), path.to_string()))
}

/// The column of `runtime` from a report with `label`: the runtime, or `label/runtime`.
pub fn column(label: &Option<String>, runtime: &str) -> String {
    match label {
        Some(l) => format!("{l}/{runtime}"),
        None => runtime.to_string(),
    }
}

/// The columns in report order; a column two reports both fill is an error.
fn columns(sources: &[Source]) -> Result<Vec<String>, MatrixError> {
    let mut cols: Vec<String> = Vec::new();
    for src in sources {
        let mine: Vec<String> = src
            .report
            .runtimes
            .iter()
            .map(|rt| column(&src.label, &rt.name))
            .collect();
        for c in mine {
            if cols.contains(&c) {
                return Err(MatrixError::DuplicateColumn {
                    column: c,
                    origin: src.origin.clone(),
                });
            }
            cols.push(c);
        }
    }
    Ok(cols)
}

pub fn build(sources: &[Source], only_diverging: bool) -> Result<Matrix, MatrixError> {
    let runtimes = columns(sources)?;
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut statuses: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for src in sources {
        for r in &src.report.results {
            let col = column(&src.label, &r.runtime);
            let row = rows.entry(r.id.clone()).or_insert_with(|| Row {
                id: r.id.clone(),
                level: r.level.clone(),
                statuses: BTreeMap::new(),
            });
            row.statuses.insert(col.clone(), r.status);
            *statuses
                .entry(col)
                .or_default()
                .entry(r.status.as_str().to_string())
                .or_default() += 1;
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
        .filter(|row| !only_diverging || row.diverges(runtimes.len()))
        .collect();
    Ok(Matrix {
        runtimes,
        levels,
        statuses,
        rows,
    })
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
    out.push_str(&status_table(m));
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

/// "## Results by status": one row per status that occurs, one column per runtime.
fn status_table(m: &Matrix) -> String {
    const ORDER: [Status; 7] = [
        Status::Pass,
        Status::Fail,
        Status::Xfail,
        Status::Xpass,
        Status::Error,
        Status::Skip,
        Status::Unsupported,
    ];
    let mut out = String::from("\n## Results by status\n\n| status |");
    for rt in &m.runtimes {
        let _ = write!(out, " {rt} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.runtimes.len()));
    out.push('\n');
    for st in ORDER.map(Status::as_str) {
        let count = |rt: &String| m.statuses.get(rt).and_then(|c| c.get(st)).copied();
        if m.runtimes.iter().all(|rt| count(rt).is_none()) {
            continue;
        }
        let _ = write!(out, "| {st} |");
        for rt in &m.runtimes {
            let _ = write!(out, " {} |", count(rt).unwrap_or(0));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::fixture::{report, result as res};

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
        let m = build(&[src(None, a.clone()), src(None, b.clone())], false).unwrap();
        assert_eq!(m.runtimes, vec!["runc", "crun"]);
        assert_eq!(m.levels["MUST"]["runc"], Count { pass: 2, total: 2 });
        assert_eq!(m.levels["MUST"]["crun"], Count { pass: 1, total: 2 });
        assert_eq!(m.rows.len(), 2);
        let d = build(&[src(None, a), src(None, b)], true).unwrap();
        assert_eq!(
            d.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["a.y"]
        );
        let md = markdown(&d);
        assert!(md.contains("| MUST | 2/2 | 1/2 |"), "{md}");
        assert!(md.contains("| `a.y` | MUST | PASS | FAIL |"), "{md}");
        assert!(md.contains("| PASS | 2 | 1 |\n| FAIL | 0 | 1 |\n"), "{md}");
        assert!(
            !md.contains("| SKIP |"),
            "statuses nobody has are left out: {md}"
        );
    }

    fn src(label: Option<&str>, report: Report) -> Source {
        Source {
            label: label.map(str::to_string),
            origin: format!("{}.json", label.unwrap_or("r")),
            report,
        }
    }

    #[test]
    fn labels_keep_the_same_runtime_from_two_reports_apart() {
        let v2 = report("runc", vec![res("runc", "a.x", Status::Pass)]);
        let v1 = report("runc", vec![res("runc", "a.x", Status::Skip)]);
        let m = build(
            &[src(Some("v2"), v2.clone()), src(Some("v1"), v1.clone())],
            false,
        )
        .unwrap();
        assert_eq!(m.runtimes, vec!["v2/runc", "v1/runc"]);
        assert_eq!(m.rows[0].statuses["v2/runc"], Status::Pass);
        assert_eq!(m.rows[0].statuses["v1/runc"], Status::Skip);
        assert_eq!(m.statuses["v1/runc"]["SKIP"], 1);
        let err = build(&[src(None, v2), src(None, v1)], false).unwrap_err();
        assert_eq!(
            err,
            MatrixError::DuplicateColumn {
                column: "runc".into(),
                origin: "r.json".into()
            }
        );
        assert!(err.to_string().contains("LABEL=report.json"), "{err}");
    }

    #[test]
    fn source_arguments() {
        assert_eq!(
            parse_source_arg("cgroup-v2=out/report.json").unwrap(),
            (Some("cgroup-v2".into()), "out/report.json".into())
        );
        assert_eq!(
            parse_source_arg("out/report.json").unwrap(),
            (None, "out/report.json".into())
        );
        assert_eq!(
            parse_source_arg("a/b=c/report.json").unwrap(),
            (None, "a/b=c/report.json".into())
        );
        for bad in ["=x.json", "a b=x.json", "v2="] {
            assert!(
                matches!(parse_source_arg(bad), Err(MatrixError::BadLabel { .. })),
                "{bad}"
            );
        }
    }
}
