//! The whole scenario pack through the `oci-conform` binary against runc. The other
//! end-to-end tests live in cli_runc.rs (root and runc), cli_fake.rs (fake runtimes, no root)
//! and broken_runtimes.rs (deliberately broken runtimes), with helpers in common/.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const RUNC: &str = "/usr/sbin/runc";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oci-conform"))
}

fn skip_unless_root_and_runc(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        println!("SKIP: {test}: needs root");
        return true;
    }
    if !Path::new(RUNC).exists() {
        println!("SKIP: {test}: {RUNC} is not installed");
        return true;
    }
    false
}

fn run_suite(suite: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut c = bin();
    c.args(["run", "--runtime", &format!("runc={RUNC}"), "--out"])
        .arg(out)
        .args(extra)
        .arg(suite);
    c.output().expect("oci-conform runs")
}

fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report.json"))
        .expect("json")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The whole pack (when merged beside this crate) against runc: nothing may FAIL, ERROR or
/// XPASS; every listed divergence is XFAIL and every skip has a reason.
#[test]
fn whole_pack_against_runc_or_skip() {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    if !pack.is_dir() {
        println!("SKIP: whole_pack_against_runc: no scenarios/ directory in this checkout");
        return;
    }
    if skip_unless_root_and_runc("whole_pack_against_runc") {
        return;
    }
    let probe = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/x86_64-unknown-linux-gnu/release/oci-probe");
    if !probe.is_file() {
        println!(
            "SKIP: whole_pack_against_runc: build the static probe first ({})",
            probe.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = run_suite(
        &pack,
        tmp.path(),
        &["--jobs", "2", "--probe", probe.to_str().unwrap()],
    );
    let r = report(tmp.path());
    let results = r["results"].as_array().unwrap();
    assert!(
        results.len() >= 120,
        "the pack has {} scenarios",
        results.len()
    );
    let bad: Vec<String> = results
        .iter()
        .filter(|x| matches!(x["status"].as_str(), Some("FAIL" | "ERROR" | "XPASS")))
        .map(|x| format!("{} {}: {}", x["status"], x["id"], x["reason"]))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for x in results
        .iter()
        .filter(|x| matches!(x["status"].as_str(), Some("SKIP" | "XFAIL" | "UNSUPPORTED")))
    {
        assert!(x["reason"].as_str().is_some_and(|s| !s.is_empty()), "{x}");
    }
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
