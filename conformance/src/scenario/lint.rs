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
    let ids = suite_ids(loaded, suite_dir);
    if let Ok(entries) = std::fs::read_dir(suite_dir.join("expectations")) {
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for p in files {
            if p.extension().and_then(|x| x.to_str()) != Some("yaml") {
                continue;
            }
            match Expectations::load(&p) {
                Err(err) => problems.push(err.to_string()),
                Ok(x) => problems.extend(x.unknown_ids(&p, &ids).iter().map(|e| e.to_string())),
            }
        }
    }
    problems
}

/// The ids of every scenario of the suite (not only the ones selected): an expectations
/// entry is stale only when no scenario anywhere in the suite has its id.
pub fn suite_ids(loaded: &[Loaded], suite_dir: &Path) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = loaded.iter().map(|l| l.scenario.id.clone()).collect();
    if let Ok(files) = super::load::discover(&[suite_dir.to_path_buf()]) {
        ids.extend(
            super::load::load_all(&files)
                .0
                .into_iter()
                .map(|l| l.scenario.id),
        );
    }
    ids
}
