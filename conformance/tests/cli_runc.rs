//! End-to-end tests through the `oci-conform` binary against runc: the fixtures pass and the
//! reports say so, a broken expectation fails `run` and `gate`, snapshots are compared and
//! written only when asked. They need root and runc (see `common::require`); every run
//! writes into its own temp directory and the runner's teardown removes what it created.

mod common;

use common::{fixtures, report, run_suite, stderr, Need};
use serde_json::Value;
use std::path::Path;

const ROOT_RUNC: &[Need] = &[Need::Root, Need::Runc];

#[test]
#[ignore = "needs root and runc"]
fn fixtures_pass_on_runc_and_reports_say_so() {
    common::require("fixtures_pass_on_runc_and_reports_say_so", ROOT_RUNC);
    let tmp = tempfile::tempdir().unwrap();
    let o = run_suite(&fixtures().join("suite"), tmp.path(), &["--jobs", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(tmp.path());
    assert_eq!(r["schema"], "oci-conform/report/v1");
    assert_eq!(r["runtimes"][0]["name"], "runc");
    let results = r["results"].as_array().unwrap();
    let ids: Vec<&str> = results.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![
            "lifecycle.basic",
            "lifecycle.hook-prestart",
            "lifecycle.pause-update-ps-events",
            "lifecycle.run-detached-quick-exit",
            "lifecycle.run-exit-code",
            "process.terminal-console-socket"
        ]
    );
    for x in results {
        assert_eq!(x["status"], "PASS", "{x}");
    }
    // Every step of the long scenario ran (13 steps, all passed).
    let basic = &results[0];
    assert_eq!(basic["steps"].as_array().unwrap().len(), 13);
    assert!(basic["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["outcome"] == "pass"));
    assert_eq!(r["summary"]["runc"]["PASS"], 6);
    let tap = std::fs::read_to_string(tmp.path().join("report.tap")).unwrap();
    assert!(
        tap.starts_with("TAP version 14\n1..6\nok 1 - runc: lifecycle.basic"),
        "{tap}"
    );
    let junit = std::fs::read_to_string(tmp.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"runc\" tests=\"6\" failures=\"0\" errors=\"0\""),
        "{junit}"
    );
    let events = std::fs::read_to_string(tmp.path().join("events.jsonl")).unwrap();
    let kinds: Vec<String> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("run_start"));
    assert_eq!(kinds.iter().filter(|k| *k == "result").count(), 6);
    assert_eq!(kinds.last().map(String::as_str), Some("run_end"));
    // --keep fail: passing scenarios leave no artifacts or bundles behind.
    assert!(!tmp.path().join("artifacts/runc/lifecycle.basic").exists());
}

#[test]
#[ignore = "needs root and runc"]
fn broken_scenario_fails_run_and_gate() {
    common::require("broken_scenario_fails_run_and_gate", ROOT_RUNC);
    let good = tempfile::tempdir().unwrap();
    let o = run_suite(
        &fixtures().join("suite"),
        good.path(),
        &["--filter", "lifecycle.run-exit-code"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bad = tempfile::tempdir().unwrap();
    let o = run_suite(&fixtures().join("broken"), bad.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a wrong expectation must fail the run: {}",
        stderr(&o)
    );
    let r = report(bad.path());
    let res = &r["results"][0];
    assert_eq!(res["status"], "FAIL");
    assert!(
        res["reason"]
            .as_str()
            .unwrap()
            .contains("exit: expected 4 but got 3"),
        "{res}"
    );
    // The failed step keeps its evidence and the scenario keeps its artifacts.
    let ev = &res["steps"][0]["evidence"];
    assert_eq!(ev["status"], 3);
    assert!(ev["argv"][0].as_str().unwrap().ends_with("runc"));
    assert!(Path::new(res["artifacts"].as_str().unwrap())
        .join("config.json")
        .is_file());
    let g = common::bin()
        .args(["gate", "--baseline"])
        .arg(good.path().join("report.json"))
        .arg(bad.path().join("report.json"))
        .output()
        .unwrap();
    assert_eq!(g.status.code(), Some(1));
    let text = String::from_utf8_lossy(&g.stdout);
    assert!(
        text.contains("REGRESSION: runc: lifecycle.run-exit-code: PASS -> FAIL"),
        "{text}"
    );
    // The other way round FAIL -> PASS is a fix, not a regression; but that baseline has no
    // PASS to hold the current report to, and a gate that compares nothing must not pass.
    let g = common::bin()
        .args(["gate", "--baseline"])
        .arg(bad.path().join("report.json"))
        .arg(good.path().join("report.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&g.stdout);
    assert_eq!(g.status.code(), Some(2), "{text}");
    assert!(
        text.contains("fixed: runc: lifecycle.run-exit-code: FAIL -> PASS"),
        "{text}"
    );
    assert!(text.contains("compares nothing"), "{text}");
}

#[test]
#[ignore = "needs root and runc"]
fn snapshots_are_compared_and_written_only_when_asked() {
    common::require(
        "snapshots_are_compared_and_written_only_when_asked",
        ROOT_RUNC,
    );
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("scenarios");
    common::copy_dir(&fixtures().join("suite"), &suite);
    let snap = suite.join("snapshots/lifecycle.basic__state-created.snap");
    let reviewed = std::fs::read_to_string(&snap).unwrap();
    let filter = ["--filter", "lifecycle.basic"];
    // Missing snapshot: FAIL, and nothing is written.
    std::fs::remove_file(&snap).unwrap();
    let o = run_suite(&suite, &tmp.path().join("o1"), &filter);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(report(&tmp.path().join("o1"))["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("has no file"));
    assert!(!snap.exists());
    // --update-snapshots writes it, and it is the reviewed content.
    let mut args = filter.to_vec();
    args.push("--update-snapshots");
    let o = run_suite(&suite, &tmp.path().join("o2"), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), reviewed);
    // A changed snapshot fails with a diff and is left alone.
    let tampered = reviewed.replace("status: created", "status: running");
    std::fs::write(&snap, &tampered).unwrap();
    let o = run_suite(&suite, &tmp.path().join("o3"), &filter);
    assert_eq!(o.status.code(), Some(1));
    let reason = report(&tmp.path().join("o3"))["results"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("-status: running") && reason.contains("+status: created"),
        "{reason}"
    );
    assert_eq!(std::fs::read_to_string(&snap).unwrap(), tampered);
}
