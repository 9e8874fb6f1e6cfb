//! Write ordering and retries of `update` over a hand-built tree (no root needed).

use std::path::PathBuf;

use crate::cgroups::fs::testing::TempFs;
use crate::cgroups::testing::TreeHost;
use crate::cgroups::CgroupError;

fn resources(json: &str) -> oci_spec::runtime::LinuxResources {
    serde_json::from_str(json).expect("resources json")
}

fn read(h: &TreeHost, rel: &str) -> String {
    std::fs::read_to_string(h.p(rel)).expect(rel)
}

/// A pod cgroup with a limit: the kernel refuses the shorter period until the quota is lower.
#[test]
fn period_refused_before_the_quota_is_written_again_after_it() {
    let h = TreeHost::new();
    h.put("cpu/pod/ctr", "cpu.cfs_period_us", "100000");
    let period = h.p("cpu/pod/ctr/cpu.cfs_period_us");
    let fs = TempFs {
        fail_first_write: vec![period.clone()].into(),
        ..TempFs::default()
    };
    let writes = fs.writes.clone();
    let m = h.hybrid_fs("pod/ctr", fs);
    m.update(&resources(r#"{"cpu":{"quota":3000,"period":10000}}"#))
        .expect("retried after the quota");
    let order: Vec<(PathBuf, String)> = writes.borrow().clone();
    let quota = h.p("cpu/pod/ctr/cpu.cfs_quota_us");
    assert_eq!(
        order,
        [(quota, "3000".to_string()), (period, "10000".to_string())]
    );
    assert_eq!(read(&h, "cpu/pod/ctr/cpu.cfs_period_us"), "10000");
}

#[test]
fn a_period_refused_twice_is_an_error_naming_the_field() {
    let h = TreeHost::new();
    h.put("cpu/ctr", "cpu.cfs_period_us", "100000");
    let fs = TempFs {
        fail_writes: vec![h.p("cpu/ctr/cpu.cfs_period_us")],
        ..TempFs::default()
    };
    let m = h.hybrid_fs("ctr", fs);
    let err = m
        .update(&resources(r#"{"cpu":{"quota":3000,"period":10000}}"#))
        .expect_err("refused again");
    assert!(
        err.to_string()
            .starts_with("linux.resources.cpu.period: writing \"10000\""),
        "{err}"
    );
}

#[test]
fn a_period_alone_is_not_retried() {
    let h = TreeHost::new();
    h.put("cpu/ctr", "cpu.cfs_period_us", "100000");
    let fs = TempFs {
        fail_first_write: vec![h.p("cpu/ctr/cpu.cfs_period_us")].into(),
        ..TempFs::default()
    };
    let m = h.hybrid_fs("ctr", fs);
    let err = m
        .update(&resources(r#"{"cpu":{"period":100}}"#))
        .expect_err("EINVAL");
    assert!(matches!(err, CgroupError::Write { .. }), "{err:?}");
}

/// The kernel clamps cpu.shares silently; runc reports the bound it hit.
#[test]
fn clamped_shares_are_an_error_in_runcs_words() {
    struct Clamp(TempFs);
    impl crate::cgroups::fs::CgroupFs for Clamp {
        fn read(&self, p: &std::path::Path) -> std::io::Result<String> {
            self.0.read(p)
        }
        fn write(&self, p: &std::path::Path, v: &str) -> std::io::Result<()> {
            let n: u64 = v.parse().unwrap_or(0);
            self.0.write(p, &n.clamp(2, 262144).to_string())
        }
        fn mkdir(&self, p: &std::path::Path) -> std::io::Result<()> {
            self.0.mkdir(p)
        }
        fn rmdir(&self, p: &std::path::Path) -> std::io::Result<()> {
            self.0.rmdir(p)
        }
        fn exists(&self, p: &std::path::Path) -> bool {
            self.0.exists(p)
        }
        fn subdirs(&self, p: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
            self.0.subdirs(p)
        }
        fn files(&self, p: &std::path::Path) -> std::io::Result<Vec<String>> {
            self.0.files(p)
        }
    }
    let h = TreeHost::new();
    h.put("cpu/ctr", "cpu.shares", "1024");
    let m = crate::cgroups::FsManager::new(
        h.hybrid("ctr").layout().clone(),
        false,
        Box::new(Clamp(TempFs::default())),
        Box::new(crate::cgroups::testing::NoBpf),
    );
    for (asked, msg) in [
        (300000, "the maximum allowed cpu-shares is 262144"),
        (1, "the minimum allowed cpu-shares is 2"),
    ] {
        let err = m
            .update(&resources(&format!(r#"{{"cpu":{{"shares":{asked}}}}}"#)))
            .expect_err("clamped");
        let s = err.to_string();
        assert!(
            s.starts_with(&format!("linux.resources.cpu.shares: {msg}")),
            "{s}"
        );
    }
}
