//! One `mounts[]` entry onto the rootfs (config.md#mounts), the way runc's mountToRootfs
//! does it: bind mounts get a separate remount for their flags, propagation flags are applied
//! afterwards on a freshly resolved handle (the first handle points *under* the new mount).

use super::cgroup;
use super::options::{parse_options, IdmapScope, MountOptions};
use super::resolve::{Create, Fd};
use super::{clean, Env, RootfsError};
use crate::sys::mount::{FileKind, Handle, Loc, MountSys, PROC_SUPER_MAGIC};
use nix::mount::MsFlags;
use oci_spec::runtime::Mount;
use std::path::{Path, PathBuf};

/// A mount to perform: a config entry with its options parsed (or one synthesized by
/// the cgroup v1 emulation).
#[derive(Clone, Debug)]
pub struct Entry {
    pub index: usize,
    pub destination: PathBuf,
    pub source: Option<PathBuf>,
    pub typ: String,
    pub opts: MountOptions,
}

impl Entry {
    pub fn from_config(index: usize, m: &Mount, rootfs: &Path) -> Self {
        // runc takes a destination written as a host path under the rootfs as the path
        // inside it (mountToRootfs strips the rootfs prefix), instead of nesting it again.
        let destination = match m.destination().strip_prefix(rootfs) {
            Ok(inside) if m.destination().is_absolute() => clean(&Path::new("/").join(inside)),
            _ => clean(m.destination()),
        };
        let options = m.options().clone().unwrap_or_default();
        let mut opts = parse_options(&options);
        let typ = m.typ().clone().unwrap_or_default();
        // runc >= 1.2 treats `"type": "bind"` as a bind mount even without a bind option.
        if typ == "bind" {
            opts.flags.insert(MsFlags::MS_BIND);
        }
        // Mappings without `idmap`/`ridmap` map the top mount only (runc's default).
        if opts.idmap.is_none() && (m.uid_mappings().is_some() || m.gid_mappings().is_some()) {
            opts.idmap = Some(IdmapScope::Top);
        }
        Entry {
            index,
            destination,
            source: m.source().clone(),
            typ,
            opts,
        }
    }

    pub(super) fn is_bind(&self) -> bool {
        self.opts.flags.contains(MsFlags::MS_BIND)
    }

    fn data(&self) -> Option<&str> {
        Some(self.opts.data.as_str()).filter(|d| !d.is_empty())
    }
}

/// Performs one mount entry.
pub fn mount_entry(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    if e.opts.copy_up && (e.typ != "tmpfs" || e.is_bind()) {
        return Err(RootfsError::Option {
            destination: e.destination.clone(),
            option: "tmpcopyup".into(),
            reason: "tmpcopyup is only valid for tmpfs mounts",
        });
    }
    if e.is_bind() {
        return super::bind::bind(env, e);
    }
    if e.opts.flags.contains(MsFlags::MS_REMOUNT) {
        return Err(RootfsError::Option {
            destination: e.destination.clone(),
            option: "remount".into(),
            reason: "remount is only supported on bind mounts",
        });
    }
    match e.typ.as_str() {
        "" => Err(RootfsError::config(
            format!("mounts[{}].type", e.index),
            "missing (only bind mounts may omit it)",
        )),
        "tmpfs" => tmpfs(env, e),
        "cgroup" => cgroup::mount_v1(env, e),
        "cgroup2" => cgroup::mount_v2(env, e),
        // CVE-2019-19921: proc and sysfs only on a real directory reached without symlinks.
        "proc" | "sysfs" => fresh(env, e, true),
        _ => fresh(env, e, false),
    }
}

/// runc's wording for a destination that is a symlink or not a directory.
fn not_a_dir(e: &Entry) -> RootfsError {
    RootfsError::UnsafeDestination {
        destination: e.destination.clone(),
        reason: format!(
            "filesystem {:?} must be mounted on ordinary directory",
            e.typ
        ),
    }
}

/// A new filesystem instance (proc, sysfs, mqueue, devpts, tmpfs, ...).
pub fn fresh(env: &Env, e: &Entry, no_symlinks: bool) -> Result<(), RootfsError> {
    let fd = match env.resolve(&e.destination, Create::Dir, no_symlinks) {
        Err(err) if no_symlinks && err.errno() == Some(libc::ELOOP) => return Err(not_a_dir(e)),
        r => r?,
    };
    fresh_at(env, e, no_symlinks, fd)
}

