//! Safe resolution of container paths: everything is looked up with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` from an `O_PATH` fd of the root, so a
//! symlink (absolute or `..`-laden) can never lead outside the rootfs (CVE-2021-30465,
//! CVE-2025-31133/52565/52881). Missing components are created fd-relatively (mkdirat /
//! openat(O_CREAT|O_EXCL|O_NOFOLLOW)) in the directory that was itself resolved in-root, and
//! dangling symlinks are followed *inside* the root the way runc's SecureJoin does, so
//! `/etc/resolv.conf -> ../run/resolv.conf` creates `<rootfs>/run/resolv.conf`.
//!
//! [`Resolver`] does the same with fewer walks: it keeps the parent directories it resolved
//! open for the rest of the phase and looks up only the last component below them.

use super::RootfsError;
use crate::sys::mount::{Handle, MountSys};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// Linux's own limit on symlinks followed in one lookup.
const MAX_SYMLINKS: usize = 40;

/// An owned handle that is closed through the seam when dropped.
pub struct Fd<'a> {
    sys: &'a dyn MountSys,
    handle: Handle,
    /// The container path the handle is exactly at, when it was reached without following
    /// a symlink (see [`Resolver::covered`]); None when unknown.
    at: Option<PathBuf>,
}

impl<'a> Fd<'a> {
    pub fn new(sys: &'a dyn MountSys, handle: Handle) -> Self {
        Fd {
            sys,
            handle,
            at: None,
        }
    }

    fn exact(sys: &'a dyn MountSys, handle: Handle, at: &Path) -> Self {
        Fd {
            sys,
            handle,
            at: Some(at.to_path_buf()),
        }
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

/// In-root resolution for one phase of the setup (before pivot_root, or after it), keeping
/// the parent directories it resolved open so that each later path below them costs one
/// lookup of its last component instead of a walk from the root (issue 14: the runc default
/// config resolved `dev`, `sys` and `sys/fs/cgroup` again for every mount and device).
///
/// Same guarantees as [`resolve_in_root`]: a cached directory was itself resolved from the
/// root with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS`, and a last
/// component is looked up below it with the same flags, so it is a plain name that cannot
/// leave the directory. That lookup is exactly the last step of the walk from the root. Where
/// a symlink is on the way (ELOOP), the resolution starts again from the root with the
/// caller's flags ([`resolve_in_root`]), which follows it in-root as before; without
/// symlinks allowed the ELOOP is the answer, as before.
///
/// Invalidation: a directory fd taken before a mount on that directory, or on one of its
/// ancestors, refers to the directory *under* the new mount, and names looked up below it
/// would miss the mount (a mask or a read-only bind would then land where nobody sees it).
/// So every mount that adds to the tree goes through [`super::Env::mount_on`] or
/// [`super::Env::attach_on`], which first forget every cached directory at or below the
/// target's path. That path is exact only when the target was reached without symlinks (the
/// cache itself only ever holds such directories); otherwise the mount may have landed
/// anywhere, and the whole cache is dropped. Remounts and propagation changes do not change
/// which directory a name leads to and keep the cache. A forgotten fd is closed only when its
/// last user drops it (`Rc`), so no caller is ever left with a closed number.
pub struct Resolver<'a> {
    sys: &'a dyn MountSys,
    root: Rc<Fd<'a>>,
    dirs: RefCell<Vec<Rc<Fd<'a>>>>,
}

/// The parent and last component of an absolute path with only plain components (what
/// `clean` makes of a mount destination); None for `/` and anything else.
fn split(path: &Path) -> Option<(&Path, &OsStr)> {
    let mut comps = path.components();
    if comps.next() != Some(Component::RootDir) {
        return None;
    }
    if !comps.all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some((path.parent()?, path.file_name()?))
}

impl<'a> Resolver<'a> {
    pub fn new(sys: &'a dyn MountSys, mut root: Fd<'a>) -> Self {
        root.at = Some(PathBuf::from("/"));
        Resolver {
            sys,
            root: Rc::new(root),
            dirs: RefCell::new(Vec::new()),
        }
    }

    pub fn root(&self) -> Handle {
        self.root.handle()
    }

