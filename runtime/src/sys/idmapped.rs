//! The host-side syscalls of an id-mapped bind mount: a detached copy of the source's mount
//! tree (open_tree(2) with OPEN_TREE_CLONE) and its id mapping (mount_setattr(2) with
//! MOUNT_ATTR_IDMAP, Linux 5.12+), and a throw-away process whose user namespace carries the
//! mapping. Both need CAP_SYS_ADMIN over the source mount's user namespace, i.e. the host's,
//! so the parent does them before the init enters any namespace of its own.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::clone::{clone_fork, Forked};

fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A detached copy of the mount at `source` (of its whole tree with `recursive`, as `rbind`),
/// close-on-exec. Detached mounts belong to no mount namespace until they are attached, so
/// the init can move it into the container's.
pub fn clone_tree(source: &Path, recursive: bool) -> io::Result<OwnedFd> {
    let path = std::ffi::CString::new(source.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: NUL-terminated path relative to AT_FDCWD; the kernel returns a new fd we own.
    let fd =
        cvt(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })?;
    // SAFETY: `fd` was just returned by open_tree and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Id-maps the detached tree `tree` through the user namespace `userns`: its top mount, or
/// every mount of it with `recursive` (`ridmap`).
pub fn set_idmap(tree: BorrowedFd, userns: BorrowedFd, recursive: bool) -> io::Result<()> {
    // SAFETY: mount_attr is plain data; all-zero is "change nothing".
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = libc::MOUNT_ATTR_IDMAP;
    attr.userns_fd = userns.as_raw_fd() as u64;
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: valid fds, a NUL-terminated empty path with AT_EMPTY_PATH, a correctly sized
    // mount_attr that outlives the call.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    })
    .map(drop)
}

/// A child in a new user namespace with no mapping yet, which only waits to be killed: the
/// caller writes its maps, opens `/proc/<pid>/ns/user` and kills it. It dies with us too
/// (PR_SET_PDEATHSIG), so an interrupted runtime leaves no such process behind.
pub fn spawn_userns_holder() -> Result<Pid, Errno> {
    let parent = nix::unistd::getpid();
    match clone_fork(libc::CLONE_NEWUSER)? {
        Forked::Parent(pid) => Ok(pid),
        Forked::Child => {
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            // The parent may have died before the line above took effect.
            if nix::unistd::getppid() != parent {
                std::process::exit(1);
            }
            loop {
                nix::unistd::pause();
            }
        }
    }
}