/// `fresh` onto a destination already resolved (with `Create::Dir` and `no_symlinks`).
fn fresh_at(env: &Env, e: &Entry, no_symlinks: bool, fd: Fd) -> Result<(), RootfsError> {
    if no_symlinks {
        let st = env
            .sys
            .stat(fd.handle())
            .map_err(|err| RootfsError::sys("fstat", &e.destination, err))?;
        if st.kind != FileKind::Dir {
            return Err(not_a_dir(e));
        }
    }
    check_proc_destination(env.sys, &fd, e)?;
    let mut flags = e.opts.flags;
    if e.destination == Path::new("/dev") {
        // Devices are created in /dev after the mounts; finalize() applies `ro` (runc).
        flags.remove(MsFlags::MS_RDONLY);
    }
    let source = e.source.clone().unwrap_or_else(|| PathBuf::from(&e.typ));
    env.mount_on(Some(Loc::Path(&source)), &fd, Some(&e.typ), flags, e.data())
        .map_err(|err| RootfsError::sys("mount", &e.destination, err))?;
    drop(fd);
    recursive_attrs(env, e)?;
    propagate(env, &e.destination, &e.opts.propagation)
}

/// tmpfs keeps the mode of the directory it covers unless the options set one (runc chmods
/// the new tmpfs root for the same reason; passing `mode=` lets us mount `ro` in one step).
fn tmpfs(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    let mut e = e.clone();
    let existing = env.resolve(&e.destination, Create::Nothing, false).ok();
    if let Some(fd) = &existing {
        let st = env.sys.stat(fd.handle());
        let has_mode = e.opts.data.split(',').any(|o| o.starts_with("mode="));
        if let (Ok(st), false) = (st, has_mode) {
            if st.kind == FileKind::Dir {
                let sep = if e.opts.data.is_empty() { "" } else { "," };
                e.opts.data = format!("{}{sep}mode={:o}", e.opts.data, st.mode);
            }
        }
    }
    if e.opts.copy_up {
        drop(existing);
        return copy_up(env, &e);
    }
    // What the lookup found is what `fresh` would resolve (same flags; it creates nothing
    // that exists).
    match existing {
        Some(fd) => fresh_at(env, &e, false, fd),
        None => fresh(env, &e, false),
    }
}

/// tmpcopyup: a detached tmpfs is filled with what the destination holds, then attached
/// over it (runc mounts on a temp dir and MS_MOVEs; a detached mount needs no host path).
/// `ro` is applied to the detached mount after the copy.
fn copy_up(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    let dest = &e.destination;
    let fd = env.resolve(dest, Create::Dir, false)?;
    check_proc_destination(env.sys, &fd, e)?;
    let source = e.source.clone().unwrap_or_else(|| PathBuf::from("tmpfs"));
    let rw = e.opts.flags - MsFlags::MS_RDONLY;
    let mnt = env
        .sys
        .mount_detached(Some(&source), "tmpfs", rw, e.data())
        .map_err(|err| RootfsError::sys("mount tmpfs", dest, err))?;
    let mnt = Fd::new(env.sys, mnt);
    env.sys
        .copy_tree(fd.handle(), mnt.handle())
        .map_err(|err| RootfsError::sys("tmpcopyup", dest, err))?;
    // /dev stays writable until finalize() (devices are created after the mounts).
    if e.opts.flags.contains(MsFlags::MS_RDONLY) && dest != Path::new("/dev") {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | rw | MsFlags::MS_RDONLY;
        env.sys
            .mount(None, Loc::Handle(mnt.handle()), None, flags, None)
            .map_err(|err| RootfsError::sys("remount", dest, err))?;
    }
    env.attach_on(mnt.handle(), &fd)
        .map_err(|err| RootfsError::sys("attach tmpfs", dest, err))?;
    drop(fd);
    recursive_attrs(env, e)?;
    propagate(env, dest, &e.opts.propagation)
}

/// Bind-remounts the mount at the container path `destination` with `flags`.
pub fn remount(env: &Env, destination: &Path, flags: MsFlags) -> Result<(), RootfsError> {
    let fd = env.resolve(destination, Create::Nothing, false)?;
    remount_at(
        env.sys,
        Loc::Handle(fd.handle()),
        fd.handle(),
        destination,
        flags,
    )
}

