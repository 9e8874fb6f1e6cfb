//! oci-seccomp-agent: the listener end of `linux.seccomp.listenerPath` for oci-conform
//! scenarios. It listens on a unix socket, takes each runtime connection's container process
//! state and seccomp notify fd (config-linux.md#seccomp, runtime.md "containerProcessState"),
//! answers notifications by the rules of its command line, and logs what it saw.
//!
//! It ends on SIGTERM/SIGINT, when every filter it served has no task left (the containers
//! exited), when its parent dies, or after `--max-lifetime`: never left running.

// unsafe only for the signal handler install and taking ownership of SCM_RIGHTS descriptors,
// each with #[allow(unsafe_code)] and a SAFETY comment.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod conn;
mod log;
mod notify;
mod rules;

use clap::Parser;
use log::{record, SharedLog};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde_json::{json, Value};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(name = "oci-seccomp-agent", version, about)]
struct Args {
    /// The unix socket to listen on (the config's linux.seccomp.listenerPath).
    #[arg(long)]
    socket: PathBuf,
    /// JSON lines: what the agent received and how it answered.
    #[arg(long)]
    log: PathBuf,
    /// One JSON document with the same, rewritten after every event.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// NAMES=ACTION: errno:NAME|errno:N, success[:N], continue; NAMES is `mkdir`,
    /// `mkdir,mkdirat` or `*` (the default). Repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// The action for syscalls no rule names.
    #[arg(long, default_value = "continue")]
    default: String,
    /// Exit after this many seconds whatever happens.
    #[arg(long, default_value_t = 300)]
    max_lifetime: u64,
}

/// How long the runtime has to close a connection once the state is sent.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

// sigaction is unsafe in nix because a handler could do anything; ours only stores an atomic.
#[allow(unsafe_code)]
fn install_signals() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic.
        let _ = unsafe { sigaction(sig, &action) };
    }
}

fn main() {
    let args = Args::parse();
    let rules = match rules::Rules::new(&args.rules, &args.default) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("oci-seccomp-agent: {e}");
            std::process::exit(2);
        }
    };
    install_signals();
    // The runner that started us owns our lifetime: if it dies, so do we.
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
    let log = match log::Log::open(&args.log, args.summary.as_deref(), rules.to_json()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("oci-seccomp-agent: cannot open {}: {e}", args.log.display());
            std::process::exit(1);
        }
    };
    let _ = std::fs::remove_file(&args.socket);
    let listener = match UnixListener::bind(&args.socket) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "oci-seccomp-agent: cannot listen on {}: {e}",
                args.socket.display()
            );
            std::process::exit(1);
        }
    };
    record(&log, "listening", json!({ "socket": args.socket }), None);
    let deadline = Instant::now() + Duration::from_secs(args.max_lifetime);
    let reason = accept_loop(&listener, Arc::new(rules), &log, deadline);
    let _ = std::fs::remove_file(&args.socket);
    record(&log, "exit", json!({ "reason": reason }), Some("exit"));
}

/// Accepts connections until a stop condition; returns why it stopped.
fn accept_loop(
    listener: &UnixListener,
    rules: Arc<rules::Rules>,
    log: &SharedLog,
    deadline: Instant,
) -> &'static str {
    let live = Arc::new(AtomicUsize::new(0));
    let mut served = 0usize;
    let mut connections = 0usize;
    loop {
        if STOP.load(Ordering::SeqCst) {
            return "signal";
        }
        if Instant::now() >= deadline {
            STOP.store(true, Ordering::SeqCst);
            return "max lifetime reached";
        }
        if served > 0 && live.load(Ordering::SeqCst) == 0 {
            return "every filter served has no task left";
        }
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if !matches!(poll(&mut fds, PollTimeout::from(100u16)), Ok(n) if n > 0) {
            continue;
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        let mut got = conn::receive(stream);
        let entry = connection_entry(connections, &got);
        let process_pid = got.state.as_ref().ok().and_then(|s| s["pid"].as_i64());
        let fd = got.take_seccomp_fd();
        record(log, "connection", entry, Some("connections"));
        watch_close(connections, got.stream, log.clone());
        // Descriptors the agent has no use for are closed here (dropping the rest of `got`).
        drop(got.fds);
        if let Some(fd) = fd {
            served += 1;
            live.fetch_add(1, Ordering::SeqCst);
            let s = notify::Served {
                fd,
                connection: connections,
                process_pid,
            };
            let (rules, log, live) = (rules.clone(), log.clone(), live.clone());
            std::thread::spawn(move || {
                notify::serve(s, &rules, &log, &STOP);
                live.fetch_sub(1, Ordering::SeqCst);
            });
        }
        connections += 1;
    }
}

/// Logs, in the background, whether the runtime closed the connection after the state.
fn watch_close(index: usize, stream: UnixStream, log: SharedLog) {
    std::thread::spawn(move || {
        let closed = conn::closed_within(stream, CLOSE_WITHIN);
        let entry = json!({
            "connection": index,
            "closed": closed.is_some(),
            "after_ms": closed.map(|d| d.as_millis() as u64),
        });
        record(&log, "connection-closed", entry, Some("closes"));
    });
}

/// The log entry of a connection: the state's fields a scenario checks, and the whole state.
fn connection_entry(index: usize, got: &conn::Received) -> Value {
    match &got.state {
        Ok(s) => json!({
            "connection": index,
            "ociVersion": s["ociVersion"],
            "fds": s["fds"],
            "pid": s["pid"],
            "metadata": s["metadata"],
            "state": s["state"],
            // runtime.md: `pid` is the process the filter is for, `state.pid` the init's.
            "pid_is_init": s["pid"].is_i64() && s["pid"] == s["state"]["pid"],
            "received_fds": got.fds.len(),
        }),
        Err(e) => json!({
            "connection": index,
            "error": e,
            "received_fds": got.fds.len(),
        }),
    }
}
