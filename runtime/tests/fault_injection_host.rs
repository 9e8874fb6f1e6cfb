//! The runtime killed at every syscall boundary of create, start, run, exec, kill and delete
//! in turn: afterwards `delete --force` succeeds, nothing of the container is left (state,
//! cgroup, process, mount) and the same id is created again.
//!
//! strace counts injections per syscall and per tracee, so a clean run under strace first
//! lists the command's syscalls in order; the nth boundary is then "the kth call of syscall
//! s", killed with `-e inject=s:signal=SIGKILL:when=k`. Only the runtime process is traced
//! (no `-f`): the init it clones is what a killed runtime leaves behind, not a target.
//! Syscall sequences vary slightly between runs (polling loops), so a point past the end of a
//! run's sequence lets the command finish; the report counts the runs actually killed.
//!
//! `FERRUN_FAULT_STEP=n` tries every nth boundary only (default 1: all of them).

mod support;

use std::process::Command;
use std::time::Duration;

use support::{
    cg, cgroup_leaked, eventually, pid_alive, run_watched, unique_id, Bundle, Done, Need, Rt,
    WATCHDOG,
};

/// One command under test, with what must exist before it runs.
struct Case {
    name: &'static str,
    /// Container states to set up first: "created" or "running".
    before: Option<&'static str>,
    args: fn(&Sweep) -> Vec<String>,
    /// Rolls the killed command forward, checking the result (run before `delete --force`).
    roll_forward: Option<fn(&Sweep)>,
}

struct Sweep {
    rt: Rt,
    id: String,
    sleeper: Bundle,
    quick: Bundle,
}

impl Sweep {
    fn new(tag: &str) -> Self {
        let id = unique_id(tag);
        let sweep = Sweep {
            rt: Rt::ferrun(),
            sleeper: Bundle::with_args(&["sleep", "1000"], cg(&id)),
            quick: Bundle::with_args(&["true"], cg(&id)),
            id,
        };
        sweep.rt.track(&sweep.id);
        sweep
    }

    fn bundle(b: &Bundle) -> String {
        b.path().to_str().expect("utf-8 bundle path").to_string()
    }

    fn setup(&self, before: Option<&str>) {
        let Some(before) = before else { return };
        let b = Self::bundle(&self.sleeper);
        self.rt.ok(&["create", "-b", &b, &self.id]);
        if before == "running" {
            self.rt.ok(&["start", &self.id]);
        }
    }

    /// The runtime under strace; `kill_at`: the kth call of a syscall gets SIGKILL.
    fn traced(&self, args: &[String], log: &str, kill_at: Option<(&str, usize)>) -> Done {
        let mut cmd = Command::new("strace");
        cmd.args(["-qq", "-o", log]);
        if let Some((syscall, k)) = kill_at {
            cmd.args(["-e", &format!("inject={syscall}:signal=SIGKILL:when={k}")]);
        }
        cmd.arg(&self.rt.bin).arg("--root").arg(self.rt.root.path());
        cmd.args(args).stdin(std::process::Stdio::null());
        run_watched(&mut cmd, WATCHDOG)
    }

    /// The syscalls of a clean run of the case, in order, as (name, occurrence).
    fn boundaries(&self, case: &Case) -> Vec<(String, usize)> {
        self.setup(case.before);
        let log = tempfile::NamedTempFile::new().expect("strace log");
        let log_path = log.path().to_str().expect("utf-8 tempfile").to_string();
        let done = self.traced(&(case.args)(self), &log_path, None);
        assert_eq!(done.code, Some(0), "clean run of {}: {done:?}", case.name);
        self.rt.ok(&["delete", "--force", &self.id]);
        let text = std::fs::read_to_string(log.path()).expect("read strace log");
        let mut seen = std::collections::HashMap::<String, usize>::new();
        text.lines()
            .filter_map(|l| {
                let name = l.split('(').next()?;
                let ok = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                ok.then(|| name.to_string())
            })
            .map(|name| {
                let k = seen.entry(name.clone()).or_default();
                *k += 1;
                (name, *k)
            })
            .collect()
    }

    /// Whatever a killed command left, `list` and `state` still answer (issue 9, item 4).
    fn readable(&self, what: &str) {
        let list = self.rt.run(&["list"]);
        assert_eq!(list.code, Some(0), "{what}: list {list:?}");
        let state = self.rt.run(&["state", &self.id]);
        let ok = state.code == Some(0) || state.err.contains("does not exist");
        assert!(ok, "{what}: state {state:?}");
    }

    fn status(&self) -> Option<String> {
        let st = self.rt.run(&["state", &self.id]);
        let v: serde_json::Value = serde_json::from_str(&st.out).ok()?;
        v["status"].as_str().map(str::to_string)
    }

