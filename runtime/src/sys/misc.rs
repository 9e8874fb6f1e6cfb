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
    for sig in nix::sys::signal::Signal::iterator() {
        if matches!(
            sig,
            nix::sys::signal::Signal::SIGKILL | nix::sys::signal::Signal::SIGSTOP
        ) {
            continue;
        }
        // SAFETY: installing SIG_DFL is always sound.
        unsafe {
            let _ = nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl);
        }
    }
}

/// personality(2): the execution domain the container process runs under.
pub fn set_personality(persona: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: personality only changes this process's execution domain.
    let r = unsafe { libc::personality(persona) };
    Errno::result(r).map(drop)
}
