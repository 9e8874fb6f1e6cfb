//! `lint`: whole-suite checks on top of per-file loading: duplicate ids, snapshot references
//! without a file, snapshot files no scenario references, expectations naming unknown ids.

use super::expectations::Expectations;
use super::load::Loaded;
use crate::snapshot;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub fn lint(loaded: &[Loaded], suite_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for l in loaded {
        if let Some(first) = seen.insert(&l.scenario.id, &l.path) {
            problems.push(format!(
                "{}: duplicate id `{}` (also in {})",
                l.path.display(),
                l.scenario.id,
                first.display()
            ));
        }
    }
    let snap_dir = suite_dir.join("snapshots");
    let mut referenced = BTreeSet::new();
    for l in loaded {
        for (i, step) in l.scenario.steps.iter().enumerate() {
            if let Some(s) = &step.expect.snapshot {
                let file = snapshot::file_name(&l.scenario.id, &s.name);
                if !snap_dir.join(&file).is_file() {
                    problems.push(format!(
                        "{}: steps[{i}]: snapshot `{}` has no file {} (run with --update-snapshots and review it)",
                        l.path.display(),
                        s.name,
                        snap_dir.join(&file).display()
                    ));
                }
                referenced.insert(file);
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(&snap_dir) {
        let mut orphans: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".snap") && !referenced.contains(n))
            .collect();
        orphans.sort();
        for o in orphans {
            problems.push(format!(
                "{}: no scenario references this snapshot",
                snap_dir.join(o).display()
            ));
        }
    }
    let ids: BTreeSet<&str> = loaded.iter().map(|l| l.scenario.id.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(suite_dir.join("expectations")) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("yaml") {
                continue;
            }
            match Expectations::load(&p) {
                Err(err) => problems.push(err.to_string()),
                Ok(x) => {
                    for entry in &x.xfail {
                        if !ids.iter().any(|id| super::filter::glob(&entry.id, id)) {
                            problems.push(format!(
                                "{}: xfail `{}` matches no scenario",
                                p.display(),
                                entry.id
                            ));
                        }
                    }
                }
            }
        }
    }
    problems
}
