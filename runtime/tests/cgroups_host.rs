//! Root integration tests for the cgroups module on the real host.
//!
//! Each test makes a uniquely named cgroup (pid + nanos), and a Drop guard kills its child and
//! destroys the cgroup even when an assertion fails. The tests are `#[ignore]`d unless
//! requested (see `support::require`); where v1 and v2 differ, each checks what is right for
//! the host it runs on.
//!
//! The same binary runs unchanged on a pure cgroup v2 host. It was run in a qemu TCG guest
//! (Debian 6.1 kernel, `cgroup_no_v1=all`, busybox initramfs holding this test binary plus its
//! `ldd` libraries, `/init` mounting proc, sysfs, devtmpfs, a tmpfs /tmp and cgroup2 on
//! /sys/fs/cgroup, then running it with `--test-threads=1`): see VM-AND-CLIENTS.md for the
//! qemu command line. vm-tests/ is the place for the scripted version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use ferrun::cgroups::devices::loader::{BpfInstaller, DeviceFilterInstaller};
use ferrun::cgroups::devices::{effective_rules, program, Policy};
use ferrun::cgroups::{manager, CgroupManager, CgroupSpec};

mod support;

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Kills the child and destroys the cgroup however the test ends.
struct Guard {
    mgr: Box<dyn CgroupManager>,
    child: Option<Child>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Err(e) = self.mgr.destroy() {
            eprintln!("cleanup: destroy failed: {e}");
        }
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

#[test]
#[ignore = "needs root and busybox-static"]
fn limits_tasks_and_cleanup_on_this_host() {
    support::require_root();
    let name = format!("/{}", unique("ferrun-test"));
    let spec = CgroupSpec {
        id: "unused",
        cgroups_path: Some(&name),
        systemd: false,
        rootless: false,
        user_bus: false,
        resources: None,
    };
    let mgr = manager(&spec).expect("manager");
    let dirs: BTreeMap<String, PathBuf> = serde_json::from_str(mgr.path()).expect("path is json");
    let mut g = Guard { mgr, child: None };
    g.mgr.create().expect("create");
    let resources = serde_json::from_str(
        r#"{"memory":{"limit":67108864},"pids":{"limit":16},
            "cpu":{"shares":512,"quota":50000,"period":100000}}"#,
    )
    .expect("resources");
    g.mgr.apply(&resources).expect("apply");

    let child = Command::new("/bin/busybox")
        .args(["sleep", "300"])
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep");
    let pid = child.id() as i32;
    g.child = Some(child);
    g.mgr.add_task(pid).expect("add_task");

