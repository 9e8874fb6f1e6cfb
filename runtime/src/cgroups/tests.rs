//! Manager behaviour against fake hosts laid out in a tempdir (no root needed).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::devices::loader::DeviceFilterInstaller;
use super::fs::testing::TempFs;
use super::*;
use crate::sys::bpf::BpfInsn;

type Writes = Rc<RefCell<Vec<(PathBuf, String)>>>;
type Installs = Rc<RefCell<Vec<(PathBuf, usize)>>>;

/// Records which directory got a program of how many instructions.
struct FakeInstaller(Installs);

impl DeviceFilterInstaller for FakeInstaller {
    fn install(&self, dir: &Path, insns: &[BpfInsn]) -> Result<(), CgroupError> {
        self.0.borrow_mut().push((dir.to_path_buf(), insns.len()));
        Ok(())
    }
}

const HYBRID_CTRLS: &[&str] = &[
    "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "pids",
];

struct Fake {
    dir: tempfile::TempDir,
    host: Host,
    writes: Writes,
    installs: Installs,
}

impl Fake {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn hybrid() -> Fake {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut mountinfo = String::from("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n");
        for (i, c) in HYBRID_CTRLS.iter().enumerate() {
            mountinfo.push_str(&format!(
                "{} 31 0:{} / /sys/fs/cgroup/{c} rw - cgroup cgroup rw,{c}\n",
                40 + i,
                60 + i
            ));
            std::fs::create_dir_all(dir.path().join(format!("sys/fs/cgroup/{c}"))).expect("mkdir");
        }
        mountinfo.push_str("50 31 0:70 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
        std::fs::create_dir_all(dir.path().join("sys/fs/cgroup/unified")).expect("mkdir");
        let cpuset = dir.path().join("sys/fs/cgroup/cpuset");
        std::fs::write(cpuset.join("cpuset.cpus"), "0-1\n").expect("write");
        std::fs::write(cpuset.join("cpuset.mems"), "0\n").expect("write");
        let mut own: String = HYBRID_CTRLS
            .iter()
            .filter(|c| **c != "memory")
            .map(|c| format!("1:{c}:/\n"))
            .collect();
        own.push_str("4:memory:/own\n0::/\n");
        Self::finish(dir, mountinfo, &own)
    }

    fn v2() -> Fake {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").expect("write");
        let mountinfo = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n".to_string();
        Self::finish(dir, mountinfo, "0::/\n")
    }

    fn finish(dir: tempfile::TempDir, mountinfo: String, self_cgroup: &str) -> Fake {
        let host = Host {
            pure_v2: false,
            mountinfo,
            self_cgroup: self_cgroup.into(),
            root: dir.path().to_path_buf(),
        };
        Fake {
            dir,
            host,
            writes: Rc::default(),
            installs: Rc::default(),
        }
    }

    fn manager_fs(&self, spec: &CgroupSpec, fs: TempFs) -> Result<FsManager, CgroupError> {
        let fs = TempFs {
            writes: self.writes.clone(),
            ..fs
        };
        manager_with(
            spec,
            &self.host,
            Box::new(fs),
            Box::new(FakeInstaller(self.installs.clone())),
        )
    }

    fn manager(&self, path: Option<&str>) -> FsManager {
        self.manager_fs(&spec(path), TempFs::default())
            .expect("manager")
    }

