//! Serving one seccomp notify fd: receive each notification, answer it by the rules, log it.
//! Ends when the filter has no task left (the kernel reports POLLHUP on the fd once every
//! process using the filter has exited) or when the agent is stopping.

use crate::log::{record, SharedLog};
use crate::rules::{Action, Rules};
use libseccomp::{notify_id_valid, ScmpNotifReq, ScmpNotifResp, ScmpNotifRespFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde_json::{json, Value};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// How often a quiet fd looks at the stop flag.
const TICK_MS: u16 = 100;

pub struct Served {
    pub fd: OwnedFd,
    /// Index of the connection that brought the fd, for the log.
    pub connection: usize,
    /// The top-level `pid` of the container process state: the process the filter was
    /// loaded for (the init on create/run, the new process on exec).
    pub process_pid: Option<i64>,
}

pub fn serve(s: Served, rules: &Rules, log: &SharedLog, stop: &AtomicBool) {
    let why = loop {
        if stop.load(Ordering::SeqCst) {
            break "agent stopping";
        }
        let mut fds = [PollFd::new(s.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(TICK_MS)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                record(
                    log,
                    "error",
                    json!({ "message": format!("poll: {e}") }),
                    None,
                );
                break "poll failed";
            }
        }
        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
        if revents.contains(PollFlags::POLLIN) {
            if let Err(e) = answer_one(&s, rules, log) {
                record(
                    log,
                    "error",
                    json!({ "connection": s.connection, "message": e }),
                    None,
                );
            }
        } else if revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            break "filter has no task left";
        }
    };
    record(
        log,
        "hangup",
        json!({ "connection": s.connection, "reason": why }),
        None,
    );
}

fn answer_one(s: &Served, rules: &Rules, log: &SharedLog) -> Result<(), String> {
    let fd = s.fd.as_raw_fd();
    let req = ScmpNotifReq::receive(fd).map_err(|e| format!("receive: {e}"))?;
    let name = req
        .data
        .syscall
        .get_name_by_arch(req.data.arch)
        .unwrap_or_else(|_| format!("syscall#{}", i32::from(req.data.syscall)));
    let action = rules.action_for(&name);
    let resp = match action {
        Action::Errno(n) => ScmpNotifResp::new_error(req.id, -n, ScmpNotifRespFlags::empty()),
        Action::Success(v) => ScmpNotifResp::new_val(req.id, v, ScmpNotifRespFlags::empty()),
        Action::Continue => ScmpNotifResp::new_continue(req.id, ScmpNotifRespFlags::empty()),
    };
    // A task killed while its call waited makes the id stale; the answer would go nowhere.
    let outcome = if notify_id_valid(fd, req.id).is_err() {
        "target gone".to_string()
    } else {
        match resp.respond(fd) {
            Ok(()) => "answered".to_string(),
            Err(e) => format!("respond failed: {e}"),
        }
    };
    let mut entry = json!({
        "connection": s.connection,
        "syscall": name,
        "pid": req.pid,
        "from_process_pid": s.process_pid == Some(i64::from(req.pid)),
        "args": req.data.args,
        "outcome": outcome,
    });
    merge(&mut entry, action.to_json());
    record(log, "notification", entry, Some("notifications"));
    Ok(())
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
