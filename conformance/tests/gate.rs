//! `oci-conform gate` and `report --judge` through the binary: a gate that compares nothing
//! fails, only judged runtimes gate, and exit codes say which runtime broke what. No root
//! needed: reports and event logs are written by hand.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oci-conform"))
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn result(rt: &str, id: &str, status: &str) -> Value {
    json!({"runtime": rt, "id": id, "title": "", "path": "", "spec": [], "level": "MUST",
           "tags": [], "status": status, "duration_ms": 1})
}

fn write_report(path: &Path, results: Vec<Value>) {
    let r = json!({"schema": "oci-conform/report/v1", "started_unix": 0, "duration_ms": 1,
                   "host": null, "runtimes": [], "results": results, "summary": {}});
    std::fs::write(path, r.to_string()).unwrap();
}

fn gate(base: &Path, now: &Path, judge: &[&str]) -> Output {
    let mut c = bin();
    c.arg("gate");
    for j in judge {
        c.args(["--judge", j]);
    }
    c.arg("--baseline").arg(base).arg(now).output().unwrap()
}

#[test]
fn a_gate_that_compares_nothing_fails() {
    let t = tempfile::tempdir().unwrap();
    let (base, now) = (t.path().join("base.json"), t.path().join("now.json"));
    write_report(&base, vec![result("runc", "a.a", "PASS")]);
    write_report(&now, vec![result("crun", "a.a", "PASS")]);
    let o = gate(&base, &now, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("MISSING: runc"), "{}", out(&o));
    assert!(!out(&o).contains("gate: ok"), "{}", out(&o));
}

#[test]
fn only_judged_runtimes_gate() {
    let t = tempfile::tempdir().unwrap();
    let (base, now) = (t.path().join("base.json"), t.path().join("now.json"));
    write_report(
        &base,
        vec![
            result("runc", "a.a", "PASS"),
            result("ferrun", "a.a", "PASS"),
        ],
    );
    write_report(
        &now,
        vec![
            result("runc", "a.a", "ERROR"),
            result("ferrun", "a.a", "PASS"),
        ],
    );
    let o = gate(&base, &now, &["ferrun"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("reference (not judged): runc: a.a: PASS -> ERROR"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("gate: ok (1 judged baseline PASS(es) compared)"),
        "{}",
        out(&o)
    );
    let o = gate(&base, &now, &["runc"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("REGRESSION: runc: a.a: PASS -> ERROR"));
    // Judging a runtime the baseline does not hold compares nothing.
    let o = gate(&base, &now, &["crun"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    // Nor does a baseline where the judged runtime never passed.
    write_report(&base, vec![result("ferrun", "a.a", "SKIP")]);
    let o = gate(&base, &now, &["ferrun"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
}

#[test]
fn report_exit_code_follows_the_judged_runtime() {
    let t = tempfile::tempdir().unwrap();
    let events = t.path().join("events.jsonl");
    let lines = [
        json!({"event": "run_start", "seed": null, "total": 2,
               "runtimes": [{"name": "runc", "path": "/r", "version": ""},
                            {"name": "ferrun", "path": "/f", "version": ""}], "host": {}}),
        json!({"event": "result", "result": result("runc", "a.a", "FAIL")}),
        json!({"event": "result", "result": result("ferrun", "a.a", "PASS")}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&events, text).unwrap();
    let run = |judge: &[&str]| {
        let mut c = bin();
        c.args(["report", "--report", "json"]);
        for j in judge {
            c.args(["--judge", j]);
        }
        c.arg(&events).output().unwrap()
    };
    let o = run(&["ferrun"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains(
        "runc: 0 passed, 1 failed, 0 errors, 0 skipped, 0 unsupported, 0 xfail, 0 xpass (reference, not judged)"
    ), "{}", out(&o));
    assert!(
        out(&o).contains("ferrun: 1 passed, 0 failed"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("(judged)"), "{}", out(&o));
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
}

/// A fake runtime whose `state` says `created`; with `flaky`, the first container's `state`
/// prints garbage instead (DIR/NAME.creates counts `create` calls), every later one is fine.
fn fake_runtime(dir: &Path, name: &str, flaky: bool) -> std::path::PathBuf {
    let p = dir.join(name);
    let count = dir.join(format!("{name}.creates"));
    let first_bad = if flaky {
        format!(
            "[ \"$(wc -l <{})\" = 1 ] && {{ echo 'not json'; exit 0; }}",
            count.display()
        )
    } else {
        String::new()
    };
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in\n\
           create) echo x >>{c}; exit 0;;\n\
           state) {first_bad}\n\
             echo '{{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"created\",\"pid\":0,\"bundle\":\"/\"}}'; exit 0;;\n\
           features|--version) echo '{{}}'; exit 0;;\n\
         esac; done\nexit 0\n",
        c = count.display()
    );
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

#[test]
fn a_reference_runtime_failure_is_retried_once_and_never_fails_the_run() {
    let t = tempfile::tempdir().unwrap();
    let good = fake_runtime(t.path(), "good", false);
    let flaky = fake_runtime(t.path(), "flaky", true);
    let scenario = t.path().join("state.yaml");
    std::fs::write(
        &scenario,
        "schema: oci-conform/v1\nid: fake.state\ntitle: t\n\
         spec: [{ ref: runtime.md#state, level: MUST }]\nbundle: { base: busybox }\nsteps:\n\
         \x20 - { op: create }\n\
         \x20 - { op: state, expect: { json: { subset: { status: created } } } }\n",
    )
    .unwrap();
    let run = |judge: &str, out: &Path| {
        bin()
            .args(["run", "--report", "json", "--judge", judge])
            .arg("--runtime")
            .arg(format!("good={}", good.display()))
            .arg("--runtime")
            .arg(format!("flaky={}", flaky.display()))
            .arg("--out")
            .arg(out)
            .arg(&scenario)
            .output()
            .unwrap()
    };
    let dir = t.path().join("out");
    let o = run("good", &dir);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let flaky_result = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["runtime"] == "flaky")
        .unwrap();
    assert_eq!(flaky_result["status"], "PASS", "{flaky_result}");
    let why = flaky_result["reason"].as_str().unwrap();
    assert!(
        why.starts_with("retried once: first FAIL (") && why.ends_with("then PASS"),
        "{why}"
    );
    assert!(
        out(&o).contains("(reference, not judged; 1 retried)"),
        "{}",
        out(&o)
    );
    // Judged, the same first failure is not retried and fails the run.
    std::fs::remove_file(t.path().join("flaky.creates")).unwrap();
    let dir = t.path().join("out2");
    let o = run("good,flaky", &dir);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    // An unknown --judge name is a usage error, not a run that judges nothing.
    let o = run("nosuch", &t.path().join("out3"));
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
}