    /// What is left of the container after `delete --force`, described; empty when nothing.
    fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        if self.rt.state_dir_exists(&self.id) {
            left.push(format!(
                "state dir {}",
                self.rt.state_dir(&self.id).display()
            ));
        }
        for d in cgroup_leaked(&self.id) {
            left.push(format!("cgroup {}", d.display()));
        }
        // A runtime process (or an init not yet executed) carries the id on its command line;
        // the container's own processes live in its cgroup, checked above.
        let stray = || processes_naming(&self.id);
        if !eventually(Duration::from_secs(5), || stray().is_empty()) {
            left.extend(stray().iter().map(|p| format!("process {p}")));
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        for b in [&self.sleeper, &self.quick] {
            let path = Sweep::bundle(b);
            left.extend(
                mountinfo
                    .lines()
                    .filter(|l| l.contains(&path))
                    .map(|l| format!("mount {l}")),
            );
        }
        left
    }

    /// Kill the case at every `step`th boundary; returns (points tried, runs killed).
    fn run(&self, case: &Case, step: usize) -> (usize, usize) {
        let points = self.boundaries(case);
        assert!(!points.is_empty(), "no syscalls seen for {}", case.name);
        let mut killed = 0;
        let mut tried = 0;
        for (syscall, k) in points.iter().step_by(step) {
            tried += 1;
            self.setup(case.before);
            let done = self.traced(&(case.args)(self), "/dev/null", Some((syscall, *k)));
            if done.code.is_none() || done.code == Some(128 + libc::SIGKILL) {
                killed += 1;
            }
            self.readable(&format!("{} killed at call {k} of {syscall}", case.name));
            if let Some(roll) = case.roll_forward {
                roll(self);
            }
            let del = self.rt.run(&["delete", "--force", &self.id]);
            let left = self.leftovers();
            assert!(
                del.code == Some(0) && left.is_empty(),
                "{} killed at call {k} of {syscall}: delete --force {del:?}, left behind: {left:#?}",
                case.name
            );
        }
        (tried, killed)
    }
}

/// Pids (other than ours) whose command line contains `needle`.
fn processes_naming(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && pid_alive(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).any(|arg| arg == needle.as_bytes()))
        })
        .collect()
}

fn step() -> usize {
    support::env_count("FERRUN_FAULT_STEP", 1).max(1)
}

fn sweep(case: Case) {
    support::require(&[Need::Root, Need::Busybox, Need::Strace]);
    let s = Sweep::new(case.name);
    let (tried, killed) = s.run(&case, step());
    // The coverage figure the README quotes; visible with --nocapture.
    println!(
        "fault injection: {}: {tried} injection points, {killed} runs killed, 0 leftovers",
        case.name
    );
    assert!(
        killed * 2 > tried,
        "{}: only {killed} of {tried} runs were killed",
        case.name
    );
    // The id is reusable after the last point too.
    s.setup(Some("running"));
    s.rt.ok(&["delete", "--force", &s.id]);
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn create_killed_at_every_syscall() {
    sweep(Case {
        name: "create",
        before: None,
        args: |s| {
            let b = Sweep::bundle(&s.sleeper);
            vec!["create".into(), "-b".into(), b, s.id.clone()]
        },
        roll_forward: None,
    });
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn start_killed_at_every_syscall() {
    sweep(Case {
        name: "start",
        before: Some("created"),
        args: |s| vec!["start".into(), s.id.clone()],
        // A start killed before the init executed leaves it created, and a retry starts it;
        // killed after, it is running and a retry is refused without changing that.
        roll_forward: Some(|s| match s.status().as_deref() {
            Some("created") => {
                // (The init may have taken the killed start's byte a moment before the
                // status was read: then this start finds it executing, and fails.)
                let retry = s.rt.run(&["start", &s.id]);
                assert_eq!(s.status().as_deref(), Some("running"), "{retry:?}");
            }
            Some("running") => {
                let retry = s.rt.run(&["start", &s.id]);
                assert_eq!(retry.code, Some(1), "{retry:?}");
                assert_eq!(s.status().as_deref(), Some("running"));
            }
            other => panic!("a killed start left status {other:?}"),
        }),
    });
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn run_killed_at_every_syscall() {
    sweep(Case {
        name: "run",
        before: None,
        args: |s| {
            let b = Sweep::bundle(&s.quick);
            vec!["run".into(), "-b".into(), b, s.id.clone()]
        },
        roll_forward: None,
    });
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn exec_killed_at_every_syscall() {
    sweep(Case {
        name: "exec",
        before: Some("running"),
        args: |s| vec!["exec".into(), s.id.clone(), "true".into()],
        roll_forward: None,
    });
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn kill_killed_at_every_syscall() {
    sweep(Case {
        name: "kill",
        before: Some("running"),
        args: |s| vec!["kill".into(), s.id.clone(), "KILL".into()],
        roll_forward: None,
    });
}

#[test]
#[ignore = "needs root, busybox-static and strace"]
fn delete_killed_at_every_syscall() {
    sweep(Case {
        name: "delete",
        before: Some("running"),
        args: |s| vec!["delete".into(), "--force".into(), s.id.clone()],
        roll_forward: None,
    });
}
