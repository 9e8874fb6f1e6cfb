//! `start`: wake the init blocked on exec.sock, then run poststart hooks.

use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::hooks::HookKind;
use crate::process::start::{connect_init, StartError};

#[derive(Debug, thiserror::Error)]
pub enum StartVerbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start container {id:?}: it is {status}, not created")]
    NotCreated { id: String, status: Status },
    #[error("start container {id:?}: {source}")]
    Start { id: String, source: StartError },
}

/// Nothing is written: the status comes from the init (`StateStore::status`), so a full or
/// read-only state root cannot make `start` fail after the user process started, and a
/// `start` killed at any point leaves a container that reads as created (the init still
/// waits) or running (it executed), never one stranded between the two.
pub fn start(store: &StateStore, id: &str) -> Result<(), StartVerbError> {
    let dir = store.open(id)?;
    let state = dir.load()?;
    // The connection is the exec.sock probe of the status too: one wake-up of the init.
    let conn = connect_init(&dir.path);
    let status = store.status_with(&state, || conn.init_waiting());
    if !status.can_start() {
        return Err(StartVerbError::NotCreated {
            id: id.to_string(),
            status,
        });
    }
    let result = conn.start();
    // Either way the socket has served its purpose: a started or dead init never listens again.
    let _ = std::fs::remove_file(dir.exec_sock());
    result.map_err(|source| StartVerbError::Start {
        id: id.to_string(),
        source,
    })?;
    // config.md#poststart: after the user process started, before start returns.
    let mut running = state;
    running.status = Status::Running;
    running.run_warning_hooks(HookKind::Poststart);
    Ok(())
}
