//! A fork-like `clone(2)` that creates new namespaces in the same step.
//!
//! All new namespaces are created by this one clone (docs/architecture.md, "One clone"). The
//! raw syscall with a NULL stack behaves like fork (the child runs on a copy-on-write copy of
//! our stack), so the child continues in ordinary Rust code. This is sound only while the process has a single
//! thread: ferrun never starts threads.

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
