//! `events [--stats] [--interval D] ID`: the container's resource usage as JSON lines, and
//! OOM notices as they happen, in runc's shape (runc's events.go and types/events.go):
//! `{"type":"stats","id":ID,"data":{...}}` and `{"type":"oom","id":ID}`.
//!
//! Streaming, like runc, prints the first sample one interval after it starts. It ends with
//! exit 0 when the container stops (its init exits), is deleted, or its cgroup goes away
//! (runc on cgroup v2 ends at the first two; on v1 it streams until `delete` removes the
//! cgroup), and when stdout's reader has gone. It takes no lock and keeps nothing open in the
//! state directory, so `delete` never waits for it; it sleeps in poll(2) on the init's pidfd,
//! the OOM watch and stdout, so each of those ends or interrupts the wait at once.
//! SIGINT and SIGTERM keep their default action: events owns nothing that outlives it (the
//! OOM registration goes with its eventfd), so dying is the clean end, as it is for runc.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::duration::Parsed;
use crate::cgroups::layout::Layout;
use crate::cgroups::oom::{OomNews, OomWatch};
use crate::cgroups::stats::Stats;
use crate::cgroups::CgroupManager;
use crate::cli::EventsArgs;
use crate::container::{ContainerState, StateStore, Status, StoreError};
use crate::error::Error;
use crate::sys::event;

/// Without a pidfd (Linux before 5.3) the init is looked at this often instead.
const LIVENESS_POLL: Duration = Duration::from_millis(250);

/// One line of output; fields in runc's order, `data` left out when absent (`omitempty`).
#[derive(Debug, Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Stats>,
}

/// `--interval`, in Go's duration syntax as runc's flag parser reads it.
fn parse_interval(s: &str) -> Result<Parsed, Error> {
    super::duration::parse(s)
        .map_err(|e| Error::Usage(format!("invalid value {s:?} for flag --interval: {e}")))
}

/// The interval must be positive (runc's rule and message).
fn positive(p: Parsed) -> Result<Duration, Error> {
    if p.negative || p.magnitude.is_zero() {
        return Err(Error::Usage(
            "duration interval must be greater than 0".into(),
        ));
    }
    Ok(p.magnitude)
}

pub fn events(store: &StateStore, a: &EventsArgs) -> Result<(), Error> {
    // runc's order of checks: the flag's syntax, the container, the interval's sign, the
    // container's status.
    let parsed = parse_interval(&a.interval)?;
    let state = store.peek(&a.id)?;
    let interval = positive(parsed)?;
    if store.status(&state) == Status::Stopped {
        return Err(Error::Usage(format!(
            "container with id {} is not running",
            a.id
        )));
    }
    let path = state.cgroup_path.clone().ok_or_else(|| {
        Error::Usage(format!(
            "container {:?} has no cgroup (rootless without cgroup delegation): events has nothing to report",
            a.id
        ))
    })?;
    let cg_err = |source| Error::Cgroup {
        id: a.id.clone(),
        source,
    };
    let cg = crate::cgroups::manager_from_path(&path).map_err(cg_err)?;
    if a.stats {
        let stats = cg.stats().map_err(cg_err)?;
        emit(&stats_event(&a.id, &stats))?;
        return Ok(());
    }
    let layout = Layout::decode(&path).map_err(cg_err)?;
    Stream::new(store, state, cg, &layout, interval).run()
}

fn stats_event<'a>(id: &'a str, stats: &'a Stats) -> Event<'a> {
    Event {
        kind: "stats",
        id,
        data: Some(stats),
    }
}

/// Write one line; `Ok(false)` when stdout's reader has gone (EPIPE: the caller vanished).
fn emit(ev: &Event) -> Result<bool, Error> {
    let out_err = |source| Error::Io {
        what: "write an event to stdout".into(),
        source,
    };
    let mut line = serde_json::to_vec(ev).map_err(|e| out_err(e.into()))?;
    line.push(b'\n');
    // One write per line, so a line-oriented reader never sees half an event.
    match std::io::stdout().lock().write_all(&line) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(out_err(e)),
    }
}

struct Stream<'a> {
    store: &'a StateStore,
    state: ContainerState,
    cg: Box<dyn CgroupManager>,
    interval: Duration,
    oom: Option<OomWatch>,
    /// Readable once the init has exited; `None` on kernels without pidfd_open.
    init: Option<OwnedFd>,
}

/// Why the stream ends: each is a normal end (exit 0).
#[derive(Debug, PartialEq, Eq)]
enum End {
    ContainerGone,
    ReaderGone,
}

impl<'a> Stream<'a> {
    fn new(
        store: &'a StateStore,
        state: ContainerState,
        cg: Box<dyn CgroupManager>,
        layout: &Layout,
        interval: Duration,
    ) -> Self {
        // Stats still flow without OOM notices (runc fails here instead; a rootless v1
        // container cannot register for them, and its stats are still worth having).
        let oom = OomWatch::start(layout)
            .map_err(|e| crate::logging::warn(&format!("events {}: {e}", state.id)))
            .ok();
        let init = event::pidfd_open(state.pid).ok();
        Stream {
            store,
            state,
            cg,
            interval,
            oom,
            init,
        }
    }

