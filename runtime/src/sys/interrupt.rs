//! SIGTERM, SIGINT and SIGHUP while a container is being made: the runtime must end, and
//! leave nothing behind (no init, no cgroup, no state directory).
//!
//! The default action would kill the runtime at once, between any two of its steps, leaving
//! half a container. Instead a handler records the signal and SIGKILLs the container's init,
//! once it exists: whatever the runtime waits for then (the init's next message, `start`'s
//! reply) ends at once, and the runtime unwinds through its ordinary failure path, which
//! removes what it made. It then asks [`interrupted`] and reports the signal. Only
//! async-signal-safe work happens in the handler: two atomics and kill(2).

use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// The signals that ask the runtime to stop.
pub const SIGNALS: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];

/// The first of [`SIGNALS`] received, 0 before any.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The container init to kill when one arrives, 0 while there is none.
static INIT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    let _ = RECEIVED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    let pid = INIT.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes plain integers.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Catch [`SIGNALS`] from now on. SA_RESTART: the runtime's waits go on until the killed
/// init ends them, so no code path has to expect EINTR.
pub fn catch() -> Result<(), Errno> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in SIGNALS {
        // SAFETY: the handler only touches atomics and calls kill(2), both async-signal-safe.
        unsafe { sigaction(sig, &action) }?;
    }
    Ok(())
}

/// In the container init (a clone that inherited [`catch`]): the default actions again, so
/// a signal meant for the container is not swallowed by the runtime's handler.
pub fn restore_defaults() {
    for sig in SIGNALS {
        // SAFETY: installing SIG_DFL is always sound.
        unsafe {
            let _ = nix::sys::signal::signal(sig, SigHandler::SigDfl);
        }
    }
}

/// The init the handler kills. A signal that came before the init existed kills it now.
pub fn guard_init(pid: i32) {
    INIT.store(pid, Ordering::SeqCst);
    if RECEIVED.load(Ordering::SeqCst) != 0 {
        // SAFETY: kill(2) takes plain integers.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// The init is the container's own now (it runs the user's process in the foreground):
/// signals from here on are forwarded to it, not turned into a SIGKILL.
pub fn release_init() {
    INIT.store(0, Ordering::SeqCst);
}

/// The stop signal received since [`catch`], if any.
pub fn interrupted() -> Option<Signal> {
    Signal::try_from(RECEIVED.load(Ordering::SeqCst)).ok()
}
