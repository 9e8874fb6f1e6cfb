//! Normalizers turn what a runtime or the kernel printed into stable, runtime-agnostic values
//! (ids, pids, paths, timestamps and device names replaced by placeholders) so a snapshot taken
//! on runc compares equal on another runtime and on another run.

pub mod cgroup;
pub mod mountinfo;
pub mod oci_state;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Normalizer {
    #[serde(rename = "oci-state")]
    OciState,
    #[serde(rename = "mountinfo")]
    Mountinfo,
    #[serde(rename = "cgroup")]
    Cgroup,
    /// stdout parsed as JSON, keys sorted.
    #[serde(rename = "json")]
    Json,
    /// Text as printed, with the bundle path and container id replaced.
    #[serde(rename = "text")]
    Text,
}

/// What the placeholders stand for in one scenario run.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Absolute bundle directory.
    pub bundle: String,
    /// The unique last path component of the bundle, found even when a mount's `root` field
    /// shows the bundle relative to its filesystem.
    pub bundle_marker: String,
    pub container_id: String,
    /// The container's cgroupsPath (as written in config.json).
    pub cgroup_path: String,
}

impl Context {
    /// Replaces the bundle path (or any path ending in the bundle marker) and the cgroup path.
    pub fn scrub(&self, s: &str) -> String {
        let mut out = s.to_string();
        if !self.bundle.is_empty() {
            out = out.replace(&self.bundle, "<BUNDLE>");
        }
        if !self.bundle_marker.is_empty() {
            let marker = format!("/{}", self.bundle_marker);
            while let Some(end) = out.find(&marker) {
                let start = out[..end].rfind(|c: char| c.is_whitespace() || c == '"' || c == '=');
                let start = start.map(|i| i + 1).unwrap_or(0);
                out.replace_range(start..end + marker.len(), "<BUNDLE>");
            }
        }
        if !self.cgroup_path.is_empty() {
            out = out.replace(&self.cgroup_path, "<CGROUP>");
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    #[error("{normalizer}: input is not JSON: {message}")]
    NotJson {
        normalizer: &'static str,
        message: String,
    },
    #[error("{normalizer}: {message}")]
    Shape {
        normalizer: &'static str,
        message: String,
    },
}

impl Normalizer {
    pub fn name(self) -> &'static str {
        match self {
            Normalizer::OciState => "oci-state",
            Normalizer::Mountinfo => "mountinfo",
            Normalizer::Cgroup => "cgroup",
            Normalizer::Json => "json",
            Normalizer::Text => "text",
        }
    }

    /// Normalizes the raw text an op observed (stdout, mountinfo, or the cgroup observation as
    /// JSON) into a value ready to snapshot.
    pub fn apply(self, raw: &str, ctx: &Context) -> Result<Value, NormalizeError> {
        let parse = |name: &'static str| -> Result<Value, NormalizeError> {
            serde_json::from_str(raw).map_err(|e| NormalizeError::NotJson {
                normalizer: name,
                message: e.to_string(),
            })
        };
        match self {
            Normalizer::OciState => oci_state::normalize(&parse("oci-state")?, ctx),
            Normalizer::Mountinfo => Ok(mountinfo::snapshot(&mountinfo::parse(raw), ctx)),
            Normalizer::Cgroup => cgroup::normalize(&parse("cgroup")?, ctx),
            Normalizer::Json => Ok(scrub_value(&parse("json")?, ctx)),
            Normalizer::Text => Ok(Value::String(ctx.scrub(raw))),
        }
    }
}

/// Scrubs every string inside a JSON value.
pub fn scrub_value(v: &Value, ctx: &Context) -> Value {
    match v {
        Value::String(s) => Value::String(ctx.scrub(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| scrub_value(x, ctx)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), scrub_value(x, ctx)))
                .collect(),
        ),
        other => other.clone(),
    }
}
