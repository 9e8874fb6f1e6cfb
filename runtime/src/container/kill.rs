//! `kill [--all] ID SIGNAL`.
//!
//! Killing writes nothing and takes no lock: the state is read as it is (state.json is
//! replaced atomically) and the status derived from the init and the cgroup, so a read-only or
//! full state root, or a command stuck holding the lock, cannot keep a container alive.

use super::state::ContainerState;
use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::cgroups::{manager_from_path, CgroupError, CgroupManager};
use crate::logging;
use crate::signals::Sig;

#[derive(Debug, thiserror::Error)]
pub enum KillError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// "container not running" is runc's wording, which scripts and runc's kill.bats match.
    #[error("cannot signal container {id:?}: container not running (its status is {status})")]
    NotRunning { id: String, status: Status },
    #[error("kill container {id:?}: {source}")]
    Signal {
        id: String,
        source: nix::errno::Errno,
    },
    #[error("kill --all on container {id:?}: {source}")]
    Cgroup { id: String, source: CgroupError },
    #[error("kill --all on container {id:?}: it has no cgroup (rootless without cgroup delegation), so its processes cannot be listed; kill without --all signals its init")]
    NoCgroup { id: String },
}

pub fn send(pid: i32, sig: Sig) -> Result<(), nix::errno::Errno> {
    crate::sys::proc::kill(pid, sig.0)
}

pub fn kill(store: &StateStore, id: &str, sig: Sig, all: bool) -> Result<(), KillError> {
    let state = store.peek(id)?;
    let status = store.status(&state);
    if all {
        return kill_all(&state, status, sig);
    }
    if !status.can_kill() {
        return Err(KillError::NotRunning {
            id: id.to_string(),
            status,
        });
    }
    send(state.pid, sig).map_err(|source| KillError::Signal {
        id: id.to_string(),
        source,
    })?;
    crate::debug!(
        "kill: sent signal {} to the init of container {id:?} (pid {})",
        sig.0,
        state.pid
    );
    // cgroup v1 delivers nothing to a frozen task until it is thawed: a SIGKILL must land.
    if status == Status::Paused && sig.0 == libc::SIGKILL {
        if let Some(cg) = cgroup_of(&state) {
            let _ = cg.freeze(false);
        }
    }
    Ok(())
}

/// runc 1.1's `kill --all`: every process in the cgroup, whatever the status (a stopped
/// container without its own pid namespace can leave processes behind); a stopped container
/// whose cgroup is gone has nothing left to signal.
fn kill_all(state: &ContainerState, status: Status, sig: Sig) -> Result<(), KillError> {
    let id = &state.id;
    let Some(path) = &state.cgroup_path else {
        // Signalling only the init would look like success while other processes (an exec,
        // a daemon the init forked) keep running: refuse, as runc 1.1.5 does, unless the
        // container has stopped and there is nothing to signal.
        return match status {
            Status::Stopped => Ok(()),
            _ => Err(KillError::NoCgroup { id: id.clone() }),
        };
    };
    let cg_err = |source| KillError::Cgroup {
        id: id.clone(),
        source,
    };
    let cg = manager_from_path(path).map_err(cg_err)?;
    match signal_all(cg.as_ref(), sig) {
        Err(CgroupError::Io { source, .. })
            if status == Status::Stopped && source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(())
        }
        r => r.map_err(cg_err),
    }
}

fn cgroup_of(state: &ContainerState) -> Option<Box<dyn CgroupManager>> {
    manager_from_path(state.cgroup_path.as_deref()?).ok()
}

