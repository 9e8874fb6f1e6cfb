//! The raw `seccomp(SECCOMP_SET_MODE_FILTER)` call, for a classic-BPF program libseccomp did
//! not generate itself (security/seccomp/load.rs prepends the ENOSYS stub to its export).

use nix::errno::Errno;

/// Install `program` as a seccomp filter with the kernel `flags`.
pub fn set_mode_filter(
    program: &mut [libc::sock_filter],
    flags: libc::c_ulong,
) -> Result<(), Errno> {
    let prog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `prog` points at `program`, which outlives the call; the kernel copies it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    Errno::result(ret).map(drop)
}
