//! `create`, `start`, `run`, `kill`, `delete`.

use nix::sys::signal::SigSet;

use crate::cli::{CreateArgs, DeleteArgs, GlobalArgs, KillArgs, RunArgs};
use crate::container::create::{self, ConsoleSource, CreateOptions};
use crate::container::{delete as del, kill as k, start as st, StateStore};
use crate::error::Error;
use crate::process::{ttyproxy, wait};
use crate::signals::parse_signal;

fn options(
    g: &GlobalArgs,
    a: &CreateArgs,
    sigmask: SigSet,
    console: ConsoleSource,
) -> CreateOptions {
    let console = match &a.console_socket {
        Some(p) => ConsoleSource::Socket(p.clone()),
        None => console,
    };
    CreateOptions {
        id: a.id.clone(),
        bundle: a.bundle.clone(),
        console,
        pid_file: a.pid_file.clone(),
        no_pivot: a.no_pivot,
        no_new_keyring: a.no_new_keyring,
        preserve_fds: a.preserve_fds,
        systemd_cgroup: g.systemd_cgroup,
        rootless: super::rootless(g),
        sigmask,
    }
}

fn current_mask() -> SigSet {
    SigSet::thread_get_mask().unwrap_or_else(|_| SigSet::empty())
}

pub fn create(store: &StateStore, g: &GlobalArgs, a: &CreateArgs) -> Result<(), Error> {
    create::create(store, &options(g, a, current_mask(), ConsoleSource::None))?;
    Ok(())
}

pub fn start(store: &StateStore, id: &str) -> Result<(), Error> {
    st::start(store, id)?;
    Ok(())
}

/// create + start; in the foreground, forward signals, wait, delete (unless --keep) and exit
/// with the container's status (128+N for signal N), as runc does.
pub fn run(store: &StateStore, g: &GlobalArgs, a: &RunArgs) -> Result<i32, Error> {
    // Blocked before the clone, so an init that exits at once cannot be missed.
    let mask = if a.detach {
        current_mask()
    } else {
        wait::block_signals()?
    };
    // In the foreground, a terminal container's pty comes back to us (runc does the same).
    let (proxy, console) = if a.detach {
        (None, ConsoleSource::None)
    } else {
        let (ours, theirs) = ttyproxy::console_pair()?;
        (Some(ours), ConsoleSource::Proxy(theirs))
    };
    let created = create::create(store, &options(g, &a.create, mask, console))?;
    let master = match (
        &proxy,
        created.terminal && a.create.console_socket.is_none(),
    ) {
        (Some(sock), true) => Some(ttyproxy::recv_master(sock)?),
        _ => None,
    };
    let id = &a.create.id;
    if let Some(m) = &master {
        // Before start, so the container's first look at its terminal sees our size.
        ttyproxy::copy_winsize(std::os::fd::AsFd::as_fd(m));
    }
    if let Err(e) = st::start(store, id) {
        if !a.keep {
            let _ = del::delete(store, id, true);
        }
        return Err(e.into());
    }
    if a.detach {
        return Ok(0);
    }
    let code = wait::wait_for_exit(created.pid, master.as_ref())?;
    if !a.keep {
        del::delete(store, id, true)?;
    }
    Ok(code)
}

pub fn kill(store: &StateStore, a: &KillArgs) -> Result<(), Error> {
    let sig = parse_signal(&a.signal)?;
    k::kill(store, &a.id, sig, a.all)?;
    Ok(())
}

pub fn delete(store: &StateStore, a: &DeleteArgs) -> Result<(), Error> {
    match del::delete(store, &a.id, a.force) {
        // runc: `delete --force` of a container that does not exist is not an error.
        Err(del::DeleteError::Store(crate::container::StoreError::NotFound(_))) if a.force => {
            Ok(())
        }
        r => r.map_err(Error::from),
    }
}

pub fn pause(store: &StateStore, id: &str, frozen: bool) -> Result<(), Error> {
    crate::container::pause::set_frozen(store, id, frozen)?;
    Ok(())
}
