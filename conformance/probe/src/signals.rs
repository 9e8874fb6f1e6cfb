//! `signals`: block every catchable signal, wait for one, print its name.
//!
//! As PID 1 of a new PID namespace the probe would ignore signals it has no
//! handler for; `sigwait` on a blocked set receives them regardless, so a
//! scenario can prove `kill TERM` (or any signal) reached the init process:
//! the probe prints `SIGTERM` and exits 0 instead of dying.

use crate::error::ProbeError;

const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// `SIGTERM` for 15, `SIGRTMIN+3` for real-time signals, `SIG<n>` otherwise.
pub fn name(signo: i32, rtmin: i32, rtmax: i32) -> String {
    if (1..=31).contains(&signo) {
        NAMES[(signo - 1) as usize].to_string()
    } else if signo >= rtmin && signo <= rtmax {
        if signo == rtmin {
            "SIGRTMIN".to_string()
        } else {
            format!("SIGRTMIN+{}", signo - rtmin)
        }
    } else {
        format!("SIG{signo}")
    }
}

/// Blocks all signals and waits for the first one; returns its name.
pub fn wait_one() -> Result<String, ProbeError> {
    // SAFETY: plain libc calls on a stack sigset_t that we initialise first;
    // the probe is single-threaded, so sigprocmask is the process mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        if libc::sigfillset(&mut set) != 0 {
            return Err(ProbeError::last_os("sigfillset"));
        }
        if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(ProbeError::last_os("sigprocmask"));
        }
        let mut signo: libc::c_int = 0;
        let rc = libc::sigwait(&set, &mut signo);
        if rc != 0 {
            return Err(ProbeError::Syscall {
                call: "sigwait",
                errno: rc,
            });
        }
        Ok(name(signo, libc::SIGRTMIN(), libc::SIGRTMAX()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(1, "SIGHUP")]
    #[case(9, "SIGKILL")]
    #[case(10, "SIGUSR1")]
    #[case(15, "SIGTERM")]
    #[case(31, "SIGSYS")]
    #[case(34, "SIGRTMIN")]
    #[case(37, "SIGRTMIN+3")]
    #[case(99, "SIG99")]
    fn names(#[case] signo: i32, #[case] expected: &str) {
        assert_eq!(name(signo, 34, 64), expected);
    }
}
