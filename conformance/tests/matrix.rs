//! `oci-conform matrix` through the binary: runtimes side by side, labelled reports, and the
//! refusal to merge two reports that hold the same runtime. No root needed.

mod common;

use common::{bin, result_json, stderr, write_report};
use serde_json::Value;

#[test]
fn matrix_puts_runtimes_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let rep = |rt: &str, st: &str| {
        serde_json::json!({
            "schema": "oci-conform/report/v1", "started_unix": 0, "duration_ms": 1, "host": null,
            "runtimes": [{"name": rt, "path": "/x", "version": "v"}],
            "results": [
                {"runtime": rt, "id": "a.same", "title": "", "path": "", "spec": [], "level": "MUST",
                 "tags": [], "status": "PASS", "duration_ms": 1},
                {"runtime": rt, "id": "a.differs", "title": "", "path": "", "spec": [], "level": "SHOULD",
                 "tags": [], "status": st, "duration_ms": 1}
            ],
            "summary": {}
        })
    };
    let (a, b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    std::fs::write(&a, rep("runc", "PASS").to_string()).unwrap();
    std::fs::write(&b, rep("crun", "FAIL").to_string()).unwrap();
    let o = bin()
        .args(["matrix", "--only-diverging"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("| level | runc | crun |"), "{md}");
    assert!(
        md.contains("| MUST | 1/1 | 1/1 |") && md.contains("| SHOULD | 1/1 | 0/1 |"),
        "{md}"
    );
    assert!(
        md.contains("| `a.differs` | SHOULD | PASS | FAIL |") && !md.contains("a.same"),
        "{md}"
    );
    let out = tmp.path().join("m");
    let o = bin()
        .args(["matrix", "--out"])
        .arg(&out)
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matrix.json")).unwrap()).unwrap();
    assert_eq!(m["runtimes"], serde_json::json!(["runc", "crun"]));
    assert_eq!(m["rows"].as_array().unwrap().len(), 2);
    // Not a report: usage error.
    let o = bin()
        .arg("matrix")
        .arg(tmp.path().join("nope.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    // The same runtime from two reports (say, two VM profiles) needs labels ...
    let o = bin().arg("matrix").arg(&a).arg(&a).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("column `runc`") && stderr(&o).contains("LABEL=report.json"),
        "{}",
        stderr(&o)
    );
    // ... and with them each report gets its own columns.
    let o = bin()
        .arg("matrix")
        .arg(format!("v2={}", a.display()))
        .arg(format!("v1={}", a.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(md.contains("| level | v2/runc | v1/runc |"), "{md}");
    assert!(md.contains("| PASS | 2 | 2 |"), "{md}");
}

/// `--html` writes the page and prints no Markdown; its links start, by default, from the
/// current directory as seen from the page.
#[test]
fn matrix_html_page_links_from_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    write_report(
        &tmp.path().join("r.json"),
        "runc",
        vec![result_json("runc", "a.x", "FAIL", Some("exit <1>"))],
    );
    let o = bin()
        .current_dir(tmp.path())
        .args(["matrix", "--html", "out/ci/m.html", "r.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let page = std::fs::read_to_string(tmp.path().join("out/ci/m.html")).unwrap();
    assert!(
        page.contains("<td class=\"fail\" title=\"exit &lt;1&gt;\"><a href=\"../../scenarios/a/x.yaml\">FAIL</a>"),
        "{page}"
    );
    let o = bin()
        .args(["matrix", "--link-base", "x/"])
        .arg(tmp.path().join("r.json"))
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "--link-base needs --html");
}