    fn writes_to(&self, file: &str) -> Vec<String> {
        self.writes
            .borrow()
            .iter()
            .filter(|(p, _)| p.ends_with(file))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn spec(path: Option<&str>) -> CgroupSpec<'_> {
    CgroupSpec {
        id: "ctr1",
        cgroups_path: path,
        systemd: false,
        rootless: false,
        user_bus: false,
        resources: None,
    }
}

fn resources(json: &str) -> oci_spec::runtime::LinuxResources {
    serde_json::from_str(json).expect("resources json")
}

#[test]
fn v1_host_without_devices_hierarchy_is_refused() {
    let mut f = Fake::hybrid();
    f.host.mountinfo = f
        .host
        .mountinfo
        .lines()
        .filter(|l| !l.contains("rw,devices"))
        .collect::<Vec<_>>()
        .join("\n");
    let err = f
        .manager_fs(&spec(None), TempFs::default())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("devices"), "{err}");
}

#[test]
fn hybrid_create_joins_every_hierarchy_and_destroy_removes_all_it_made() {
    let f = Fake::hybrid();
    let m = f.manager(Some("/ferrun/test/ctr1"));
    m.create().expect("create");
    for c in HYBRID_CTRLS.iter().chain(&["unified"]) {
        assert!(
            f.p(&format!("sys/fs/cgroup/{c}/ferrun/test/ctr1")).is_dir(),
            "{c}"
        );
    }
    // cpuset: every new level inherits the parent's cpus/mems so tasks can join.
    for lvl in ["ferrun", "ferrun/test", "ferrun/test/ctr1"] {
        let d = f.p(&format!("sys/fs/cgroup/cpuset/{lvl}"));
        assert_eq!(
            std::fs::read_to_string(d.join("cpuset.cpus")).expect("cpus"),
            "0-1"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("cpuset.mems")).expect("mems"),
            "0"
        );
    }
    m.destroy().expect("destroy");
    for c in HYBRID_CTRLS.iter().chain(&["unified"]) {
        assert!(
            !f.p(&format!("sys/fs/cgroup/{c}/ferrun")).exists(),
            "{c} left behind"
        );
    }
    m.destroy().expect("destroy is idempotent");
}

#[test]
fn default_path_is_relative_to_own_cgroup_per_hierarchy() {
    let f = Fake::hybrid();
    let m = f.manager(None);
    assert_eq!(
        m.layout().dir_for("memory"),
        Some(f.p("sys/fs/cgroup/memory/own/ctr1").as_path())
    );
    assert_eq!(
        m.layout().dir_for("pids"),
        Some(f.p("sys/fs/cgroup/pids/ctr1").as_path())
    );
}

#[test]
fn failed_create_is_undone_by_destroy() {
    let f = Fake::hybrid();
    // A plain file where the memory cgroup's parent should be: mkdir below it fails.
    std::fs::create_dir_all(f.p("sys/fs/cgroup/memory/x")).expect("mkdir");
    std::fs::write(f.p("sys/fs/cgroup/memory/x/y"), "").expect("file");
    let m = f.manager(Some("/x/y/ctr1"));
    let err = m.create().expect_err("create must fail");
    assert!(err.to_string().contains("mkdir"), "{err}");
    // create already took back what it made (callers that drop the manager leak nothing)…
    for c in HYBRID_CTRLS.iter().chain(&["unified"]) {
        assert!(!f.p(&format!("sys/fs/cgroup/{c}/x/y/ctr1")).exists(), "{c}");
    }
    // …and destroy afterwards is still fine.
    m.destroy().expect("destroy");
    for c in HYBRID_CTRLS.iter().chain(&["unified"]) {
        let left = f.p(&format!("sys/fs/cgroup/{c}/x/y/ctr1"));
        assert!(!left.exists(), "{} left behind", left.display());
    }
    assert!(!f.p("sys/fs/cgroup/cpu/x").exists());
    // The pre-existing memory/x belongs to someone else and must stay.
    assert!(f.p("sys/fs/cgroup/memory/x/y").is_file());
}

#[test]
fn v2_is_born_in_its_cgroup_and_v1_hierarchies_are_joined_by_the_process_itself() {
    let v2 = Fake::v2();
    let m = v2.manager(Some("/ctr1"));
    m.create().expect("create");
    let p = m.self_placement();
    assert_eq!(p.birth, Some(v2.p("sys/fs/cgroup/ctr1")));
    assert!(p.v1.is_empty());
    let hybrid = Fake::hybrid();
    let m = hybrid.manager(None);
    m.create().expect("create");
    let p = m.self_placement();
    assert!(p.birth.is_some());
    assert_eq!(p.v1.len(), m.layout().v1.len());
}

