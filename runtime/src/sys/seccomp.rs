//! Raw seccomp calls: `seccomp(SECCOMP_SET_MODE_FILTER)` for a classic-BPF program libseccomp
//! did not generate itself (security/seccomp/load.rs prepends the ENOSYS stub to its export,
//! and loads a filter with a listener itself), a probe of the kernel's filter flags, and
//! `pidfd_getfd(2)`, with which the runtime takes the listener fd out of its init.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH` (Linux 5.7): TSYNC may be combined with NEW_LISTENER
/// only with it, since both would otherwise use the return value.
pub const FLAG_TSYNC_ESRCH: libc::c_ulong = 1 << 4;
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (Linux 5.19), missing from older libc crates.
pub const FLAG_WAIT_KILLABLE_RECV: libc::c_ulong = 1 << 5;

fn set_mode_filter_raw(program: &mut [libc::sock_filter], flags: libc::c_ulong) -> libc::c_long {
    let prog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `prog` points at `program`, which outlives the call; the kernel copies it.
    unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    }
}

/// Install `program` as a seccomp filter with the kernel `flags` (no NEW_LISTENER).
pub fn set_mode_filter(
    program: &mut [libc::sock_filter],
    flags: libc::c_ulong,
) -> Result<(), Errno> {
    Errno::result(set_mode_filter_raw(program, flags)).map(drop)
}

/// Install `program` with `flags | SECCOMP_FILTER_FLAG_NEW_LISTENER`; the kernel returns the
/// filter's notify fd (close-on-exec).
pub fn set_mode_filter_listener(
    program: &mut [libc::sock_filter],
    flags: libc::c_ulong,
) -> Result<OwnedFd, Errno> {
    let ret = set_mode_filter_raw(program, flags | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER);
    let fd = Errno::result(ret)?;
    // SAFETY: with NEW_LISTENER a successful seccomp(2) returns a new descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Whether this kernel accepts `flags` for SECCOMP_SET_MODE_FILTER. The flags are checked
/// before the program is read, so a NULL program fails with EFAULT when they are fine and
/// EINVAL when not; nothing is installed either way.
pub fn filter_flags_supported(flags: libc::c_ulong) -> bool {
    // SAFETY: a NULL program is never dereferenced by us; the kernel fails to copy it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            std::ptr::null::<libc::sock_fprog>(),
        )
    };
    ret == -1 && Errno::last() == Errno::EFAULT
}

/// pidfd_getfd(2): a duplicate, close-on-exec, of descriptor `target` of the process behind
/// `pidfd` (needs ptrace access to it: PTRACE_MODE_ATTACH_REALCREDS).
pub fn pidfd_getfd(pidfd: BorrowedFd, target: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_getfd takes a pidfd, a descriptor number and flags (0), and returns a new
    // descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    let fd = Errno::result(fd)?;
    // SAFETY: a successful pidfd_getfd returns a new descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_probe_tells_known_flags_from_unknown_ones() {
        assert!(filter_flags_supported(0));
        assert!(filter_flags_supported(libc::SECCOMP_FILTER_FLAG_LOG));
        // WAIT_KILLABLE_RECV alone is always refused: it needs NEW_LISTENER.
        assert!(!filter_flags_supported(FLAG_WAIT_KILLABLE_RECV));
        assert!(!filter_flags_supported(1 << 30));
    }
}
