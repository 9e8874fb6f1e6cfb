//! The mount-namespace syscall seam used by `rootfs/`.
//!
//! `MountSys` speaks classic mount(2) semantics (flags, data string) so the rootfs code and its
//! recording fake read like runc, but every operation on a path *inside* the container takes a
//! [`Handle`]: an `O_PATH` fd obtained with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`.
//! The real implementation never turns such a handle back into a path: mounts onto a handle
//! go through the new mount API (`open_tree` + `move_mount`, `fsopen`/`fsconfig`/`fsmount`,
//! `mount_setattr`), so a symlink swapped in after resolution cannot redirect the mount
//! (CVE-2021-30465) and nothing depends on the container's own `/proc` (CVE-2025-52881).
//! Classic mount(2) is only used on host paths the runtime owns (`/`, the rootfs, `.` during
//! pivot_root).
//!
//! All `unsafe` of the rootfs code lives in this file and its submodules (`mount/`).

mod copy;
mod new_api;

use new_api::TmpFd;
use nix::mount::{MntFlags, MsFlags};
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// An `O_PATH` file descriptor owned by the caller; release it with [`MountSys::close`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub i32);

/// A mount source or target: a plain path (host paths the runtime trusts) or a resolved handle.
#[derive(Clone, Copy, Debug)]
pub enum Loc<'a> {
    Path(&'a Path),
    Handle(Handle),
}

/// What kind of inode a handle refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File,
    Symlink,
    CharDev,
    BlockDev,
    Fifo,
    Socket,
}

/// As an error message names it ("/dev/console is a directory").
impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileKind::Dir => "directory",
            FileKind::File => "regular file",
            FileKind::Symlink => "symlink",
            FileKind::CharDev => "character device",
            FileKind::BlockDev => "block device",
            FileKind::Fifo => "fifo",
            FileKind::Socket => "socket",
        })
    }
}

/// The parts of fstat(2) the rootfs code needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    pub rdev_major: u64,
    pub rdev_minor: u64,
}

/// The parts of fstatfs(2) the rootfs code needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsInfo {
    /// `f_type`, e.g. PROC_SUPER_MAGIC.
    pub magic: i64,
    /// Per-mount flags (`f_flags` mapped onto `MS_*`).
    pub flags: MsFlags,
}

/// Device node types mknod(2) can create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Char,
    Block,
    Fifo,
}

impl std::fmt::Display for NodeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NodeKind::Char => "character device",
            NodeKind::Block => "block device",
            NodeKind::Fifo => "fifo",
        })
    }
}

/// PROC_SUPER_MAGIC from linux/magic.h.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
/// MS_NOSYMFOLLOW (Linux 5.10); nix 0.32 does not name it.
pub const MS_NOSYMFOLLOW: MsFlags = MsFlags::from_bits_retain(256);

