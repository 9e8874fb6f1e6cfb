//! Classes of divergence and the known ones. A class is the fingerprint of a minimized
//! divergence: the feature classes of the minimized config (sorted) and the observation keys
//! that differ, e.g. `process.rlimits.RLIMIT_CPU => limits`, or `base => env` when the base
//! config alone diverges. Known classes are `fuzz:` entries of the runtimes' expectation
//! files (scenarios/expectations/<runtime>.yaml), each with its reason; `*` matches any text.

use super::grammar::Feature;
use crate::scenario::expectations::Expectations;
use crate::scenario::filter::glob;
use std::path::Path;

pub fn fingerprint(features: &[Feature], keys: &[String]) -> String {
    let mut classes: Vec<&str> = features.iter().map(|f| f.class.as_str()).collect();
    classes.sort();
    classes.dedup();
    let fields = if classes.is_empty() {
        "base".to_string()
    } else {
        classes.join(" + ")
    };
    format!("{fields} => {}", keys.join(","))
}

#[derive(Debug, Clone, Default)]
pub struct Known {
    /// (fingerprint pattern, reason, the expectations file it came from)
    entries: Vec<(String, String, String)>,
}

impl Known {
    /// The `fuzz:` entries of `<suite>/expectations/<name>.yaml` for each runtime.
    pub fn load(suite: &Path, runtimes: &[String]) -> Result<Known, String> {
        let mut entries = Vec::new();
        for name in runtimes {
            let path = suite.join("expectations").join(format!("{name}.yaml"));
            let x = Expectations::load(&path).map_err(|e| e.to_string())?;
            for e in x.fuzz {
                entries.push((e.fingerprint, e.reason, name.clone()));
            }
        }
        Ok(Known { entries })
    }

    /// The reason (with its file) of the known class matching `fp`.
    pub fn reason(&self, fp: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(pat, _, _)| glob(pat, fp))
            .map(|(_, reason, file)| format!("{reason} (expectations/{file}.yaml)"))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_sort_classes_and_match_known_patterns() {
        let f = |c: &str| Feature {
            class: c.into(),
            ops: vec![],
        };
        let fp = fingerprint(
            &[f("mounts.tmpfs"), f("hooks.prestart")],
            &["outcome".into()],
        );
        assert_eq!(fp, "hooks.prestart + mounts.tmpfs => outcome");
        assert_eq!(fingerprint(&[], &["env".into()]), "base => env");
        let known = Known {
            entries: vec![("hooks.prestart => *".into(), "why".into(), "runc".into())],
        };
        assert!(known.reason(&fp).is_none());
        assert!(known
            .reason("hooks.prestart => outcome")
            .unwrap()
            .starts_with("why"));
    }
}
