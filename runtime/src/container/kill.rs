//! `kill [--all] ID SIGNAL`.

use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::cgroups::{manager_from_path, CgroupError};
use crate::signals::Sig;

#[derive(Debug, thiserror::Error)]
pub enum KillError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("container {id:?} is not running (status {status})")]
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
    let dir = store.open(id)?;
    let state = dir.load()?;
    let status = state.effective_status();
    if !status.can_kill() {
        return Err(KillError::NotRunning {
            id: id.to_string(),
            status,
        });
    }
    if all {
        let cg_err = |source| KillError::Cgroup {
            id: id.to_string(),
            source,
        };
        if let Some(path) = &state.cgroup_path {
            let cg = manager_from_path(path).map_err(cg_err)?;
            for pid in cg.pids().map_err(cg_err)? {
                // A process that exits between listing and signalling is not an error.
                match send(pid, sig) {
                    Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                    Err(source) => {
                        return Err(KillError::Signal {
                            id: id.to_string(),
                            source,
                        })
                    }
                }
            }
            return Ok(());
        }
        // Signalling only the init would look like success while other processes (an exec,
        // a daemon the init forked) keep running: refuse, as runc 1.1.5 does.
        return Err(KillError::NoCgroup { id: id.to_string() });
    }
    send(state.pid, sig).map_err(|source| KillError::Signal {
        id: id.to_string(),
        source,
    })
}
