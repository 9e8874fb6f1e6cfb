//! Safe resolution of container paths: everything is looked up with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` from an `O_PATH` fd of the root, so a
//! symlink (absolute or `..`-laden) can never lead outside the rootfs (CVE-2021-30465,
//! CVE-2025-31133/52565/52881). Missing components are created fd-relatively (mkdirat /
//! openat(O_CREAT|O_EXCL|O_NOFOLLOW)) in the directory that was itself resolved in-root, and
//! dangling symlinks are followed *inside* the root the way runc's SecureJoin does, so
//! `/etc/resolv.conf -> ../run/resolv.conf` creates `<rootfs>/run/resolv.conf`.

use super::RootfsError;
use crate::sys::mount::{Handle, MountSys};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};

/// Linux's own limit on symlinks followed in one lookup.
const MAX_SYMLINKS: usize = 40;

/// An owned handle that is closed through the seam when dropped.
pub struct Fd<'a> {
    sys: &'a dyn MountSys,
    handle: Handle,
}

impl<'a> Fd<'a> {
    pub fn new(sys: &'a dyn MountSys, handle: Handle) -> Self {
        Fd { sys, handle }
    }

    pub fn handle(&self) -> Handle {
        self.handle
    }
}

impl Drop for Fd<'_> {
    fn drop(&mut self) {
        self.sys.close(self.handle);
    }
}

/// What to create when the path (or a component of it) does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// Nothing: a missing path is an ENOENT error.
    Nothing,
    /// Directories all the way down.
    Dir,
    /// Directories, then an empty regular file as the last component.
    File,
}

/// Opens the host directory that acts as the root for in-root lookups.
pub fn open_root<'a>(sys: &'a dyn MountSys, path: &Path) -> Result<Fd<'a>, RootfsError> {
    sys.open(path)
        .map(|h| Fd::new(sys, h))
        .map_err(|e| RootfsError::sys("open", path, e))
}

fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// Resolves `path` (a container path) inside `root`, creating what is missing per `create`.
/// With `no_symlinks` any symlink on the way is an error (ELOOP).
pub fn resolve_in_root<'a>(
    sys: &'a dyn MountSys,
    root: Handle,
    path: &Path,
    create: Create,
    no_symlinks: bool,
) -> Result<Fd<'a>, RootfsError> {
    let open = |p: &Path| {
        sys.resolve(root, p, no_symlinks)
            .map(|h| Fd::new(sys, h))
            .map_err(|e| RootfsError::sys("openat2", p, e))
    };
    if create == Create::Nothing {
        return open(path);
    }
    let mut pending = components(path);
    let mut done = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        let candidate = done.join(&name);
        match sys.resolve(root, &candidate, no_symlinks) {
            Ok(h) => {
                sys.close(h);
                done = candidate;
                continue;
            }
            Err(e) if errno(&e) == libc::ENOENT => {}
            Err(e) => return Err(RootfsError::sys("openat2", candidate, e)),
        }
        let parent = open(&done)?;
        if let Some(target) = dangling_link(sys, &parent, &name, &candidate)? {
            links += 1;
            if no_symlinks || links > MAX_SYMLINKS {
                let e = std::io::Error::from_raw_os_error(libc::ELOOP);
                return Err(RootfsError::sys("openat2", path, e));
            }
            // Follow it lexically from its own directory; the next openat2 keeps it in-root.
            if target.is_absolute() {
                done = PathBuf::from("/");
            }
            let mut next = components(&target);
            next.extend(pending);
            pending = next;
            continue;
        }
        let file = create == Create::File && pending.is_empty();
        make(sys, &parent, &name, file, &candidate)?;
        done = candidate;
    }
    open(&done)
}

/// The target of `name` in `parent` if it is a symlink (which must then dangle).
fn dangling_link(
    sys: &dyn MountSys,
    parent: &Fd,
    name: &OsStr,
    candidate: &Path,
) -> Result<Option<PathBuf>, RootfsError> {
    match sys.readlink_at(parent.handle(), name) {
        Ok(t) => Ok(Some(t)),
        Err(e) if matches!(errno(&e), libc::ENOENT | libc::EINVAL) => Ok(None),
        Err(e) => Err(RootfsError::sys("readlinkat", candidate, e)),
    }
}

fn make(
    sys: &dyn MountSys,
    parent: &Fd,
    name: &OsStr,
    file: bool,
    candidate: &Path,
) -> Result<(), RootfsError> {
    let (op, r) = if file {
        ("create", sys.create_file_at(parent.handle(), name, 0o755))
    } else {
        ("mkdirat", sys.mkdir_at(parent.handle(), name, 0o755))
    };
    match r {
        // Someone created it in between: the final openat2 checks what it is.
        Err(e) if errno(&e) == libc::EEXIST => Ok(()),
        Err(e) => Err(RootfsError::sys(op, candidate, e)),
        Ok(()) => Ok(()),
    }
}

/// Splits a container path into its (in-root resolved, created) parent and its file name.
pub fn parent_and_name<'a>(
    sys: &'a dyn MountSys,
    root: Handle,
    path: &Path,
) -> Result<(Fd<'a>, OsString), RootfsError> {
    let name = path.file_name().ok_or_else(|| {
        RootfsError::sys(
            "resolve",
            path,
            std::io::Error::from_raw_os_error(libc::EINVAL),
        )
    })?;
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = resolve_in_root(sys, root, parent, Create::Dir, false)?;
    Ok((dir, name.to_os_string()))
}
