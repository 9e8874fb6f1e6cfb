//! Which of the container's mounts CRIU must treat as external (`ext_mnt`), as runc lists
//! them: bind mounts (their sources live outside the container), the cgroup v1 binds (no
//! cgroup namespace), the /dev/null binds of masked files, and device nodes. On dump the
//! value is only a key (the destination); on restore it is what to mount there.

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Mount, Spec};

use crate::mountinfo;
use crate::rootfs::cgroup::{is_unified, parse_proc_cgroup, v1_hierarchies};

/// One `ext_mnt` entry: the mount point in the container, and the key (dump) or host source
/// (restore).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtMount {
    pub key: String,
    pub val: String,
}

/// A bind mount in runc's sense: type "bind", or a "bind"/"rbind" option.
pub fn is_bind(m: &Mount) -> bool {
    m.typ().as_deref() == Some("bind")
        || m.options()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|o| o == "bind" || o == "rbind")
}

/// Where `dest` lands inside `rootfs` once symlinks in the rootfs are followed, kept inside
/// it (runc's securejoin), as a container path: `/link/x` with `link -> /data` is `/data/x`.
pub fn container_path(rootfs: &Path, dest: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    let mut pending: Vec<PathBuf> = dest
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(PathBuf::from(s)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(next) = pending.pop() {
        if next == Path::new("..") {
            out.pop();
            continue;
        }
        let candidate = out.join(&next);
        let host = rootfs.join(candidate.strip_prefix("/").unwrap_or(&candidate));
        match std::fs::read_link(&host) {
            Ok(target) if links < 40 => {
                links += 1;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                pending.extend(target.components().rev().filter_map(|c| match c {
                    Component::Normal(s) => Some(PathBuf::from(s)),
                    Component::ParentDir => Some(PathBuf::from("..")),
                    _ => None,
                }));
            }
            _ => out = candidate,
        }
    }
    out
}

fn has_cgroupns(spec: &Spec) -> bool {
    namespaces(spec).any(|(t, _)| t == LinuxNamespaceType::Cgroup)
}

/// The config's namespaces with their paths.
pub fn namespaces(spec: &Spec) -> impl Iterator<Item = (LinuxNamespaceType, Option<PathBuf>)> + '_ {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .into_iter()
        .flatten()
        .map(|n| (n.typ(), n.path().clone()))
}

/// The cgroup v1 binds a `cgroup` mount at `dest` stands for: `dest/<hierarchy>`, with our
/// (the process reading `proc_cgroup`'s) cgroup directory as the source. None on a pure v2
/// host or with a cgroup namespace, where it is a real mount CRIU restores itself.
fn cgroup_binds(spec: &Spec, dest: &Path, proc_cgroup: &str) -> Vec<(PathBuf, PathBuf)> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let Ok(mounts) = mountinfo::parse(&text) else {
        return Vec::new();
    };
    if is_unified(&mounts) || has_cgroupns(spec) {
        return Vec::new();
    }
    v1_hierarchies(&mounts, &parse_proc_cgroup(proc_cgroup))
        .into_iter()
        .filter_map(|h| Some((dest.join(&h.name), h.source?)))
        .collect()
}

/// Device nodes runc names: the default devices and `linux.devices`.
fn device_paths(spec: &Spec) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for d in spec
        .linux()
        .as_ref()
        .and_then(|l| l.devices().as_ref())
        .into_iter()
        .flatten()
    {
        if !paths.contains(d.path()) {
            paths.push(d.path().clone());
        }
    }
    paths
}

fn masked_paths(spec: &Spec) -> Vec<String> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.masked_paths().clone())
        .unwrap_or_default()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The entries of a dump of the container whose init is `pid`.
pub fn for_dump(spec: &Spec, rootfs: &Path, pid: i32) -> Vec<ExtMount> {
    let mut out = Vec::new();
    let same = |p: &Path| {
        let k = s(&container_path(rootfs, p));
        ExtMount {
            key: k.clone(),
            val: k,
        }
    };
    let proc_cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    for m in spec.mounts().as_deref().unwrap_or_default() {
        if is_bind(m) {
            out.push(same(m.destination()));
        } else if m.typ().as_deref() == Some("cgroup") {
            for (dest, _) in cgroup_binds(spec, m.destination(), &proc_cgroup) {
                out.push(same(&dest));
            }
        }
    }
    // A masked file is a bind of /dev/null (directories get a tmpfs, which CRIU dumps).
    for path in masked_paths(spec) {
        let seen = PathBuf::from(format!("/proc/{pid}/root")).join(path.trim_start_matches('/'));
        if std::fs::metadata(&seen).is_ok_and(|m| !m.is_dir()) {
            out.push(ExtMount {
                key: path,
                val: "/dev/null".into(),
            });
        }
    }
    out.extend(device_paths(spec).iter().map(|p| same(p)));
    out
}

/// The entries of a restore; `proc_cgroup` is /proc/<criu>/cgroup once CRIU is in the
/// container's cgroup, so the cgroup v1 binds show the new container's directories.
pub fn for_restore(spec: &Spec, rootfs: &Path, bundle: &Path, proc_cgroup: &str) -> Vec<ExtMount> {
    let mut out = Vec::new();
    let entry = |dest: &Path, source: &Path| ExtMount {
        key: s(&container_path(rootfs, dest)),
        val: s(source),
    };
    for m in spec.mounts().as_deref().unwrap_or_default() {
        if is_bind(m) {
            let source = m.source().clone().unwrap_or_default();
            out.push(entry(m.destination(), &bundle.join(source)));
        } else if m.typ().as_deref() == Some("cgroup") {
            for (dest, source) in cgroup_binds(spec, m.destination(), proc_cgroup) {
                out.push(entry(&dest, &source));
            }
        }
    }
    if !masked_paths(spec).is_empty() {
        out.push(entry(Path::new("/dev/null"), Path::new("/dev/null")));
    }
    out.extend(device_paths(spec).iter().map(|p| entry(p, p)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_through_a_symlink_resolves_inside_the_rootfs() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("data")).unwrap();
        std::os::unix::fs::symlink("/data", root.path().join("link")).unwrap();
        std::os::unix::fs::symlink("../../data", root.path().join("data/up")).unwrap();
        assert_eq!(
            container_path(root.path(), Path::new("/link/x")),
            Path::new("/data/x")
        );
        assert_eq!(
            container_path(root.path(), Path::new("/data/up/y")),
            Path::new("/data/y")
        );
        assert_eq!(
            container_path(root.path(), Path::new("/plain/z")),
            Path::new("/plain/z")
        );
    }

    #[test]
    fn bind_is_type_or_option() {
        let m: Mount = serde_json::from_str(
            r#"{"destination":"/a","type":"none","source":"/s","options":["rbind"]}"#,
        )
        .unwrap();
        assert!(is_bind(&m));
        let m: Mount =
            serde_json::from_str(r#"{"destination":"/a","type":"bind","source":"/s"}"#).unwrap();
        assert!(is_bind(&m));
        let m: Mount =
            serde_json::from_str(r#"{"destination":"/proc","type":"proc","source":"proc"}"#)
                .unwrap();
        assert!(!is_bind(&m));
    }
}
