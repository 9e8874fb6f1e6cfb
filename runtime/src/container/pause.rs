//! `pause` / `resume`: freeze and thaw the container's cgroup, with runc's rules: a running or
//! a created container can be paused (runc's `Pause` accepts both), only a paused one resumed.
//! Nothing is recorded: the freezer's state is what makes a container paused
//! (`StateStore::status`), so a created container that was paused and resumed is created again.

use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::cgroups::{manager_from_path, CgroupError};

#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("container {id:?} is {status}, not {want}")]
    WrongStatus {
        id: String,
        status: Status,
        want: Status,
    },
    #[error("container {id:?} has no cgroup to freeze")]
    NoCgroup { id: String },
    #[error("freezer of container {id:?}: {source}")]
    Cgroup { id: String, source: CgroupError },
}

/// Freeze (`frozen = true`, pause) or thaw (resume) the container.
pub fn set_frozen(store: &StateStore, id: &str, frozen: bool) -> Result<(), PauseError> {
    let dir = store.open(id)?;
    let state = dir.load()?;
    let status = store.status(&state);
    let (want, allowed) = if frozen {
        (Status::Running, &[Status::Running, Status::Created][..])
    } else {
        (Status::Paused, &[Status::Paused][..])
    };
    if !allowed.contains(&status) {
        return Err(PauseError::WrongStatus {
            id: id.to_string(),
            status,
            want,
        });
    }
    let path = state
        .cgroup_path
        .clone()
        .ok_or_else(|| PauseError::NoCgroup { id: id.to_string() })?;
    let cg_err = |source| PauseError::Cgroup {
        id: id.to_string(),
        source,
    };
    manager_from_path(&path)
        .map_err(cg_err)?
        .freeze(frozen)
        .map_err(cg_err)
}
