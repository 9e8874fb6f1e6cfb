//! Where a container's cgroup lives in every hierarchy, and how that is persisted.
//!
//! Resolution follows runc 1.1's cgroupfs driver (libcontainer/specconv `CreateCgroupConfig`,
//! cgroups/fs `subsysPath`, cgroups/fs2 `_defaultDirPath`):
//! - `linux.cgroupsPath` absent: the cgroup is named after the container id and is *relative*;
//! - absolute path: joined to each hierarchy's mount point;
//! - relative path: v1 (and hybrid's cgroup2) joins it to the runtime's own cgroup in that
//!   hierarchy; pure v2 joins it to the *parent* of the runtime's own cgroup (its own cgroup
//!   most likely has processes, so no controllers could be enabled for children).
//! - both are passed through `CleanPath` first so `..` can never climb out of the hierarchy.
//!
//! The resolved directories differ per hierarchy (here the memory hierarchy puts us under
//! `/process_api/<id>`), so what is persisted is the whole map, encoded like runc's
//! `cgroup_paths` in state.json: a JSON object from hierarchy key (controllers joined by ",",
//! `name=systemd`, or "" for cgroup2) to absolute directory.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::error::CgroupError;
use super::host::{own_cgroups, CgroupMount, Host, Mode, Mounts};

/// One hierarchy's directory for the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierDir {
    /// v1 controllers of the hierarchy; empty for cgroup2.
    pub controllers: Vec<String>,
    /// The container's cgroup directory.
    pub dir: PathBuf,
    /// The hierarchy's mount point (unknown when re-opened from a persisted path).
    pub mount: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub mode: Mode,
    pub v1: Vec<HierDir>,
    pub unified: Option<HierDir>,
}

/// runc's `utils.CleanPath`: lexically clean; a relative path is cleaned as if rooted at "/" and
/// made relative again, so leading `..` components vanish instead of escaping.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// The inner path runc would use: the cleaned `cgroupsPath`, or the container id.
pub fn inner_path(id: &str, cgroups_path: Option<&str>) -> Result<String, CgroupError> {
    let inner = match cgroups_path.filter(|p| !p.is_empty()) {
        Some(p) => clean_path(p),
        None => clean_path(id),
    };
    if inner == "/" || inner == "." || inner.is_empty() {
        return Err(CgroupError::InvalidPath {
            path: cgroups_path.unwrap_or(id).to_string(),
            reason: "resolves to the root of the hierarchy".into(),
        });
    }
    Ok(inner)
}

fn rel(p: &Path) -> &Path {
    p.strip_prefix("/").unwrap_or(p)
}

/// The runtime's own cgroup in `mount`, made relative to what the mount exposes.
fn own_in_mount(own: &str, mount: &CgroupMount) -> PathBuf {
    let own = Path::new(own);
    let within = own.strip_prefix(&mount.root).unwrap_or(own);
    rel(within).to_path_buf()
}

fn hier_dir(
    host: &Host,
    mount: &CgroupMount,
    inner: &str,
    own: Option<&String>,
    key: &str,
    parent_of_own: bool,
) -> Result<HierDir, CgroupError> {
    let mnt = host.under_root(&mount.mountpoint);
    let dir = if inner.starts_with('/') {
        mnt.join(rel(Path::new(inner)))
    } else {
        let own = own.ok_or_else(|| CgroupError::OwnCgroupUnknown {
            controller: if key.is_empty() {
                "cgroup2".into()
            } else {
                key.into()
            },
        })?;
        let mut base = own_in_mount(own, mount);
        if parent_of_own {
            base = base.parent().map(Path::to_path_buf).unwrap_or_default();
        }
        mnt.join(base).join(inner)
    };
    if dir.components().any(|c| c == Component::ParentDir) {
        return Err(CgroupError::InvalidPath {
            path: inner.into(),
            reason: "escapes the cgroup hierarchy".into(),
        });
    }
    Ok(HierDir {
        controllers: mount.controllers.clone(),
        dir,
        mount: Some(mnt),
    })
}

