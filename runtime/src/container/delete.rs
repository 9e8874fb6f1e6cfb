//! `delete [--force]`: stop what is left, run poststop hooks, remove the cgroup and the state.

use std::time::{Duration, Instant};

use super::kill::signal_all;
use super::state::ContainerState;
use super::status::{process_alive, Status};
use super::store::{StateStore, StoreError};
use crate::cgroups::{manager_from_path, reopen, CgroupError};
use crate::hooks::HookKind;
use crate::logging;
use crate::signals::Sig;

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
    let dir = store.open_remains(id)?;
    let state = match dir.load() {
        Ok(state) => state,
        // A create killed before its first save, or a delete killed after removing
        // state.json: `create` records a container before it makes anything outside its
        // directory, so there is nothing else to clean up. runc removes such a directory too,
        // and still reports that the container does not exist (`--force` makes that success).
        Err(StoreError::NotFound(_)) => {
            dir.remove()?;
            return Err(StoreError::NotFound(id.to_string()).into());
        }
        Err(e @ StoreError::Corrupt { .. }) if force => {
            logging::warn(&format!(
                "{e}: removing it; processes or a cgroup it had cannot be found from it"
            ));
            dir.remove()?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let status = store.status(&state);
    if !force && !status.can_delete() {
        return Err(DeleteError::NotStopped {
            id: id.to_string(),
            status,
        });
    }
    // Also for a stopped container: without its own pid namespace its init's children may
    // live on in the cgroup, which could not be removed then.
    stop_everything(&state)?;
    let mut state = state;
    state.status = Status::Stopped;
    // config.md#poststop: after the container is deleted, before delete returns.
    state.run_warning_hooks(HookKind::Poststop);
    let sys = crate::rootfs::real();
    if let Err(e) = crate::rootfs::leftovers::unmount_leftovers(&sys, &state.bundle, &state.rootfs)
    {
        logging::warn(&format!(
            "container {id:?}: unmount what it left under its rootfs: {e}"
        ));
    }
    if let Some(path) = &state.cgroup_path {
        let cg_err = |source| DeleteError::Cgroup {
            id: id.to_string(),
            source,
        };
        let cg = reopen(path, state.systemd.as_ref()).map_err(cg_err)?;
        match cg.destroy() {
            Ok(()) => {}
            // Processes that were never the container's (it had its own pid namespace, and
            // its init is gone) still use the cgroup: it stays for them, the state goes.
            Err(CgroupError::Io { source, .. })
                if state.own_pid_namespace && source.raw_os_error() == Some(libc::EBUSY) =>
            {
                logging::warn(&format!(
                    "container {id:?}: its cgroup {path} is still used by processes that are \
                     not the container's; left in place"
                ));
            }
            Err(e) => return Err(cg_err(e)),
        }
    }
    dir.remove()?;
    Ok(())
}

/// SIGKILL the container's init and wait until it is gone. Without a pid namespace of its
/// own, first every process in its cgroup (frozen while they are listed, so none forks away,
/// and thawed so the kill lands): its init's death would not end them. With one, the kernel
/// ends them with the init, and what else shares the cgroup is not the container's (runc).
fn stop_everything(state: &ContainerState) -> Result<(), DeleteError> {
    let cg = state
        .cgroup_path
        .as_deref()
        .and_then(|p| manager_from_path(p).ok());
    if let Some(cg) = cg.as_deref().filter(|_| !state.own_pid_namespace) {
        match signal_all(cg, Sig(libc::SIGKILL)) {
            Ok(()) => {}
            // Never made (a create killed first), or already removed (a delete killed after).
            Err(CgroupError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => logging::warn(&format!(
                "kill the processes of container {:?}: {e}",
                state.id
            )),
        }
    }
    let alive = || state.pid > 0 && process_alive(state.pid, state.pid_start_time);
    if alive() {
        let _ = crate::sys::proc::kill(state.pid, libc::SIGKILL);
        // A frozen task does not act on SIGKILL until it is thawed (a paused container).
        if let Some(cg) = cg.as_deref().filter(|cg| cg.frozen().unwrap_or(false)) {
            if let Err(e) = cg.freeze(false) {
                logging::warn(&format!("thaw container {:?} to kill it: {e}", state.id));
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() {
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
