//! File-descriptor hygiene for the container init (CVE-2024-21626: a leaked host directory fd
//! let `cwd: /proc/self/fd/N` escape the rootfs).

use std::os::fd::RawFd;

use nix::errno::Errno;

/// Close every fd except those in `keep`. Used first thing in the cloned child, so nothing
/// the runtime had open (lock files, state dirs, log files) survives into the container.
pub fn close_all_except(keep: &[RawFd]) -> Result<(), Errno> {
    let mut open = Vec::new();
    let dir = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    for entry in dir.flatten() {
        if let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<RawFd>().ok())
        {
            open.push(fd);
        }
    }
    // The read_dir fd itself is closed by now; closing a stale number is harmless (EBADF).
    for fd in open {
        if !keep.contains(&fd) {
            // SAFETY: closing a descriptor number; we own every fd in this fresh child.
            unsafe { libc::close(fd) };
        }
    }
    Ok(())
}

/// Whether `fd` is an open descriptor of this process. Opens nothing, so asking cannot
/// change the answer for the lowest free number (reading /proc/self/fd would).
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags; an unused number is EBADF.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Mark every fd >= `first` close-on-exec, so only stdio and `--preserve-fds` reach the
/// container process.
pub fn cloexec_from(first: RawFd) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes fd flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    // Kernels before 5.11: set the flag one fd at a time.
    let dir = std::fs::read_dir("/proc/self/fd")
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let fds: Vec<RawFd> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .filter(|fd| *fd >= first)
        .collect();
    for fd in fds {
        // SAFETY: F_SETFD on a descriptor number; EBADF for the stale read_dir fd is ignored.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Take ownership of a descriptor the kernel just installed for us (e.g. from SCM_RIGHTS).
pub fn adopt(fd: RawFd) -> std::os::fd::OwnedFd {
    // SAFETY: the caller got `fd` fresh from the kernel; nothing else owns it.
    unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }
}
