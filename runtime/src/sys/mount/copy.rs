//! `tmpcopyup` (runc's EXT_COPYUP): copy a directory of the image into a fresh tmpfs before
//! the tmpfs covers it. The source is untrusted image content, so everything is done
//! fd-relatively with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: symlinks are copied as symlinks,
//! never followed, and nothing is looked up by path outside the two directory fds.

use nix::dir::{Dir, Type};
use nix::fcntl::AtFlags;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fchmodat, fstatat, mkdirat, mknodat, FchmodatFlags, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, Gid, Uid};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

fn dir_fd(at: BorrowedFd, name: &CStr) -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    Ok(openat(at, name, flags, Mode::empty())?)
}

/// Copies the entries of directory `from` into directory `to` (both opened O_RDONLY or
/// O_PATH), keeping type, mode, owner and device numbers. Sockets are skipped (runc's copy
/// cannot recreate them either).
pub(super) fn copy_dir(from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
    let dot = c".";
    let mut dir = Dir::from_fd(dir_fd(from, dot)?)?;
    for entry in dir.iter() {
        let entry = entry?;
        let name = entry.file_name();
        if name == dot || name == c".." {
            continue;
        }
        if entry.file_type() == Some(Type::Socket) {
            continue;
        }
        copy_entry(from, to, name)?;
    }
    Ok(())
}

fn copy_entry(from: BorrowedFd, to: BorrowedFd, name: &CStr) -> io::Result<()> {
    let st = fstatat(from, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    let kind = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
    let perm = Mode::from_bits_truncate(st.st_mode & 0o7777);
    match kind {
        SFlag::S_IFDIR => {
            mkdirat(to, name, Mode::from_bits_truncate(0o700))?;
            let (src, dst) = (dir_fd(from, name)?, dir_fd(to, name)?);
            copy_dir(src.as_fd(), dst.as_fd())?;
        }
        SFlag::S_IFREG => {
            let rd = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let wr = OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            let mut src = File::from(openat(from, name, rd, Mode::empty())?);
            let mut dst = File::from(openat(to, name, wr, Mode::from_bits_truncate(0o600))?);
            io::copy(&mut src, &mut dst)?;
        }
        SFlag::S_IFLNK => {
            let target = readlinkat(from, name)?;
            symlinkat(target.as_os_str(), to, name)?;
        }
        SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => {
            mknodat(to, name, kind, Mode::from_bits_truncate(0o600), st.st_rdev)?;
        }
        _ => return Ok(()),
    }
    let (uid, gid) = (
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    );
    fchownat(to, name, uid, gid, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    if kind != SFlag::S_IFLNK {
        // After chown, which clears set-id bits; the entry is ours and not a symlink.
        fchmodat(to, name, perm, FchmodatFlags::FollowSymlink)?;
    }
    Ok(())
}