/// The narrow set of syscalls the rootfs setup needs. Errors are raw `io::Error`s (errno);
/// the caller wraps them with context.
pub trait MountSys {
    /// `open(path, O_PATH|O_CLOEXEC)` of a host path (follows symlinks: host paths are trusted).
    fn open(&self, path: &Path) -> io::Result<Handle>;
    /// `openat2(root, path, O_PATH, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS[|RESOLVE_NO_SYMLINKS])`.
    fn resolve(&self, root: Handle, path: &Path, no_symlinks: bool) -> io::Result<Handle>;
    /// `readlinkat(dir, name)`; EINVAL when `name` is not a symlink.
    fn readlink_at(&self, dir: Handle, name: &OsStr) -> io::Result<PathBuf>;
    fn mkdir_at(&self, dir: Handle, name: &OsStr, mode: u32) -> io::Result<()>;
    /// Creates an empty regular file (`O_CREAT|O_EXCL|O_NOFOLLOW`).
    fn create_file_at(&self, dir: Handle, name: &OsStr, mode: u32) -> io::Result<()>;
    /// `mknodat` with the umask cleared so `mode` is exact.
    fn mknod_at(
        &self,
        dir: Handle,
        name: &OsStr,
        kind: NodeKind,
        mode: u32,
        major: u64,
        minor: u64,
    ) -> io::Result<()>;
    /// `fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW)`.
    fn chown_at(&self, dir: Handle, name: &OsStr, uid: u32, gid: u32) -> io::Result<()>;
    fn symlink_at(&self, target: &Path, dir: Handle, name: &OsStr) -> io::Result<()>;
    fn unlink_at(&self, dir: Handle, name: &OsStr) -> io::Result<()>;
    fn stat(&self, h: Handle) -> io::Result<FileStat>;
    fn statfs(&self, h: Handle) -> io::Result<FsInfo>;
    /// mount(2) semantics; see the module doc for how handle targets are implemented.
    fn mount(
        &self,
        source: Option<Loc>,
        target: Loc,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()>;
    /// A new filesystem not attached anywhere yet (fsopen + fsmount); the handle refers to
    /// its root. Flags and data as for `mount`.
    fn mount_detached(
        &self,
        source: Option<&Path>,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<Handle>;
    /// move_mount of a detached mount (from `mount_detached`) onto `target`.
    fn attach(&self, mount: Handle, target: Handle) -> io::Result<()>;
    /// Copies the contents of directory `from` into directory `to`, never following symlinks.
    fn copy_tree(&self, from: Handle, to: Handle) -> io::Result<()>;
    /// mount_setattr(AT_RECURSIVE) on the mount tree at `target`: per-mount flags (`MS_RDONLY`,
    /// `MS_NOSUID`, ..., atime modes) to set and to clear.
    fn set_recursive_attrs(&self, target: Handle, set: MsFlags, clear: MsFlags) -> io::Result<()>;
    fn umount2(&self, target: &Path, flags: MntFlags) -> io::Result<()>;
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> io::Result<()>;
    fn chroot(&self, path: &Path) -> io::Result<()>;
    fn chdir(&self, path: &Path) -> io::Result<()>;
    fn fchdir(&self, h: Handle) -> io::Result<()>;
    fn read_file(&self, path: &Path) -> io::Result<String>;
    fn close(&self, h: Handle);
}

/// The real syscalls.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealMountSys;

/// statvfs(2) `f_flag` (ST_*) to the MS_* per-mount flags. Most share their values, but
/// ST_RELATIME (0x1000) and ST_NOSYMFOLLOW (0x2000) are MS_REC and MS_BIND as MS_* bits.
/// Strict atime has no ST_ bit: it is the mode when no other atime mode is set (runc's
/// statfsToMountFlags reads it the same way).
pub fn st_flags_to_ms(f_flag: u64) -> MsFlags {
    const ST_RELATIME: u64 = 0x1000;
    const ST_NOSYMFOLLOW: u64 = 0x2000;
    let table = [
        (libc::ST_RDONLY, MsFlags::MS_RDONLY),
        (libc::ST_NOSUID, MsFlags::MS_NOSUID),
        (libc::ST_NODEV, MsFlags::MS_NODEV),
        (libc::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (libc::ST_SYNCHRONOUS, MsFlags::MS_SYNCHRONOUS),
        (libc::ST_MANDLOCK, MsFlags::MS_MANDLOCK),
        (libc::ST_NOATIME, MsFlags::MS_NOATIME),
        (libc::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (ST_RELATIME, MsFlags::MS_RELATIME),
        (ST_NOSYMFOLLOW, MS_NOSYMFOLLOW),
    ];
    let mut flags = table
        .iter()
        .filter(|(st, _)| f_flag & *st != 0)
        .fold(MsFlags::empty(), |acc, (_, ms)| acc | *ms);
    if !flags.intersects(MsFlags::MS_NOATIME | MsFlags::MS_RELATIME) {
        flags |= MsFlags::MS_STRICTATIME;
    }
    flags
}

fn cstr(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn cpath(p: &Path) -> io::Result<CString> {
    cstr(p.as_os_str().as_bytes())
}

fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn kind_of(mode: libc::mode_t) -> FileKind {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => FileKind::Dir,
        libc::S_IFLNK => FileKind::Symlink,
        libc::S_IFCHR => FileKind::CharDev,
        libc::S_IFBLK => FileKind::BlockDev,
        libc::S_IFIFO => FileKind::Fifo,
        libc::S_IFSOCK => FileKind::Socket,
        _ => FileKind::File,
    }
}

impl MountSys for RealMountSys {
    fn open(&self, path: &Path) -> io::Result<Handle> {
        let c = cpath(path)?;
        // SAFETY: NUL-terminated path.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        cvt(fd as libc::c_long).map(|fd| Handle(fd as i32))
    }

    fn resolve(&self, root: Handle, path: &Path, no_symlinks: bool) -> io::Result<Handle> {
        let rel = path.strip_prefix("/").unwrap_or(path);
        let c = if rel.as_os_str().is_empty() {
            cstr(b".")?
        } else {
            cpath(rel)?
        };
        // SAFETY: open_how is plain old data; all-zero is valid and the fields are set below.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
        how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
        if no_symlinks {
            how.resolve |= libc::RESOLVE_NO_SYMLINKS;
        }
        // openat2 returns EAGAIN when a concurrent rename might have let ".." escape; retry.
        for _ in 0..32 {
            // SAFETY: valid dirfd, NUL-terminated path, correctly sized open_how.
            let ret = unsafe {
                libc::syscall(
                    libc::SYS_openat2,
                    root.0,
                    c.as_ptr(),
                    &how as *const libc::open_how,
                    std::mem::size_of::<libc::open_how>(),
                )
            };
            match cvt(ret) {
                Ok(fd) => return Ok(Handle(fd as i32)),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::from_raw_os_error(libc::EAGAIN))
    }

    fn readlink_at(&self, dir: Handle, name: &OsStr) -> io::Result<PathBuf> {
        let c = cstr(name.as_bytes())?;
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        // SAFETY: valid dirfd, NUL-terminated name, buffer of the given length.
        let n = unsafe { libc::readlinkat(dir.0, c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        let n = cvt(n as libc::c_long)? as usize;
        buf.truncate(n);
        Ok(PathBuf::from(OsString::from_vec(buf)))
    }

    fn mkdir_at(&self, dir: Handle, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        cvt(unsafe { libc::mkdirat(dir.0, c.as_ptr(), mode) } as libc::c_long).map(drop)
    }

    fn create_file_at(&self, dir: Handle, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        let flags =
            libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC;
        // SAFETY: valid dirfd and NUL-terminated name.
        let fd = cvt(unsafe { libc::openat(dir.0, c.as_ptr(), flags, mode) } as libc::c_long)?;
        drop(TmpFd(fd as i32));
        Ok(())
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
        let c = cstr(name.as_bytes())?;
        let ty = match kind {
            NodeKind::Char => libc::S_IFCHR,
            NodeKind::Block => libc::S_IFBLK,
            NodeKind::Fifo => libc::S_IFIFO,
        };
        let dev = libc::makedev(major as u32, minor as u32);
        // SAFETY: umask/mknodat are plain syscalls; the old umask is restored right after.
        unsafe {
            let old = libc::umask(0);
            let ret = libc::mknodat(dir.0, c.as_ptr(), ty | (mode & 0o7777), dev);
            let err = io::Error::last_os_error();
            libc::umask(old);
            if ret < 0 {
                Err(err)
            } else {
                Ok(())
            }
        }
    }

    fn chown_at(&self, dir: Handle, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        cvt(
            unsafe { libc::fchownat(dir.0, c.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) }
                as libc::c_long,
        )
        .map(drop)
    }

    fn symlink_at(&self, target: &Path, dir: Handle, name: &OsStr) -> io::Result<()> {
        let t = cpath(target)?;
        let c = cstr(name.as_bytes())?;
        // SAFETY: NUL-terminated strings and a valid dirfd.
        cvt(unsafe { libc::symlinkat(t.as_ptr(), dir.0, c.as_ptr()) } as libc::c_long).map(drop)
    }

    fn unlink_at(&self, dir: Handle, name: &OsStr) -> io::Result<()> {
        let c = cstr(name.as_bytes())?;
        // SAFETY: valid dirfd and NUL-terminated name.
        cvt(unsafe { libc::unlinkat(dir.0, c.as_ptr(), 0) } as libc::c_long).map(drop)
    }

    fn stat(&self, h: Handle) -> io::Result<FileStat> {
        // SAFETY: stat is plain old data; all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat (which accepts O_PATH fds) fills in a stat we own, on a caller-owned fd.
        cvt(unsafe { libc::fstat(h.0, &mut st) } as libc::c_long)?;
        Ok(FileStat {
            kind: kind_of(st.st_mode),
            mode: st.st_mode & 0o7777,
            rdev_major: libc::major(st.st_rdev) as u64,
            rdev_minor: libc::minor(st.st_rdev) as u64,
        })
    }

    fn statfs(&self, h: Handle) -> io::Result<FsInfo> {
        // SAFETY: statfs is plain old data; all-zero is a valid value.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: fstatfs (which accepts O_PATH fds) fills in a statfs we own.
        cvt(unsafe { libc::fstatfs(h.0, &mut st) } as libc::c_long)?;
        // SAFETY: statvfs is plain old data; all-zero is a valid value.
        let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: fstatvfs fills in a statvfs we own, on a caller-owned fd.
        cvt(unsafe { libc::fstatvfs(h.0, &mut vfs) } as libc::c_long)?;
        let flags = st_flags_to_ms(vfs.f_flag as u64);
        Ok(FsInfo {
            magic: st.f_type as i64,
            flags,
        })
    }

    fn mount(
        &self,
        source: Option<Loc>,
        target: Loc,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()> {
        match target {
            Loc::Handle(h) => self.mount_on_handle(source, h, fstype, flags, data),
            Loc::Path(p) => {
                let source = match source {
                    None => None,
                    Some(Loc::Path(s)) => Some(s),
                    Some(Loc::Handle(_)) => return Err(io::Error::from_raw_os_error(libc::EINVAL)),
                };
                nix::mount::mount(source, p, fstype, flags, data).map_err(io::Error::from)
            }
        }
    }

    fn mount_detached(
        &self,
        source: Option<&Path>,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<Handle> {
        let mnt = self.new_fs(source.map(Loc::Path), fstype, flags, data)?;
        let h = Handle(mnt.0);
        std::mem::forget(mnt); // ownership moves to the handle; released by close()
        Ok(h)
    }

    fn attach(&self, mount: Handle, target: Handle) -> io::Result<()> {
        let mnt = TmpFd(mount.0);
        let r = self.move_onto(&mnt, target);
        std::mem::forget(mnt); // still owned by the caller's handle
        r
    }

    fn copy_tree(&self, from: Handle, to: Handle) -> io::Result<()> {
        // SAFETY: both handles are open fds owned by the caller for the whole call.
        let (from, to) = unsafe { (BorrowedFd::borrow_raw(from.0), BorrowedFd::borrow_raw(to.0)) };
        copy::copy_dir(from, to)
    }

    fn set_recursive_attrs(&self, target: Handle, set: MsFlags, clear: MsFlags) -> io::Result<()> {
        self.recursive_attrs(target, set, clear)
    }

    fn umount2(&self, target: &Path, flags: MntFlags) -> io::Result<()> {
        nix::mount::umount2(target, flags).map_err(io::Error::from)
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> io::Result<()> {
        nix::unistd::pivot_root(new_root, put_old).map_err(io::Error::from)
    }

    fn chroot(&self, path: &Path) -> io::Result<()> {
        nix::unistd::chroot(path).map_err(io::Error::from)
    }

    fn chdir(&self, path: &Path) -> io::Result<()> {
        nix::unistd::chdir(path).map_err(io::Error::from)
    }

    fn fchdir(&self, h: Handle) -> io::Result<()> {
        // SAFETY: plain syscall on a caller-owned fd.
        cvt(unsafe { libc::fchdir(h.0) } as libc::c_long).map(drop)
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn close(&self, h: Handle) {
        drop(TmpFd(h.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statvfs_flags_map_onto_mount_flags() {
        let f = |bits: u64| st_flags_to_ms(bits);
        // ST_RDONLY | ST_NOSUID | ST_RELATIME
        assert_eq!(
            f(0x1 | 0x2 | 0x1000),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_RELATIME
        );
        // ST_NOATIME | ST_NODIRATIME | ST_NOSYMFOLLOW
        assert_eq!(
            f(0x400 | 0x800 | 0x2000),
            MsFlags::MS_NOATIME | MsFlags::MS_NODIRATIME | MS_NOSYMFOLLOW
        );
        assert_eq!(f(0), MsFlags::MS_STRICTATIME, "no atime bit: strictatime");
    }
}
