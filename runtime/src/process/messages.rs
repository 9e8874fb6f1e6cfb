//! The typed messages between the parent and the container init.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The init's steps, named so a failure says where it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    WaitParent,
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
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum ParentMsg {
    /// Mappings written and cgroup joined: go on. Carries the state JSON ("creating", with
    /// the init's host pid) that in-container hooks receive on stdin.
    Go { state_json: String },
    /// The runtime-namespace hooks ran.
    HooksDone,
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
    fn errno_is_found_through_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(errno_of(&e), libc::EACCES);
    }
}
