//! `run`: load and filter scenarios, run them, write the requested reports.

use super::{find_suite_dir, load_inputs, EXIT_USAGE};
use crate::cli::{Keep as CliKeep, ReportArgs, RunArgs};
use oci_conform::driver::RuntimeBin;
use oci_conform::host::HostFacts;
use oci_conform::report::judge::{Judge, EXIT_ERROR, EXIT_FAIL, EXIT_OK};
use oci_conform::report::{events, junit, markdown, tap, Report};
use oci_conform::runner::{self, Keep, Options};
use oci_conform::scenario::filter::Filter;
use std::path::Path;
use std::time::Duration;

const FORMATS: &[&str] = &["tap", "junit", "json", "markdown"];

pub fn write_reports(report: &Report, out: &Path, formats: &[String]) -> Result<(), String> {
    for f in formats {
        let (name, text) = match f.as_str() {
            "tap" => ("report.tap", tap::render(report)),
            "junit" => ("junit.xml", junit::render(report)),
            "json" => (
                "report.json",
                serde_json::to_string_pretty(report).map_err(|e| e.to_string())?,
            ),
            "markdown" => ("report.md", markdown::render(report)),
            other => return Err(format!("unknown report format `{other}`")),
        };
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("{}: {e}", out.join(name).display()))?;
    }
    Ok(())
}

fn formats(spec: &str) -> Result<Vec<String>, String> {
    let f: Vec<String> = spec
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    match f.iter().find(|x| !FORMATS.contains(&x.as_str())) {
        Some(bad) => Err(format!(
            "unknown report format `{bad}` (use {})",
            FORMATS.join(",")
        )),
        None => Ok(f),
    }
}

/// `report`: events.jsonl -> the report files; exit code as `run` would have given.
pub fn report(a: &ReportArgs) -> i32 {
    let fmts = match formats(&a.report) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    let rebuilt = std::fs::read_to_string(&a.events)
        .map_err(|e| format!("{}: {e}", a.events.display()))
        .and_then(|t| events::rebuild(&t).map_err(|e| format!("{}: {e}", a.events.display())));
    let report = match rebuilt {
        Ok(r) => r,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    let out = a.out.clone().unwrap_or_else(|| {
        a.events
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ".".into())
    });
    if let Err(e) = std::fs::create_dir_all(&out)
        .map_err(|e| e.to_string())
        .and_then(|_| write_reports(&report, &out, &fmts))
    {
        eprintln!("oci-conform: {e}");
        return EXIT_ERROR;
    }
    eprintln!(
        "{} result(s); reports in {}",
        report.results.len(),
        out.display()
    );
    close(&report, &Judge::new(&a.judge))
}

pub fn run(a: &RunArgs) -> i32 {
    let formats = match formats(&a.report) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    let mut runtimes = Vec::new();
    for spec in &a.runtimes {
        match RuntimeBin::parse(spec) {
            Ok(r) => runtimes.push(r),
            Err(e) => {
                eprintln!("oci-conform: --runtime: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let judge = Judge::new(&a.judge);
    let names: Vec<&str> = runtimes.iter().map(|r| r.name.as_str()).collect();
    if let Some(bad) = judge.unknown(&names).first() {
        eprintln!("oci-conform: --judge {bad}: no --runtime of that name");
        return EXIT_USAGE;
    }
    let filter = match Filter::parse(a.filter.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("oci-conform: --filter: {e}");
            return EXIT_USAGE;
        }
    };
    let Some((loaded, errors)) = load_inputs(&a.scenarios) else {
        return EXIT_USAGE;
    };
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!(
            "oci-conform: {} scenario file(s) do not parse; fix them (see `oci-conform lint`)",
            errors.len()
        );
        return EXIT_USAGE;
    }
    let mut ids = std::collections::BTreeSet::new();
    if let Some(dup) = loaded.iter().find(|l| !ids.insert(l.scenario.id.clone())) {
        eprintln!(
            "oci-conform: duplicate scenario id `{}` ({})",
            dup.scenario.id,
            dup.path.display()
        );
        return EXIT_USAGE;
    }
    let mut selected: Vec<_> = loaded
        .into_iter()
        .filter(|l| filter.matches(&l.scenario))
        .collect();
    if selected.is_empty() {
        eprintln!("oci-conform: the selection is empty");
        return EXIT_USAGE;
    }
    selected.sort_by(|x, y| x.scenario.id.cmp(&y.scenario.id));
    let opts = Options {
        runtimes,
        out: a.out.clone(),
        work_dir: a.work_dir.clone(),
        jobs: a.jobs.max(1),
        seed: a.seed,
        keep: match a.keep {
            CliKeep::Always => Keep::Always,
            CliKeep::Fail => Keep::Fail,
            CliKeep::Never => Keep::Never,
        },
        probe: a.probe.clone(),
        update_snapshots: a.update_snapshots,
        suite_dir: a
            .suite_dir
            .clone()
            .unwrap_or_else(|| find_suite_dir(&a.scenarios)),
        step_timeout: Duration::from_secs(a.step_timeout.max(1)),
        judge: judge.clone(),
        progress: a.progress,
    };
    let report = match runner::run(&opts, &selected, HostFacts::probe()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return e.exit_code();
        }
    };
    if let Err(e) = write_reports(&report, &a.out, &formats) {
        eprintln!("oci-conform: {e}");
        return EXIT_ERROR;
    }
    eprintln!(
        "reports in {} ({} ms total)",
        a.out.display(),
        report.duration_ms
    );
    close(&report, &judge)
}

/// The closing lines (one per runtime, saying whether it is judged) and the exit code that
/// follows from the judged runtimes' results.
fn close(report: &Report, judge: &Judge) -> i32 {
    for line in report.closing_lines(judge) {
        eprintln!("{line}");
    }
    let code = report.exit_code_for(judge);
    let why = match code {
        EXIT_OK => "ok: no judged runtime failed",
        EXIT_FAIL => "FAIL: a judged runtime FAILed or XPASSed",
        _ => "ERROR: a judged runtime's scenario could not be judged (harness error)",
    };
    eprintln!("oci-conform: exit {code}, {why}");
    code
}
