//! A recording `MountSys` for unit tests: a tiny in-memory tree for the container root
//! (directories, files, nodes, symlinks resolved in-root like openat2(RESOLVE_IN_ROOT)),
//! a set of host paths, and a log of every side effect in a compact, readable form.
//! Handles print as `@/in/root/path` or `@host:/path`.
//!
//! It also checks the rule `resolve::Resolver` relies on: a handle taken before a mount on
//! its path (or an ancestor's) refers to what is under that mount, so resolving below it or
//! mounting onto it afterwards panics ("stale handle").

use crate::sys::mount::{
    FileKind, FileStat, FsInfo, Handle, Loc, MountSys, NodeKind, PROC_SUPER_MAGIC,
};
use nix::mount::{MntFlags, MsFlags};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub kind: FileKind,
    pub mode: u32,
    pub rdev: (u64, u64),
}

#[derive(Default)]
pub struct FakeSys {
    pub ops: RefCell<Vec<String>>,
    pub files: RefCell<BTreeMap<PathBuf, Entry>>,
    pub links: RefCell<BTreeMap<PathBuf, PathBuf>>,
    pub host: RefCell<BTreeMap<PathBuf, FileKind>>,
    /// Files read by read_file (mountinfo, cgroup).
    pub host_files: RefCell<BTreeMap<PathBuf, String>>,
    /// Per-mount flags statfs reports for an in-root path.
    pub mount_flags: RefCell<BTreeMap<PathBuf, MsFlags>>,
    /// (prefix of a logged op, errno): the first op starting with the prefix fails once.
    pub failures: RefCell<Vec<(String, i32)>>,
    /// statfs magic of host paths (default ext4).
    pub host_magic: RefCell<BTreeMap<PathBuf, i64>>,
    /// Every path read_file was asked for, in order.
    pub reads: RefCell<Vec<PathBuf>>,
    /// In-root resolutions (openat2 calls), failed ones included.
    pub resolves: Cell<usize>,
    /// (label, time) of each handle; time orders handles and mounts.
    handles: RefCell<HashMap<i32, (String, u64)>>,
    /// (in-root path, time) of every mount that added to the tree.
    mounted: RefCell<Vec<(PathBuf, u64)>>,
    clock: Cell<u64>,
    next: Cell<i32>,
}

