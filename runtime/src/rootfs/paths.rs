//! After pivot_root: the console bind, `readonlyPaths`, `maskedPaths` and `root.readonly`
//! (config-linux.md#masked-paths, #readonly-paths, config.md#root, config.md#console).
//! Everything is resolved in-root from an O_PATH fd of the new `/`.

use super::mounts::remount_at;
use super::resolve::{Create, Fd};
use super::{Env, RootfsError};
use crate::sys::mount::{FileKind, Handle, Loc, PROC_SUPER_MAGIC};
use nix::mount::MsFlags;
use std::path::Path;

/// Bind-mounts the pty slave onto /dev/console. /dev/console is reached without symlinks and
/// must be a plain file or char device not on procfs, so a hostile image cannot turn the
/// bind into a writable view of a /proc file (CVE-2025-52565).
pub fn bind_console(env: &Env, pty_slave: &Path) -> Result<(), RootfsError> {
    let console = Path::new("/dev/console");
    let fd = env.resolve(console, Create::File, true)?;
    let st = env
        .sys
        .stat(fd.handle())
        .map_err(|e| RootfsError::sys("fstat", console, e))?;
    let fs = env
        .sys
        .statfs(fd.handle())
        .map_err(|e| RootfsError::sys("fstatfs", console, e))?;
    if !matches!(st.kind, FileKind::File | FileKind::CharDev) || fs.magic == PROC_SUPER_MAGIC {
        return Err(RootfsError::UnsafeDestination {
            destination: console.into(),
            reason: format!(
                "/dev/console is a {} on filesystem {:#x}",
                st.kind, fs.magic
            ),
        });
    }
    env.mount_on(
        Some(Loc::Path(pty_slave)),
        &fd,
        None,
        MsFlags::MS_BIND,
        None,
    )
    .map_err(|e| RootfsError::sys("bind console", console, e))
}

/// Optional resolution: a missing path is skipped (runc ignores missing masked/readonly paths).
fn resolve_existing<'a>(env: &Env<'a>, path: &Path) -> Result<Option<Fd<'a>>, RootfsError> {
    match env.resolve(path, Create::Nothing, false) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Binds each path onto itself and remounts it ro,nosuid,nodev,noexec.
pub fn readonly_paths(env: &Env, paths: &[String]) -> Result<(), RootfsError> {
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    for p in paths {
        let path = Path::new(p);
        let Some(fd) = resolve_existing(env, path)? else {
            continue;
        };
        env.mount_on(
            Some(Loc::Handle(fd.handle())),
            &fd,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )
        .map_err(|e| RootfsError::sys("bind readonly path", path, e))?;
        drop(fd);
        // The old handle is under the new mount: resolve again to reach the mount itself.
        let Some(top) = resolve_existing(env, path)? else {
            continue;
        };
        remount_at(
            env.sys,
            Loc::Handle(top.handle()),
            top.handle(),
            path,
            flags,
        )?;
    }
    Ok(())
}

/// Opens /dev/null without following symlinks and checks it is the real char device 1:3
/// before anything is bound from it (CVE-2025-31133: a symlink or other node there would
/// "mask" paths with something writable).
fn verified_dev_null<'a>(env: &Env<'a>) -> Result<Fd<'a>, RootfsError> {
    let fd = env.resolve(Path::new("/dev/null"), Create::Nothing, true)?;
    let st = env
        .sys
        .stat(fd.handle())
        .map_err(|e| RootfsError::sys("fstat", "/dev/null", e))?;
    if st.kind != FileKind::CharDev || (st.rdev_major, st.rdev_minor) != (1, 3) {
        let found = format!("{} {}:{}", st.kind, st.rdev_major, st.rdev_minor);
        return Err(RootfsError::BadDevNull { found });
    }
    Ok(fd)
}

/// Masks each path: a read-only tmpfs (with the mount label) over directories, the verified
/// /dev/null over anything else; missing paths are skipped.
pub fn masked_paths(env: &Env, paths: &[String]) -> Result<(), RootfsError> {
    let mut dev_null: Option<Fd> = None;
    for p in paths {
        let path = Path::new(p);
        let Some(fd) = resolve_existing(env, path)? else {
            continue;
        };
        let st = env
            .sys
            .stat(fd.handle())
            .map_err(|e| RootfsError::sys("fstat", path, e))?;
        let r = if st.kind == FileKind::Dir {
            let tmpfs = Path::new("tmpfs");
            let data = super::label::with_context("", env.mount_label);
            env.mount_on(
                Some(Loc::Path(tmpfs)),
                &fd,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                Some(data.as_str()).filter(|d| !d.is_empty()),
            )
        } else {
            let null: Handle = match &dev_null {
                Some(n) => n.handle(),
                None => dev_null.insert(verified_dev_null(env)?).handle(),
            };
            env.mount_on(Some(Loc::Handle(null)), &fd, None, MsFlags::MS_BIND, None)
        };
        r.map_err(|e| RootfsError::sys("mask", path, e))?;
    }
    Ok(())
}

/// Remounts `/` read-only (config.md#root `readonly`), keeping locked flags on EPERM.
pub fn readonly_root(env: &Env) -> Result<(), RootfsError> {
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    remount_at(
        env.sys,
        Loc::Path(Path::new("/")),
        env.root,
        Path::new("/"),
        flags,
    )
}