    fn run(mut self) -> Result<(), Error> {
        // A caller may hand over a mask that blocks them, or (a shell's background job)
        // dispositions that ignore them; they must still end us.
        crate::sys::misc::default_stop_signals();
        let mut sigs = nix::sys::signal::SigSet::empty();
        sigs.add(nix::sys::signal::Signal::SIGINT);
        sigs.add(nix::sys::signal::Signal::SIGTERM);
        let _ = sigs.thread_unblock();
        // The pidfd was opened after the status check: make sure it is still our init.
        if !self.alive() {
            return Ok(());
        }
        let mut next = Instant::now() + self.interval;
        loop {
            let now = Instant::now();
            if now >= next {
                if let Some(end) = self.tick()? {
                    crate::logging::debug(&format!("events {}: ended: {end:?}", self.state.id));
                    return Ok(());
                }
                // Ticks keep their rhythm; a tick that overran starts the count afresh.
                next += self.interval;
                if next <= now {
                    next = now + self.interval;
                }
                continue;
            }
            if let Some(end) = self.wait(next - now)? {
                crate::logging::debug(&format!("events {}: ended: {end:?}", self.state.id));
                return Ok(());
            }
        }
    }

    /// Whether the container we started on still exists and has not stopped: the same init
    /// (a container created again under this id after a delete is another container).
    fn alive(&self) -> bool {
        match self.store.peek(&self.state.id) {
            Ok(now) => {
                now.pid == self.state.pid
                    && now.pid_start_time == self.state.pid_start_time
                    && self.store.status(&now) != Status::Stopped
            }
            Err(StoreError::NotFound(_)) => false,
            // An unreadable state for a moment (permissions, a write in progress) is not the
            // container going away; the init's own liveness decides.
            Err(_) => {
                crate::container::status::process_alive(self.state.pid, self.state.pid_start_time)
            }
        }
    }

    /// One sample, unless the container is gone.
    fn tick(&mut self) -> Result<Option<End>, Error> {
        if !self.alive() {
            return Ok(Some(End::ContainerGone));
        }
        match self.cg.stats() {
            Ok(stats) => {
                if !emit(&stats_event(&self.state.id, &stats))? {
                    return Ok(Some(End::ReaderGone));
                }
            }
            // runc logs a failed sample and tries again at the next tick.
            Err(e) => crate::logging::warn(&format!("events {}: {e}", self.state.id)),
        }
        Ok(None)
    }

    /// Sleep until the next tick, or less when something happens.
    fn wait(&mut self, timeout: Duration) -> Result<Option<End>, Error> {
        let stdout = std::io::stdout();
        let mut fds = vec![(stdout.as_fd(), false)];
        if let Some(o) = &self.oom {
            fds.push((o.fd(), true));
        }
        if let Some(p) = &self.init {
            fds.push((p.as_fd(), true));
        }
        let timeout = match self.init {
            Some(_) => timeout,
            None => timeout.min(LIVENESS_POLL),
        };
        let ready = event::wait(&fds, timeout).map_err(|e| Error::Io {
            what: "wait for container events".into(),
            source: e.into(),
        })?;
        if ready[0].broken {
            return Ok(Some(End::ReaderGone));
        }
        let oom_ready = self.oom.is_some() && ready[1].readable;
        let init_exited = ready.last().is_some_and(|r| r.readable) && self.init.is_some();
        if oom_ready || init_exited {
            // Before ending on the init's exit too: an OOM kill of the init is news.
            if let Some(end) = self.report_oom()? {
                return Ok(Some(end));
            }
        }
        if init_exited || (self.init.is_none() && !self.alive()) {
            return Ok(Some(End::ContainerGone));
        }
        Ok(None)
    }

    fn report_oom(&mut self) -> Result<Option<End>, Error> {
        let Some(watch) = self.oom.as_mut() else {
            return Ok(None);
        };
        match watch.take() {
            OomNews::Oom(n) => {
                let ev = Event {
                    kind: "oom",
                    id: &self.state.id,
                    data: None,
                };
                for _ in 0..n {
                    if !emit(&ev)? {
                        return Ok(Some(End::ReaderGone));
                    }
                }
                Ok(None)
            }
            OomNews::CgroupGone => Ok(Some(End::ContainerGone)),
            OomNews::Nothing => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_runcs_key_order() {
        let stats = Stats::default();
        let line = serde_json::to_string(&stats_event("c1", &stats)).expect("json");
        assert!(
            line.starts_with(r#"{"type":"stats","id":"c1","data":{"cpu":{"usage":"#),
            "{line}"
        );
        assert!(
            line.ends_with(r#""intel_rdt":{},"network_interfaces":null}}"#),
            "{line}"
        );
        let oom = Event {
            kind: "oom",
            id: "c1",
            data: None,
        };
        assert_eq!(
            serde_json::to_string(&oom).expect("json"),
            r#"{"type":"oom","id":"c1"}"#
        );
    }

    fn interval(s: &str) -> Result<Duration, Error> {
        parse_interval(s).and_then(positive)
    }

    #[test]
    fn intervals_follow_runcs_rules() {
        assert_eq!(interval("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(interval("3h").unwrap(), Duration::from_secs(3 * 3600));
        for zero_or_less in ["0s", "0", "-1s"] {
            let err = interval(zero_or_less).unwrap_err().to_string();
            assert_eq!(err, "duration interval must be greater than 0");
        }
        let err = interval("99999999999999999999s").unwrap_err().to_string();
        assert!(err.starts_with("invalid value \"99999999999999999999s\" for flag --interval: "));
    }
}
