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

    #[test]
    fn guards_follow_the_spec() {
        assert!(Status::Created.can_start());
        assert!(!Status::Running.can_start());
        assert!(!Status::Stopped.can_kill());
        assert!(!Status::Running.can_delete());
        assert!(Status::Stopped.can_delete());
    }
}