#[test]
fn add_task_rest_writes_only_what_the_process_did_not_reach() {
    let f = Fake::hybrid();
    let m = f.manager(None);
    m.create().expect("create");
    let procs = |f: &Fake| f.writes_to("cgroup.procs").len();
    let placed = |born, self_joined| crate::cgroups::Placed { born, self_joined };
    m.add_task_rest(7, placed(true, true))
        .expect("nothing to write");
    assert_eq!(procs(&f), 0);
    m.add_task_rest(7, placed(false, true))
        .expect("unified only");
    assert_eq!(procs(&f), 1);
    m.add_task_rest(7, placed(true, false)).expect("v1 only");
    assert_eq!(procs(&f), 1 + m.layout().v1.len());
}

#[test]
fn path_round_trips_through_manager_from_path() {
    let f = Fake::hybrid();
    let m = f.manager(None);
    m.create().expect("create");
    let again = manager_from_path_with(
        m.path(),
        Box::new(TempFs::default()),
        Box::new(FakeInstaller(Rc::default())),
    )
    .expect("reopen");
    assert_eq!(again.layout().mode, Mode::Hybrid);
    assert_eq!(
        again.layout().dir_for("memory"),
        m.layout().dir_for("memory")
    );
    again.destroy().expect("destroy");
    assert!(!f.p("sys/fs/cgroup/memory/own/ctr1").exists());
    assert!(!f.p("sys/fs/cgroup/unified/ctr1").exists());
}

#[test]
fn add_task_and_pids_cover_every_hierarchy_and_child_cgroups() {
    let f = Fake::hybrid();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    m.add_task(4242).expect("add_task");
    assert_eq!(f.writes_to("cgroup.procs").len(), HYBRID_CTRLS.len() + 1);
    std::fs::create_dir(f.p("sys/fs/cgroup/pids/c/nested")).expect("mkdir");
    std::fs::write(f.p("sys/fs/cgroup/pids/c/nested/cgroup.procs"), "7\n9\n").expect("w");
    assert_eq!(m.pids().expect("pids"), [7, 9, 4242]);
    m.destroy().expect("destroy removes nested cgroups too");
    assert!(!f.p("sys/fs/cgroup/pids/c").exists());
}

#[test]
fn destroy_lists_only_the_directories_rmdir_finds_busy() {
    let f = Fake::hybrid();
    let listed: Rc<RefCell<Vec<PathBuf>>> = Rc::default();
    let fs = TempFs {
        listed: Rc::clone(&listed),
        ..TempFs::default()
    };
    let m = f.manager_fs(&spec(Some("/c")), fs).expect("manager");
    m.create().expect("create");
    std::fs::create_dir_all(f.p("sys/fs/cgroup/pids/c/nested/deeper")).expect("mkdir");
    listed.borrow_mut().clear();
    m.destroy().expect("destroy removes nested cgroups too");
    assert_eq!(
        *listed.borrow(),
        [
            f.p("sys/fs/cgroup/pids/c"),
            f.p("sys/fs/cgroup/pids/c/nested")
        ]
    );
    for c in HYBRID_CTRLS {
        assert!(!f.p(&format!("sys/fs/cgroup/{c}/c")).exists(), "{c} left");
    }
}

#[test]
fn hybrid_apply_writes_v1_files_and_device_policy() {
    let f = Fake::hybrid();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    let r = resources(
        r#"{"memory":{"limit":104857600},"pids":{"limit":32},"cpu":{"shares":512,"quota":20000,"period":100000,"cpus":"0"},
            "devices":[{"allow":false,"access":"rwm"}]}"#,
    );
    m.apply(&r).expect("apply");
    let read = |rel: &str| std::fs::read_to_string(f.p(rel)).expect(rel);
    assert_eq!(
        read("sys/fs/cgroup/memory/c/memory.limit_in_bytes"),
        "104857600"
    );
    assert_eq!(read("sys/fs/cgroup/pids/c/pids.max"), "32");
    assert_eq!(read("sys/fs/cgroup/cpu/c/cpu.shares"), "512");
    assert_eq!(read("sys/fs/cgroup/cpu/c/cpu.cfs_quota_us"), "20000");
    assert_eq!(read("sys/fs/cgroup/cpuset/c/cpuset.cpus"), "0");
    assert_eq!(f.writes_to("devices.deny"), ["a"]);
    let allows = f.writes_to("devices.allow");
    assert_eq!(allows.len(), devices::DEFAULT_ALLOWED.len());
    assert!(allows.contains(&"c 136:* rwm".to_string()), "{allows:?}");
    assert!(f.installs.borrow().is_empty(), "no eBPF on a hybrid host");
}

