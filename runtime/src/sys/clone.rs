//! A fork-like `clone(2)` that creates new namespaces in the same step.
//!
//! All new namespaces are created by this one clone (docs/architecture.md, "One clone"). The
//! raw syscall with a NULL stack behaves like fork (the child runs on a copy-on-write copy of
//! our stack), so the child continues in ordinary Rust code. This is sound only while the process has a single
//! thread: ferrun never starts threads.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

pub enum Forked {
    Parent(Pid),
    Child,
}

/// Clone with `flags` (CLONE_NEW* bits); the child's exit is reported to us with SIGCHLD.
pub fn clone_fork(flags: libc::c_int) -> Result<Forked, Errno> {
    let flags = (flags | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: single-threaded process; stack NULL gives fork semantics. Arguments are
    // (flags, stack, parent_tid, child_tid, tls) on x86_64 and aarch64.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_int>(),
            std::ptr::null_mut::<libc::c_int>(),
            0usize,
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as i32))),
    }
}

/// clone3's argument block as far as `cgroup` (the kernel's CLONE_ARGS_SIZE_VER2, Linux 5.7).
#[repr(C, align(8))]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Not taken from libc: its constant is a c_int that overflows (libc issue #3584).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// [`clone_fork`] with the child born in the cgroup v2 directory `cgroup` (clone3 with
/// CLONE_INTO_CGROUP, Linux 5.7). Being born there is not a migration: nothing is written to
/// cgroup.procs, so the caller does not wait on the writer side of the kernel's cgroup
/// threadgroup lock, an RCU grace period of about 10 ms on an idle host. Fails with ENOSYS or
/// E2BIG on older kernels, EBUSY or EOPNOTSUPP when the cgroup cannot take processes; callers
/// fall back to [`clone_fork`] and a cgroup.procs write.
pub fn clone_fork_into(flags: libc::c_int, cgroup: BorrowedFd) -> Result<Forked, Errno> {
    let mut args = CloneArgs {
        // CLONE_NEW* bits are all positive c_int values: widening keeps them.
        flags: u64::from(flags as u32) | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: single-threaded process; stack 0 with stack_size 0 gives fork semantics, as
    // clone_fork's NULL stack does. `args` is a valid, initialised clone_args of the size
    // passed, alive for the call; the kernel only reads it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(Pid::from_raw(pid as i32))),
    }
}
