//! Small process-wide settings with no safe wrapper in nix.

use nix::errno::Errno;

pub fn set_domainname(name: &str) -> Result<(), Errno> {
    // SAFETY: pointer and length describe a valid byte buffer.
    let r = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    Errno::result(r).map(drop)
}

/// Join a fresh session keyring named after the container, as runc does unless
/// `--no-new-keyring`: otherwise the container shares the caller's keyring.
pub fn join_session_keyring(name: &str) -> Result<(), Errno> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    let name = std::ffi::CString::new(name).map_err(|_| Errno::EINVAL)?;
    // SAFETY: keyctl reads a NUL-terminated name.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) };
    Errno::result(r).map(drop)
}

/// Reset every catchable signal to its default action: ignored signals survive execve, and the
/// container process must not inherit the runtime's dispositions.
pub fn reset_signal_dispositions() {
    use nix::sys::signal::Signal;
    Signal::iterator()
        .filter(|sig| !matches!(sig, Signal::SIGKILL | Signal::SIGSTOP))
        .for_each(set_default);
}

/// Give SIGINT and SIGTERM their default action (end the process) even when the caller
/// left them ignored: a shell starts background jobs with SIGINT ignored, and ignored
/// dispositions survive fork and execve, yet a stop signal must always end a command.
pub fn default_stop_signals() {
    use nix::sys::signal::Signal;
    [Signal::SIGINT, Signal::SIGTERM]
        .into_iter()
        .for_each(set_default);
}

fn set_default(sig: nix::sys::signal::Signal) {
    // SAFETY: installing SIG_DFL is always sound.
    unsafe {
        let _ = nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl);
    }
}

/// personality(2): the execution domain the container process runs under.
pub fn set_personality(persona: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: personality only changes this process's execution domain.
    let r = unsafe { libc::personality(persona) };
    Errno::result(r).map(drop)
}

/// `struct sched_attr` of sched_setattr(2), up to `sched_period` (SCHED_ATTR_SIZE_VER0).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SchedAttr {
    pub size: u32,
    pub policy: u32,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

/// sched_setattr(2) on the calling thread (the init and the exec child are single-threaded).
pub fn sched_setattr(attr: &SchedAttr) -> Result<(), Errno> {
    let mut attr = *attr;
    attr.size = std::mem::size_of::<SchedAttr>() as u32;
    // SAFETY: `attr` is a fully initialised sched_attr whose size field is its own size; the
    // kernel only reads it. pid 0 is the calling thread, flags must be 0.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    Errno::result(r).map(drop)
}

/// ioprio_set(2) for the calling process; its children inherit the priority.
pub fn ioprio_set_self(ioprio: i32) -> Result<(), Errno> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: plain integer arguments; who 0 is the calling process.
    let r = unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, ioprio) };
    Errno::result(r).map(drop)
}
