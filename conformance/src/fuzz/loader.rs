//! `oci-conform fuzz --target loader`: a stable-Rust, in-process mutational fuzzer of what
//! oci-conform parses from files: scenarios (YAML, schema, validation, matchers, templates),
//! expectation files, and config JSON (merge patches and JSON Patches over the base config).
//! Mutants of the suite's own files are fed to each parser under `catch_unwind`; a panic is
//! a bug (bad input must be an error with a position), and its input is saved.

use super::mutate;
use super::rng::Rng;
use crate::bundle::{config::base_config, patch};
use crate::runner::interrupt;
use crate::scenario::{expectations::Expectations, load, PatchOp};
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub inputs: u64,
    /// Mutants the scenario loader accepted (the rest were refused with an error).
    pub scenarios_accepted: u64,
    pub configs_accepted: u64,
    pub panics: Vec<String>,
    pub elapsed_s: u64,
}

/// The corpus: every scenario and expectation file under `suite`, and configs (the base
/// config and every scenario's `bundle.config`, as JSON).
pub fn corpus(suite: &Path) -> (Vec<String>, Vec<String>) {
    let files = load::discover(&[suite.to_path_buf()]).unwrap_or_default();
    let mut yaml: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    if let Ok(entries) = std::fs::read_dir(suite.join("expectations")) {
        yaml.extend(
            entries
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok()),
        );
    }
    let mut json = vec![base_config().to_string()];
    for f in &files {
        if let Ok(l) = load::load_file(f) {
            if let Some(c) = &l.scenario.bundle.config {
                json.push(c.to_string());
            }
            if !l.scenario.bundle.patch.is_empty() {
                if let Ok(v) = serde_json::to_string(&l.scenario.bundle.patch) {
                    json.push(v);
                }
            }
        }
    }
    (yaml, json)
}

fn scenario_target(text: &str) -> bool {
    let ok = load::parse(Path::new("fuzz.yaml"), text).is_ok();
    let _ = serde_yaml::from_str::<Expectations>(text);
    ok
}

fn config_target(text: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    let mut config = base_config();
    patch::merge(&mut config, &v);
    if let Ok(ops) = serde_json::from_value::<Vec<PatchOp>>(v) {
        let _ = patch::apply(&mut config, &ops);
    }
    true
}

/// Feeds mutants until `time` passes, `max` inputs ran, or SIGINT; panicking inputs go to
/// `<out>/panics/`.
pub fn run(suite: &Path, seed: u64, time: Duration, max: Option<u64>, out: &Path) -> Stats {
    interrupt::install();
    let (yaml, json) = corpus(suite);
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    let start = Instant::now();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while start.elapsed() < time
        && max.is_none_or(|m| stats.inputs < m)
        && !interrupt::interrupted()
    {
        let is_yaml = rng.chance(70) || json.is_empty();
        let input = mutate::mutant(&mut rng, if is_yaml { &yaml } else { &json });
        stats.inputs += 1;
        let r = catch_unwind(AssertUnwindSafe(|| {
            if is_yaml {
                scenario_target(&input)
            } else {
                config_target(&input)
            }
        }));
        match r {
            Ok(true) if is_yaml => stats.scenarios_accepted += 1,
            Ok(true) => stats.configs_accepted += 1,
            Ok(false) => {}
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let path = save(out, stats.panics.len(), &input);
                stats
                    .panics
                    .push(format!("{msg} (input {})", path.display()));
            }
        }
    }
    std::panic::set_hook(previous);
    stats.elapsed_s = start.elapsed().as_secs();
    stats
}

fn save(out: &Path, n: usize, input: &str) -> PathBuf {
    let dir = out.join("panics");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("panic-{n}.txt"));
    let _ = std::fs::write(&path, input);
    path
}
