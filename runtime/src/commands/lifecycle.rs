//! `create`, `start`, `run`, `kill`, `delete`.

use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};

use crate::cli::{CreateArgs, DeleteArgs, GlobalArgs, KillArgs, RunArgs};
use crate::container::create::{self, ConsoleSource, CreateOptions};
use crate::container::{delete as del, kill as k, start as st, StateStore};
use crate::error::Error;
use crate::process::{ttyproxy, wait};
use crate::signals::parse_signal;
use crate::sys::interrupt;

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
    let mask = current_mask();
    catch_stop_signals()?;
    let result = create::create(store, &options(g, a, mask, ConsoleSource::None));
    abort_if_interrupted(store, &a.id, result.is_ok())?;
    created(result?);
    Ok(())
}

/// SIGTERM, SIGINT and SIGHUP end `create` and `run` and leave nothing behind (see
/// sys/interrupt.rs) instead of killing the runtime between two steps.
fn catch_stop_signals() -> Result<(), Error> {
    interrupt::catch().map_err(|e| Error::Wait(wait::WaitError::Signals(e)))
}

/// After a stop signal: remove the container if it got made anyway (the handler killed its
/// init, so it is stopped), then report the signal. A create that failed removed what it made.
fn abort_if_interrupted(store: &StateStore, id: &str, made: bool) -> Result<(), Error> {
    let Some(signal) = interrupt::interrupted() else {
        return Ok(());
    };
    if made {
        del::delete(store, id, true)?;
    }
    Err(Error::Interrupted {
        signal,
        id: id.to_string(),
    })
}

/// `run` in the foreground blocks the signals it forwards before the clone (see
/// process/wait.rs), except the stop signals: until the container runs, those end `run`.
pub(super) fn block_forwarded_signals() -> Result<SigSet, Error> {
    let mut set = wait::handled_signals();
    for sig in interrupt::SIGNALS {
        set.remove(sig);
    }
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
        .map_err(|e| Error::Wait(wait::WaitError::Signals(e)))?;
    Ok(old)
}

/// The container runs in the foreground now: stop signals are forwarded to it, as runc does.
pub(super) fn forward_stop_signals_too() -> Result<(), Error> {
    interrupt::release_init();
    let mut set = SigSet::empty();
    for sig in interrupt::SIGNALS {
        set.add(sig);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| Error::Wait(wait::WaitError::Signals(e)))
}

fn created(c: create::Created) -> create::Created {
    crate::debug!(
        "create: container {:?} created from bundle {}, init pid {}",
        c.state.id,
        c.state.bundle.display(),
        c.pid
    );
    c
}

pub fn start(store: &StateStore, id: &str) -> Result<(), Error> {
    st::start(store, id)?;
    crate::debug!("start: container {id:?} runs its process");
    Ok(())
}

/// create + start; in the foreground, forward signals, wait, delete (unless --keep) and exit
/// with the container's status (128+N for signal N), as runc does.
pub fn run(store: &StateStore, g: &GlobalArgs, a: &RunArgs) -> Result<i32, Error> {
    // Blocked before the clone, so an init that exits at once cannot be missed.
    let mask = if a.detach {
        current_mask()
    } else {
        block_forwarded_signals()?
    };
    catch_stop_signals()?;
    // In the foreground, a terminal container's pty comes back to us (runc does the same).
    let (proxy, console) = if a.detach {
        (None, ConsoleSource::None)
    } else {
        let (ours, theirs) = ttyproxy::console_pair()?;
        (Some(ours), ConsoleSource::Proxy(theirs))
    };
    let id = &a.create.id;
    let result = create::create(store, &options(g, &a.create, mask, console));
    abort_if_interrupted(store, id, result.is_ok())?;
    let created = created(result?);
    let master = match (
        &proxy,
        created.terminal && a.create.console_socket.is_none(),
    ) {
        (Some(sock), true) => Some(ttyproxy::recv_master(sock)?),
        _ => None,
    };
    if let Some(m) = &master {
        // Before start, so the container's first look at its terminal sees our size.
        ttyproxy::copy_winsize(std::os::fd::AsFd::as_fd(m));
    }
    let started = st::start(store, id);
    abort_if_interrupted(store, id, true)?;
    if let Err(e) = started {
        if !a.keep {
            let _ = del::delete(store, id, true);
        }
        return Err(e.into());
    }
    crate::debug!("run: container {id:?} runs its process");
    if a.detach {
        return Ok(0);
    }
    forward_stop_signals_too()?;
    let code = wait::wait_for_exit(created.pid, master.as_ref())?;
    crate::debug!("run: the process of container {id:?} ended, exit code {code}");
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
    // A stop signal must not leave half a container: delete finishes (it only waits on the
    // init's death, bounded, and on poststop hooks, which the signal cuts short when they
    // have no timeout of their own; see hooks.rs), then exits.
    catch_stop_signals()?;
    match del::delete(store, &a.id, a.force) {
        // runc: `delete --force` of a container that does not exist is not an error.
        Err(del::DeleteError::Store(crate::container::StoreError::NotFound(_))) if a.force => {
            Ok(())
        }
        r => r.map_err(Error::from),
    }?;
    crate::debug!("delete: container {:?} deleted", a.id);
    Ok(())
}

pub fn pause(store: &StateStore, id: &str, frozen: bool) -> Result<(), Error> {
    crate::container::pause::set_frozen(store, id, frozen)?;
    crate::debug!(
        "{}: container {id:?} {}",
        if frozen { "pause" } else { "resume" },
        if frozen { "frozen" } else { "thawed" }
    );
    Ok(())
}
