//! Known divergences of one runtime: `expectations/<runtime>.yaml`.
//!
//! ```yaml
//! xfail:
//!   - id: config.hooks-poststop        # exact id or a `*` pattern
//!     reason: runc 1.1.5 runs poststop hooks only on delete
//! ```
//! A listed scenario that fails is XFAIL; one that passes is XPASS, which fails the run so
//! stale entries get removed. Divergences never live in code as `if runtime == ...`.
//!
//! ```yaml
//! flaky:
//!   - id: namespaces.path-wrong-type
//!     reason: "runc 1.1.5 leaves the cgroup behind now and then (1 ERROR in 5 runs, ...)"
//! ```
//! A flaky entry changes no status: a non-PASS result of it carries the entry's reason, so the
//! report says the outcome is a known flake with its evidence. It is for reference runtimes,
//! whose non-PASS results are re-run once anyway; a judged runtime has no flakes to list.

use super::filter::glob;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    #[serde(default)]
    pub xfail: Vec<Entry>,
    #[serde(default)]
    pub flaky: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub reason: String,
}

impl Expectations {
    /// Missing file = no expectations.
    pub fn load(path: &Path) -> Result<Expectations, crate::scenario::load::LoadError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(crate::scenario::load::LoadError {
                    path: path.to_path_buf(),
                    line: None,
                    column: None,
                    message: format!("cannot read: {e}"),
                })
            }
        };
        let to_err = |e: serde_yaml::Error| crate::scenario::load::LoadError {
            path: path.to_path_buf(),
            line: e.location().map(|l| l.line()),
            column: e.location().map(|l| l.column()),
            message: e.to_string(),
        };
        serde_yaml::from_str::<serde_yaml::Value>(&text).map_err(to_err)?;
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(&text).map_err(to_err)
    }

    pub fn flaky_reason(&self, id: &str) -> Option<&str> {
        self.flaky
            .iter()
            .find(|e| glob(&e.id, id))
            .map(|e| e.reason.as_str())
    }

    pub fn xfail_reason(&self, id: &str) -> Option<&str> {
        self.xfail
            .iter()
            .find(|e| glob(&e.id, id))
            .map(|e| e.reason.as_str())
    }
}
