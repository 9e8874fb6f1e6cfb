//! cgroups end to end through config.json (config-linux.md#control-groups): where
//! `cgroupsPath` puts the container (absolute, relative to the runtime's own cgroup, and the
//! default named after the id), that `linux.resources` limits read back the same from the
//! host and from inside (v1 files on this hybrid host; v2 names when the host is pure v2),
//! that they bite, and that the cgroup is gone after delete.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::{namespaces_plus, sh_bundle, sh_ok, Need, Rt};

/// v1 hierarchies the tests look into (this host mounts each on its own).
const V1: [&str; 6] = ["memory", "cpu", "pids", "cpuset", "blkio", "devices"];

/// The test process's own cgroup in a v1 hierarchy (the runtime inherits it).
fn own_cgroup(ctrl: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    text.lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
            ctrls
                .split(',')
                .any(|c| c == ctrl)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("no {ctrl} line in /proc/self/cgroup"))
}

fn host_dir(ctrl: &str, inner: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join(inner.trim_start_matches('/'))
}

/// Create a `sleep` container with an absolute `cgroupsPath`, check every hierarchy's
/// directory holds its pid, delete it and check the directories are gone.
fn check_placement(tag: &str) {
    let rt = Rt::new();
    let id = support::unique_id(tag);
    let b = support::Bundle::with_args(&["sleep", "60"], support::cg(&id));
    rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
    let pid = rt.pid(&id);
    let dirs: Vec<PathBuf> = V1
        .iter()
        .map(|c| host_dir(c, &support::cg_path(&id)))
        .collect();
    for d in &dirs {
        let procs = std::fs::read_to_string(d.join("cgroup.procs"))
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        assert!(
            procs.lines().any(|l| l == pid.to_string()),
            "{} lacks {pid}",
            d.display()
        );
    }
    rt.ok(&["delete", "--force", &id]);
    for d in &dirs {
        assert!(!d.exists(), "{} left behind", d.display());
    }
    assert!(support::cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root, busybox-static and cgroup v1"]
fn absolute_cgroups_path_is_joined_to_each_hierarchy() {
    support::require(&[Need::Root, Need::Busybox, Need::CgroupV1]);
    check_placement("cgabs");
}

#[test]
#[ignore = "needs root, busybox-static and cgroup v1"]
fn relative_cgroups_path_is_under_the_runtimes_own_cgroup() {
    support::require(&[Need::Root, Need::Busybox, Need::CgroupV1]);
    // Each hierarchy has its own "own cgroup" (here memory differs from the rest), so the
    // expected directory is computed per controller below.
    let parent = format!("ferrun-rel-{}", std::process::id());
    let _cleanup = RemoveEverywhere(parent.clone());
    for ctrl in V1 {
        let own = own_cgroup(ctrl);
        let rt = Rt::new();
        let id = support::unique_id("cgrel");
        let mut cfg = support::base_config(&["sleep", "60"]);
        support::merge(
            &mut cfg,
            &json!({"linux": {"cgroupsPath": format!("{parent}/{id}")}}),
        );
        let b = support::Bundle::new(&cfg);
        rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
        let dir = host_dir(ctrl, &format!("{own}/{parent}/{id}"));
        assert!(
            dir.join("cgroup.procs").exists(),
            "{ctrl}: {}",
            dir.display()
        );
        rt.ok(&["delete", "--force", &id]);
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

/// Removes the (empty) directory `.0` under the runtime's own cgroup in every hierarchy: the
/// runtime creates a relative path's parents everywhere, and leaves them, as runc does.
struct RemoveEverywhere(String);

impl Drop for RemoveEverywhere {
    fn drop(&mut self) {
        for dir in support::own_cgroup_dirs() {
            let _ = std::fs::remove_dir(dir.join(&self.0));
        }
    }
}

#[test]
#[ignore = "needs root, busybox-static and cgroup v1"]
fn default_cgroup_is_named_after_the_id_relative_to_the_runtime() {
    support::require(&[Need::Root, Need::Busybox, Need::CgroupV1]);
    for ctrl in ["memory", "pids"] {
        let own = own_cgroup(ctrl);
        let rt = Rt::new();
        let id = support::unique_id("cgdef");
        let b = support::Bundle::with_args(&["sleep", "60"], json!({}));
        rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
        let dir = host_dir(ctrl, &format!("{own}/{id}"));
        assert!(
            dir.join("cgroup.procs").exists(),
            "{ctrl}: {}",
            dir.display()
        );
        rt.ok(&["delete", "--force", &id]);
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

/// The first whole disk (not loop/zram/ram), as (major, minor), for blkio throttling: every
/// machine this project supports boots from one.
fn a_disk() -> (u64, u64) {
    find_disk().expect("no whole disk in /sys/block to throttle")
}

fn find_disk() -> Option<(u64, u64)> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !["loop", "zram", "ram", "dm-", "nbd"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    names.sort();
    let dev = std::fs::read_to_string(format!("/sys/block/{}/dev", names.first()?)).ok()?;
    let (a, b) = dev.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn resources(disk: (u64, u64)) -> Value {
    json!({
        "memory": {"limit": 67108864, "reservation": 33554432, "swappiness": 10},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 32},
        "blockIO": {"throttleReadBpsDevice": [{"major": disk.0, "minor": disk.1, "rate": 1048576}]},
        "devices": [{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}]
    })
}

/// (file relative to the cgroup root, expected content) for `resources` on v1.
fn v1_expectations(disk: (u64, u64)) -> Vec<(&'static str, String)> {
    vec![
        ("memory/memory.limit_in_bytes", "67108864".into()),
        ("memory/memory.soft_limit_in_bytes", "33554432".into()),
        ("memory/memory.swappiness", "10".into()),
        ("cpu/cpu.shares", "512".into()),
        ("cpu/cpu.cfs_quota_us", "50000".into()),
        ("cpu/cpu.cfs_period_us", "100000".into()),
        ("cpuset/cpuset.cpus", "0".into()),
        ("cpuset/cpuset.mems", "0".into()),
        ("pids/pids.max", "32".into()),
        (
            "blkio/blkio.throttle.read_bps_device",
            format!("{}:{} 1048576", disk.0, disk.1),
        ),
    ]
}

#[test]
#[ignore = "needs root, busybox-static and cgroup v1"]
fn resources_read_back_from_the_host() {
    support::require(&[Need::Root, Need::Busybox, Need::CgroupV1]);
    let disk = a_disk();
    let rt = Rt::new();
    let id = support::unique_id("cgres");
    let b = sh_bundle(
        &id,
        "sleep 60",
        json!({"linux": {"resources": resources(disk)}}),
    );
    rt.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
    let dir = |ctrl: &str| host_dir(ctrl, &support::cg_path(&id));
    for (file, value) in v1_expectations(disk) {
        let (ctrl, name) = file.split_once('/').unwrap();
        let path = dir(ctrl).join(name);
        let got = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got.trim(), value, "host {}", path.display());
    }
    let devices = std::fs::read_to_string(dir("devices").join("devices.list")).unwrap();
    // The default devices (runc's allow list) are merged in, so 1:3 may read "rwm".
    assert!(
        devices.lines().any(|l| l.starts_with("c 1:3 rw")),
        "{devices}"
    );
    assert!(!devices.lines().any(|l| l.starts_with("b 7:")), "{devices}");
    assert!(
        !devices.lines().any(|l| l.starts_with("a ")),
        "deny-all not applied: {devices}"
    );
    rt.ok(&["delete", "--force", &id]);
    assert!(support::cgroup_leaked(&id).is_empty());
}

#[test]
#[ignore = "needs root, busybox-static and cgroup v1"]
fn resources_read_back_from_inside_a_cgroup_namespace() {
    support::require(&[Need::Root, Need::Busybox, Need::CgroupV1]);
    let disk = a_disk();
    let rt = Rt::new();
    let want = v1_expectations(disk);
    let cat: String = want
        .iter()
        .map(|(f, _)| format!("cat /sys/fs/cgroup/{f};"))
        .collect();
    let patch = json!({
        "mounts": support::mounts_plus(json!([{"destination": "/sys/fs/cgroup", "type": "cgroup",
            "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}])),
        "linux": {"resources": resources(disk),
                  "namespaces": namespaces_plus(json!([{"type": "cgroup"}]))}
    });
    let out = sh_ok(&rt, "cgin", &cat, patch);
    let got: Vec<&str> = out.lines().collect();
    let expected: Vec<&str> = want.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(got, expected);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn pids_limit_stops_forks() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"resources": {"pids": {"limit": 4}}}});
    // ash gives up on the loop (exit 2) when fork fails; what matters is that it failed.
    let done = support::sh(
        &rt,
        "cgpids",
        "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done",
        patch,
    );
    assert!(done.err.contains("can't fork"), "{done:?}");
    // Without the limit the same loop runs.
    let done = support::sh(
        &rt,
        "cgpids",
        "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait",
        json!({}),
    );
    assert_eq!(done.code, Some(0), "{done:?}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn memory_limit_kills_a_hog() {
    support::require_root();
    let rt = Rt::new();
    // 16 MiB limit, no extra swap; the hog holds 64 MiB in a shell variable's worth of tmpfs.
    let patch = json!({"linux": {"resources": {"memory": {"limit": 16777216, "swap": 16777216}}},
                       "mounts": support::mounts_plus(json!([{"destination": "/hog", "type": "tmpfs",
                           "source": "tmpfs", "options": ["size=128m"]}]))});
    let out = sh_ok(
        &rt,
        "cgmem",
        "dd if=/dev/zero of=/hog/f bs=1M count=64 2>/dev/null; echo dd=$?",
        patch,
    );
    assert_ne!(out, "dd=0\n", "64 MiB fit under a 16 MiB limit");
}
