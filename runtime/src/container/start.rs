//! `start`: wake the init blocked on exec.sock, then run poststart hooks.

use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::hooks::HookKind;
use crate::process::start::{start_init, StartError};

#[derive(Debug, thiserror::Error)]
pub enum StartVerbError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start container {id:?}: it is {status}, not created")]
    NotCreated { id: String, status: Status },
    #[error("start container {id:?}: {source}")]
    Start { id: String, source: StartError },
}

pub fn start(store: &StateStore, id: &str) -> Result<(), StartVerbError> {
    let dir = store.open(id)?;
    let mut state = dir.load()?;
    let status = state.effective_status();
    if !status.can_start() {
        return Err(StartVerbError::NotCreated {
            id: id.to_string(),
            status,
        });
    }
    let result = start_init(&dir.path);
    // Either way the socket has served its purpose: a started or dead init never listens again.
    let _ = std::fs::remove_file(dir.exec_sock());
    if let Err(source) = result {
        state.status = Status::Stopped;
        dir.save(&state)?;
        return Err(StartVerbError::Start {
            id: id.to_string(),
            source,
        });
    }
    state.status = Status::Running;
    dir.save(&state)?;
    // config.md#poststart: after the user process started, before start returns.
    state.run_warning_hooks(HookKind::Poststart);
    Ok(())
}
