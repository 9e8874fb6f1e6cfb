//! Results and reports: the result model, events.jsonl, TAP 14, JUnit XML, report.json,
//! Markdown, the runtime matrix (also as an HTML page), the regression gate, and the progress
//! of a run on the terminal.

pub mod events;
#[cfg(test)]
mod fixture;
pub mod gate;
pub mod html;
pub mod judge;
pub mod junit;
pub mod markdown;
pub mod matrix;
pub mod progress;
pub mod tap;
pub mod terminal;

use crate::driver::Evidence;
use crate::scenario::SpecRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA: &str = "oci-conform/report/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    Error,
    Skip,
    Unsupported,
    Xfail,
    Xpass,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
            Status::Skip => "SKIP",
            Status::Unsupported => "UNSUPPORTED",
            Status::Xfail => "XFAIL",
            Status::Xpass => "XPASS",
        }
    }

    /// FAIL and XPASS fail the run (exit 1); ERROR is a harness problem (exit 2).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Xpass)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// pass, fail, error.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecRef>,
    /// Kept for failed steps only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub runtime: String,
    pub id: String,
    pub title: String,
    pub path: String,
    pub spec: Vec<SpecRef>,
    pub level: String,
    pub tags: Vec<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// Bundle preparation and teardown (kill, delete, leak check) times.
    #[serde(default)]
    pub setup_ms: u64,
    #[serde(default)]
    pub teardown_ms: u64,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeInfo {
    pub name: String,
    pub path: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub started_unix: u64,
    pub duration_ms: u64,
    #[serde(default)]
    pub seed: Option<u64>,
    pub host: serde_json::Value,
    pub runtimes: Vec<RuntimeInfo>,
    pub results: Vec<ScenarioResult>,
    /// runtime -> status -> count.
    pub summary: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Report {
    pub fn summarize(results: &[ScenarioResult]) -> BTreeMap<String, BTreeMap<String, usize>> {
        let mut s: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for r in results {
            *s.entry(r.runtime.clone())
                .or_default()
                .entry(r.status.as_str().to_string())
                .or_default() += 1;
        }
        s
    }

    pub fn load(path: &std::path::Path) -> Result<Report, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let r: Report = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a report.json: {e}", path.display()))?;
        if r.schema != REPORT_SCHEMA {
            return Err(format!(
                "{}: schema `{}` is not {REPORT_SCHEMA}",
                path.display(),
                r.schema
            ));
        }
        Ok(r)
    }

    /// The exit code when every runtime is judged (see `judge`).
    pub fn exit_code(&self) -> i32 {
        self.exit_code_for(&judge::Judge::default())
    }
}

impl ScenarioResult {
    /// The scenario's area, as `--filter area:` has it.
    pub fn area(&self) -> &str {
        crate::scenario::area_of(&self.id)
    }

    /// The evidence of the step that did not pass, if it ran a command.
    pub fn failed_evidence(&self) -> Option<&Evidence> {
        self.steps
            .iter()
            .rev()
            .find(|s| s.outcome != "pass")
            .and_then(|s| s.evidence.as_ref())
    }
}

/// A short, multi-line account of a failed command for CI logs.
pub fn evidence_text(e: &Evidence) -> String {
    let tail = |s: &str| -> String {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    };
    format!(
        "argv: {}\nstatus: {}{}\nstdout: {}\nstderr: {}",
        e.argv.join(" "),
        e.status
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
        e.signal
            .map(|s| format!(" (signal {s})"))
            .unwrap_or_default(),
        tail(&e.stdout),
        tail(&e.stderr)
    )
}

/// XML/TAP-safe one-line text.
pub fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