    /// Resolves `path` like [`resolve_in_root`] from the root, using the cached parent.
    pub fn resolve(
        &self,
        path: &Path,
        create: Create,
        no_symlinks: bool,
    ) -> Result<Fd<'a>, RootfsError> {
        let Some((parent, name)) = split(path) else {
            return self.walk_from_root(path, create, no_symlinks);
        };
        let dir = if create == Create::Nothing && !self.is_cached(parent) {
            // A parent not yet open would cost a lookup of its own: one walk of the whole
            // path costs the same single openat2, and a lookup creates nothing to remember.
            return self.whole(path, no_symlinks);
        } else {
            self.dir_at(parent, create != Create::Nothing)?
        };
        let Some(dir) = dir else {
            return self.walk_from_root(path, create, no_symlinks);
        };
        let open = || self.sys.resolve(dir.handle(), Path::new(name), true);
        let found = match open() {
            Err(e) if errno(&e) == libc::ENOENT && create != Create::Nothing => {
                make(self.sys, &dir, name, create == Create::File, path)?;
                open()
            }
            r => r,
        };
        match found {
            Ok(h) => Ok(Fd::exact(self.sys, h, path)),
            Err(e) if errno(&e) == libc::ELOOP && !no_symlinks => {
                self.walk_from_root(path, create, no_symlinks)
            }
            Err(e) => Err(RootfsError::sys("openat2", path, e)),
        }
    }

    /// The directory at `path`, created if `create`, shared with the cache when it can be
    /// kept there (for callers that make several entries in it).
    pub fn dir(&self, path: &Path, create: bool) -> Result<Rc<Fd<'a>>, RootfsError> {
        let clean = path == Path::new("/") || split(path).is_some();
        if clean {
            if let Some(d) = self.dir_at(path, create)? {
                return Ok(d);
            }
        }
        let create = if create { Create::Dir } else { Create::Nothing };
        self.walk_from_root(path, create, false).map(Rc::new)
    }

    /// Splits a container path into its (in-root resolved, created) parent and its name.
    pub fn parent_and_name(&self, path: &Path) -> Result<(Rc<Fd<'a>>, OsString), RootfsError> {
        let name = path.file_name().ok_or_else(|| {
            RootfsError::sys(
                "resolve",
                path,
                std::io::Error::from_raw_os_error(libc::EINVAL),
            )
        })?;
        let dir = self.dir(path.parent().unwrap_or(Path::new("/")), true)?;
        Ok((dir, name.to_os_string()))
    }

    /// Forgets what a new mount on `target` covers; see the type's doc.
    pub fn covered(&self, target: &Fd) {
        let mut dirs = self.dirs.borrow_mut();
        match &target.at {
            Some(p) => dirs.retain(|d| !d.at.as_deref().is_some_and(|at| at.starts_with(p))),
            None => dirs.clear(),
        }
    }

    fn is_cached(&self, path: &Path) -> bool {
        path == Path::new("/") || self.cached(path).is_some()
    }

    fn cached(&self, path: &Path) -> Option<Rc<Fd<'a>>> {
        self.dirs
            .borrow()
            .iter()
            .find(|d| d.at.as_deref() == Some(path))
            .cloned()
    }

    fn walk_from_root(
        &self,
        path: &Path,
        create: Create,
        no_symlinks: bool,
    ) -> Result<Fd<'a>, RootfsError> {
        resolve_in_root(self.sys, self.root.handle(), path, create, no_symlinks)
    }

    /// One walk of the whole path from the root, without symlinks first so that the result
    /// is exact; with a symlink on the way (and symlinks allowed) the plain walk.
    fn whole(&self, path: &Path, no_symlinks: bool) -> Result<Fd<'a>, RootfsError> {
        match self.sys.resolve(self.root.handle(), path, true) {
            Ok(h) => Ok(Fd::exact(self.sys, h, path)),
            Err(e) if errno(&e) == libc::ELOOP && !no_symlinks => {
                self.walk_from_root(path, Create::Nothing, false)
            }
            Err(e) => Err(RootfsError::sys("openat2", path, e)),
        }
    }

    /// The cached, symlink-free directory at `path` (a clean absolute path), resolving and
    /// (with `create`) making it first; None when a symlink is on the way.
    fn dir_at(&self, path: &Path, create: bool) -> Result<Option<Rc<Fd<'a>>>, RootfsError> {
        if path == Path::new("/") {
            return Ok(Some(self.root.clone()));
        }
        if let Some(d) = self.cached(path) {
            return Ok(Some(d));
        }
        let h = match self.sys.resolve(self.root.handle(), path, true) {
            Ok(h) => h,
            Err(e) if errno(&e) == libc::ELOOP => return Ok(None),
            Err(e) if errno(&e) == libc::ENOENT && create => {
                let Some((parent, name)) = split(path) else {
                    return Ok(None);
                };
                let Some(dir) = self.dir_at(parent, true)? else {
                    return Ok(None);
                };
                make(self.sys, &dir, name, false, path)?;
                match self.sys.resolve(dir.handle(), Path::new(name), true) {
                    Ok(h) => h,
                    Err(e) if errno(&e) == libc::ELOOP => return Ok(None),
                    Err(e) => return Err(RootfsError::sys("openat2", path, e)),
                }
            }
            Err(e) => return Err(RootfsError::sys("openat2", path, e)),
        };
        let d = Rc::new(Fd::exact(self.sys, h, path));
        self.dirs.borrow_mut().push(d.clone());
        Ok(Some(d))
    }
}
