//! `list`: what a filter selects, with the host's skip reasons.

use super::{load_inputs, EXIT_OK, EXIT_USAGE};
use crate::cli::ListArgs;
use oci_conform::host::HostFacts;
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
    let mut selected: Vec<_> = loaded
        .iter()
        .filter(|l| filter.matches(&l.scenario))
        .collect();
    selected.sort_by(|x, y| x.scenario.id.cmp(&y.scenario.id));
    for l in &selected {
        let s = &l.scenario;
        let skip = host.unmet(&s.requires);
        if a.json {
            let line = serde_json::json!({"id": s.id, "title": s.title, "level": s.level().as_str(),
                "tags": s.tags, "path": l.path, "skip": skip});
            println!("{line}");
        } else {
            let note = skip.map(|r| format!("  SKIP: {r}")).unwrap_or_default();
            println!(
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
