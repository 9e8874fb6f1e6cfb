//! Signals by number and whole-file locks: the few process calls nix has no safe form for
//! (nix's `Signal` cannot name real-time signals).

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// kill(2) with a raw signal number (real-time signals included).
pub fn kill(pid: i32, signo: i32) -> Result<(), Errno> {
    // SAFETY: kill(2) takes plain integers.
    Errno::result(unsafe { libc::kill(pid, signo) }).map(drop)
}

/// flock(LOCK_EX | LOCK_NB): true when the lock is ours (released when the file is closed),
/// false when another open file holds it.
pub fn try_flock_exclusive(fd: BorrowedFd) -> Result<bool, Errno> {
    // SAFETY: flock(2) on a descriptor the caller keeps open for the call.
    match Errno::result(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(Errno::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}
