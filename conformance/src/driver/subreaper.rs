//! The runner is a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER): when `runc create`
//! exits, the container's init is re-parented to us, so `container_exit` can collect the
//! init's real exit status with waitpid(2) instead of guessing from `state`.

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

pub fn become_subreaper() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReapError {
    #[error("pid {pid} did not exit within {waited_ms} ms")]
    Timeout { pid: i32, waited_ms: u64 },
    #[error(
        "pid {pid} is not a child of the runner (was it re-parented elsewhere, or reaped already?)"
    )]
    NotChild { pid: i32 },
    #[error("waitpid({pid}): {errno}")]
    Wait { pid: i32, errno: Errno },
}

/// Waits for `pid` (a child, e.g. a re-parented container init) to exit, polling.
pub fn wait_exit(pid: i32, within: Duration) -> Result<Exit, ReapError> {
    let start = Instant::now();
    loop {
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Exit::Code(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(Exit::Signal(sig as i32)),
            Ok(_) => {}
            Err(Errno::ECHILD) => return Err(ReapError::NotChild { pid }),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(ReapError::Wait { pid, errno }),
        }
        if start.elapsed() >= within {
            return Err(ReapError::Timeout {
                pid,
                waited_ms: start.elapsed().as_millis() as u64,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reaps `pid` if it is an exited child; ignores everything else (teardown hygiene).
pub fn reap_quietly(pid: i32) {
    let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
}
