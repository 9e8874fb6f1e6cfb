//! `cgroup` and `cgroup2` mounts (config.md#mounts, runc's mountCgroupV1/V2).
//!
//! cgroup v1 (this hybrid host): a tmpfs at the destination, then one entry per v1 hierarchy
//! mounted on the host: without a cgroup namespace a bind of the container's own cgroup
//! directory, with one a fresh `cgroup` mount (it shows the namespace root). Co-mounted
//! hierarchies (`cpu,cpuacct`) get one symlink per controller. cgroup2: a fresh mount,
//! falling back to a bind of our cgroup2 directory when the kernel refuses (no cgroupns).

use super::mounts::{fresh, mount_entry, remount, Entry};
use super::options::MountOptions;
use super::{Env, RootfsError};
use crate::mountinfo::MountInfo;
use nix::mount::MsFlags;
use std::path::{Path, PathBuf};

/// One line of /proc/self/cgroup: (controllers of the hierarchy, our path in it).
pub type CgroupLine = (Vec<String>, String);

/// `/proc/self/cgroup`: (controllers of the hierarchy, our path in it).
pub fn parse_proc_cgroup(text: &str) -> Vec<CgroupLine> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
            let ctrls = ctrls
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            Some((ctrls, path.to_string()))
        })
        .collect()
}

/// A v1 hierarchy to expose: where it goes (base name) and what to bind or mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// Base name of the host mount point (`cpu,cpuacct`, `systemd`).
    pub name: String,
    /// Mount data for a fresh mount (`cpu,cpuacct`, `name=systemd`).
    pub subsystems: String,
    /// Host path of our cgroup in it (bind source without a cgroup namespace); None when
    /// our cgroup is not below the mount's root, as seen from inside a cgroup namespace
    /// (mountinfo then shows the root as `/../..`).
    pub source: Option<PathBuf>,
}

/// The v1 hierarchies mounted on the host, each once, with our cgroup directory in it.
pub fn v1_hierarchies(mounts: &[MountInfo], cgroups: &[CgroupLine]) -> Vec<Hierarchy> {
    let mut out: Vec<Hierarchy> = Vec::new();
    for m in mounts.iter().filter(|m| m.fstype == "cgroup") {
        let Some((ctrls, path)) = cgroups
            .iter()
            .find(|(c, _)| !c.is_empty() && c.iter().all(|c| m.super_opts.contains(c)))
        else {
            continue;
        };
        let subsystems = ctrls.join(",");
        if out.iter().any(|h| h.subsystems == subsystems) {
            continue;
        }
        let source = Path::new(path)
            .strip_prefix(&m.root)
            .ok()
            .map(|rel| m.mount_point.join(rel));
        let name = m
            .mount_point
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Hierarchy {
            name,
            subsystems,
            source,
        });
    }
    out
}

/// The host's mounts (shared with the rest of the setup) and our cgroups.
fn host_cgroup_state<'e>(env: &'e Env) -> Result<(&'e [MountInfo], Vec<CgroupLine>), RootfsError> {
    let p = "/proc/self/cgroup";
    let cgroups = env
        .sys
        .read_file(Path::new(p))
        .map_err(|e| RootfsError::sys("read", p, e))?;
    Ok((env.host_mounts.get()?, parse_proc_cgroup(&cgroups)))
}

/// CGROUP2_SUPER_MAGIC from linux/magic.h.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Whether the host's /sys/fs/cgroup is cgroup2 (a pure v2 host), from fstatfs rather than
/// mountinfo, as runc's IsCgroup2UnifiedMode does: on such a host a `cgroup` mount needs no
/// mount table at all. Still the host's /sys: this runs before pivot_root.
fn host_is_unified(env: &Env) -> Result<bool, RootfsError> {
    let statfs = |h| {
        let info = env.sys.statfs(h);
        env.sys.close(h);
        info
    };
    match env.sys.open(Path::new("/sys/fs/cgroup")).and_then(statfs) {
        Ok(info) => Ok(info.magic == CGROUP2_SUPER_MAGIC),
        // Not there or not reachable: the mount table says (what this did before).
        Err(_) => Ok(is_unified(env.host_mounts.get()?)),
    }
}

fn entry(
    index: usize,
    destination: PathBuf,
    source: PathBuf,
    typ: &str,
    opts: MountOptions,
) -> Entry {
    Entry {
        index,
        destination,
        source: Some(source),
        typ: typ.into(),
        opts,
    }
}

const DEFAULT_FLAGS: MsFlags = MsFlags::MS_NOEXEC
    .union(MsFlags::MS_NOSUID)
    .union(MsFlags::MS_NODEV);

/// A pure cgroup v2 host: cgroup2 is mounted at /sys/fs/cgroup itself.
pub fn is_unified(mounts: &[MountInfo]) -> bool {
    mounts
        .iter()
        .any(|m| m.fstype == "cgroup2" && m.mount_point == Path::new("/sys/fs/cgroup"))
}

