//! End-to-end tests through the `oci-conform` binary that need neither root nor runc: fake
//! runtimes (garbage `state`, a hanging `start`, late writes), bad input, lint, schema, list.

mod common;

use common::{bin, fixtures, report, run_with, script, stderr, write_scenario, RUNC};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fake runtime: `state` prints garbage and `start` hangs. No root needed.
fn fake_runtime(dir: &Path) -> PathBuf {
    let text = "#!/bin/sh\n\
        for a in \"$@\"; do case \"$a\" in\n\
          state) echo 'this is not json'; exit 0;;\n\
          start) exec sleep 30;;\n\
          features|--version) echo '{}'; exit 0;;\n\
        esac; done\n\
        exit 0\n";
    script(dir, "fake-runtime", text)
}

#[test]
fn garbage_state_fails_and_hung_runtime_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = fake_runtime(tmp.path());
    let suite = tmp.path().join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    let garbage = write_scenario(&suite, "garbage.yaml", "  - { op: create }\n  - { op: state, expect: { json: { subset: { status: created } } } }\n");
    let out = tmp.path().join("out1");
    let o = run_with(&format!("fake={}", fake.display()), &garbage, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_first_reason(&out, "stdout is not JSON");

    let hang = write_scenario(
        &suite,
        "hang.yaml",
        "  - { op: create }\n  - { op: start, timeout: 1s }\n",
    );
    let out = tmp.path().join("out2");
    let start = std::time::Instant::now();
    let o = run_with(&format!("fake={}", fake.display()), &hang, &out, &[]);
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
    let o = run_with(
        "nope=/nonexistent/runtime",
        &fixtures().join("suite"),
        &tmp.path().join("o"),
        &[],
    );
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

/// `read_file` with `within` re-reads until the expectation holds; without it, one look.
/// The fake runtime writes the file half a second after `raw later PATH` returns, as a
/// runtime's asynchronous hook would.
#[test]
fn read_file_within_waits_for_late_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = script(
        tmp.path(),
        "late-runtime",
        "#!/bin/sh\ncase \"$1\" in\n  later) (sleep 0.5; echo done > \"$2\") & exit 0;;\n  \
         features|--version) echo '{}'; exit 0;;\nesac\nexit 0\n",
    );
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
        let o = run_with(&format!("late={}", fake.display()), &sc, &out, &[]);
        assert_eq!(o.status.code(), Some(code), "{name}: {}", stderr(&o));
        if code == 1 {
            assert_first_reason(&out, "cannot read");
        }
    }
}

