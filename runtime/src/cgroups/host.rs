//! What the host offers: cgroup mounts (from mountinfo), the mode they add up to, and the
//! runtime's own cgroup (from /proc/self/cgroup).
//!
//! Everything is read from strings held by [`Host`] so mode detection and path resolution are
//! pure and table-tested against sample mountinfo lines; `root` is prefixed to every mountpoint
//! so a test can lay a fake /sys/fs/cgroup out under a tempdir.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::CgroupError;
use crate::mountinfo::{self, MountInfo};

/// The v1 controllers runc 1.1 knows (libcontainer/cgroups/fs subsystems). A v1 hierarchy is
/// joined when it carries one of these, or is the named `name=systemd` hierarchy (runc joins it
/// too so systemd-aware tools see the container).
pub const KNOWN_V1: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "blkio",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
    "name=systemd",
];

/// Where the mountinfo of a real host lives.
pub const PROC_MOUNTINFO: &str = "/proc/self/mountinfo";
pub const PROC_SELF_CGROUP: &str = "/proc/self/cgroup";
/// The path a pure-v2 host mounts cgroup2 at (runc: `unifiedMountpoint`).
const UNIFIED_MOUNTPOINT: &str = "/sys/fs/cgroup";

/// Inputs of mode detection and path resolution.
#[derive(Debug, Clone)]
pub struct Host {
    /// /sys/fs/cgroup is a cgroup2 mount (fstatfs): a pure v2 host, whose layout needs no
    /// mountinfo, so `from_proc` does not read it (its cost grows with the host's mounts).
    pub pure_v2: bool,
    /// Text of /proc/self/mountinfo (empty when `pure_v2`).
    pub mountinfo: String,
    /// Text of /proc/self/cgroup.
    pub self_cgroup: String,
    /// Prefixed to every mountpoint ("/" on a real host, a tempdir in tests).
    pub root: PathBuf,
}

impl Host {
    /// The real host: reads /proc/self/cgroup, and /proc/self/mountinfo unless /sys/fs/cgroup
    /// is cgroup2.
    pub fn from_proc() -> Result<Self, CgroupError> {
        let read = |p: &str| std::fs::read_to_string(p).map_err(|e| CgroupError::io("read", p, e));
        let pure_v2 = nix::sys::statfs::statfs(UNIFIED_MOUNTPOINT)
            .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
        Ok(Host {
            pure_v2,
            mountinfo: if pure_v2 {
                String::new()
            } else {
                read(PROC_MOUNTINFO)?
            },
            self_cgroup: read(PROC_SELF_CGROUP)?,
            root: PathBuf::from("/"),
        })
    }

    /// Map a path as seen in mountinfo into this host's filesystem view.
    pub fn under_root(&self, p: &Path) -> PathBuf {
        self.root.join(p.strip_prefix("/").unwrap_or(p))
    }
}

/// How the host's cgroups are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only cgroup v1 hierarchies.
    V1,
    /// v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified). Controllers are
    /// driven through v1 only; the cgroup2 hierarchy is joined for tracking, as runc does.
    Hybrid,
    /// cgroup2 only ("unified mode").
    V2,
}

/// One cgroup mount from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// Controllers (v1, incl. `name=…`); empty for cgroup2.
    pub controllers: Vec<String>,
    /// Mount point as written in mountinfo.
    pub mountpoint: PathBuf,
    /// The cgroup this mount exposes at its mount point (mountinfo field 4): "/" unless the
    /// mount was made inside a cgroup namespace or is a bind mount of a sub-cgroup.
    pub root: PathBuf,
}

/// The mounts that matter plus the mode they imply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounts {
    pub mode: Mode,
    /// One entry per joined v1 hierarchy (empty on V2).
    pub v1: Vec<CgroupMount>,
    /// The cgroup2 mount (V2 and Hybrid).
    pub unified: Option<CgroupMount>,
}

/// A mountinfo entry as a cgroup mount: `(is cgroup2, mount)`, None for other filesystems.
fn cgroup_mount(m: MountInfo) -> Option<(bool, CgroupMount)> {
    let controllers = match m.fstype.as_str() {
        "cgroup2" => Vec::new(),
        "cgroup" => m
            .super_opts
            .into_iter()
            .filter(|o| KNOWN_V1.contains(&o.as_str()))
            .collect(),
        _ => return None,
    };
    let mount = CgroupMount {
        controllers,
        mountpoint: m.mount_point,
        root: m.root,
    };
    Some((m.fstype == "cgroup2", mount))
}

