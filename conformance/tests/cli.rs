//! End-to-end tests through the `oci-conform` binary. Tests that need root and runc print
//! `SKIP: reason` and return when the host lacks them; every run writes into its own temp
//! directory and the runner's teardown removes containers, cgroups and mounts it created.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RUNC: &str = "/usr/sbin/runc";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oci-conform"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
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

#[test]
fn fixtures_pass_on_runc_and_reports_say_so_or_skip() {
    if skip_unless_root_and_runc("fixtures_pass_on_runc_and_reports_say_so") {
        return;
    }
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
fn broken_scenario_fails_run_and_gate_or_skip() {
    if skip_unless_root_and_runc("broken_scenario_fails_run_and_gate") {
        return;
    }
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
    let g = bin()
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
    // And the other way round the gate passes (FAIL -> PASS is a fix, not a regression).
    let g = bin()
        .args(["gate", "--baseline"])
        .arg(bad.path().join("report.json"))
        .arg(good.path().join("report.json"))
        .output()
        .unwrap();
    assert_eq!(
        g.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&g.stdout)
    );
}

/// A fake runtime: `state` prints garbage and `start` hangs. No root needed.
fn fake_runtime(dir: &Path) -> PathBuf {
    let p = dir.join("fake-runtime");
    let script = "#!/bin/sh\n\
        for a in \"$@\"; do case \"$a\" in\n\
          state) echo 'this is not json'; exit 0;;\n\
          start) exec sleep 30;;\n\
          features|--version) echo '{}'; exit 0;;\n\
        esac; done\n\
        exit 0\n";
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

fn write_scenario(dir: &Path, name: &str, steps: &str) -> PathBuf {
    let p = dir.join(name);
    let text = format!(
        "schema: oci-conform/v1\nid: fake.{}\ntitle: t\nspec: [{{ ref: runtime.md#state, level: MUST }}]\n\
         bundle: {{ base: busybox }}\nsteps:\n{steps}",
        name.trim_end_matches(".yaml")
    );
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn garbage_state_fails_and_hung_runtime_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = fake_runtime(tmp.path());
    let suite = tmp.path().join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    let garbage = write_scenario(&suite, "garbage.yaml", "  - { op: create }\n  - { op: state, expect: { json: { subset: { status: created } } } }\n");
    let out = tmp.path().join("out1");
    let o = bin()
        .args(["run", "--runtime"])
        .arg(format!("fake={}", fake.display()))
        .arg("--out")
        .arg(&out)
        .arg(&garbage)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = report(&out);
    assert!(
        r["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("stdout is not JSON"),
        "{}",
        r["results"][0]
    );

    let hang = write_scenario(
        &suite,
        "hang.yaml",
        "  - { op: create }\n  - { op: start, timeout: 1s }\n",
    );
    let out = tmp.path().join("out2");
    let start = std::time::Instant::now();
    let o = bin()
        .args(["run", "--runtime"])
        .arg(format!("fake={}", fake.display()))
        .arg("--out")
        .arg(&out)
        .arg(&hang)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        start.elapsed().as_secs() < 20,
        "the deadline must stop a hanging runtime"
    );
    let r = report(&out);
    assert_eq!(r["results"][0]["status"], "ERROR");
    assert!(
        r["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("hung runtime"),
        "{}",
        r["results"][0]
    );
}

#[test]
fn bad_input_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    // A runtime binary that does not exist.
    let o = bin()
        .args(["run", "--runtime", "nope=/nonexistent/runtime", "--out"])
        .arg(tmp.path().join("o"))
        .arg(fixtures().join("suite"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("runtime `nope`: /nonexistent/runtime is not an executable file"),
        "{}",
        stderr(&o)
    );
    // A malformed scenario: file:line:column in lint and in run.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "schema: oci-conform/v1\nid: a.b\ntitle: t\nspec: []\nbundle: {}\nsteps:\n  - { op: start, colour: red }\n").unwrap();
    let o = bin().arg("lint").arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("bad.yaml:7:5: steps[0]: unknown field `colour`"),
        "{}",
        stderr(&o)
    );
    let o = bin()
        .args(["run", "--runtime", &format!("runc={RUNC}"), "--out"])
        .arg(tmp.path().join("o"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    // An empty selection.
    let o = bin()
        .args([
            "run",
            "--runtime",
            "sh=/bin/sh",
            "--filter",
            "tag:nothing-has-this",
            "--out",
        ])
        .arg(tmp.path().join("o"))
        .arg(fixtures().join("suite"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("selection is empty"));
}

#[test]
fn lint_and_schema_and_list() {
    let o = bin()
        .arg("lint")
        .arg(fixtures().join("suite"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = bin().arg("schema").output().unwrap();
    let schema: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["properties"]["schema"]["const"], "oci-conform/v1");
    let o = bin()
        .args(["list", "--json", "--filter", "tag:hooks"])
        .arg(fixtures().join("suite"))
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "lifecycle.hook-prestart");
}

fn copy_dir(from: &Path, to: &Path) {
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

#[test]
fn snapshots_are_compared_and_written_only_when_asked_or_skip() {
    if skip_unless_root_and_runc("snapshots_are_compared_and_written_only_when_asked_or_skip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("scenarios");
    copy_dir(&fixtures().join("suite"), &suite);
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

/// `read_file` with `within` re-reads until the expectation holds; without it, one look.
/// The fake runtime writes the file half a second after `raw later PATH` returns, as a
/// runtime's asynchronous hook would.
#[test]
fn read_file_within_waits_for_late_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("late-runtime");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncase \"$1\" in\n  later) (sleep 0.5; echo done > \"$2\") & exit 0;;\n  \
         features|--version) echo '{}'; exit 0;;\nesac\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let suite = tmp.path().join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    let steps = |within: &str| {
        format!(
            "  - {{ op: raw, global_flags: false, args: [later, \"{{{{scratch}}}}/f\"] }}\n  \
             - {{ op: read_file, path: \"{{{{scratch}}}}/f\",{within} expect: {{ content: \"done\\n\" }} }}\n"
        )
    };
    for (name, within, code) in [("waits.yaml", " within: 10s,", 0), ("once.yaml", "", 1)] {
        let sc = write_scenario(&suite, name, &steps(within));
        let out = tmp.path().join(name);
        let o = bin()
            .args(["run", "--runtime"])
            .arg(format!("late={}", fake.display()))
            .arg("--out")
            .arg(&out)
            .arg(&sc)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(code), "{name}: {}", stderr(&o));
        if code == 1 {
            let r = report(&out);
            assert!(
                r["results"][0]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("cannot read"),
                "{}",
                r["results"][0]
            );
        }
    }
}
