//! Container status and the guards each verb checks (runtime.md#state, #lifecycle).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The runtime is still setting the container up (runtime.md: "creating").
    Creating,
    /// Set up and waiting for `start`.
    Created,
    /// The user process was executed and has not exited.
    Running,
    /// Frozen through the cgroup freezer.
    Paused,
    /// The container process exited.
    Stopped,
}

impl Status {
    /// runtime.md#start: "attempting to start a container that is not created MUST have no
    /// effect on the container and MUST generate an error".
    pub fn can_start(self) -> bool {
        self == Status::Created
    }

    /// runtime.md#kill: kill on a container that is neither created nor running is an error.
    pub fn can_kill(self) -> bool {
        matches!(self, Status::Created | Status::Running | Status::Paused)
    }

    /// runtime.md#delete: "attempting to delete a container that is not stopped MUST have no
    /// effect on the container and MUST generate an error". runc 1.1 deletes a `created`
    /// container anyway; we follow the spec (clients use `delete --force` for that).
    pub fn can_delete(self) -> bool {
        self == Status::Stopped
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the host says about a container right now: the facts its status is derived from.
/// Nothing here comes from state.json, which a killed command can leave behind a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// The recorded init (same pid and start time) exists and has not exited.
    pub alive: bool,
    /// The container's cgroup is frozen.
    pub frozen: bool,
    /// The init still listens on exec.sock: it has not executed the user process yet.
    pub waiting_for_start: bool,
}

/// The status of a container whose state.json recorded `recorded` and init `pid`, as runc's
/// `runType` and `isPaused` derive it: from the process and the cgroup, not from a file.
/// `observe` runs only when there is an init to look at.
///
/// Only `creating` is taken from the record: a create that has not finished (or was killed
/// before it did) is incomplete whatever its init does, and only `delete --force` removes it.
pub fn derive(recorded: Status, pid: i32, observe: impl FnOnce() -> Observed) -> Status {
    if pid <= 0 {
        return match recorded {
            Status::Creating => Status::Creating,
            _ => Status::Stopped,
        };
    }
    let seen = observe();
    if !seen.alive {
        return Status::Stopped;
    }
    if recorded == Status::Creating {
        return Status::Creating;
    }
    if seen.frozen {
        Status::Paused
    } else if seen.waiting_for_start {
        Status::Created
    } else {
        Status::Running
    }
}

/// What `/proc/<pid>/stat` says about a process: its state letter and start time (in clock
/// ticks since boot). The start time tells a recycled pid from the container's init.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    pub start_time: u64,
}

/// Parse `/proc/<pid>/stat`. The command name may contain spaces and parentheses, so fields
/// are counted from the last `)`.
pub fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the comm: field 3 is the state (index 0), field 22 the start time (index 19).
    let state = fields.first()?.chars().next()?;
    let start_time = fields.get(19)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

pub fn read_proc_stat(pid: i32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_proc_stat(&text)
}

/// True when `pid` still is the process that was started at `start_time` and has not exited
/// (a zombie has exited: its parent just has not reaped it yet).
pub fn process_alive(pid: i32, start_time: u64) -> bool {
    match read_proc_stat(pid) {
        Some(st) => st.start_time == start_time && !matches!(st.state, 'Z' | 'X' | 'x'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_comm() {
        let line = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 1000 10";
        let st = parse_proc_stat(line).unwrap();
        assert_eq!(st.state, 'S');
        assert_eq!(st.start_time, 123456);
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id() as i32;
        let st = read_proc_stat(me).unwrap();
        assert!(process_alive(me, st.start_time));
        assert!(!process_alive(me, st.start_time + 1));
    }

    fn seen(alive: bool, frozen: bool, waiting_for_start: bool) -> Observed {
        Observed {
            alive,
            frozen,
            waiting_for_start,
        }
    }

    #[test]
    fn status_comes_from_the_process_and_cgroup_not_the_record() {
        use Status::*;
        // A start killed after the init executed left "created" (or a failed retry
        // "stopped") on disk: the running process decides.
        for recorded in [Created, Running, Paused, Stopped] {
            assert_eq!(derive(recorded, 42, || seen(true, false, false)), Running);
            assert_eq!(derive(recorded, 42, || seen(true, false, true)), Created);
            assert_eq!(derive(recorded, 42, || seen(true, true, false)), Paused);
            assert_eq!(derive(recorded, 42, || seen(false, false, true)), Stopped);
        }
    }

    #[test]
    fn an_unfinished_create_stays_creating_until_its_init_is_gone() {
        use Status::*;
        assert_eq!(derive(Creating, 0, || unreachable!()), Creating);
        assert_eq!(derive(Creating, 42, || seen(true, false, true)), Creating);
        assert_eq!(derive(Creating, 42, || seen(false, false, false)), Stopped);
        assert_eq!(derive(Stopped, 0, || unreachable!()), Stopped);
    }

    #[test]
    fn guards_follow_the_spec() {
        assert!(Status::Created.can_start());
        assert!(!Status::Running.can_start());
        assert!(!Status::Stopped.can_kill());
        assert!(!Status::Running.can_delete());
        assert!(Status::Stopped.can_delete());
    }
}
