//! Snapshots: `snapshots/<scenario-id>__<name>.snap` in insta's file format (a `---` YAML
//! header, then the content), so `cargo insta review` works on the same files. The CLI only
//! compares; it writes a file only when asked (`--update-snapshots`).

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub fn file_name(scenario_id: &str, name: &str) -> String {
    format!("{scenario_id}__{name}.snap")
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("snapshot {path}: not an insta .snap file (no `---` header)")]
    Format { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Matched,
    /// Written because updating was asked for (new or changed).
    Written,
    Missing {
        path: PathBuf,
    },
    Mismatch {
        path: PathBuf,
        diff: String,
    },
}

#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
    pub update: bool,
}

/// Rebuilds objects with sorted keys, whatever serde_json's map ordering feature says.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let mut m = Map::new();
            for k in keys {
                m.insert(k.clone(), canonical(&o[k]));
            }
            Value::Object(m)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The snapshot body: a string as-is, anything else as YAML with sorted keys.
pub fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(&canonical(other)).unwrap_or_else(|e| format!("<{e}>")),
    }
}

/// The content part of a .snap file.
pub fn parse_snap(text: &str) -> Option<String> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(rest[end + 5..].to_string())
}

fn trim_end(s: &str) -> &str {
    s.trim_end_matches(['\n', '\r', ' '])
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Store {
    pub fn path(&self, scenario_id: &str, name: &str) -> PathBuf {
        self.dir.join(file_name(scenario_id, name))
    }

    pub fn check(
        &self,
        scenario_id: &str,
        name: &str,
        v: &Value,
    ) -> Result<Outcome, SnapshotError> {
        let path = self.path(scenario_id, name);
        let body = render(v);
        let existing = match std::fs::read_to_string(&path) {
            Ok(t) => {
                Some(parse_snap(&t).ok_or_else(|| SnapshotError::Format { path: path.clone() })?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path)(e)),
        };
        match existing {
            Some(old) if trim_end(&old) == trim_end(&body) => Ok(Outcome::Matched),
            _ if self.update => {
                std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
                let text = format!(
                    "---\nsource: oci-conform\nexpression: {scenario_id}__{name}\n---\n{}\n",
                    trim_end(&body)
                );
                std::fs::write(&path, text).map_err(io(&path))?;
                Ok(Outcome::Written)
            }
            None => Ok(Outcome::Missing { path }),
            Some(old) => Ok(Outcome::Mismatch {
                diff: diff(trim_end(&old), trim_end(&body)),
                path,
            }),
        }
    }
}

pub fn diff(old: &str, new: &str) -> String {
    // Both sides end in exactly one newline so the diff shows content, not file endings.
    let (old, new) = (
        format!("{}\n", trim_end(old)),
        format!("{}\n", trim_end(new)),
    );
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "actual")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_writes_only_when_asked_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let ro = Store {
            dir: dir.path().to_path_buf(),
            update: false,
        };
        let v = json!({"b": 1, "a": ["x"]});
        assert!(matches!(
            ro.check("s.x", "n", &v).unwrap(),
            Outcome::Missing { .. }
        ));
        assert!(!ro.path("s.x", "n").exists());
        let rw = Store {
            update: true,
            ..ro.clone()
        };
        assert_eq!(rw.check("s.x", "n", &v).unwrap(), Outcome::Written);
        assert_eq!(ro.check("s.x", "n", &v).unwrap(), Outcome::Matched);
        match ro.check("s.x", "n", &json!({"b": 2, "a": ["x"]})).unwrap() {
            Outcome::Mismatch { diff, .. } => {
                assert!(diff.contains("-b: 1") && diff.contains("+b: 2"))
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn insta_reads_the_files_the_cli_writes() {
        // `cargo insta review` is the edit loop for the Rust harness: insta must accept our
        // files as its own and agree on their content (checked to fail on a different value).
        let dir = tempfile::tempdir().unwrap();
        let store = Store {
            dir: dir.path().to_path_buf(),
            update: true,
        };
        let v = json!({"status": "created", "pid": "<PID>"});
        assert_eq!(
            store.check("lifecycle.x", "state", &v).unwrap(),
            Outcome::Written
        );
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(dir.path());
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!("lifecycle.x__state", render(&v).trim_end()));
    }

    #[test]
    fn reads_insta_files() {
        let text = "---\nsource: tests/x.rs\nexpression: v\n---\nhello\nworld\n";
        assert_eq!(parse_snap(text).unwrap(), "hello\nworld\n");
        assert!(parse_snap("no header").is_none());
    }
}