/// What used to fail only at run time is refused by `lint` and by `run`'s load, each at the
/// line and column of the offending text.
#[test]
fn lint_and_run_refuse_what_would_fail_at_run_time() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("scenarios");
    std::fs::create_dir_all(suite.join("expectations")).unwrap();
    let cases = [
        (
            "template.yaml",
            "  - { op: raw, args: [state, \"{{nosuch}}\"] }\n",
            "template.yaml:7:31: steps[0]: unknown template `{{nosuch}}`",
        ),
        (
            "exit.yaml",
            "  - op: state\n    expect: { exit: \"zero\" }\n",
            "exit.yaml:8:15: steps[0]: expect.exit: \"zero\" is not a number",
        ),
        (
            "tty.yaml",
            "  - { op: create }\n  - op: exec\n    args: [ls]\n    tty: true\n",
            "tty.yaml:10:5: steps[1]: exec tty: true needs detach: true",
        ),
    ];
    for (name, steps, want) in cases {
        let f = write_scenario(&suite, name, steps);
        let o = bin().arg("lint").arg(&f).output().unwrap();
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        let o = run_with("sh=/bin/sh", &f, &tmp.path().join("o"), &[]);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "run {name}: {}", stderr(&o));
        std::fs::remove_file(&f).unwrap();
    }
    // A top-level value serde_yaml placed at 1:1 is placed at the value.
    let f = write_scenario(&suite, "timeout.yaml", "  - { op: state }\n");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{text}timeout: 5 parsecs\n")).unwrap();
    let o = bin().arg("lint").arg(&f).output().unwrap();
    assert!(
        stderr(&o).contains("timeout.yaml:8:10: invalid duration `5 parsecs`"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&f, text).unwrap();
    // An expectations entry for no scenario of the suite.
    let x = suite.join("expectations/sh.yaml");
    std::fs::write(
        &x,
        "xfail:\n  - id: fake.timeout\n    reason: ok\n  - id: fake.typo\n    reason: stale\n",
    )
    .unwrap();
    let want = format!(
        "{}:4:9: xfail `fake.typo` matches no scenario of the suite",
        x.display()
    );
    let o = bin().arg("lint").arg(&suite).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    let o = run_with("sh=/bin/sh", &f, &tmp.path().join("o"), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
}

/// `oci-conform list | head`: a reader that goes away is no reason to panic.
#[test]
fn output_commands_survive_a_closed_pipe() {
    for args in [
        vec![
            "list".to_string(),
            fixtures().join("suite").display().to_string(),
        ],
        vec!["schema".to_string()],
        vec![
            "lint".to_string(),
            fixtures().join("suite").display().to_string(),
        ],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = bin().args(&args).stdout(writer).output().unwrap();
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
}

/// The first result of the report in `out` has a reason containing `text`.
fn assert_first_reason(out: &Path, text: &str) {
    let first = &report(out)["results"][0];
    assert!(
        first["reason"].as_str().is_some_and(|r| r.contains(text)),
        "{first}"
    );
}

/// checkpoint and restore steps become runc's command lines, a restore under a new id writes
/// the pid file the runner follows, and teardown kills and deletes the restored container too.
#[test]
fn checkpoint_restore_steps_and_teardown_of_a_new_id() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("argv.log");
    // Logs each command line; `restore` writes its --pid-file (the pid of a live sleep, which
    // the test kills at the end) and `state` answers for any id.
    let text = format!(
        "#!/bin/sh\n\
         echo \"$*\" >>{log}\n\
         pf=; prev=\n\
         for a in \"$@\"; do [ \"$prev\" = --pid-file ] && pf=$a; prev=$a; done\n\
         for a in \"$@\"; do case \"$a\" in\n\
           restore) sleep 30 </dev/null >/dev/null 2>&1 & echo $! >\"$pf\"; echo $! >>{log}.pids; exit 0;;\n\
           state) echo '{{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"running\",\"pid\":0,\"bundle\":\"/b\"}}'; exit 0;;\n\
           features|--version) echo '{{}}'; exit 0;;\n\
         esac; done\n\
         exit 0\n",
        log = log.display()
    );
    let fake = script(tmp.path(), "fake-criu-runtime", &text);
    let suite = tmp.path().join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    let steps = "  - { op: create }\n\
        \x20 - { op: checkpoint, image_path: \"{{images}}/final\", parent_path: ../pre, leave_running: true, manage_cgroups_mode: soft, args: [--x] }\n\
        \x20 - { op: restore, id: \"{{id}}-new\", image_path: \"{{images}}/final\", tcp_established: true }\n\
        \x20 - { op: state, id: \"{{id}}-new\" }\n\
        \x20 - { op: pause, id: \"{{id}}-new\" }\n";
    let sc = write_scenario(&suite, "cr.yaml", steps);
    let out = tmp.path().join("out");
    let o = run_with(&format!("fake={}", fake.display()), &sc, &out, &[]);
    let argv = std::fs::read_to_string(&log).unwrap();
    for pid in std::fs::read_to_string(format!("{}.pids", log.display()))
        .unwrap_or_default()
        .lines()
    {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    assert_eq!(o.status.code(), Some(0), "{}\n{argv}", stderr(&o));
    let line = |verb: &str, id: &str| {
        argv.lines()
            .find(|l| l.contains(&format!(" {verb} ")) && l.ends_with(&format!(" {id}")))
            .unwrap_or_else(|| panic!("no `{verb} ... {id}` in:\n{argv}"))
            .to_string()
    };
    let c = line("checkpoint", "fake.cr");
    assert!(
        c.contains(".images/final --parent-path ../pre --leave-running --manage-cgroups-mode soft --x fake.cr"),
        "{c}"
    );
    let r = line("restore", "fake.cr-new");
    assert!(r.contains(" --bundle "), "{r}");
    assert!(r.contains(".images/final --detach --pid-file "), "{r}");
    assert!(r.contains("init.pid --tcp-established fake.cr-new"), "{r}");
    line("state", "fake.cr-new");
    line("pause", "fake.cr-new");
    // Teardown: both containers, each killed and deleted.
    assert!(argv.contains("kill fake.cr-new KILL"), "{argv}");
    assert!(argv.contains("delete --force fake.cr-new"), "{argv}");
    assert!(argv.contains("delete --force fake.cr\n"), "{argv}");
}

/// `run`'s stderr through a pipe is the plain line per result, without escape codes; with
/// `--progress always` the status line is drawn, and erased before the closing lines.
#[test]
fn progress_line_only_where_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = fake_runtime(tmp.path());
    let scenario = write_scenario(
        tmp.path(),
        "garbage.yaml",
        "  - { op: create }\n  - { op: state, expect: { json: { subset: { status: created } } } }\n",
    );
    let runtime = format!("fake={}", fake.display());
    let plain = run_with(&runtime, &scenario, &tmp.path().join("o1"), &[]);
    let text = stderr(&plain);
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    assert!(
        text.starts_with("[1/1] FAIL        fake: fake.garbage ("),
        "{text}"
    );
    let drawn = run_with(
        &runtime,
        &scenario,
        &tmp.path().join("o2"),
        &["--progress", "always"],
    );
    let text = stderr(&drawn);
    let (progress, closing) = text.split_once("reports in ").expect("closing lines");
    assert!(
        progress.starts_with("\r\x1b[K[1/1] FAIL        fake: fake.garbage (")
            && progress.contains("\n[1/1] 0 pass, 1 fail | ")
            && progress.ends_with("\r\x1b[K"),
        "{progress:?}"
    );
    assert!(!closing.contains('\x1b'), "{closing:?}");
}
