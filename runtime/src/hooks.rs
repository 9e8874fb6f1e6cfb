//! Running OCI hooks (config.md#posix-platform-hooks).
//!
//! Each hook is `path` executed with `args` (args[0] is argv[0]) and its `env`, with the
//! container's state JSON on stdin; `timeout` seconds bound it. Hooks run in order and the
//! first failure stops the list. Where they run and what a failure means is the caller's part:
//!
//! | hook            | runs in                    | when                                   | cwd          | failure |
//! |-----------------|----------------------------|----------------------------------------|--------------|---------|
//! | prestart        | runtime namespace (parent) | create, after setup, before pivot_root | bundle       | error, container stopped |
//! | createRuntime   | runtime namespace (parent) | right after prestart                   | bundle       | error, container stopped |
//! | createContainer | container namespace (init) | after createRuntime, before pivot_root | rootfs       | error, container stopped |
//! | startContainer  | container namespace (init) | start, under seccomp, before execve    | process.cwd  | error, container stopped |
//! | poststart       | runtime namespace          | start, after the user process started  | caller's     | warning |
//! | poststop        | runtime namespace          | delete, after the container is gone    | caller's     | warning |
//!
//! The working directories are runc's: its `create` and `run` work from the bundle directory,
//! its init changes to the rootfs before the createContainer hooks (a hook may write relative
//! paths into the rootfs) and to process.cwd before it waits for `start`. A hook without `env`
//! gets the environment of the process that runs it, as with runc (Go's exec with a nil Env):
//! the runtime's own for the runtime-namespace hooks, and process.env for the two container
//! hooks, since runc's init has made process.env its own environment by then.
//!
//! No threads: stdin, stdout and stderr are memfds, so a hook that writes a lot (or reads
//! nothing) cannot block us, and we wait with `try_wait` polling until the deadline.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

impl HookKind {
    pub fn name(self) -> &'static str {
        match self {
            HookKind::Prestart => "prestart",
            HookKind::CreateRuntime => "createRuntime",
            HookKind::CreateContainer => "createContainer",
            HookKind::StartContainer => "startContainer",
            HookKind::Poststart => "poststart",
            HookKind::Poststop => "poststop",
        }
    }
}

/// A hook that could not run or did not succeed. `index` counts from 0 in the config's list.
/// The words are runc's, which scripts and runc's own tests match: `error running <kind> hook
/// #<index>:` (runc 1.2; 1.1 leaves the kind out), then `error running hook` and Go's
/// `exit status N` or `signal: <name>` for how it ended.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(
        "error running {kind} hook #{index}: error running hook {path}: cannot start it: {source}"
    )]
    Spawn {
        kind: &'static str,
        index: usize,
        path: String,
        source: std::io::Error,
    },
    #[error("error running {kind} hook #{index}: error running hook {path}: {status}{}", output_note(.stdout, .stderr))]
    Failed {
        kind: &'static str,
        index: usize,
        path: String,
        status: String,
        stdout: String,
        stderr: String,
    },
    #[error("error running {kind} hook #{index}: error running hook {path}: it ran past its timeout of {secs}s and was killed")]
    Timeout {
        kind: &'static str,
        index: usize,
        path: String,
        secs: i64,
    },
    #[error("error running {kind} hook #{index}: error running hook {path}: the runtime got {signal} and killed it")]
    Interrupted {
        kind: &'static str,
        index: usize,
        path: String,
        signal: &'static str,
    },
}

/// What the hook wrote, as runc reports it (`, stdout: ..., stderr: ...`), empty streams left
/// out.
fn output_note(stdout: &str, stderr: &str) -> String {
    [("stdout", stdout), ("stderr", stderr)]
        .iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(name, text)| format!(", {name}: {}", text.trim()))
        .collect()
}

/// Where a list of hooks runs, beyond the namespaces of the calling process.
#[derive(Debug, Clone, Copy, Default)]
pub struct HookSite<'a> {
    /// The working directory; `None` keeps the caller's.
    pub cwd: Option<&'a Path>,
    /// The environment of a hook without `env`; `None` passes the caller's own.
    pub default_env: Option<&'a [String]>,
}

