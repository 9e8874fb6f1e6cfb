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
//!
//! ```yaml
//! fuzz:
//!   - fingerprint: "process.rlimits.RLIMIT_CPU => limits"
//!     reason: "runc 1.1.5 ... (scenario rlimits.x XFAILs it)"
//! ```
//! A known class of `oci-conform fuzz` divergence: the fields of the minimized config and the
//! observations that differ (`fuzz::known`). The fuzzer reports it as known, never as new.

use super::filter::glob;
use super::load::LoadError;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    #[serde(default)]
    pub xfail: Vec<Entry>,
    #[serde(default)]
    pub flaky: Vec<Entry>,
    #[serde(default)]
    pub fuzz: Vec<FuzzEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuzzEntry {
    pub fingerprint: String,
    pub reason: String,
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

    /// Entries whose id (or pattern) names no scenario of `ids`, placed at the entry's `id:`
    /// value: a typo would otherwise leave a real divergence failing and a dead entry behind.
    pub fn unknown_ids(&self, path: &Path, ids: &BTreeSet<String>) -> Vec<LoadError> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let xfail = self.xfail.iter().map(|e| ("xfail", e.id.as_str()));
        let flaky = self.flaky.iter().map(|e| ("flaky", e.id.as_str()));
        xfail
            .chain(flaky)
            .filter(|(_, pat)| !ids.iter().any(|id| glob(pat, id)))
            .map(|(kind, pat)| {
                let pos = id_position(&text, pat);
                LoadError {
                    path: path.to_path_buf(),
                    line: pos.map(|p| p.0),
                    column: pos.map(|p| p.1),
                    message: format!("{kind} `{pat}` matches no scenario of the suite"),
                }
            })
            .collect()
    }

    /// The reason a reference runtime's result for `id` is a known flake, if it is listed.
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

/// Line and column of the `id:` value equal to `id` (plain or quoted).
fn id_position(text: &str, id: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let k = l.find("id:")?;
        let value = l[k + 3..].trim_start();
        let bare = value.split(['#', ',', '}']).next()?.trim();
        let bare = bare.trim_matches(|c| c == '"' || c == '\'');
        (bare == id).then(|| (i + 1, l.len() - value.len() + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ids_are_placed_at_their_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("runc.yaml");
        let text = "xfail:\n  - id: caps.known\n    reason: a\n  - { id: \"caps.typo\", reason: b }\n  - id: lifecycle.*\n    reason: c\n";
        std::fs::write(&p, text).unwrap();
        let x = Expectations::load(&p).unwrap();
        let ids: BTreeSet<String> = ["caps.known", "lifecycle.x"].map(String::from).into();
        let errs: Vec<String> = x
            .unknown_ids(&p, &ids)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errs,
            vec![format!(
                "{}:4:11: xfail `caps.typo` matches no scenario of the suite",
                p.display()
            )]
        );
    }
}
