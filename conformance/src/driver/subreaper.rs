//! The runner is a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER): when `runc create`
//! exits, the container's init is re-parented to us, so `container_exit` can collect the
//! init's real exit status with waitpid(2) instead of guessing from `state`.

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

pub fn become_subreaper() -> Result<(), Errno> {
    nix::sys::prctl::set_child_subreaper(true)
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
        reap_orphans();
        if start.elapsed() >= within {
            return Err(ReapError::Timeout {
                pid,
                waited_ms: start.elapsed().as_millis() as u64,
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reaps `pid` if it is an exited child; ignores everything else (teardown hygiene).
pub fn reap_quietly(pid: i32) {
    let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
}

/// Pids whose exit status someone is waiting for: running runtime commands (std's `Child`
/// reaps them) and container inits a scenario will collect in `container_exit`. The orphan
/// sweep leaves these alone.
static RESERVED: std::sync::Mutex<std::collections::BTreeSet<i32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn reserved() -> std::sync::MutexGuard<'static, std::collections::BTreeSet<i32>> {
    RESERVED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `spawn` with the registry locked and reserves the pid it returns, so a concurrent
/// sweep cannot reap a command child before it is registered.
pub fn spawn_reserved<T, E>(spawn: impl FnOnce() -> Result<(T, i32), E>) -> Result<T, E> {
    let mut set = reserved();
    let (value, pid) = spawn()?;
    set.insert(pid);
    Ok(value)
}

pub fn reserve(pid: i32) {
    reserved().insert(pid);
}

pub fn release(pid: i32) {
    reserved().remove(&pid);
}

/// True for pid 1 of a pid namespace (`NSpid: <host pid> 1` in /proc/<pid>/status): a
/// container init, whose status `container_exit` may still want even before its pid is
/// reserved. Its zombie holds nothing up, unlike the zombies of other namespace members.
fn is_pidns_init(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("NSpid:"))
            .is_some_and(|l| {
                let ids: Vec<&str> = l.split_whitespace().skip(1).collect();
                ids.len() > 1 && ids.last() == Some(&"1")
            })
    })
}

/// Reaps zombie children nobody reserved: processes re-parented to us (a detached `exec`'s
/// process, helpers a runtime left behind). This matters beyond tidiness: a pid namespace's
/// init cannot finish exiting while a process of its namespace is an unreaped zombie of ours
/// (zap_pid_ns_processes waits for them), so without the sweep `delete` and `container_exit`
/// would hang.
pub fn reap_orphans() {
    let set = reserved();
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if set.contains(&pid) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name: state, ppid, ...
        let rest: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if rest.first() == Some(&"Z") && rest.get(1) == Some(&me.as_str()) && !is_pidns_init(pid) {
            reap_quietly(pid);
        }
    }
}