/// Signal every process in the cgroup, as runc's `signalAllProcesses` does: freeze first, so
/// a process forking while we list and signal cannot leave a child we never saw, then thaw.
/// A cgroup that was frozen before (a paused container) stays frozen, unless the signal is
/// SIGKILL, which cgroup v1 delivers only to thawed tasks. Without a usable freezer the
/// processes are signalled unfrozen, with a warning.
pub fn signal_all(cg: &dyn CgroupManager, sig: Sig) -> Result<(), CgroupError> {
    // Signal 0 only asks whether the processes can be signalled: no need to freeze them.
    if cg.pids()?.is_empty() || sig.0 == 0 {
        return Ok(());
    }
    let was_frozen = cg.frozen().unwrap_or(false);
    let froze = match cg.freeze(true) {
        Ok(()) => true,
        Err(e) => {
            logging::warn(&format!(
                "signalling the container's processes without freezing them: {e}"
            ));
            false
        }
    };
    let result = cg.pids().map(|pids| {
        for pid in pids {
            // A process that exited between listing and signalling is not an error.
            let _ = send(pid, sig);
        }
    });
    if froze && (!was_frozen || sig.0 == libc::SIGKILL) {
        if let Err(e) = cg.freeze(false) {
            logging::warn(&format!("thawing the container after signalling it: {e}"));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A cgroup that records what was done to it; its pids do not exist (pid_max is at most
    /// 2^22), so signalling them is harmless.
    #[derive(Default)]
    struct Recorder {
        frozen: RefCell<bool>,
        log: RefCell<Vec<String>>,
    }

    impl Recorder {
        fn note(&self, what: &str) {
            self.log.borrow_mut().push(what.to_string());
        }
    }

    impl CgroupManager for Recorder {
        fn path(&self) -> &str {
            "{}"
        }
        fn precheck(
            &self,
            _: Option<&oci_spec::runtime::LinuxResources>,
        ) -> Result<crate::cgroups::Precheck, CgroupError> {
            unreachable!()
        }
        fn create(&self) -> Result<(), CgroupError> {
            unreachable!()
        }
        fn add_task(&self, _: i32) -> Result<(), CgroupError> {
            unreachable!()
        }
        fn apply(&self, _: &oci_spec::runtime::LinuxResources) -> Result<(), CgroupError> {
            unreachable!()
        }
        fn update(&self, _: &oci_spec::runtime::LinuxResources) -> Result<(), CgroupError> {
            unreachable!()
        }
        fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
            self.note(if frozen { "freeze" } else { "thaw" });
            *self.frozen.borrow_mut() = frozen;
            Ok(())
        }
        fn frozen(&self) -> Result<bool, CgroupError> {
            Ok(*self.frozen.borrow())
        }
        fn pids(&self) -> Result<Vec<i32>, CgroupError> {
            self.note(if *self.frozen.borrow() {
                "list frozen"
            } else {
                "list"
            });
            Ok(vec![i32::MAX - 1, i32::MAX])
        }
        fn destroy(&self) -> Result<(), CgroupError> {
            unreachable!()
        }
        fn stats(&self) -> Result<crate::cgroups::stats::Stats, CgroupError> {
            unreachable!()
        }
        fn freezer(&self) -> Option<(std::path::PathBuf, bool)> {
            unreachable!()
        }
    }

    #[test]
    fn kill_all_lists_and_signals_while_frozen_then_thaws() {
        let cg = Recorder::default();
        signal_all(&cg, Sig(libc::SIGKILL)).unwrap();
        assert_eq!(
            *cg.log.borrow(),
            ["list", "freeze", "list frozen", "thaw"],
            "a process forking between listing and signalling must not escape"
        );
    }

    #[test]
    fn a_paused_container_stays_frozen_unless_the_signal_is_sigkill() {
        let cg = Recorder::default();
        *cg.frozen.borrow_mut() = true;
        signal_all(&cg, Sig(libc::SIGTERM)).unwrap();
        assert!(*cg.frozen.borrow(), "TERM thawed a paused container");
        signal_all(&cg, Sig(libc::SIGKILL)).unwrap();
        assert!(!*cg.frozen.borrow(), "SIGKILL must reach frozen v1 tasks");
    }
}
