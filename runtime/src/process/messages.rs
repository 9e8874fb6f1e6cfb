//! The typed messages between the parent and the container init.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The init's steps, named so a failure says where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    WaitParent,
    JoinCgroup,
    UserNamespace,
    JoinNamespaces,
    CgroupNamespace,
    Hostname,
    Rootfs,
    CreateRuntimeHooks,
    CreateContainerHooks,
    Pivot,
    Console,
    Sysctl,
    FinalizeRootfs,
    Cwd,
    Security,
    Executable,
    WaitStart,
    StartContainerHooks,
    Exec,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

/// What the init reports when a phase fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct InitFailure {
    pub phase: Phase,
    pub errno: i32,
    pub message: String,
}

impl fmt::Display for InitFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "container setup failed in phase {}: {}",
            self.phase, self.message
        )?;
        if self.errno != 0 {
            write!(f, " ({})", nix::errno::Errno::from_raw(self.errno).desc())?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum ChildMsg {
    /// Set up up to pivot_root: run prestart and createRuntime hooks now (config.md#hooks).
    RunCreateHooks,
    /// Fully set up; blocked until `start`.
    Ready,
    Failed(InitFailure),
    /// The seccomp filter with SCMP_ACT_NOTIFY rules is loaded and its listener is this fd
    /// number of ours: take it with pidfd_getfd, pass it to the agent, answer `SeccompDone`.
    SeccompFd {
        fd: i32,
    },
    /// A log line of the init, for the runtime to write (see `logging::forward`).
    Log {
        level: crate::logging::Level,
        msg: String,
    },
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum ParentMsg {
    /// Mappings written and cgroup joined: go on. Carries the state JSON ("creating", with
    /// the init's host pid) that in-container hooks receive on stdin.
    Go { state_json: String },
    /// The runtime-namespace hooks ran.
    HooksDone,
    /// The seccomp agent has the listener fd: go on (and close ours).
    SeccompDone,
}

/// Messages as an error names them, never their Debug form (`Go` carries the whole state).
impl fmt::Display for ChildMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildMsg::RunCreateHooks => f.write_str("a request to run the create hooks"),
            ChildMsg::Ready => f.write_str("the ready notice"),
            ChildMsg::Failed(e) => write!(f, "a failure report ({e})"),
            ChildMsg::SeccompFd { fd } => write!(f, "a seccomp listener fd ({fd})"),
            ChildMsg::Log { msg, .. } => write!(f, "a log line ({msg})"),
        }
    }
}

impl fmt::Display for ParentMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParentMsg::Go { .. } => f.write_str("the go-ahead"),
            ParentMsg::HooksDone => f.write_str("the hooks-done notice"),
            ParentMsg::SeccompDone => f.write_str("the seccomp-agent-done notice"),
        }
    }
}

/// What the init got instead of the message it waited for: another message, or the end of
/// the channel (the runtime died).
pub fn unexpected(got: &Option<ParentMsg>) -> String {
    match got {
        Some(m) => format!("unexpected message from the runtime: {m}"),
        None => "the runtime closed the channel (it exited)".to_string(),
    }
}

/// How a process ended, in words: "exited with status 1", "was killed by SIGKILL".
pub fn describe_end(status: nix::sys::wait::WaitStatus) -> String {
    use nix::sys::wait::WaitStatus as W;
    match status {
        W::Exited(_, code) => format!("exited with status {code}"),
        W::Signaled(_, sig, _) => format!("was killed by {sig}"),
        W::Stopped(_, sig) => format!("was stopped by {sig}"),
        W::StillAlive => "closed its end of the channel but is still running".to_string(),
        _ => "ended in an unexpected way".to_string(),
    }
}

/// Find the errno in an error's source chain (io::Error or nix Errno), 0 when there is none.
pub fn errno_of(err: &(dyn std::error::Error + 'static)) -> i32 {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(n) = io.raw_os_error() {
                return n;
            }
        }
        if let Some(n) = e.downcast_ref::<nix::errno::Errno>() {
            return *n as i32;
        }
        cur = e.source();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_round_trips_and_reads_well() {
        let f = InitFailure {
            phase: Phase::Rootfs,
            errno: libc::ENOENT,
            message: "mount /proc".into(),
        };
        let msg = ChildMsg::Failed(f.clone());
        let back: ChildMsg = serde_json::from_slice(&serde_json::to_vec(&msg).unwrap()).unwrap();
        assert_eq!(back, msg);
        let text = f.to_string();
        assert!(text.contains("phase rootfs"), "{text}");
        assert!(text.contains("No such file"), "{text}");
    }

    #[test]
    fn messages_and_ends_read_as_words() {
        let died = nix::sys::wait::WaitStatus::Signaled(
            nix::unistd::Pid::from_raw(4242),
            nix::sys::signal::Signal::SIGKILL,
            false,
        );
        assert_eq!(describe_end(died), "was killed by SIGKILL");
        let exited = nix::sys::wait::WaitStatus::Exited(nix::unistd::Pid::from_raw(1), 3);
        assert_eq!(describe_end(exited), "exited with status 3");
        let go = Some(ParentMsg::Go {
            state_json: "{\"id\":\"x\"}".into(),
        });
        assert_eq!(
            unexpected(&go),
            "unexpected message from the runtime: the go-ahead"
        );
        assert_eq!(
            unexpected(&None),
            "the runtime closed the channel (it exited)"
        );
        assert_eq!(
            ChildMsg::RunCreateHooks.to_string(),
            "a request to run the create hooks"
        );
    }

    #[test]
    fn errno_is_found_through_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(errno_of(&e), libc::EACCES);
    }
}