/// Resolve the container's directory in every hierarchy of `mounts`.
pub fn resolve(host: &Host, mounts: &Mounts, inner: &str) -> Result<Layout, CgroupError> {
    let own = own_cgroups(&host.self_cgroup);
    let mut v1 = Vec::new();
    for m in &mounts.v1 {
        let key = m.controllers.first().map(String::as_str).unwrap_or("");
        v1.push(hier_dir(host, m, inner, own.get(key), key, false)?);
    }
    let unified = match &mounts.unified {
        Some(m) => Some(hier_dir(
            host,
            m,
            inner,
            own.get(""),
            "",
            mounts.mode == Mode::V2,
        )?),
        None => None,
    };
    Ok(Layout {
        mode: mounts.mode,
        v1,
        unified,
    })
}

impl Layout {
    /// The directory driving `controller` (v1 hierarchy, or cgroup2 on a pure v2 host).
    pub fn dir_for(&self, controller: &str) -> Option<&Path> {
        match self.mode {
            Mode::V2 => self.unified.as_ref().map(|u| u.dir.as_path()),
            Mode::V1 | Mode::Hybrid => self
                .v1
                .iter()
                .find(|h| h.controllers.iter().any(|c| c == controller))
                .map(|h| h.dir.as_path()),
        }
    }

    /// Every directory the container lives in (v1 hierarchies first, then cgroup2).
    pub fn all(&self) -> impl Iterator<Item = &HierDir> {
        self.v1.iter().chain(self.unified.iter())
    }

    /// The persisted form (see the module doc).
    pub fn encode(&self) -> String {
        let map: BTreeMap<String, String> = self
            .all()
            .map(|h| {
                (
                    h.controllers.join(","),
                    h.dir.to_string_lossy().into_owned(),
                )
            })
            .collect();
        serde_json::to_string(&map).unwrap_or_default()
    }

    /// Inverse of [`Layout::encode`].
    pub fn decode(s: &str) -> Result<Layout, CgroupError> {
        let bad = |reason: String| CgroupError::Persisted {
            persisted: s.to_string(),
            reason,
        };
        let map: BTreeMap<String, String> =
            serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
        let mut v1 = Vec::new();
        let mut unified = None;
        for (key, dir) in map {
            let dir = PathBuf::from(dir);
            if !dir.is_absolute() || dir.components().any(|c| c == Component::ParentDir) {
                return Err(bad(format!(
                    "{} is not a clean absolute path",
                    dir.display()
                )));
            }
            let controllers: Vec<String> = if key.is_empty() {
                Vec::new()
            } else {
                key.split(',').map(str::to_string).collect()
            };
            let h = HierDir {
                controllers,
                dir,
                mount: None,
            };
            if key.is_empty() {
                unified = Some(h);
            } else {
                v1.push(h);
            }
        }
        let mode = match (v1.is_empty(), unified.is_some()) {
            (true, true) => Mode::V2,
            (false, true) => Mode::Hybrid,
            (false, false) => Mode::V1,
            (true, false) => return Err(bad("no hierarchy in it".into())),
        };
        Ok(Layout { mode, v1, unified })
    }
}

#[cfg(test)]
mod tests {
    use super::super::host::detect;
    use super::*;
    use rstest::rstest;

    const HYBRID: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw";
    const V2: &str = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw";
    const SELF: &str = "4:memory:/process_api/x\n1:cpu,cpuacct:/\n0::/user.slice/session-1.scope\n";

    fn layout(mountinfo: &str, id: &str, path: Option<&str>) -> Layout {
        let host = Host {
            pure_v2: false,
            mountinfo: mountinfo.into(),
            self_cgroup: SELF.into(),
            root: "/".into(),
        };
        let mounts = detect(&host).expect("detect");
        resolve(&host, &mounts, &inner_path(id, path).expect("inner")).expect("resolve")
    }

