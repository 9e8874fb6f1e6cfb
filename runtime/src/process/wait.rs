//! `run` in the foreground: forward signals to the container and collect its exit status.
//!
//! The signals are blocked *before* the clone and read from a signalfd, so a container that
//! exits at once queues its SIGCHLD instead of racing a handler (youki's `run` hangs in exactly
//! that case). docs/architecture.md, "run: signals through a signalfd", has the whole loop.

use std::os::fd::{AsFd, OwnedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::ttyproxy;

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("signal handling: {0}")]
    Signals(#[source] nix::errno::Errno),
    #[error("waiting for the container process: {0}")]
    Wait(#[source] nix::errno::Errno),
}

/// Every signal we forward or act on.
pub fn handled_signals() -> SigSet {
    let mut set = SigSet::all();
    set.remove(Signal::SIGKILL);
    set.remove(Signal::SIGSTOP);
    // Synchronous faults must keep their default action in the runtime itself.
    for s in [
        Signal::SIGSEGV,
        Signal::SIGBUS,
        Signal::SIGILL,
        Signal::SIGFPE,
        Signal::SIGTRAP,
        Signal::SIGABRT,
    ] {
        set.remove(s);
    }
    set
}

/// Block the handled signals; returns the previous mask (the container gets that one back).
pub fn block_signals() -> Result<SigSet, WaitError> {
    let mut old = SigSet::empty();
    sigprocmask(
        SigmaskHow::SIG_BLOCK,
        Some(&handled_signals()),
        Some(&mut old),
    )
    .map_err(WaitError::Signals)?;
    Ok(old)
}

/// The exit code `run` reports: the container's, or 128+N when signal N killed it.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Forward signals to `init` until it exits; returns its exit code. With `tty` (the pty
/// master of a foreground terminal container), also copy stdin to it and it to stdout.
pub fn wait_for_exit(init: Pid, tty: Option<&OwnedFd>) -> Result<i32, WaitError> {
    let sfd = SignalFd::with_flags(
        &handled_signals(),
        SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
    )
    .map_err(WaitError::Signals)?;
    let _raw = tty.map(|m| {
        ttyproxy::copy_winsize(m.as_fd());
        ttyproxy::RawMode::enter()
    });
    let mut stdin_open = true;
    loop {
        // The init may already be gone: a pending SIGCHLD is in the queue, but check first so
        // that a SIGCHLD consumed elsewhere can never make us wait forever.
        if let Some(code) = reap(init)? {
            if let Some(m) = tty {
                drain(m);
            }
            return Ok(code);
        }
        let (sig_ready, stdin_ready, master_ready) = poll_once(&sfd, tty, stdin_open)?;
        if let Some(m) = tty {
            if stdin_ready && !ttyproxy::pump(std::io::stdin().as_fd(), m.as_fd()) {
                stdin_open = false;
            }
            if master_ready {
                ttyproxy::pump(m.as_fd(), std::io::stdout().as_fd());
            }
        }
        if !sig_ready {
            continue;
        }
        let info = match sfd.read_signal() {
            Ok(Some(i)) => i,
            Ok(None) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(WaitError::Signals(e)),
        };
        let signo = info.ssi_signo as i32;
        if signo == libc::SIGWINCH {
            if let Some(m) = tty {
                ttyproxy::copy_winsize(m.as_fd());
            }
            continue;
        }
        if signo == libc::SIGCHLD || signo == libc::SIGURG {
            continue;
        }
        if let Ok(sig) = Signal::try_from(signo) {
            let _ = kill(init, sig);
        } else {
            // Real-time signals have no `Signal` variant.
            let _ = crate::sys::proc::kill(init.as_raw(), signo);
        }
    }
}

/// Wait until a signal, stdin or the pty master is readable.
fn poll_once(
    sfd: &SignalFd,
    tty: Option<&OwnedFd>,
    stdin_open: bool,
) -> Result<(bool, bool, bool), WaitError> {
    let stdin = std::io::stdin();
    let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
    if let Some(m) = tty {
        fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
    }
    match poll(&mut fds, PollTimeout::NONE) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(WaitError::Signals(e)),
    }
    let ready = |i: usize| {
        fds.get(i).and_then(|f| f.revents()).is_some_and(|r| {
            r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
        })
    };
    Ok((ready(0), ready(2), ready(1)))
}

/// Copy what the container wrote before it exited.
fn drain(master: &OwnedFd) {
    let _ = nix::fcntl::fcntl(
        master,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    while ttyproxy::pump(master.as_fd(), std::io::stdout().as_fd()) {}
}

fn reap(init: Pid) -> Result<Option<i32>, WaitError> {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(st) if st.pid() == Some(init) => {
                if let Some(code) = exit_code(st) {
                    return Ok(Some(code));
                }
            }
            Ok(_) => continue,
            Err(nix::errno::Errno::ECHILD) => {
                return Err(WaitError::Wait(nix::errno::Errno::ECHILD))
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(WaitError::Wait(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_runc() {
        let pid = Pid::from_raw(1);
        assert_eq!(exit_code(WaitStatus::Exited(pid, 3)), Some(3));
        assert_eq!(
            exit_code(WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            Some(137)
        );
        assert_eq!(exit_code(WaitStatus::StillAlive), None);
    }
}
