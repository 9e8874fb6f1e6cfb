//! Signals by number and whole-file locks: the few process calls nix has no safe form for
//! (nix's `Signal` cannot name real-time signals).

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// kill(2) with a raw signal number (real-time signals included).
pub fn kill(pid: i32, signo: i32) -> Result<(), Errno> {
    // SAFETY: kill(2) takes plain integers.
    Errno::result(unsafe { libc::kill(pid, signo) }).map(drop)
}

/// flock(LOCK_EX), blocking until the lock is ours; released when the file is closed.
pub fn flock_exclusive(fd: BorrowedFd) -> Result<(), Errno> {
    // SAFETY: flock(2) on a descriptor the caller keeps open for the call.
    Errno::result(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) }).map(drop)
}
