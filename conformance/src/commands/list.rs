//! `list`: what a filter selects, with the host's skip reasons.

use super::{load_inputs, EXIT_OK, EXIT_USAGE};
use crate::cli::ListArgs;
use oci_conform::driver::RuntimeBin;
use oci_conform::host::HostFacts;
use oci_conform::runner;
use oci_conform::scenario::filter::Filter;

pub fn run(a: &ListArgs) -> i32 {
    let filter = match Filter::parse(a.filter.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    let Some((loaded, errors)) = load_inputs(&a.scenarios) else {
        return EXIT_USAGE;
    };
    for e in &errors {
        eprintln!("{e}");
    }
    let host = HostFacts::probe();
    let mut features = Vec::new();
    let scratch = std::env::temp_dir().join(format!("oci-conform-list-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&scratch);
    for spec in &a.runtimes {
        match RuntimeBin::parse(spec) {
            Ok(bin) => {
                let f = runner::runtime_features(&bin, &scratch);
                features.push((bin.name, f));
            }
            Err(e) => {
                eprintln!("oci-conform: --runtime: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let mut selected: Vec<_> = loaded
        .iter()
        .filter(|l| filter.matches(&l.scenario))
        .collect();
    selected.sort_by(|x, y| x.scenario.id.cmp(&y.scenario.id));
    for l in &selected {
        let s = &l.scenario;
        // Where `run` would put the containers: the per-run parent of this process.
        let parent = format!("/oci-conform-{}", std::process::id());
        let mut skip = host.unmet_scenario(s).or_else(|| {
            runner::cgroup_files::unmet(&host, &parent, &s.requires.cgroup_files)
                .or_else(|| runner::cgroup_files::missing_block_device(&s.requires.block_devices))
        });
        if skip.is_none() {
            skip = features.iter().find_map(|(name, f)| {
                let why = runner::features::missing(f.as_ref()?, &s.requires.features)?;
                Some(format!("UNSUPPORTED on {name}: {why}"))
            });
        }
        if a.json {
            let line = serde_json::json!({"id": s.id, "title": s.title, "level": s.level().as_str(),
                "tags": s.tags, "path": l.path, "skip": skip});
            outln!("{line}");
        } else {
            let note = match skip {
                Some(r) if r.starts_with("UNSUPPORTED") => format!("  {r}"),
                Some(r) => format!("  SKIP: {r}"),
                None => String::new(),
            };
            outln!(
                "{:<48} {:<6} [{}]{note}",
                s.id,
                s.level().as_str(),
                s.tags.join(",")
            );
        }
    }
    eprintln!(
        "{} of {} scenario(s) selected",
        selected.len(),
        loaded.len()
    );
    if !errors.is_empty() || selected.is_empty() {
        EXIT_USAGE
    } else {
        EXIT_OK
    }
}