/// Find the cgroup mounts and the mode, like runc's `IsCgroup2UnifiedMode` /
/// `IsCgroup2HybridMode` but from mountinfo so it can be tested: cgroup2 on /sys/fs/cgroup is
/// pure v2; v1 hierarchies plus any cgroup2 mount is hybrid; v1 alone is v1.
pub fn detect(host: &Host) -> Result<Mounts, CgroupError> {
    if host.pure_v2 {
        // runc's fs2 does the same: the unified mount point, cgroup paths from
        // /proc/self/cgroup taken as they are (the mount's root is not consulted).
        return Ok(Mounts {
            mode: Mode::V2,
            v1: Vec::new(),
            unified: Some(CgroupMount {
                controllers: Vec::new(),
                mountpoint: PathBuf::from(UNIFIED_MOUNTPOINT),
                root: PathBuf::from("/"),
            }),
        });
    }
    let mut v1: Vec<CgroupMount> = Vec::new();
    let mut unified: Vec<CgroupMount> = Vec::new();
    for m in mountinfo::parse(&host.mountinfo)? {
        match cgroup_mount(m) {
            Some((true, m)) => unified.push(m),
            // Skip v1 mounts with no controller we join and repeated mounts of a hierarchy
            // (bind mounts): the first one wins, as in runc's mountinfo scan.
            Some((false, m))
                if !m.controllers.is_empty()
                    && !v1.iter().any(|o| o.controllers == m.controllers) =>
            {
                v1.push(m);
            }
            _ => {}
        }
    }
    let pure_v2 = unified
        .iter()
        .position(|m| m.mountpoint == Path::new(UNIFIED_MOUNTPOINT));
    let has_v1_controller = v1
        .iter()
        .any(|m| m.controllers.iter().any(|c| !c.starts_with("name=")));
    let mounts = if let Some(i) = pure_v2 {
        Mounts {
            mode: Mode::V2,
            v1: Vec::new(),
            unified: Some(unified.swap_remove(i)),
        }
    } else if has_v1_controller {
        let mode = if unified.is_empty() {
            Mode::V1
        } else {
            Mode::Hybrid
        };
        Mounts {
            mode,
            v1,
            unified: unified.into_iter().next(),
        }
    } else if let Some(u) = unified.into_iter().next() {
        Mounts {
            mode: Mode::V2,
            v1: Vec::new(),
            unified: Some(u),
        }
    } else {
        return Err(CgroupError::NoCgroupMounts {
            source_name: PROC_MOUNTINFO.into(),
        });
    };
    Ok(mounts)
}

/// The runtime's own cgroups from /proc/self/cgroup: controller (or `name=…`) → path, with the
/// cgroup2 entry (`0::/path`) under the key "".
pub fn own_cgroups(self_cgroup: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if ctrls.is_empty() {
            map.insert(String::new(), path.to_string());
        } else {
            for c in ctrls.split(',') {
                map.insert(c.to_string(), path.to_string());
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const V1_CPU: &str =
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct";
    const V1_MEM: &str = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory";
    const V1_SYSTEMD: &str =
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd";
    const HYBRID_UNIFIED: &str =
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate";
    const V2_ROOT: &str =
        "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot";
    const TMPFS: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755";

    #[test]
    fn a_host_known_to_be_pure_v2_needs_no_mountinfo() {
        let host = Host {
            pure_v2: true,
            mountinfo: String::new(),
            self_cgroup: "0::/user.slice\n".into(),
            root: PathBuf::from("/"),
        };
        let m = detect(&host).expect("detect");
        assert_eq!(m.mode, Mode::V2);
        assert!(m.v1.is_empty());
        let u = m.unified.expect("the unified mount");
        assert_eq!(u.mountpoint, Path::new("/sys/fs/cgroup"));
        assert_eq!(u.root, Path::new("/"));
    }

    fn host(lines: &[&str]) -> Host {
        Host {
            pure_v2: false,
            mountinfo: lines.join("\n"),
            self_cgroup: String::new(),
            root: "/".into(),
        }
    }

    #[rstest]
    #[case::v1(&[TMPFS, V1_CPU, V1_MEM, V1_SYSTEMD], Mode::V1, 3, false)]
    #[case::hybrid(&[TMPFS, V1_CPU, V1_MEM, V1_SYSTEMD, HYBRID_UNIFIED], Mode::Hybrid, 3, true)]
    #[case::v2(&[V2_ROOT], Mode::V2, 0, true)]
    #[case::v2_with_stray_named_v1(&[V2_ROOT, "50 29 0:40 / /run/legacy rw - cgroup cgroup rw,name=systemd"], Mode::V2, 0, true)]
    #[case::only_named_v1_plus_cgroup2_elsewhere(&[V1_SYSTEMD, "51 1 0:41 / /mnt/c2 rw - cgroup2 none rw"], Mode::V2, 0, true)]
    #[case::duplicate_bind_mount(&[V1_MEM, "60 1 0:32 / /mnt/mem rw - cgroup cgroup rw,memory"], Mode::V1, 1, false)]
    fn detects_mode(
        #[case] lines: &[&str],
        #[case] mode: Mode,
        #[case] v1_count: usize,
        #[case] has_unified: bool,
    ) {
        let m = detect(&host(lines)).expect("detect");
        assert_eq!(m.mode, mode);
        assert_eq!(m.v1.len(), v1_count);
        assert_eq!(m.unified.is_some(), has_unified);
    }

    #[test]
    fn no_cgroup_mounts_is_an_error() {
        let err = detect(&host(&[TMPFS])).expect_err("no cgroups");
        assert!(err.to_string().contains("no cgroup filesystem"), "{err}");
    }

    #[test]
    fn malformed_mountinfo_is_an_error_naming_the_line() {
        let err = detect(&host(&[V1_CPU, "42 31 0:39 / /sys/fs/cgroup/pids"])).expect_err("junk");
        let msg = err.to_string();
        assert!(
            msg.starts_with("/proc/self/mountinfo: line 2 is malformed"),
            "{msg}"
        );
    }

    #[test]
    fn parses_comounted_controllers_and_escaped_mountpoints() {
        let m = detect(&host(&[
            V1_CPU,
            r"70 1 0:50 /sub /mnt/my\040cg rw - cgroup cgroup rw,pids",
        ]))
        .expect("detect");
        assert_eq!(m.v1[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m.v1[1].mountpoint, Path::new("/mnt/my cg"));
        assert_eq!(m.v1[1].root, Path::new("/sub"));
    }

    #[test]
    fn own_cgroups_maps_each_controller_and_unified() {
        let own = own_cgroups("4:memory:/a/b\n2:cpu,cpuacct:/\n9:name=systemd:/s\n0::/u\n");
        assert_eq!(own["memory"], "/a/b");
        assert_eq!(own["cpuacct"], "/");
        assert_eq!(own["name=systemd"], "/s");
        assert_eq!(own[""], "/u");
    }
}
