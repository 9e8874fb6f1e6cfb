//! oci-conform against deliberately broken runtimes (wrappers around runc): the spec violation
//! each one commits must show up as a FAIL of that runtime, never as a PASS or as a harness
//! ERROR. They need root, runc and the static probe (see `common::require`).

mod common;

use common::{pack, probe, report, run_with, script, stderr, Need, RUNC};
use serde_json::Value;

fn result<'a>(r: &'a Value, runtime: &str) -> &'a Value {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["runtime"] == runtime)
        .unwrap_or_else(|| panic!("no result for {runtime}: {r}"))
}

/// `delete` is a no-op: the container stays listed and its state directory stays behind.
/// `lifecycle.delete-removes-container` sees it, so the result is FAIL (with the leak in the
/// reason), not the ERROR a teardown leak alone gives.
#[test]
#[ignore = "needs root and runc"]
fn a_delete_that_keeps_the_state_is_a_fail() {
    common::require(
        "a_delete_that_keeps_the_state_is_a_fail",
        &[Need::Root, Need::Runc, Need::Probe],
    );
    let tmp = tempfile::tempdir().unwrap();
    let rt = script(
        tmp.path(),
        "noop-delete",
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = delete ] && exit 0; done\nexec {RUNC} \"$@\"\n"
        ),
    );
    let out = tmp.path().join("out");
    let o = run_with(
        &format!("noop-delete={}", rt.display()),
        &pack(),
        &out,
        &[
            "--filter",
            "id:lifecycle.delete-removes-container",
            "--probe",
            probe().to_str().unwrap(),
        ],
    );
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&out);
    let res = result(&r, "noop-delete");
    assert_eq!(res["status"], "FAIL", "{res}");
    let reason = res["reason"].as_str().unwrap();
    assert!(reason.contains("leak after teardown"), "{reason}");
}

/// A runtime that copies its whole environment into the container, while oci-conform itself
/// runs under `env -i`: only the canary oci-conform plants in every runtime command's
/// environment gives the leak away. runc, beside it, passes.
#[test]
#[ignore = "needs root and runc"]
fn a_runtime_leaking_its_environment_fails_under_env_i() {
    common::require(
        "a_runtime_leaking_its_environment_fails_under_env_i",
        &[
            Need::Root,
            Need::Runc,
            Need::Probe,
            Need::Tool("/usr/bin/jq"),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    // Appends its environment to process.env of the bundle before runc creates the container.
    let rt = script(
        tmp.path(),
        "leaky",
        &format!(
            "#!/bin/sh\nprev=\nfor a in \"$@\"; do\n  if [ \"$prev\" = --bundle ]; then\n    \
             c=\"$a/config.json\"\n    \
             /usr/bin/env | /usr/bin/jq -R . | /usr/bin/jq -s . > \"$c.env\"\n    \
             /usr/bin/jq --slurpfile e \"$c.env\" '.process.env += $e[0]' \"$c\" > \"$c.new\" && \
             /bin/mv \"$c.new\" \"$c\"\n  fi\n  prev=$a\ndone\nexec {RUNC} \"$@\"\n"
        ),
    );
    let out = tmp.path().join("out");
    let o = std::process::Command::new("/usr/bin/env")
        .arg("-i")
        .arg(env!("CARGO_BIN_EXE_oci-conform"))
        .args(["run", "--runtime", &format!("runc={RUNC}"), "--runtime"])
        .arg(format!("leaky={}", rt.display()))
        .args([
            "--filter",
            "id:process.env-not-leaked-from-runtime",
            "--probe",
        ])
        .arg(probe())
        .arg("--out")
        .arg(&out)
        .arg(pack())
        .output()
        .unwrap();
    let r = report(&out);
    assert_eq!(result(&r, "runc")["status"], "PASS", "{}", stderr(&o));
    let leaky = result(&r, "leaky");
    assert_eq!(leaky["status"], "FAIL", "{leaky}");
    let evidence = leaky["steps"][0]["evidence"]["stdout"].as_str().unwrap();
    assert!(evidence.contains("OCI_CONFORM_CANARY="), "{evidence}");
}