#[test]
fn hybrid_refuses_hugetlb_and_unified_naming_the_field_before_writing() {
    let f = Fake::hybrid();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    let r =
        resources(r#"{"pids":{"limit":5},"hugepageLimits":[{"pageSize":"2MB","limit":2097152}]}"#);
    let err = m.update(&r).expect_err("no v1 hugetlb");
    let msg = err.to_string();
    assert!(
        msg.starts_with("linux.resources.hugepageLimits[0]: hugetlb controller not available"),
        "{msg}"
    );
    assert!(f.writes_to("pids.max").is_empty(), "nothing half-applied");
    let err = m
        .update(&resources(r#"{"unified":{"memory.high":"1"}}"#))
        .expect_err("unified");
    assert!(
        err.to_string().contains("cannot use unified on cgroup v1"),
        "{err}"
    );
}

#[test]
fn v2_create_enables_controllers_and_apply_uses_v2_files_and_ebpf() {
    let f = Fake::v2();
    let m = f.manager(Some("/ferrun/c"));
    m.create().expect("create");
    assert_eq!(
        f.writes_to("cgroup.subtree_control"),
        ["+cpu +memory +pids"; 2]
    );
    let dir = f.p("sys/fs/cgroup/ferrun/c");
    let r = resources(
        r#"{"memory":{"limit":1000,"swap":3000},"cpu":{"shares":1024},"pids":{"limit":-1}}"#,
    );
    m.apply(&r).expect("apply");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect(f);
    assert_eq!(read("memory.max"), "1000");
    assert_eq!(read("memory.swap.max"), "2000");
    assert_eq!(read("cpu.weight"), "39");
    assert_eq!(read("pids.max"), "max");
    let installs = f.installs.borrow();
    assert_eq!(installs.len(), 1);
    assert_eq!(installs[0].0, dir);
    let err = m
        .update(&resources(r#"{"blockIO":{"weight":100}}"#))
        .expect_err("io not enabled");
    assert!(
        err.to_string()
            .starts_with("linux.resources.blockIO.weight: io controller not available"),
        "{err}"
    );
}

#[test]
fn freeze_and_thaw_on_v1_and_v2() {
    let f = Fake::hybrid();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    m.freeze(true).expect("freeze");
    assert_eq!(f.writes_to("freezer.state"), ["FROZEN"]);
    m.freeze(false).expect("thaw");

    let f = Fake::v2();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    let dir = f.p("sys/fs/cgroup/c");
    std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").expect("w");
    let err = m.freeze(true).expect_err("kernel never reports frozen");
    assert!(matches!(err, CgroupError::FreezeTimeout { .. }), "{err}");
    assert_eq!(
        f.writes_to("cgroup.freeze").last().map(String::as_str),
        Some("0"),
        "thawed back"
    );
    std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 1\n").expect("w");
    m.freeze(true).expect("freeze");
}

#[test]
fn rootless_skips_unwritable_hierarchies_and_names_the_field() {
    let f = Fake::hybrid();
    let s = CgroupSpec {
        rootless: true,
        ..spec(Some("/c"))
    };
    let fs = TempFs {
        deny_mkdir: vec![f.p("sys/fs/cgroup/memory/c")],
        ..TempFs::default()
    };
    let m = f.manager_fs(&s, fs).expect("manager");
    m.create().expect("rootless create tolerates EACCES");
    let kept = m.persisted_path().expect("other hierarchies were made");
    assert!(m.path().contains("memory"), "{}", m.path());
    assert!(
        !kept.contains("memory"),
        "state.json drops the skipped one: {kept}"
    );
    assert!(kept.contains("pids"), "{kept}");
    m.add_task(1).expect("add_task skips the missing hierarchy");
    let err = m
        .update(&resources(r#"{"memory":{"limit":1000}}"#))
        .expect_err("memory unavailable");
    assert!(
        err.to_string().contains("could not join or create cgroup"),
        "{err}"
    );
    m.update(&resources(r#"{"pids":{"limit":3}}"#))
        .expect("pids still fine");
    m.destroy().expect("destroy");
}

#[test]
fn rootless_without_any_writable_hierarchy_persists_no_cgroup() {
    let f = Fake::hybrid();
    let s = CgroupSpec {
        rootless: true,
        ..spec(Some("/c"))
    };
    let probe = f.manager_fs(&s, TempFs::default()).expect("manager");
    let deny_mkdir = probe.layout().all().map(|h| h.dir.clone()).collect();
    let fs = TempFs {
        deny_mkdir,
        ..TempFs::default()
    };
    let m = f.manager_fs(&s, fs).expect("manager");
    m.create()
        .expect("rootless create tolerates EACCES everywhere");
    assert_eq!(m.persisted_path(), None);
    m.apply(&resources("{}"))
        .expect("no limits asked: nothing to refuse");
}

#[test]
fn write_errors_name_field_and_file() {
    let f = Fake::hybrid();
    let fs = TempFs {
        fail_writes: vec![f.p("sys/fs/cgroup/pids/c/pids.max")],
        ..TempFs::default()
    };
    let m = f.manager_fs(&spec(Some("/c")), fs).expect("manager");
    m.create().expect("create");
    let err = m
        .update(&resources(r#"{"pids":{"limit":3}}"#))
        .expect_err("EINVAL");
    let msg = err.to_string();
    assert!(
        msg.starts_with("linux.resources.pids.limit: writing \"3\" to "),
        "{msg}"
    );
    assert!(msg.contains("pids.max"), "{msg}");
}

#[test]
fn stats_read_v1_and_v2_counters() {
    let f = Fake::hybrid();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    let w = |rel: &str, v: &str| std::fs::write(f.p(rel), v).expect(rel);
    w("sys/fs/cgroup/memory/c/memory.usage_in_bytes", "1302528\n");
    w("sys/fs/cgroup/memory/c/memory.limit_in_bytes", "99999744\n");
    w(
        "sys/fs/cgroup/memory/c/memory.stat",
        "cache 487424\nrss 4096\n",
    );
    w("sys/fs/cgroup/pids/c/pids.current", "1\n");
    w("sys/fs/cgroup/pids/c/pids.max", "max\n");
    w("sys/fs/cgroup/cpuacct/c/cpuacct.usage", "19716408\n");
    w("sys/fs/cgroup/cpuacct/c/cpuacct.stat", "user 0\nsystem 1\n");
    w("sys/fs/cgroup/cpuset/c/cpuset.cpus", "0-1\n");
    let s = m.stats().expect("stats");
    assert_eq!(s.memory.usage.usage, 1302528);
    assert_eq!(s.memory.usage.limit, 99999744);
    assert_eq!(s.memory.cache, 487424);
    assert_eq!((s.pids.current, s.pids.limit), (1, 0));
    assert_eq!(
        (s.cpu.usage.total, s.cpu.usage.kernel),
        (19716408, 10_000_000)
    );
    assert_eq!(s.cpuset.cpus, [0, 1]);

    let f = Fake::v2();
    let m = f.manager(Some("/c"));
    m.create().expect("create");
    let d = f.p("sys/fs/cgroup/c");
    let w = |file: &str, v: &str| std::fs::write(d.join(file), v).expect(file);
    w(
        "cpu.stat",
        "usage_usec 10\nuser_usec 4\nsystem_usec 6\nnr_throttled 2\n",
    );
    w("memory.current", "1000\n");
    w("memory.max", "max\n");
    w("memory.swap.current", "24\n");
    w("memory.swap.max", "2000\n");
    w("hugetlb.2MB.current", "2097152\n");
    w("hugetlb.2MB.events", "max 3\n");
    let s = m.stats().expect("stats");
    assert_eq!((s.cpu.usage.total, s.cpu.usage.user), (10_000, 4_000));
    assert_eq!(s.cpu.throttling.throttled_periods, 2);
    assert_eq!(s.memory.usage.limit, u64::MAX);
    assert_eq!((s.memory.swap.usage, s.memory.swap.limit), (1024, u64::MAX));
    assert_eq!(s.hugetlb["2MB"].usage, 2097152);
    assert_eq!(s.hugetlb["2MB"].failcnt, 3);
}
