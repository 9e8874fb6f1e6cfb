//! What the agent saw, in two shapes: JSON lines appended as events happen (`--log`), and one
//! JSON document rewritten after each event (`--summary`) that a scenario's `read_file` step
//! can match with `json:`.
//!
//! The summary is `{"rules", "connections", "closes", "notifications", "exit"}`; it is
//! written to a temporary file and renamed, so a reader never sees half a document.

use serde_json::{json, Value};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct Log {
    lines: File,
    summary_path: Option<PathBuf>,
    summary: Value,
}

/// Shared by the accepting thread and one thread per notify fd.
pub type SharedLog = Arc<Mutex<Log>>;

impl Log {
    pub fn open(path: &Path, summary: Option<&Path>, rules: Value) -> std::io::Result<SharedLog> {
        let lines = OpenOptions::new().create(true).append(true).open(path)?;
        let log = Log {
            lines,
            summary_path: summary.map(Path::to_path_buf),
            summary: json!({ "rules": rules, "connections": [], "closes": [], "notifications": [], "exit": null }),
        };
        log.write_summary()?;
        Ok(Arc::new(Mutex::new(log)))
    }

    /// Appends one event line and files it in the summary under `section` (if any).
    pub fn event(&mut self, kind: &str, mut fields: Value, section: Option<&str>) {
        if let Some(obj) = fields.as_object_mut() {
            obj.insert("event".into(), Value::from(kind));
        }
        let _ = writeln!(self.lines, "{fields}");
        let _ = self.lines.flush();
        match section {
            Some("exit") => self.summary["exit"] = fields,
            Some(s) => {
                if let Some(list) = self.summary[s].as_array_mut() {
                    list.push(fields);
                }
            }
            None => {}
        }
        let _ = self.write_summary();
    }

    fn write_summary(&self) -> std::io::Result<()> {
        let Some(path) = &self.summary_path else {
            return Ok(());
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.summary)?)?;
        std::fs::rename(&tmp, path)
    }
}

/// Locks the log even if a thread panicked while holding it: logging must go on.
pub fn record(log: &SharedLog, kind: &str, fields: Value, section: Option<&str>) {
    log.lock()
        .unwrap_or_else(|p| p.into_inner())
        .event(kind, fields, section);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_go_to_lines_and_summary() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("a.log");
        let summary = dir.path().join("a.json");
        let log = Log::open(&lines, Some(&summary), json!({})).unwrap();
        record(&log, "connection", json!({"pid": 7}), Some("connections"));
        record(
            &log,
            "notification",
            json!({"syscall": "mkdir"}),
            Some("notifications"),
        );
        record(&log, "exit", json!({"reason": "sigterm"}), Some("exit"));
        let text = std::fs::read_to_string(&lines).unwrap();
        let parsed: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0], json!({"event": "connection", "pid": 7}));
        let s: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
        assert_eq!(s["connections"][0]["pid"], 7);
        assert_eq!(s["notifications"][0]["syscall"], "mkdir");
        assert_eq!(s["exit"]["reason"], "sigterm");
    }
}