/// Run `hooks` in order from the caller's directory; stop at the first failure.
pub fn run_hooks(kind: HookKind, hooks: &[Hook], state_json: &[u8]) -> Result<(), HookError> {
    run_hooks_at(kind, hooks, state_json, HookSite::default())
}

/// [`run_hooks`] with a working directory and a default environment.
pub fn run_hooks_at(
    kind: HookKind,
    hooks: &[Hook],
    state_json: &[u8],
    site: HookSite,
) -> Result<(), HookError> {
    for (index, hook) in hooks.iter().enumerate() {
        run_one(kind, index, hook, state_json, site)?;
    }
    Ok(())
}

/// Run every hook even when some fail, returning the failures: poststart and poststop hook
/// failures are warnings, "the remaining hooks and lifecycle continue" (config.md#poststart).
pub fn run_hooks_all(kind: HookKind, hooks: &[Hook], state_json: &[u8]) -> Vec<HookError> {
    hooks
        .iter()
        .enumerate()
        .filter_map(|(i, h)| run_one(kind, i, h, state_json, HookSite::default()).err())
        .collect()
}

fn memfd(name: &std::ffi::CStr) -> std::io::Result<File> {
    let fd = nix::sys::memfd::memfd_create(name, nix::sys::memfd::MFdFlags::MFD_CLOEXEC)?;
    Ok(File::from(fd))
}

fn run_one(
    kind: HookKind,
    index: usize,
    hook: &Hook,
    state_json: &[u8],
    site: HookSite,
) -> Result<(), HookError> {
    let path = hook.path().display().to_string();
    crate::debug!("running the {} hook {path}", kind.name());
    let spawn_err = |source| HookError::Spawn {
        kind: kind.name(),
        index,
        path: path.clone(),
        source,
    };
    let mut stdin = memfd(c"hook-stdin").map_err(spawn_err)?;
    stdin.write_all(state_json).map_err(spawn_err)?;
    stdin.seek(SeekFrom::Start(0)).map_err(spawn_err)?;
    let mut stderr = memfd(c"hook-stderr").map_err(spawn_err)?;
    let mut stdout = memfd(c"hook-stdout").map_err(spawn_err)?;

    let mut cmd = command(hook, site);
    cmd.stdin(Stdio::from(stdin))
        .stdout(Stdio::from(stdout.try_clone().map_err(spawn_err)?))
        .stderr(Stdio::from(stderr.try_clone().map_err(spawn_err)?));
    let mut child = cmd.spawn().map_err(spawn_err)?;

    let deadline = hook
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.max(0) as u64));
    let status = match wait_until(&mut child, deadline) {
        Ended::Exited(st) => st,
        cut_short => {
            kill_group(&mut child);
            return Err(match cut_short {
                Ended::Interrupted(signal) => HookError::Interrupted {
                    kind: kind.name(),
                    index,
                    path,
                    signal: signal.as_str(),
                },
                _ => HookError::Timeout {
                    kind: kind.name(),
                    index,
                    path,
                    secs: hook.timeout().unwrap_or_default(),
                },
            });
        }
    };
    if status.success() {
        return Ok(());
    }
    Err(HookError::Failed {
        kind: kind.name(),
        index,
        path,
        status: describe(status),
        stdout: tail(&mut stdout),
        stderr: tail(&mut stderr),
    })
}

/// The hook's command line, environment and directory. args[0] is argv[0]; without args,
/// argv[0] is the path (what execve(2) callers and Go's exec do). A variable given twice in
/// `env` takes its last value, as Go's exec deduplicates for runc.
fn command(hook: &Hook, site: HookSite) -> Command {
    let mut cmd = Command::new(hook.path());
    let args = hook.args().clone().unwrap_or_default();
    if let Some((argv0, rest)) = args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    if let Some(env) = hook.env().as_deref().or(site.default_env) {
        cmd.env_clear();
        for kv in env {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            cmd.env(k, v);
        }
    }
    if let Some(dir) = site.cwd {
        cmd.current_dir(dir);
    }
    // Its own process group, so a hook cut short takes what it started with it (runc kills
    // only the hook's process, which leaves e.g. `sh -c "sleep 1000 &"`'s sleep behind).
    cmd.process_group(0);
    cmd
}