fn err(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

pub fn flags_str(flags: MsFlags) -> String {
    if flags.is_empty() {
        return "0".into();
    }
    let mut names: Vec<String> = flags
        .iter_names()
        .map(|(n, _)| n.trim_start_matches("MS_").to_string())
        .collect();
    if flags.bits() & 256 != 0 {
        names.push("NOSYMFOLLOW".into());
    }
    names.join("|")
}

impl FakeSys {
    pub fn new() -> Self {
        let f = FakeSys::default();
        f.next.set(100);
        f.host.borrow_mut().insert("/".into(), FileKind::Dir);
        f
    }

    pub fn dir(&self, p: &str) -> &Self {
        self.node(p, FileKind::Dir, 0o755, (0, 0))
    }

    pub fn file(&self, p: &str) -> &Self {
        self.node(p, FileKind::File, 0o644, (0, 0))
    }

    pub fn node(&self, p: &str, kind: FileKind, mode: u32, rdev: (u64, u64)) -> &Self {
        self.files
            .borrow_mut()
            .insert(p.into(), Entry { kind, mode, rdev });
        self
    }

    pub fn link(&self, p: &str, target: &str) -> &Self {
        self.links.borrow_mut().insert(p.into(), target.into());
        self
    }

    pub fn host_path(&self, p: &str, kind: FileKind) -> &Self {
        self.host.borrow_mut().insert(p.into(), kind);
        self
    }

    pub fn fail(&self, prefix: &str, errno: i32) -> &Self {
        self.failures.borrow_mut().push((prefix.into(), errno));
        self
    }

    pub fn ops(&self) -> Vec<String> {
        self.ops.borrow().clone()
    }

    pub fn open_handles(&self) -> usize {
        self.handles.borrow().len()
    }

    fn tick(&self) -> u64 {
        self.clock.set(self.clock.get() + 1);
        self.clock.get()
    }

    fn handle(&self, label: String) -> Handle {
        let n = self.next.get();
        self.next.set(n + 1);
        let born = self.tick();
        self.handles.borrow_mut().insert(n, (label, born));
        Handle(n)
    }

    fn label(&self, h: Handle) -> String {
        self.handles
            .borrow()
            .get(&h.0)
            .map(|(l, _)| l.clone())
            .unwrap_or_else(|| format!("<closed {}>", h.0))
    }

    /// Panics when a mount made after `h` was taken covers its in-root path.
    fn check_fresh(&self, h: Handle, use_: &str) {
        let Some((label, born)) = self.handles.borrow().get(&h.0).cloned() else {
            return;
        };
        if label.starts_with("host:") || label.starts_with("detached:") {
            return;
        }
        if let Some((p, _)) = self
            .mounted
            .borrow()
            .iter()
            .find(|(p, t)| *t > born && Path::new(&label).starts_with(p))
        {
            panic!(
                "stale handle: {use_} @{label}, taken before the mount on {}",
                p.display()
            );
        }
    }

    /// Records that a mount was added on the in-root path of `target`.
    fn covers(&self, target: Handle) {
        let label = self.label(target);
        if !label.starts_with("host:") && !label.starts_with("detached:") {
            let t = self.tick();
            self.mounted.borrow_mut().push((label.into(), t));
        }
    }

    fn loc(&self, l: Option<Loc>) -> String {
        match l {
            None => "-".into(),
            Some(Loc::Path(p)) => p.display().to_string(),
            Some(Loc::Handle(h)) => format!("@{}", self.label(h)),
        }
    }

    /// The in-root path of `name` in `dir`; the root handle (a host path) is `/`.
    fn in_root(&self, dir: Handle, name: &OsStr) -> PathBuf {
        self.base(dir).join(name)
    }

    fn base(&self, dir: Handle) -> PathBuf {
        let label = self.label(dir);
        if label.starts_with("host:") {
            PathBuf::from("/")
        } else {
            PathBuf::from(label)
        }
    }

    /// Logs an op, failing it if a matching failure was injected.
    fn record(&self, op: String) -> io::Result<()> {
        let mut failures = self.failures.borrow_mut();
        let hit = failures
            .iter()
            .position(|(p, _)| op.starts_with(p.as_str()));
        self.ops.borrow_mut().push(op);
        match hit {
            Some(i) => Err(err(failures.remove(i).1)),
            None => Ok(()),
        }
    }

    /// openat2(RESOLVE_IN_ROOT) on the model, with `base` (an in-root path) as the root.
    fn walk(&self, base: &Path, path: &Path, no_symlinks: bool) -> io::Result<PathBuf> {
        let mut pending: VecDeque<_> = path
            .components()
            .collect::<Vec<_>>()
            .into_iter()
            .map(|c| c.as_os_str().to_os_string())
            .collect();
        let mut cur = base.to_path_buf();
        let mut links = 0;
        while let Some(c) = pending.pop_front() {
            match Path::new(&c).components().next() {
                Some(Component::CurDir) | None => continue,
                Some(Component::RootDir) => {
                    cur = base.to_path_buf();
                    continue;
                }
                Some(Component::ParentDir) => {
                    if cur != base {
                        cur.pop();
                    }
                    continue;
                }
                _ => cur.push(&c),
            }
            if let Some(t) = self.links.borrow().get(&cur).cloned() {
                links += 1;
                if no_symlinks || links > 40 {
                    return Err(err(libc::ELOOP));
                }
                cur.pop();
                let mut next: VecDeque<_> = t
                    .components()
                    .map(|c| c.as_os_str().to_os_string())
                    .collect();
                next.extend(pending);
                pending = next;
                continue;
            }
            if !self.files.borrow().contains_key(&cur) {
                return Err(err(libc::ENOENT));
            }
        }
        Ok(cur)
    }

    fn add(&self, path: PathBuf, kind: FileKind, mode: u32, rdev: (u64, u64)) -> io::Result<()> {
        let mut files = self.files.borrow_mut();
        if files.contains_key(&path) || self.links.borrow().contains_key(&path) {
            return Err(err(libc::EEXIST));
        }
        files.insert(path, Entry { kind, mode, rdev });
        Ok(())
    }
}

impl MountSys for FakeSys {
    fn open(&self, path: &Path) -> io::Result<Handle> {
        if !self.host.borrow().contains_key(path) {
            return Err(err(libc::ENOENT));
        }
        Ok(self.handle(format!("host:{}", path.display())))
    }

    fn resolve(&self, root: Handle, path: &Path, no_symlinks: bool) -> io::Result<Handle> {
        self.resolves.set(self.resolves.get() + 1);
        self.check_fresh(root, "resolve below");
        let p = self.walk(&self.base(root), path, no_symlinks)?;
        Ok(self.handle(p.display().to_string()))
    }

    fn readlink_at(&self, dir: Handle, name: &OsStr) -> io::Result<PathBuf> {
        let p = self.in_root(dir, name);
        if let Some(t) = self.links.borrow().get(&p) {
            return Ok(t.clone());
        }
        Err(err(if self.files.borrow().contains_key(&p) {
            libc::EINVAL
        } else {
            libc::ENOENT
        }))
    }

    fn mkdir_at(&self, dir: Handle, name: &OsStr, mode: u32) -> io::Result<()> {
        let p = self.in_root(dir, name);
        self.record(format!("mkdir {} {mode:o}", p.display()))?;
        self.add(p, FileKind::Dir, mode, (0, 0))
    }

    fn create_file_at(&self, dir: Handle, name: &OsStr, mode: u32) -> io::Result<()> {
        let p = self.in_root(dir, name);
        self.record(format!("create {} {mode:o}", p.display()))?;
        self.add(p, FileKind::File, mode, (0, 0))
    }

    fn mknod_at(
        &self,
        dir: Handle,
        name: &OsStr,
        kind: NodeKind,
        mode: u32,
        major: u64,
        minor: u64,
    ) -> io::Result<()> {
        let p = self.in_root(dir, name);
        self.record(format!(
            "mknod {} {kind:?} {mode:o} {major}:{minor}",
            p.display()
        ))?;
        let k = match kind {
            NodeKind::Char => FileKind::CharDev,
            NodeKind::Block => FileKind::BlockDev,
            NodeKind::Fifo => FileKind::Fifo,
        };
        self.add(p, k, mode, (major, minor))
    }

    fn chown_at(&self, dir: Handle, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
        self.record(format!(
            "chown {} {uid}:{gid}",
            self.in_root(dir, name).display()
        ))
    }

    fn symlink_at(&self, target: &Path, dir: Handle, name: &OsStr) -> io::Result<()> {
        let p = self.in_root(dir, name);
        self.record(format!("symlink {} -> {}", p.display(), target.display()))?;
        if self.files.borrow().contains_key(&p) || self.links.borrow().contains_key(&p) {
            return Err(err(libc::EEXIST));
        }
        self.links.borrow_mut().insert(p, target.into());
        Ok(())
    }

    fn unlink_at(&self, dir: Handle, name: &OsStr) -> io::Result<()> {
        let p = self.in_root(dir, name);
        self.record(format!("unlink {}", p.display()))?;
        let removed = self.files.borrow_mut().remove(&p).is_some()
            | self.links.borrow_mut().remove(&p).is_some();
        if removed {
            Ok(())
        } else {
            Err(err(libc::ENOENT))
        }
    }

    fn stat(&self, h: Handle) -> io::Result<FileStat> {
        let label = self.label(h);
        let e = match label.strip_prefix("host:") {
            Some(host) => {
                let kind = *self
                    .host
                    .borrow()
                    .get(Path::new(host))
                    .ok_or_else(|| err(libc::ENOENT))?;
                Entry {
                    kind,
                    mode: 0o755,
                    rdev: (0, 0),
                }
            }
            None if label == "/" => Entry {
                kind: FileKind::Dir,
                mode: 0o755,
                rdev: (0, 0),
            },
            None => *self
                .files
                .borrow()
                .get(Path::new(&label))
                .ok_or_else(|| err(libc::ENOENT))?,
        };
        Ok(FileStat {
            kind: e.kind,
            mode: e.mode,
            rdev_major: e.rdev.0,
            rdev_minor: e.rdev.1,
        })
    }

    fn statfs(&self, h: Handle) -> io::Result<FsInfo> {
        let label = self.label(h);
        let host_magic = label
            .strip_prefix("host:")
            .and_then(|p| self.host_magic.borrow().get(Path::new(p)).copied());
        let label = label.strip_prefix("host:").unwrap_or(&label);
        let magic = if let Some(m) = host_magic {
            m
        } else if label.starts_with("/proc/") {
            PROC_SUPER_MAGIC
        } else {
            0xef53
        };
        let flags = self
            .mount_flags
            .borrow()
            .get(Path::new(label))
            .copied()
            .unwrap_or(MsFlags::empty());
        Ok(FsInfo { magic, flags })
    }

    fn mount(
        &self,
        source: Option<Loc>,
        target: Loc,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()> {
        let op = format!(
            "mount {} {} {} {} {}",
            self.loc(source),
            self.loc(Some(target)),
            fstype.unwrap_or("-"),
            flags_str(flags),
            data.unwrap_or("-")
        );
        if let Loc::Handle(h) = target {
            self.check_fresh(h, "mount onto");
            let changes_only = MsFlags::MS_REMOUNT
                | MsFlags::MS_SHARED
                | MsFlags::MS_PRIVATE
                | MsFlags::MS_SLAVE
                | MsFlags::MS_UNBINDABLE;
            if !flags.intersects(changes_only) {
                self.covers(h);
            }
        }
        self.record(op)
    }

    fn mount_detached(
        &self,
        source: Option<&Path>,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<Handle> {
        let src = source.map_or("-".into(), |p| p.display().to_string());
        let op = format!(
            "mount_detached {src} {fstype} {} {}",
            flags_str(flags),
            data.unwrap_or("-")
        );
        self.record(op)?;
        Ok(self.handle(format!("detached:{fstype}")))
    }

    fn attach(&self, mount: Handle, target: Handle) -> io::Result<()> {
        self.check_fresh(target, "attach onto");
        self.covers(target);
        self.record(format!(
            "attach @{} @{}",
            self.label(mount),
            self.label(target)
        ))
    }

    fn copy_tree(&self, from: Handle, to: Handle) -> io::Result<()> {
        self.record(format!(
            "copy_tree @{} @{}",
            self.label(from),
            self.label(to)
        ))
    }

    fn set_recursive_attrs(&self, target: Handle, set: MsFlags, clear: MsFlags) -> io::Result<()> {
        let op = format!(
            "setattr_rec @{} +{} -{}",
            self.label(target),
            flags_str(set),
            flags_str(clear)
        );
        self.record(op)
    }

    fn umount2(&self, target: &Path, flags: MntFlags) -> io::Result<()> {
        self.record(format!("umount2 {} {flags:?}", target.display()))
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> io::Result<()> {
        self.record(format!(
            "pivot_root {} {}",
            new_root.display(),
            put_old.display()
        ))
    }

    fn chroot(&self, path: &Path) -> io::Result<()> {
        self.record(format!("chroot {}", path.display()))
    }

    fn chdir(&self, path: &Path) -> io::Result<()> {
        self.record(format!("chdir {}", path.display()))
    }

    fn fchdir(&self, h: Handle) -> io::Result<()> {
        self.record(format!("fchdir @{}", self.label(h)))
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        self.reads.borrow_mut().push(path.into());
        self.host_files
            .borrow()
            .get(path)
            .cloned()
            .ok_or_else(|| err(libc::ENOENT))
    }

    fn close(&self, h: Handle) {
        self.handles.borrow_mut().remove(&h.0);
    }
}
