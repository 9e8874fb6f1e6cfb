//! The root mount itself: propagation, the rootfs bind mount, pivot_root (or MS_MOVE +
//! chroot with --no-pivot) and the read-only root (config.md#root,
//! config-linux.md#rootfs-mount-propagation).

use super::host::HostMounts;
use super::options::parse_rootfs_propagation;
use super::resolve::Fd;
use super::{RootfsContext, RootfsError};
use crate::mountinfo::{self, MountInfo};
use crate::sys::mount::{Loc, MountSys};
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// `linux.rootfsPropagation`, if set.
pub fn configured_propagation(ctx: &RootfsContext) -> Result<Option<MsFlags>, RootfsError> {
    let value = ctx
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.rootfs_propagation().clone());
    value
        .filter(|v| !v.is_empty())
        .map(|v| parse_rootfs_propagation(&v))
        .transpose()
}

fn sys_err<'p>(
    op: &'static str,
    path: &'p Path,
) -> impl FnOnce(std::io::Error) -> RootfsError + 'p {
    move |e| RootfsError::sys(op, path, e)
}

/// The mount (from mountinfo) that contains `path`.
fn containing_mount<'m>(mounts: &'m [MountInfo], path: &Path) -> Option<&'m MountInfo> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.components().count())
}

/// Whether `/` changed with `flags` can still hold a shared mount: after a recursive
/// `slave`, `private` or `unbindable` none is (a slave leaves its peer group, and so is no
/// longer shared), so the mount holding the rootfs needs no check, and mountinfo no read.
/// `shared`/`rshared`, or a non-recursive change that leaves the mounts below `/` as they
/// were, still need it.
fn may_leave_shared(flags: MsFlags) -> bool {
    flags.contains(MsFlags::MS_SHARED) || !flags.contains(MsFlags::MS_REC)
}

/// Before any mount: stop our mounts reaching the host (runc prepareRoot): `/` becomes
/// rslave (or the configured propagation), the rootfs's parent mount private if it is shared
/// (pivot_root refuses a shared parent), then the rootfs is bind-mounted onto itself so it is
/// a mount point pivot_root can use.
pub fn prepare_root(
    sys: &dyn MountSys,
    ctx: &RootfsContext,
    host_mounts: &HostMounts,
) -> Result<(), RootfsError> {
    let root = Path::new("/");
    // An unbindable tree cannot be bind-mounted onto itself (EINVAL, runc 1.1's bug): start
    // with rprivate and let switch_root apply `unbindable` to the new root after pivot_root.
    let flags = match configured_propagation(ctx)? {
        Some(f) if f.contains(MsFlags::MS_UNBINDABLE) => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        Some(f) => f,
        None => MsFlags::MS_SLAVE | MsFlags::MS_REC,
    };
    sys.mount(None, Loc::Path(root), None, flags, None)
        .map_err(sys_err("set propagation", root))?;
    if may_leave_shared(flags) {
        let parent = containing_mount(host_mounts.get()?, ctx.rootfs)
            .filter(|m| m.optional.iter().any(|o| o.starts_with("shared:")));
        if let Some(parent) = parent {
            let p = &parent.mount_point;
            sys.mount(None, Loc::Path(p), None, MsFlags::MS_PRIVATE, None)
                .map_err(sys_err("make private", p))?;
        }
    }
    sys.mount(
        Some(Loc::Path(ctx.rootfs)),
        Loc::Path(ctx.rootfs),
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )
    .map_err(sys_err("bind rootfs", ctx.rootfs))
}

/// pivot_root(".", ".") as runc does: no put_old directory is needed inside the rootfs, the
/// old root ends up stacked under the new one and is detached right away (after making it
/// rslave so the unmount does not propagate to the host).
fn pivot_root(sys: &dyn MountSys, rootfs: &Path) -> Result<(), RootfsError> {
    let dot = Path::new(".");
    let old = Fd::new(
        sys,
        sys.open(Path::new("/"))
            .map_err(sys_err("open", Path::new("/")))?,
    );
    let new = Fd::new(sys, sys.open(rootfs).map_err(sys_err("open", rootfs))?);
    sys.fchdir(new.handle())
        .map_err(sys_err("fchdir", rootfs))?;
    sys.pivot_root(dot, dot)
        .map_err(sys_err("pivot_root", rootfs))?;
    sys.fchdir(old.handle())
        .map_err(sys_err("fchdir", Path::new("old root")))?;
    sys.mount(
        None,
        Loc::Path(dot),
        None,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None,
    )
    .map_err(sys_err("make old root rslave", dot))?;
    sys.umount2(dot, MntFlags::MNT_DETACH)
        .map_err(sys_err("umount old root", dot))?;
    sys.chdir(Path::new("/"))
        .map_err(sys_err("chdir", Path::new("/")))
}

/// --no-pivot (runc msMoveRoot): move the rootfs mount over `/` and chroot into it. The old
/// root stays in the mount namespace under the chroot; that is the documented cost of the
/// flag (needed on ramfs/initramfs roots where pivot_root fails).
fn move_root(sys: &dyn MountSys, rootfs: &Path) -> Result<(), RootfsError> {
    hide_host_proc_and_sys(sys, rootfs)?;
    let root = Path::new("/");
    sys.chdir(rootfs).map_err(sys_err("chdir", rootfs))?;
    sys.mount(
        Some(Loc::Path(rootfs)),
        Loc::Path(root),
        None,
        MsFlags::MS_MOVE,
        None,
    )
    .map_err(sys_err("move rootfs", rootfs))?;
    sys.chroot(Path::new("."))
        .map_err(sys_err("chroot", rootfs))?;
    sys.chdir(root).map_err(sys_err("chdir", root))
}

