//! `mutate`: the mutation campaign (see `oci_conform::mutate`), and `--shim`, the mutant a
//! wrapper script runs for one runtime command.

use super::{find_suite_dir, load_inputs, EXIT_USAGE};
use crate::cli::MutateArgs;
use oci_conform::driver::RuntimeBin;
use oci_conform::host::HostFacts;
use oci_conform::mutate::campaign::{self, Campaign, Settings};
use oci_conform::mutate::catalog::{self, Mutant, MUTANTS};
use oci_conform::mutate::{score, shim};
use oci_conform::report::judge::{EXIT_ERROR, EXIT_FAIL, EXIT_OK};
use oci_conform::scenario::filter::Filter;
use oci_conform::scenario::load::Loaded;
use std::time::{Duration, Instant};

pub fn run(a: &MutateArgs) -> i32 {
    if let Some(name) = &a.shim {
        return match catalog::find(name) {
            Some(m) => shim::run(m, &a.reference, &a.runtime_args, a.shim_log.as_deref()),
            None => {
                eprintln!("oci-conform mutate: no mutant named `{name}`");
                EXIT_USAGE
            }
        };
    }
    if a.list {
        for m in MUTANTS {
            outln!("{:<28} {:<6} {:<44} {}", m.name, m.level, m.spec, m.breaks);
        }
        return EXIT_OK;
    }
    let mutants = match select(&a.mutants) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("oci-conform mutate: {e}");
            return EXIT_USAGE;
        }
    };
    let Some(scenarios) = scenarios(a) else {
        return EXIT_USAGE;
    };
    match campaign(a, &mutants, &scenarios) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("oci-conform mutate: {e}");
            EXIT_ERROR
        }
    }
}

fn select(names: &[String]) -> Result<Vec<&'static Mutant>, String> {
    if names.is_empty() {
        return Ok(MUTANTS.iter().collect());
    }
    names
        .iter()
        .map(|n| catalog::find(n).ok_or_else(|| format!("no mutant named `{n}` (see --list)")))
        .collect()
}

/// The selected scenarios, sorted by id; `None` (after saying why) when there are none.
fn scenarios(a: &MutateArgs) -> Option<Vec<Loaded>> {
    if a.scenarios.is_empty() {
        eprintln!("oci-conform mutate: name the scenario files or directories");
        return None;
    }
    let filter = match Filter::parse(a.filter.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("oci-conform mutate: --filter: {e}");
            return None;
        }
    };
    let (loaded, errors) = load_inputs(&a.scenarios)?;
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("oci-conform mutate: fix the scenario files first (see `oci-conform lint`)");
        return None;
    }
    let mut selected: Vec<Loaded> = loaded
        .into_iter()
        .filter(|l| filter.matches(&l.scenario))
        .collect();
    if selected.is_empty() {
        eprintln!("oci-conform mutate: the selection is empty");
        return None;
    }
    selected.sort_by(|x, y| x.scenario.id.cmp(&y.scenario.id));
    Some(selected)
}

fn campaign(a: &MutateArgs, mutants: &[&Mutant], scenarios: &[Loaded]) -> Result<i32, String> {
    let started = Instant::now();
    let self_exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let reference = RuntimeBin::parse(&format!("{}={}", a.name, a.reference.display()))?;
    let c = Campaign {
        reference,
        self_exe,
        out: a.out.clone(),
        settings: Settings {
            work_dir: a.work_dir.clone(),
            jobs: a.jobs,
            probe: a.probe.clone(),
            suite_dir: a
                .suite_dir
                .clone()
                .unwrap_or_else(|| find_suite_dir(&a.scenarios)),
            step_timeout: Duration::from_secs(a.step_timeout.max(1)),
        },
        first_kill: a.first_kill,
    };
    let host = HostFacts::probe();
    let reference = c
        .reference_run(scenarios, &host)
        .map_err(|e| e.to_string())?;
    let baseline = score::baseline(&reference.results, &a.name);
    eprintln!(
        "oci-conform mutate: reference {} passes {} of {} scenario(s); {} mutant(s) to run",
        a.reference.display(),
        baseline.values().filter(|s| s.as_str() == "PASS").count(),
        scenarios.len(),
        mutants.len()
    );
    let mut results = Vec::new();
    for m in mutants {
        let r = c
            .mutant(m, &baseline, scenarios, &host)
            .map_err(|e| format!("mutant {}: {e}", m.name))?;
        eprintln!(
            "oci-conform mutate: {} {} after {} scenario(s)",
            m.name,
            if r.killed { "killed" } else { "SURVIVED" },
            r.scenarios_run
        );
        results.push(r);
    }
    let o = campaign::outcome(
        &a.name,
        &reference,
        results,
        a.first_kill,
        started.elapsed().as_millis() as u64,
    );
    let json = a.out.join("mutate.json");
    let text = serde_json::to_string_pretty(&o).map_err(|e| e.to_string())?;
    std::fs::write(&json, text).map_err(|e| format!("{}: {e}", json.display()))?;
    out!("{}", campaign::table(&o));
    eprintln!("oci-conform mutate: details in {}", json.display());
    Ok(if o.survivors.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}