/// Remounts `target` (whose mount `h` is on); on EPERM retries keeping what the kernel
/// locks on a mount inherited from a more privileged user namespace: ro, nosuid, nodev,
/// noexec and the atime settings (MNT_LOCK_*; runc's remount retries the same way). An
/// atime mode asked for that differs from the locked one stays an error, as in runc 1.2:
/// it cannot be had, and dropping it silently would hide that.
pub fn remount_at(
    sys: &dyn MountSys,
    target: Loc,
    h: Handle,
    path: &Path,
    flags: MsFlags,
) -> Result<(), RootfsError> {
    let err = match sys.mount(None, target, None, flags, None) {
        Ok(()) => return Ok(()),
        Err(err) if err.raw_os_error() == Some(libc::EPERM) => err,
        Err(err) => return Err(RootfsError::sys("remount", path, err)),
    };
    let current = sys.statfs(h).map(|i| i.flags).unwrap_or(MsFlags::empty());
    let Some(retry) = with_locked_flags(flags, current).filter(|r| *r != flags) else {
        return Err(RootfsError::sys("remount", path, err));
    };
    sys.mount(None, target, None, retry, None)
        .map_err(|err| RootfsError::sys("remount", path, err))
}

/// `flags` plus the lockable flags the mount has now (`current`, from statfs, where strict
/// atime is the absence of the others), with the mount's own atime mode when none was asked
/// for; `None` when a different atime mode was asked for.
pub fn with_locked_flags(flags: MsFlags, current: MsFlags) -> Option<MsFlags> {
    let lockable = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let mode = MsFlags::MS_NOATIME | MsFlags::MS_RELATIME | MsFlags::MS_STRICTATIME;
    let asked = flags & mode;
    if !asked.is_empty() && asked != current & mode {
        return None;
    }
    let atime = mode | MsFlags::MS_NODIRATIME;
    Some(flags | (current & (lockable | atime)))
}

/// `rro`, `rnosuid`, ...: mount_setattr(AT_RECURSIVE) on the new mount tree, after any
/// remount (runtime-spec 1.1 config.md#linux-mount-options; runc setRecAttr).
pub(super) fn recursive_attrs(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    if e.opts.rec_set.is_empty() && e.opts.rec_clear.is_empty() {
        return Ok(());
    }
    let fd = env.resolve(&e.destination, Create::Nothing, false)?;
    env.sys
        .set_recursive_attrs(fd.handle(), e.opts.rec_set, e.opts.rec_clear)
        .map_err(|err| RootfsError::sys("mount_setattr", &e.destination, err))
}

/// Applies propagation changes to the mount now at `destination`.
pub fn propagate(env: &Env, destination: &Path, props: &[MsFlags]) -> Result<(), RootfsError> {
    if props.is_empty() {
        return Ok(());
    }
    let fd = env.resolve(destination, Create::Nothing, false)?;
    for p in props {
        env.sys
            .mount(None, Loc::Handle(fd.handle()), None, *p, None)
            .map_err(|err| RootfsError::sys("set propagation", destination, err))?;
    }
    Ok(())
}

/// Paths under /proc a mount may cover (lxcfs emulates them); runc's checkProcMount list.
const PROC_ALLOWED: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// Refuses mounts over procfs files (CVE-2019-16884: covering /proc/self/attr and friends).
/// Checked on the *resolved* handle, so a symlink into /proc does not get past it.
pub(super) fn check_proc_destination(
    sys: &dyn MountSys,
    fd: &Fd,
    e: &Entry,
) -> Result<(), RootfsError> {
    let info = sys
        .statfs(fd.handle())
        .map_err(|err| RootfsError::sys("fstatfs", &e.destination, err))?;
    if info.magic != PROC_SUPER_MAGIC {
        return Ok(());
    }
    let dest = e.destination.to_string_lossy();
    if PROC_ALLOWED.contains(&dest.as_ref()) || (e.typ == "proc" && dest == "/proc") {
        return Ok(());
    }
    Err(RootfsError::UnsafeDestination {
        destination: e.destination.clone(),
        reason: "mounts inside /proc are not allowed".into(),
    })
}
