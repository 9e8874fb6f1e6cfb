//! `delete [--force]`: stop what is left, run poststop hooks, remove the cgroup and the state.

use std::time::{Duration, Instant};

use super::state::ContainerState;
use super::status::{process_alive, Status};
use super::store::{StateStore, StoreError};
use crate::cgroups::{manager_from_path, CgroupError};
use crate::hooks::HookKind;

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot delete container {id:?} that is not stopped: {status} (use --force)")]
    NotStopped { id: String, status: Status },
    #[error("container {id:?}: init (pid {pid}) did not die after SIGKILL")]
    Unkillable { id: String, pid: i32 },
    #[error("remove cgroup of container {id:?}: {source}")]
    Cgroup { id: String, source: CgroupError },
}

pub fn delete(store: &StateStore, id: &str, force: bool) -> Result<(), DeleteError> {
    let dir = store.open(id)?;
    let mut state = dir.load()?;
    let status = state.effective_status();
    if !force && !status.can_delete() {
        return Err(DeleteError::NotStopped {
            id: id.to_string(),
            status,
        });
    }
    if status != Status::Stopped {
        stop_everything(&state)?;
    }
    state.status = Status::Stopped;
    // config.md#poststop: after the container is deleted, before delete returns.
    state.run_warning_hooks(HookKind::Poststop);
    if let Some(path) = &state.cgroup_path {
        let cg_err = |source| DeleteError::Cgroup {
            id: id.to_string(),
            source,
        };
        let cg = manager_from_path(path).map_err(cg_err)?;
        cg.destroy().map_err(cg_err)?;
    }
    dir.remove()?;
    Ok(())
}

/// SIGKILL every process of the container (a frozen cgroup is thawed so the kill lands) and
/// wait until the init is gone.
fn stop_everything(state: &ContainerState) -> Result<(), DeleteError> {
    if let Some(cg) = state
        .cgroup_path
        .as_deref()
        .and_then(|p| manager_from_path(p).ok())
    {
        let _ = cg.freeze(false);
        for pid in cg.pids().unwrap_or_default() {
            let _ = crate::sys::proc::kill(pid, libc::SIGKILL);
        }
    }
    if state.pid > 0 && process_alive(state.pid, state.pid_start_time) {
        let _ = crate::sys::proc::kill(state.pid, libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.pid > 0 && process_alive(state.pid, state.pid_start_time) {
        if Instant::now() > deadline {
            return Err(DeleteError::Unkillable {
                id: state.id.clone(),
                pid: state.pid,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}
