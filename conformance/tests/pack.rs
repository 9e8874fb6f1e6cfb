//! The whole scenario pack through the `oci-conform` binary against runc, on whatever host
//! this is: `#[ignore = "needs root and runc"]`; run with `-- --include-ignored`, and with
//! requested without root, runc or the static probe it fails (`common::require`).

mod common;

use common::{Need, RUNC};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn run_suite(suite: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oci-conform"))
        .args(["run", "--runtime", &format!("runc={RUNC}"), "--out"])
        .arg(out)
        .args(extra)
        .arg(suite)
        .output()
        .expect("oci-conform runs")
}

fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report.json"))
        .expect("json")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What a FAIL looks like when the host lacks the kernel interface a step needs: that is a
/// `requires` the scenario should declare (it would SKIP), not a finding about the runtime.
fn missing_interface(result: &Value) -> bool {
    let mut text = result["reason"].as_str().unwrap_or("").to_lowercase();
    for step in result["steps"].as_array().into_iter().flatten() {
        text.push_str(
            &step["evidence"]["stderr"]
                .as_str()
                .unwrap_or("")
                .to_lowercase(),
        );
    }
    text.contains("does not exist for the container")
        || (text.contains("/sys/fs/cgroup") && text.contains("no such file"))
}

/// The whole pack against runc, on whatever host this is: every non-PASS has a reason; no
/// FAIL is a missing kernel interface (a `requires` should have skipped it); every FAIL or
/// ERROR that remains is a flake runc's expectations list with evidence; nothing is XPASS.
#[test]
#[ignore = "needs root and runc"]
fn whole_pack_on_runc_every_non_pass_is_explained() {
    common::require(
        "whole_pack_on_runc_every_non_pass_is_explained",
        &[Need::Root, Need::Runc, Need::Probe],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let pack = root.join("scenarios");
    let probe = root.join("target/x86_64-unknown-linux-gnu/release/oci-probe");
    assert!(pack.is_dir(), "no scenarios/ beside the crate");
    assert!(
        probe.is_file(),
        "build the static probe first ({})",
        probe.display()
    );
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
    let status = |x: &Value| x["status"].as_str().unwrap_or("").to_string();
    for x in results.iter().filter(|x| status(x) != "PASS") {
        assert!(
            x["reason"].as_str().is_some_and(|s| !s.trim().is_empty()),
            "a non-PASS without a reason: {x}"
        );
    }
    let unexplained: Vec<String> = results
        .iter()
        .filter(|x| matches!(status(x).as_str(), "FAIL" | "ERROR" | "XPASS"))
        .filter(|x| {
            status(x) == "XPASS"
                || missing_interface(x)
                || !x["reason"]
                    .as_str()
                    .unwrap_or("")
                    .contains("[known flake of runc:")
        })
        .map(|x| format!("{} {}: {}", status(x), x["id"], x["reason"]))
        .collect();
    assert!(
        unexplained.is_empty(),
        "runc results that no requires and no expectations entry explain:\n{}",
        unexplained.join("\n")
    );
    let worst = results
        .iter()
        .map(|x| match status(x).as_str() {
            "ERROR" => 2,
            "FAIL" | "XPASS" => 1,
            _ => 0,
        })
        .max();
    assert_eq!(o.status.code(), worst, "{}", stderr(&o));
}