    #[rstest]
    #[case::plain("a/b", "a/b")]
    #[case::absolute("/a//b/./c/", "/a/b/c")]
    #[case::climbing_relative("../../etc", "etc")]
    #[case::climbing_absolute("/../a/../../b", "/b")]
    #[case::dot(".", ".")]
    fn cleans_like_runc(#[case] input: &str, #[case] want: &str) {
        assert_eq!(clean_path(input), want);
    }

    #[rstest]
    #[case::default_is_id_relative_to_own(
        None,
        "memory",
        "/sys/fs/cgroup/memory/process_api/x/ctr"
    )]
    #[case::default_cpu(None, "cpuacct", "/sys/fs/cgroup/cpu,cpuacct/ctr")]
    #[case::absolute(Some("/ferrun/t1"), "memory", "/sys/fs/cgroup/memory/ferrun/t1")]
    #[case::relative(Some("pod/t1"), "memory", "/sys/fs/cgroup/memory/process_api/x/pod/t1")]
    #[case::relative_cannot_climb(
        Some("../../../t1"),
        "memory",
        "/sys/fs/cgroup/memory/process_api/x/t1"
    )]
    fn resolves_v1_paths(#[case] path: Option<&str>, #[case] ctrl: &str, #[case] want: &str) {
        let l = layout(HYBRID, "ctr", path);
        assert_eq!(l.mode, Mode::Hybrid);
        assert_eq!(l.dir_for(ctrl), Some(Path::new(want)));
    }

    #[rstest]
    #[case::hybrid_unified_relative_to_own(
        HYBRID,
        None,
        "/sys/fs/cgroup/unified/user.slice/session-1.scope/ctr"
    )]
    #[case::v2_relative_to_parent_of_own(V2, None, "/sys/fs/cgroup/user.slice/ctr")]
    #[case::v2_absolute(V2, Some("/ferrun/t1"), "/sys/fs/cgroup/ferrun/t1")]
    fn resolves_unified_paths(
        #[case] mountinfo: &str,
        #[case] path: Option<&str>,
        #[case] want: &str,
    ) {
        let l = layout(mountinfo, "ctr", path);
        assert_eq!(l.unified.expect("unified").dir, Path::new(want));
    }

    #[test]
    fn v2_drives_every_controller_from_the_unified_dir() {
        let l = layout(V2, "ctr", Some("/a"));
        assert_eq!(l.dir_for("memory"), Some(Path::new("/sys/fs/cgroup/a")));
        assert_eq!(l.dir_for("hugetlb"), Some(Path::new("/sys/fs/cgroup/a")));
    }

    #[test]
    fn hybrid_does_not_drive_controllers_through_cgroup2() {
        assert_eq!(layout(HYBRID, "ctr", None).dir_for("hugetlb"), None);
    }

    #[rstest]
    #[case::root("/")]
    #[case::only_dots("../..")]
    fn rejects_the_hierarchy_root(#[case] p: &str) {
        assert!(inner_path("x", Some(p)).is_err());
    }

    #[rstest]
    #[case::hybrid(HYBRID)]
    #[case::v2(V2)]
    fn encoding_round_trips(#[case] mountinfo: &str) {
        let l = layout(mountinfo, "ctr", Some("/p/ctr"));
        let back = Layout::decode(&l.encode()).expect("decode");
        assert_eq!(back.mode, l.mode);
        let dirs = |l: &Layout| l.all().map(|h| h.dir.clone()).collect::<Vec<_>>();
        assert_eq!(dirs(&back), dirs(&l));
        assert_eq!(back.dir_for("memory"), l.dir_for("memory"));
    }

    #[rstest]
    #[case::not_json("/sys/fs/cgroup/x")]
    #[case::relative(r#"{"memory":"sys/fs/cgroup/memory/x"}"#)]
    #[case::climbing(r#"{"":"/sys/fs/cgroup/../../etc"}"#)]
    #[case::empty("{}")]
    fn rejects_bad_persisted_paths(#[case] s: &str) {
        assert!(Layout::decode(s).is_err(), "{s}");
    }
}