enum Ended {
    Exited(ExitStatus),
    TimedOut,
    /// The runtime got a stop signal (sys/interrupt.rs) while it waited.
    Interrupted(nix::sys::signal::Signal),
}

/// Poll with a short, growing sleep until the hook exits, its deadline passes or the runtime
/// is told to stop: a stop signal ends the wait whether or not the hook has a timeout.
fn wait_until(child: &mut std::process::Child, deadline: Option<Instant>) -> Ended {
    let mut nap = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Ended::Exited(st),
            Ok(None) => {}
            Err(_) => return child.wait().map_or(Ended::TimedOut, Ended::Exited),
        }
        if let Some(signal) = crate::sys::interrupt::interrupted() {
            return Ended::Interrupted(signal);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ended::TimedOut;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

/// SIGKILL the hook's process group (it leads it, see `command`), then reap the hook.
fn kill_group(child: &mut std::process::Child) {
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    if nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL).is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// How the hook ended, in Go's words (what runc prints): `exit status 3`, `signal: killed`.
fn describe(st: ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (_, Some(s)) => format!("signal: {}", signal_name(s)),
        _ => "unknown status".into(),
    }
}

/// Go's names for the Linux signals (its syscall package, as strsignal(3) in lower case).
fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 31] = [
        "hangup",
        "interrupt",
        "quit",
        "illegal instruction",
        "trace/breakpoint trap",
        "aborted",
        "bus error",
        "floating point exception",
        "killed",
        "user defined signal 1",
        "segmentation fault",
        "user defined signal 2",
        "broken pipe",
        "alarm clock",
        "terminated",
        "stack fault",
        "child exited",
        "continued",
        "stopped (signal)",
        "stopped",
        "stopped (tty input)",
        "stopped (tty output)",
        "urgent I/O condition",
        "CPU time limit exceeded",
        "file size limit exceeded",
        "virtual timer expired",
        "profiling timer expired",
        "window changed",
        "I/O possible",
        "power failure",
        "bad system call",
    ];
    usize::try_from(sig)
        .ok()
        .and_then(|s| s.checked_sub(1))
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("signal {sig}"), |n| n.to_string())
}