/// A `cgroup` mount: the v1 emulation, or on a pure v2 host a cgroup2 mount (runc does the
/// same, so configs written for v1 work on v2 hosts).
pub fn mount_v1(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    if host_is_unified(env)? {
        let v2 = Entry {
            typ: "cgroup2".into(),
            source: Some("cgroup2".into()),
            ..e.clone()
        };
        return mount_v2(env, &v2);
    }
    let (mounts, cgroups) = host_cgroup_state(env)?;
    let hierarchies = v1_hierarchies(mounts, &cgroups);
    let tmpfs = MountOptions {
        flags: DEFAULT_FLAGS,
        propagation: e.opts.propagation.clone(),
        data: super::label::with_context("mode=755", env.mount_label),
        ..Default::default()
    };
    fresh(
        env,
        &entry(
            e.index,
            e.destination.clone(),
            "tmpfs".into(),
            "tmpfs",
            tmpfs,
        ),
        false,
    )?;
    for h in &hierarchies {
        let dest = e.destination.join(&h.name);
        if env.cgroup_ns {
            let flags = DEFAULT_FLAGS | (e.opts.flags & MsFlags::MS_RDONLY);
            let opts = MountOptions {
                flags,
                propagation: vec![],
                data: h.subsystems.clone(),
                ..Default::default()
            };
            fresh(
                env,
                &entry(e.index, dest, "cgroup".into(), "cgroup", opts),
                false,
            )?;
        } else {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC | e.opts.flags;
            let opts = MountOptions {
                flags,
                propagation: e.opts.propagation.clone(),
                data: String::new(),
                ..Default::default()
            };
            let source = h.source.clone().ok_or_else(|| RootfsError::Parse {
                file: "/proc/self/cgroup",
                reason: format!("our {} cgroup is outside its host mount", h.subsystems),
            })?;
            mount_entry(env, &entry(e.index, dest, source, "bind", opts))?;
        }
    }
    link_comounted(env, &e.destination, &hierarchies)?;
    if e.opts.flags.contains(MsFlags::MS_RDONLY) {
        // runc remounts the cgroup tmpfs itself read-only once it is populated.
        remount(
            env,
            &e.destination,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | DEFAULT_FLAGS,
        )?;
    }
    Ok(())
}

/// One symlink per controller of a co-mounted hierarchy (`cpu -> cpu,cpuacct`), as runc
/// does, so tools that look for /sys/fs/cgroup/cpu find it.
fn link_comounted(
    env: &Env,
    destination: &Path,
    hierarchies: &[Hierarchy],
) -> Result<(), RootfsError> {
    let dir = env.paths.dir(destination, false)?;
    for h in hierarchies.iter().filter(|h| h.name.contains(',')) {
        for ctrl in h.name.split(',') {
            match env
                .sys
                .symlink_at(Path::new(&h.name), dir.handle(), ctrl.as_ref())
            {
                Err(err) if err.raw_os_error() != Some(libc::EEXIST) => {
                    return Err(RootfsError::sys("symlink", destination.join(ctrl), err))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

pub fn mount_v2(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    let err = match fresh(env, e, false) {
        Ok(()) => return Ok(()),
        Err(err) if matches!(err.errno(), Some(libc::EPERM) | Some(libc::EBUSY)) => err,
        Err(err) => return Err(err),
    };
    // Without a cgroup namespace (e.g. in a user namespace) the kernel refuses a new cgroup2
    // mount: bind our own cgroup2 directory instead, as runc does.
    let (mounts, cgroups) = host_cgroup_state(env)?;
    let Some(m) = mounts.iter().find(|m| m.fstype == "cgroup2") else {
        return Err(err);
    };
    let Some((_, path)) = cgroups.iter().find(|(c, _)| c.is_empty()) else {
        return Err(err);
    };
    let Ok(rel) = Path::new(path).strip_prefix(&m.root) else {
        return Err(err);
    };
    let opts = MountOptions {
        flags: e.opts.flags | MsFlags::MS_BIND,
        propagation: e.opts.propagation.clone(),
        data: String::new(),
        ..Default::default()
    };
    mount_entry(
        env,
        &entry(
            e.index,
            e.destination.clone(),
            m.mount_point.join(rel),
            "bind",
            opts,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mountinfo;

    #[test]
    fn hierarchies_join_mount_root_and_our_path() {
        let mounts = mountinfo::parse(
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
             33 31 0:30 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
             34 31 0:30 /outer /elsewhere/memory rw - cgroup cgroup rw,memory\n\
             41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
        )
        .expect("parses");
        let cg = parse_proc_cgroup("4:memory:/outer/ctr\n2:cpu,cpuacct:/ctr\n0::/ctr\n");
        let h = v1_hierarchies(&mounts, &cg);
        assert_eq!(
            h,
            [
                Hierarchy {
                    name: "cpu,cpuacct".into(),
                    subsystems: "cpu,cpuacct".into(),
                    source: Some("/sys/fs/cgroup/cpu,cpuacct/ctr".into())
                },
                Hierarchy {
                    name: "memory".into(),
                    subsystems: "memory".into(),
                    source: Some("/sys/fs/cgroup/memory/ctr".into())
                },
            ]
        );
    }

    #[test]
    fn inside_a_cgroup_namespace_there_is_no_bind_source() {
        let mounts = mountinfo::parse(
            "35 31 0:32 /../.. /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
        )
        .expect("parses");
        let h = v1_hierarchies(&mounts, &parse_proc_cgroup("4:memory:/\n"));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].source, None);
    }
}
