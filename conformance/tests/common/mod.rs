//! Shared helpers of the oci-conform integration tests: the binary, fixtures, reports, fake
//! runtimes, and the one gate for tests that need root and host tools.
//!
//! Such tests are `#[ignore = "needs root and runc"]`, so a plain `cargo test` counts them as
//! ignored rather than passed. Run with `-- --include-ignored`; [`require`] then checks the
//! prerequisites, and a missing one FAILS the test: it was asked for, so returning early would
//! count as a pass that tested nothing. CI sets `FERRUN_ROOT_TESTS=1`, which the message names.

#![allow(dead_code)] // each test file uses its own part of this module

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const RUNC: &str = "/usr/sbin/runc";

/// A host prerequisite of an ignored test.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    Root,
    Runc,
    /// The static oci-probe of this workspace (`base: probe` scenarios).
    Probe,
    /// A program looked up in PATH or by absolute path (`jq`, `python3`).
    Tool(&'static str),
}

fn missing(need: Need) -> Option<String> {
    match need {
        Need::Root => (!nix::unistd::geteuid().is_root()).then(|| "needs root".to_string()),
        Need::Runc => (!Path::new(RUNC).exists()).then(|| format!("{RUNC} is not installed")),
        Need::Probe => (!probe().is_file()).then(|| {
            format!(
                "no static probe at {}: RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build -p oci-probe --release --target x86_64-unknown-linux-gnu",
                probe().display()
            )
        }),
        Need::Tool(t) => {
            let found = if t.starts_with('/') {
                Path::new(t).is_file()
            } else {
                std::env::var_os("PATH").is_some_and(|p| {
                    std::env::split_paths(&p).any(|d| d.join(t).is_file())
                })
            };
            (!found).then(|| format!("{t} is not installed"))
        }
    }
}

/// Panics (the test FAILS) unless every prerequisite holds: the test was requested, and a
/// requested test that returns early would count as a pass that tested nothing.
pub fn require(test: &str, needs: &[Need]) {
    let why: Vec<String> = needs.iter().filter_map(|n| missing(*n)).collect();
    if why.is_empty() {
        return;
    }
    let ci = if std::env::var("FERRUN_ROOT_TESTS").as_deref() == Ok("1") {
        " (FERRUN_ROOT_TESTS=1 requires every root test to run)"
    } else {
        ""
    };
    panic!(
        "{test} was requested, but the host cannot run it: {}{ci}",
        why.join("; ")
    );
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oci-conform"))
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The scenario pack beside this crate.
pub fn pack() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

pub fn probe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/x86_64-unknown-linux-gnu/release/oci-probe")
}

/// `oci-conform run` of `suite` against runc.
pub fn run_suite(suite: &Path, out: &Path, extra: &[&str]) -> Output {
    run_with(&format!("runc={RUNC}"), suite, out, extra)
}

/// `oci-conform run` of `suite` against the runtime `NAME=PATH`.
pub fn run_with(runtime: &str, suite: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["run", "--runtime", runtime, "--out"])
        .arg(out)
        .args(extra)
        .arg(suite)
        .output()
        .expect("oci-conform runs")
}

pub fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report.json"))
        .expect("json")
}

/// A result as report.json holds it: scenario `id` at `scenarios/<id as a path>.yaml`, MUST.
pub fn result_json(rt: &str, id: &str, status: &str, reason: Option<&str>) -> Value {
    let mut r = serde_json::json!({
        "runtime": rt, "id": id, "title": format!("title of {id}"),
        "path": format!("scenarios/{}.yaml", id.replace('.', "/")),
        "spec": [], "level": "MUST", "tags": [], "status": status, "duration_ms": 5
    });
    if let Some(why) = reason {
        r["reason"] = why.into();
    }
    r
}

/// A report.json of the one runtime `rt` holding `results`, at `path`.
pub fn write_report(path: &Path, rt: &str, results: Vec<Value>) {
    let report = serde_json::json!({
        "schema": "oci-conform/report/v1", "started_unix": 0, "duration_ms": 1, "host": null,
        "runtimes": [{"name": rt, "path": "/x", "version": format!("{rt} 1.0")}],
        "results": results, "summary": {}
    });
    std::fs::write(path, report.to_string()).unwrap();
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An executable shell script: a fake or deliberately broken runtime.
pub fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

/// A minimal scenario `fake.<name>` with the given steps (YAML lines, indented by two).
pub fn write_scenario(dir: &Path, name: &str, steps: &str) -> PathBuf {
    let p = dir.join(name);
    let text = format!(
        "schema: oci-conform/v1\nid: fake.{}\ntitle: t\nspec: [{{ ref: runtime.md#state, level: MUST }}]\n\
         bundle: {{ base: busybox }}\nsteps:\n{steps}",
        name.trim_end_matches(".yaml")
    );
    std::fs::write(&p, text).unwrap();
    p
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