/// The last 1 KiB of what the hook wrote to stdout or stderr.
fn tail(f: &mut File) -> String {
    let mut buf = Vec::new();
    let _ = f.seek(SeekFrom::Start(0));
    let _ = f.read_to_end(&mut buf);
    let start = buf.len().saturating_sub(1024);
    String::from_utf8_lossy(&buf[start..]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(script: &str, timeout: Option<i64>, env: &[&str]) -> Hook {
        let mut v = serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", script],
            "env": env});
        if let Some(t) = timeout {
            v["timeout"] = t.into();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn hooks_get_state_on_stdin_and_argv0() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let script = format!("cat > {0}; echo \" $0 $FOO\" >> {0}", out.display());
        run_hooks(
            HookKind::Prestart,
            &[hook(&script, None, &["FOO=bar"])],
            br#"{"id":"c1"}"#,
        )
        .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text, "{\"id\":\"c1\"} sh bar\n");
    }

    #[test]
    fn hooks_get_exactly_their_env() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env");
        // HOME is set for the test process; a cleared env must not pass it on.
        let script = format!("echo \"$A|$B|${{HOME-unset}}\" > {}", out.display());
        run_hooks(
            HookKind::Poststart,
            &[hook(&script, None, &["A=1", "B=two words"])],
            b"{}",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "1|two words|unset\n"
        );
    }

    #[test]
    fn first_failure_stops_the_list_and_reports_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("second-ran");
        let hooks = [
            hook("echo broken >&2; exit 3", None, &[]),
            hook(&format!("touch {}", marker.display()), None, &[]),
        ];
        let e = run_hooks(HookKind::CreateRuntime, &hooks, b"{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error running createRuntime hook #0: error running hook /bin/sh: exit status 3, stderr: broken"
        );
        assert!(!marker.exists());
    }

    #[test]
    fn a_failure_names_the_hook_index_and_both_outputs() {
        let hooks = [
            hook("true", None, &[]),
            hook("echo said; echo no >&2; exit 1", None, &[]),
        ];
        let e = run_hooks(HookKind::Prestart, &hooks, b"{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error running prestart hook #1: error running hook /bin/sh: exit status 1, stdout: said, stderr: no"
        );
    }

    #[test]
    fn without_env_a_hook_gets_the_default_env_or_the_callers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env");
        let script = format!("echo \"${{A-unset}}|${{HOME-unset}}\" >> {}", out.display());
        let bare: Hook = serde_json::from_value(
            serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", script]}),
        )
        .unwrap();
        let defaults = ["A=1".to_string(), "A=2".to_string()];
        let site = HookSite {
            default_env: Some(&defaults),
            ..HookSite::default()
        };
        run_hooks_at(
            HookKind::StartContainer,
            std::slice::from_ref(&bare),
            b"{}",
            site,
        )
        .unwrap();
        run_hooks(HookKind::Poststart, &[bare], b"{}").unwrap();
        let home = std::env::var("HOME").unwrap_or_else(|_| "unset".into());
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            format!("2|unset\nunset|{home}\n"),
            "the last of a repeated variable wins; the caller's env passes through"
        );
    }

    #[test]
    fn hooks_run_in_the_given_directory() {
        let dir = tempfile::tempdir().unwrap();
        let site = HookSite {
            cwd: Some(dir.path()),
            ..HookSite::default()
        };
        let h = hook("pwd > relative-file", None, &[]);
        run_hooks_at(HookKind::CreateContainer, &[h], b"{}", site).unwrap();
        let written = std::fs::read_to_string(dir.path().join("relative-file")).unwrap();
        assert_eq!(written.trim(), dir.path().to_str().unwrap());
    }

    #[test]
    fn warning_kinds_run_every_hook_and_collect_failures() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("second-ran");
        let hooks = [
            hook("exit 1", None, &[]),
            hook(&format!("touch {}", marker.display()), None, &[]),
        ];
        let errs = run_hooks_all(HookKind::Poststop, &hooks, b"{}");
        assert_eq!(errs.len(), 1);
        assert!(marker.exists());
    }

    #[test]
    fn a_hook_past_its_timeout_takes_what_it_started_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("bg.pid");
        let script = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
        let e = run_hooks(HookKind::Poststop, &[hook(&script, Some(1), &[])], b"{}").unwrap_err();
        assert!(matches!(e, HookError::Timeout { .. }), "{e}");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        // The killed sleep is reaped by whoever adopts it; until then it is a zombie.
        let running = || {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        };
        let gone = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !running()
        });
        assert!(
            gone,
            "the hook's background sleep (pid {pid}) outlived the hook"
        );
    }

    #[test]
    fn a_hook_past_its_timeout_is_killed() {
        let e =
            run_hooks(HookKind::Poststop, &[hook("sleep 30", Some(1), &[])], b"{}").unwrap_err();
        assert!(matches!(e, HookError::Timeout { secs: 1, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "error running poststop hook #0: error running hook /bin/sh: it ran past its timeout of 1s and was killed"
        );
    }

    #[test]
    fn a_hook_killed_by_a_signal_is_named_as_runc_names_it() {
        let e = run_hooks(
            HookKind::StartContainer,
            &[hook("kill -SYS $$", None, &[])],
            b"{}",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .ends_with("error running hook /bin/sh: signal: bad system call"),
            "{e}"
        );
        assert_eq!(signal_name(9), "killed");
        assert_eq!(signal_name(64), "signal 64");
    }

    #[test]
    fn a_missing_hook_binary_is_a_spawn_error() {
        let h: Hook =
            serde_json::from_value(serde_json::json!({"path": "/nonexistent/hook"})).unwrap();
        let e = run_hooks(HookKind::Poststart, &[h], b"{}").unwrap_err();
        assert!(
            matches!(e, HookError::Spawn { .. }) && e.to_string().contains("/nonexistent/hook")
        );
    }
}
