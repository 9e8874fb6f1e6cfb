//! `fuzz`: the differential campaign over runtimes, or the loader's robustness fuzzer.
//! Exit 0: no new divergence class (and no panic); 1: a new class (or a panic); 2: the
//! harness could not run; 3: usage.

use super::EXIT_USAGE;
use crate::cli::FuzzArgs;
use oci_conform::driver::RuntimeBin;
use oci_conform::fuzz::{campaign, execute::Executor, known::Known, loader};
use oci_conform::host::HostFacts;
use oci_conform::report::judge::{Judge, EXIT_ERROR, EXIT_FAIL, EXIT_OK};
use oci_conform::runner::{self, Keep, Options};
use oci_conform::scenario::Base;
use std::path::Path;
use std::time::{Duration, SystemTime};

pub fn run(a: &FuzzArgs) -> i32 {
    let seed = a.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    let time = match (a.time, a.count) {
        (Some(t), _) => Some(Duration::from_secs(t)),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(60)),
    };
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("oci-conform: {}: {e}", a.out.display());
        return EXIT_ERROR;
    }
    eprintln!("oci-conform fuzz: target {}, seed {seed}", a.target);
    match a.target.as_str() {
        "runtimes" => runtimes(a, seed, time),
        "loader" => loader_target(a, seed, time),
        other => {
            eprintln!("oci-conform: --target {other}: use `runtimes` or `loader`");
            EXIT_USAGE
        }
    }
}

fn loader_target(a: &FuzzArgs, seed: u64, time: Option<Duration>) -> i32 {
    let time = time.unwrap_or(Duration::MAX);
    let stats = loader::run(&a.suite_dir, seed, time, a.count, &a.out);
    write(
        &a.out.join("loader-summary.json"),
        &serde_json::to_string_pretty(&stats).unwrap_or_default(),
    );
    outln!(
        "loader fuzz: {} inputs in {} s ({} scenarios and {} configs accepted), {} panic(s)",
        stats.inputs,
        stats.elapsed_s,
        stats.scenarios_accepted,
        stats.configs_accepted,
        stats.panics.len()
    );
    for p in &stats.panics {
        outln!("  panic: {p}");
    }
    if stats.panics.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("oci-conform: {}: {e}", path.display());
    }
}

fn runtimes(a: &FuzzArgs, seed: u64, time: Option<Duration>) -> i32 {
    let mut bins = Vec::new();
    for spec in &a.runtimes {
        match RuntimeBin::parse(spec) {
            Ok(r) => bins.push(r),
            Err(e) => {
                eprintln!("oci-conform: --runtimes: {e}");
                return EXIT_USAGE;
            }
        }
    }
    if bins.len() < 2 {
        eprintln!(
            "oci-conform: --runtimes needs two or more NAME=PATH (the first is the reference)"
        );
        return EXIT_USAGE;
    }
    let names: Vec<String> = bins.iter().map(|b| b.name.clone()).collect();
    let known = match Known::load(&a.suite_dir, &names) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    let keep = if a.keep { Keep::Always } else { Keep::Never };
    let opts = Options {
        runtimes: bins,
        out: a.out.clone(),
        work_dir: a.work_dir.clone(),
        jobs: 1,
        seed: Some(seed),
        keep,
        probe: a.probe.clone(),
        update_snapshots: false,
        suite_dir: a.suite_dir.clone(),
        step_timeout: Duration::from_secs(a.step_timeout.max(1)),
        judge: Judge::new(&[]),
        // fuzz drives `one::run_one` itself and prints its own lines.
        progress: Default::default(),
    };
    let host = HostFacts::probe();
    let session = match runner::open(&opts, &[], &[Base::Probe]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return e.exit_code();
        }
    };
    let summary = match Executor::new(&session, &host, opts.step_timeout, keep) {
        Ok(mut exec) => {
            let cfg = campaign::Config {
                seed,
                count: a.count.map(|c| c as usize),
                time,
                min_budget: a.min_budget,
                out: session.out.clone(),
            };
            campaign::run(&mut exec, &known, &cfg, &mut |line| eprintln!("{line}"))
        }
        Err(e) => {
            eprintln!("oci-conform: {e}");
            runner::close(&session, &host, keep);
            return EXIT_ERROR;
        }
    };
    runner::close(&session, &host, keep);
    if !a.keep {
        let _ = std::fs::remove_dir_all(session.work.join("fuzz"));
    }
    write(
        &a.out.join("fuzz-summary.json"),
        &serde_json::to_string_pretty(&summary).unwrap_or_default(),
    );
    write(
        &a.out.join("fuzz-report.md"),
        &report_md(&summary, known.len()),
    );
    outln!(
        "fuzz: seed {seed}: {} configs ({} runs with the minimizer) in {} s; {} diverged ({} flaky, {} harness errors); {} class(es): {} new, {} known",
        summary.configs,
        summary.runs,
        summary.elapsed_s,
        summary.divergent_configs,
        summary.flaky,
        summary.harness_errors,
        summary.classes.len(),
        summary.new_classes(),
        summary.classes.len() - summary.new_classes()
    );
    if summary.new_classes() > 0 {
        outln!(
            "fuzz: new divergences; reproducers in {}/scenarios/fuzz",
            a.out.display()
        );
        EXIT_FAIL
    } else if summary.configs == 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}

fn report_md(s: &campaign::Summary, known_entries: usize) -> String {
    let mut out = format!(
        "# oci-conform fuzz, seed {}\n\n{} configs, {} runs, {} s; {} divergent configs, {} flaky, {} harness errors; {} known-class entries loaded.\n\n| class | runtime | configs | features | fate | detail | reproducer |\n|---|---|---|---|---|---|---|\n",
        s.seed, s.configs, s.runs, s.elapsed_s, s.divergent_configs, s.flaky, s.harness_errors, known_entries
    );
    for c in &s.classes {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} -> {} | {} | {} | {} |\n",
            c.fingerprint,
            c.runtime,
            c.configs,
            c.features_before,
            c.features_after,
            c.known.as_deref().unwrap_or("NEW"),
            c.detail.replace('|', "\\|"),
            c.scenario.as_deref().unwrap_or("-")
        ));
    }
    out
}
