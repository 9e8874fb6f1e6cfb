//! `ferrun spec` writes a runc-like default config.json (the README's quickstart and
//! scripts/busybox-bundle.sh start with it). Needs no root.

mod support;

use support::{run_watched, WATCHDOG};

fn spec(args: &[&str]) -> (support::Done, serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(support::ferrun_bin());
    cmd.arg("spec").args(args).arg("--bundle").arg(dir.path());
    let done = run_watched(&mut cmd, WATCHDOG);
    let cfg = std::fs::read(dir.path().join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    (done, cfg, dir)
}

#[test]
fn spec_writes_a_default_config() {
    let (done, cfg, _dir) = spec(&[]);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert_eq!(cfg["root"]["path"], "rootfs", "{cfg}");
    assert_eq!(cfg["process"]["args"][0], "sh", "{cfg}");
    let ns = cfg["linux"]["namespaces"].as_array().expect("namespaces");
    assert!(ns.iter().any(|n| n["type"] == "mount"));
}

#[test]
fn spec_rootless_adds_a_user_namespace() {
    let (done, cfg, _dir) = spec(&["--rootless"]);
    assert_eq!(done.code, Some(0), "{done:?}");
    let ns = cfg["linux"]["namespaces"].as_array().expect("namespaces");
    assert!(ns.iter().any(|n| n["type"] == "user"), "{cfg}");
    assert!(cfg["linux"]["uidMappings"].is_array(), "{cfg}");
}