    let dir_of = |key: &str| -> &PathBuf {
        dirs.iter()
            .find(|(k, _)| k.split(',').any(|c| c == key))
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no hierarchy for {key} in {dirs:?}"))
    };
    let v2 = dirs.len() == 1 && dirs.contains_key("");
    if v2 {
        let d = &dirs[""];
        assert_eq!(read(d, "memory.max"), "67108864");
        assert_eq!(read(d, "pids.max"), "16");
        assert_eq!(read(d, "cpu.max"), "50000 100000");
        assert_eq!(read(d, "cpu.weight"), "20");
        // The device policy is an eBPF program attached to the container's cgroup.
        let f = std::fs::File::open(d).expect("open cgroup dir");
        let ids = ferrun::sys::bpf::prog_query(
            std::os::fd::AsFd::as_fd(&f),
            ferrun::sys::bpf::ATTACH_CGROUP_DEVICE,
        )
        .expect("query");
        assert_eq!(ids.len(), 1, "device programs: {ids:?}");
    } else {
        assert_eq!(read(dir_of("memory"), "memory.limit_in_bytes"), "67108864");
        assert_eq!(read(dir_of("pids"), "pids.max"), "16");
        assert_eq!(read(dir_of("cpu"), "cpu.shares"), "512");
        assert_eq!(read(dir_of("cpu"), "cpu.cfs_quota_us"), "50000");
        // The device policy went in too: exactly what runc 1.1.5 leaves in devices.list for
        // a config without device rules (deny-all plus its default allow list).
        let mut list: Vec<String> = read(dir_of("devices"), "devices.list")
            .lines()
            .map(str::to_string)
            .collect();
        list.sort();
        let runc = [
            "b *:* m",
            "c *:* m",
            "c 1:3 rwm",
            "c 1:5 rwm",
            "c 1:7 rwm",
            "c 1:8 rwm",
            "c 1:9 rwm",
            "c 10:200 rwm",
            "c 136:* rwm",
            "c 5:0 rwm",
            "c 5:2 rwm",
        ];
        let mut runc = runc.map(str::to_string).to_vec();
        runc.sort();
        assert_eq!(list, runc);
    }
    for (key, d) in &dirs {
        let procs = read(d, "cgroup.procs");
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "{key}: {procs}"
        );
    }
    assert_eq!(g.mgr.pids().expect("pids"), [pid]);
    let stats = g.mgr.stats().expect("stats");
    assert_eq!(stats.pids.current, 1);
    assert_eq!(stats.pids.limit, 16);
    assert_eq!(stats.memory.usage.limit, 67108864);
    // Usage stays charged to the cgroup the child started in (no charge moving), so only
    // check that memory.stat was read.
    assert!(
        stats.memory.raw.contains_key("pgfault"),
        "{:?}",
        stats.memory
    );

    g.mgr.freeze(true).expect("freeze");
    let state = |frozen: bool| {
        if v2 {
            let events = read(&dirs[""], "cgroup.events");
            events
                .lines()
                .any(|l| l == if frozen { "frozen 1" } else { "frozen 0" })
        } else {
            read(dir_of("freezer"), "freezer.state") == if frozen { "FROZEN" } else { "THAWED" }
        }
    };
    assert!(state(true), "not frozen");
    g.mgr.freeze(false).expect("thaw");
    assert!(state(false), "not thawed");

    let mut child = g.child.take().expect("child");
    child.kill().expect("kill");
    child.wait().expect("wait");
    g.mgr.destroy().expect("destroy");
    for d in dirs.values() {
        assert!(!d.exists(), "{} left behind", d.display());
    }
    g.mgr.destroy().expect("destroy again is a no-op");
}

/// `--systemd-cgroup` on this host: refused up front on a v1 or hybrid host (nothing is
/// made, no bus is asked); on a unified host the manager resolves the scope's directory
/// without asking the bus either (the bus is first used when the init exists).
#[test]
fn systemd_driver_resolves_or_needs_the_unified_hierarchy() {
    let spec = CgroupSpec {
        id: "x",
        cgroups_path: Some("system.slice:ferrun-test:x"),
        systemd: true,
        rootless: false,
        user_bus: false,
        resources: None,
    };
    let unified = std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .any(|l| l.contains(" /sys/fs/cgroup ") && l.contains(" - cgroup2 "));
    match manager(&spec) {
        Ok(m) => {
            assert!(unified, "built a systemd manager on a non-unified host");
            assert_eq!(
                m.path(),
                r#"{"":"/sys/fs/cgroup/system.slice/ferrun-test-x.scope"}"#
            );
        }
        Err(e) => {
            assert!(!unified, "refused on a unified host: {e}");
            assert!(
                e.to_string().starts_with(
                    "the systemd cgroup driver requires cgroup v2 (unified hierarchy)"
                ),
                "{e}"
            );
        }
    }
}

/// Where cgroup2 is mounted on this host (pure v2 or hybrid), if anywhere.
fn cgroup2_mount() -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mi.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        if !post.starts_with("cgroup2 ") {
            return None;
        }
        pre.split(' ').nth(4).map(PathBuf::from)
    })
}

struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The eBPF device filter really enforces: even on this hybrid host a program attached to a
/// cgroup2 directory is consulted for every task in it. Opening 1:11 (/dev/kmsg) works before
/// joining the cgroup and fails after; mknod stays allowed for any char device (runc default
/// `c *:* m`) and opening 1:3 (/dev/null) stays allowed.
#[test]
#[ignore = "needs root and busybox-static"]
fn ebpf_device_filter_enforces_on_cgroup2() {
    support::require_root();
    // Hybrid and pure v2 hosts (all this project supports) both mount cgroup2 somewhere.
    let mount = cgroup2_mount().expect("no cgroup2 mount on this host");
    let dir = mount.join(unique("ferrun-bpf"));
    std::fs::create_dir(&dir).expect("mkdir cgroup2 dir");
    let _dir_guard = DirGuard(dir.clone());
    let cfg: Vec<oci_spec::runtime::LinuxDeviceCgroup> =
        serde_json::from_str(r#"[{"allow":false,"access":"rwm"}]"#).expect("rules");
    let policy = Policy::fold(&effective_rules(Some(&cfg)).expect("rules"));
    BpfInstaller
        .install(&dir, &program::compile(&policy))
        .expect("install the device filter");
    let tmp = tempfile::tempdir().expect("tempdir");
    let script = format!(
        "mknod {t}/null c 1 3 || exit 91
         mknod {t}/kmsg c 1 11 || exit 92
         ( exec 3< {t}/kmsg ) || exit 89
         echo $$ > {procs} || exit 90
         mknod {t}/kmsg2 c 1 11 || exit 95
         ( exec 3< {t}/null ) || exit 93
         if ( exec 3< {t}/kmsg ) 2>/dev/null; then exit 94; fi
         exit 0",
        procs = dir.join("cgroup.procs").display(),
        t = tmp.path().display()
    );
    let status = Command::new("/bin/busybox")
        .args(["sh", "-c", &script])
        .status()
        .expect("run sh");
    assert_eq!(
        status.code(),
        Some(0),
        "script failed: {status} (9x = step)"
    );
    // Replacing the program (update path) must detach the old one.
    BpfInstaller
        .install(&dir, &program::compile(&policy))
        .expect("reinstall");
    let f = std::fs::File::open(&dir).expect("open cgroup dir");
    let ids = ferrun::sys::bpf::prog_query(
        std::os::fd::AsFd::as_fd(&f),
        ferrun::sys::bpf::ATTACH_CGROUP_DEVICE,
    )
    .expect("query");
    assert_eq!(ids.len(), 1, "old program still attached: {ids:?}");
}

/// The kernel clamps cpu.shares silently (2..262144); like runc we read it back and fail, in
/// runc's words.
/// (On v2, shares become cpu.weight, where 1 is a valid value.)
#[test]
#[ignore = "needs root"]
fn out_of_range_cpu_shares_is_an_error_naming_the_field() {
    support::require(&[support::Need::Root]);
    let name = format!("/{}", unique("ferrun-test-shares"));
    let spec = CgroupSpec {
        id: "unused",
        cgroups_path: Some(&name),
        systemd: false,
        rootless: false,
        user_bus: false,
        resources: None,
    };
    let g = Guard {
        mgr: manager(&spec).expect("manager"),
        child: None,
    };
    let dirs: BTreeMap<String, PathBuf> = serde_json::from_str(g.mgr.path()).expect("json");
    g.mgr.create().expect("create");
    let r = serde_json::from_str(r#"{"cpu":{"shares":1}}"#).expect("resources");
    if dirs.keys().all(String::is_empty) {
        // v2 has no cpu.shares: shares convert to cpu.weight, and 1 saturates to weight 1.
        g.mgr.update(&r).expect("shares 1 on v2");
        assert_eq!(read(&dirs[""], "cpu.weight"), "1");
        return;
    }
    let err = g.mgr.update(&r).expect_err("clamped");
    let msg = err.to_string();
    assert!(
        msg.starts_with("linux.resources.cpu.shares: the minimum allowed cpu-shares is 2"),
        "{msg}"
    );
}

/// hugetlb and `unified` work on a pure-v2 host. On a v1/hybrid host `unified` is a clear
/// error naming the field, and so is hugetlb unless the host mounts a hugetlb hierarchy;
/// nothing may be half-applied.
#[test]
#[ignore = "needs root"]
fn hugetlb_and_unified_follow_the_host_mode() {
    support::require(&[support::Need::Root]);
    let name = format!("/{}", unique("ferrun-test-v2only"));
    let spec = CgroupSpec {
        id: "unused",
        cgroups_path: Some(&name),
        systemd: false,
        rootless: false,
        user_bus: false,
        resources: None,
    };
    let g = Guard {
        mgr: manager(&spec).expect("manager"),
        child: None,
    };
    let dirs: BTreeMap<String, PathBuf> = serde_json::from_str(g.mgr.path()).expect("json");
    let v2 = dirs.keys().all(String::is_empty);
    g.mgr.create().expect("create");
    let huge = serde_json::from_str(
        r#"{"pids":{"limit":9},"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#,
    )
    .expect("resources");
    let unified =
        serde_json::from_str(r#"{"unified":{"memory.high":"52428800"}}"#).expect("resources");
    if v2 {
        let d = &dirs[""];
        g.mgr.update(&huge).expect("hugetlb on v2");
        assert_eq!(read(d, "hugetlb.2MB.max"), "4194304");
        g.mgr.update(&unified).expect("unified on v2");
        assert_eq!(read(d, "memory.high"), "52428800");
    } else {
        let hugetlb = dirs
            .iter()
            .find(|(k, _)| k.split(',').any(|c| c == "hugetlb"));
        if let Some((_, d)) = hugetlb {
            // A v1 host with a hugetlb hierarchy takes the limit there.
            g.mgr.update(&huge).expect("hugetlb on v1");
            assert_eq!(read(d, "hugetlb.2MB.limit_in_bytes"), "4194304");
        } else {
            // This project's hybrid host has none: an error, and nothing half-applied.
            let err = g.mgr.update(&huge).expect_err("no v1 hugetlb here");
            let msg = err.to_string();
            assert!(
                msg.starts_with(
                    "linux.resources.hugepageLimits[0]: hugetlb controller not available"
                ),
                "{msg}"
            );
            let pids_dir = dirs
                .iter()
                .find(|(k, _)| k.split(',').any(|c| c == "pids"))
                .map(|(_, d)| d)
                .expect("pids hierarchy");
            assert_eq!(
                read(pids_dir, "pids.max"),
                "max",
                "pids written before the error"
            );
        }
        let err = g.mgr.update(&unified).expect_err("unified on v1");
        assert!(
            err.to_string().starts_with(
                "invalid configuration: linux.resources.unified: cannot use unified on cgroup v1"
            ),
            "{err}"
        );
    }
}

/// The freezer of `rel` (a cgroup path from the root of the hierarchy): v1 `freezer.state`,
/// or `cgroup.freeze` on a pure cgroup2 host. `None` when the host has neither.
fn freezer_file(rel: &str) -> Option<(PathBuf, &'static str, &'static str)> {
    let v1 = Path::new("/sys/fs/cgroup/freezer");
    if v1.join("freezer.state").exists() || v1.join("cgroup.procs").exists() {
        return Some((v1.join(rel), "freezer.state", "FROZEN"));
    }
    let v2 = Path::new("/sys/fs/cgroup");
    v2.join("cgroup.controllers")
        .exists()
        .then(|| (v2.join(rel), "cgroup.freeze", "1"))
}

/// Thaws and removes a cgroup the test froze, however the test ends.
struct Frozen(PathBuf, &'static str);

impl Drop for Frozen {
    fn drop(&mut self) {
        let thaw = if self.1 == "freezer.state" {
            "THAWED"
        } else {
            "0"
        };
        let _ = std::fs::write(self.0.join(self.1), thaw);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// runc 1.1 refuses a container's own frozen cgroup but hangs when a parent is frozen (its
/// check reads only the container's level); ferrun refuses both, in runc's words, within
/// the watchdog, and leaves neither a state directory nor a cgroup behind.
#[test]
#[ignore = "needs root and busybox-static"]
fn create_under_a_frozen_parent_is_refused_and_leaves_nothing() {
    support::require_root();
    let rt = support::Rt::ferrun();
    let id = support::unique_id("frozen-parent");
    let Some((parent, file, frozen)) = freezer_file(&support::cg_parent(&id)) else {
        panic!("no freezer on this host (v1 freezer hierarchy or cgroup2 at /sys/fs/cgroup)");
    };
    std::fs::create_dir(&parent).expect("mkdir parent cgroup");
    let _thaw = Frozen(parent.clone(), file);
    std::fs::write(parent.join(file), frozen).expect("freeze the parent");
    let b = support::sh_bundle(&id, "true", serde_json::json!({}));
    let bundle = b.path().to_str().expect("utf-8");
    for cmd in [
        &["create", "-b", bundle, &id][..],
        &["run", "-d", "-b", bundle, &id],
    ] {
        let done = rt.run(cmd);
        assert_ne!(
            done.code,
            Some(0),
            "{cmd:?} into a frozen parent: {done:#?}"
        );
        assert!(
            done.err.contains("container's cgroup unexpectedly frozen")
                && done.err.contains("frozen parent"),
            "{done:#?}"
        );
        assert!(!rt.state_dir_exists(&id), "state of {id} left behind");
        assert!(
            support::cgroup_leaked(&id).is_empty(),
            "cgroup of {id} made: {:?}",
            support::cgroup_leaked(&id)
        );
    }
}

/// runc 1.1 warns, and goes on, when the cgroup already holds processes; the warning goes
/// where the log goes (stderr, or `--log FILE` in the chosen format).
#[test]
#[ignore = "needs root and busybox-static"]
fn create_into_an_occupied_cgroup_warns_in_the_log() {
    support::require_root();
    let rt = support::Rt::ferrun();
    let first = support::unique_id("busy-first");
    let b = support::sh_bundle(&first, "sleep 30", serde_json::json!({}));
    let bundle = b.path().to_str().expect("utf-8");
    rt.create_start(&b, &first);
    let second = format!("{first}-2");
    let log = rt.root.path().join("log.json");
    let log_arg = log.to_str().expect("utf-8");
    let done = rt.run(&[
        "--log",
        log_arg,
        "--log-format",
        "json",
        "create",
        "-b",
        bundle,
        &second,
    ]);
    assert_eq!(done.code, Some(0), "{done:#?}");
    let text = std::fs::read_to_string(&log).expect("log file");
    let warning = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["level"] == "warning")
        .unwrap_or_else(|| panic!("no warning in the log: {text}"));
    assert_eq!(
        warning["msg"], "container's cgroup is not empty: 1 process(es) found",
        "{text}"
    );
    assert_eq!(rt.state(&second)["status"], "created");
    assert_eq!(rt.state(&first)["status"], "running");
}

/// Two containers with pid namespaces of their own in one cgroup: `delete --force` of one
/// kills its init, whose namespace takes the rest of its processes, and leaves the other
/// running (runc's `destroy` signals the whole cgroup only for a container without its own
/// pid namespace). The cgroup stays while the other uses it, and goes with the last one.
#[test]
#[ignore = "needs root and busybox-static"]
fn deleting_one_of_two_containers_in_a_cgroup_spares_the_other() {
    support::require_root();
    let rt = support::Rt::ferrun();
    let first = support::unique_id("shared-first");
    let b = support::sh_bundle(&first, "sleep 30", serde_json::json!({}));
    let bundle = b.path().to_str().expect("utf-8");
    rt.create_start(&b, &first);
    let second = format!("{first}-2");
    rt.ok(&["create", "-b", bundle, &second]);
    rt.ok(&["start", &second]);
    let second_pid = rt.pid(&second);

    let done = rt.run(&["delete", "--force", &first]);
    assert_eq!(done.code, Some(0), "{done:#?}");
    assert!(
        done.err
            .contains("still used by processes that are not the container's"),
        "the shared cgroup is named as left in place: {done:#?}"
    );
    assert_eq!(rt.state(&second)["status"], "running");
    assert!(
        support::pid_alive(second_pid),
        "the other container's init was killed"
    );
    assert_eq!(
        rt.run(&["state", &first]).code,
        Some(1),
        "the first is gone"
    );

    rt.ok(&["delete", "--force", &second]);
    let rel = support::cg_path(&first);
    for root in ["/sys/fs/cgroup/memory", "/sys/fs/cgroup"] {
        let dir = Path::new(root).join(rel.trim_start_matches('/'));
        assert!(!dir.exists(), "{} outlived both containers", dir.display());
    }
}