/// The kernel lets a user namespace mount a new procfs or sysfs only if a full, uncovered
/// instance is already visible in its mount namespace (fs/namespace.c mount_too_revealing).
/// After pivot_root the host's /proc is gone, and the container's own /proc has its
/// maskedPaths over it, so a fresh procfs is refused. Under --no-pivot the host's /proc
/// and /sys are still in the namespace, below the chroot, and would let a process in the
/// container mount a procfs without the masks. runc detaches every whole proc and sysfs
/// mount outside the rootfs before the move (or covers it with a tmpfs where it may not
/// unmount it); so does this.
fn hide_host_proc_and_sys(sys: &dyn MountSys, rootfs: &Path) -> Result<(), RootfsError> {
    // Read afresh rather than shared with prepare(): the createContainer hooks ran since,
    // and a proc they mounted must be hidden too.
    let mountinfo = sys
        .read_file(Path::new("/proc/self/mountinfo"))
        .map_err(sys_err("read", Path::new("/proc/self/mountinfo")))?;
    let exposed: Vec<PathBuf> = mountinfo::parse(&mountinfo)?
        .into_iter()
        .filter(|m| m.root == Path::new("/") && (m.fstype == "proc" || m.fstype == "sysfs"))
        .filter(|m| !m.mount_point.starts_with(rootfs))
        .map(|m| m.mount_point)
        .collect();
    for p in &exposed {
        // rslave first, so the unmount does not reach the host's namespace.
        match sys.mount(
            None,
            Loc::Path(p),
            None,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None,
        ) {
            // A parent of it was detached already.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            r => r.map_err(sys_err("make rslave", p))?,
        }
        match sys.umount2(p, MntFlags::MNT_DETACH) {
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EPERM)) => {
                let tmpfs = Path::new("tmpfs");
                sys.mount(
                    Some(Loc::Path(tmpfs)),
                    Loc::Path(p),
                    Some("tmpfs"),
                    MsFlags::empty(),
                    None,
                )
                .map_err(sys_err("cover", p))?;
            }
            r => r.map_err(sys_err("umount", p))?,
        }
    }
    Ok(())
}

/// Without a mount namespace of its own the container is only chrooted into its rootfs
/// (runc's chroot()): pivot_root would move the root of every process sharing the
/// namespace, and --no-pivot's MS_MOVE would cover the host's own `/`.
fn chroot_into(sys: &dyn MountSys, rootfs: &Path) -> Result<(), RootfsError> {
    let root = Path::new("/");
    sys.chdir(rootfs).map_err(sys_err("chdir", rootfs))?;
    sys.chroot(Path::new("."))
        .map_err(sys_err("chroot", rootfs))?;
    sys.chdir(root).map_err(sys_err("chdir", root))
}

/// Switches into the rootfs, then re-applies a configured rootfs propagation to the new `/`
/// (runc does this after pivot so `shared` never applies to the host's root).
pub fn switch_root(sys: &dyn MountSys, ctx: &RootfsContext) -> Result<(), RootfsError> {
    if ctx.shares_mount_ns {
        return chroot_into(sys, ctx.rootfs);
    }
    if ctx.no_pivot {
        move_root(sys, ctx.rootfs)?;
    } else {
        pivot_root(sys, ctx.rootfs)?;
    }
    if let Some(flags) = configured_propagation(ctx)? {
        let root = Path::new("/");
        sys.mount(None, Loc::Path(root), None, flags, None)
            .map_err(sys_err("set propagation", root))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containing_mount_is_the_longest_prefix() {
        let mi = mountinfo::parse(
            "22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n\
             30 22 8:2 / /var rw - ext4 /dev/sda2 rw\n\
             31 22 8:3 / /var/lib/x rw shared:4 - ext4 /dev/sda3 rw\n",
        )
        .expect("parses");
        let m = containing_mount(&mi, Path::new("/var/lib/ctr/rootfs")).expect("found");
        assert_eq!(m.mount_point, Path::new("/var"));
        assert!(m.optional.is_empty());
        let m = containing_mount(&mi, Path::new("/var/lib/x/r")).expect("found");
        assert_eq!(
            (m.mount_point.as_path(), &m.optional[..]),
            (Path::new("/var/lib/x"), &["shared:4".to_string()][..])
        );
    }

    #[test]
    fn only_shared_or_non_recursive_propagation_needs_the_check() {
        let rec = |f: MsFlags| f | MsFlags::MS_REC;
        assert!(!may_leave_shared(rec(MsFlags::MS_SLAVE)));
        assert!(!may_leave_shared(rec(MsFlags::MS_PRIVATE)));
        assert!(may_leave_shared(rec(MsFlags::MS_SHARED)));
        assert!(may_leave_shared(MsFlags::MS_SLAVE));
        assert!(may_leave_shared(MsFlags::MS_PRIVATE));
    }
}
