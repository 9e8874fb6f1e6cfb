//! Running OCI hooks (config.md#posix-platform-hooks).
//!
//! Each hook is `path` executed with `args` (args[0] is argv[0]) and exactly `env`, with the
//! container's state JSON on stdin; `timeout` seconds bound it. Hooks run in order and the
//! first failure stops the list. Where they run and what a failure means is the caller's part:
//!
//! | hook            | runs in                          | when                                   | failure |
//! |-----------------|----------------------------------|----------------------------------------|---------|
//! | prestart        | runtime namespace (parent)        | create, after setup, before pivot_root | error, container stopped |
//! | createRuntime   | runtime namespace (parent)        | right after prestart                   | error, container stopped |
//! | createContainer | container namespace (init)        | after createRuntime, before pivot_root | error, container stopped |
//! | startContainer  | container namespace (init)        | start, before the user process         | error, container stopped |
//! | poststart       | runtime namespace                 | start, after the user process started  | warning |
//! | poststop        | runtime namespace                 | delete, after the container is gone    | warning |
//!
//! No threads: stdin, stdout and stderr are memfds, so a hook that writes a lot (or reads
//! nothing) cannot block us, and we wait with `try_wait` polling until the deadline.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
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

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{kind} hook {path}: cannot run it: {source}")]
    Spawn {
        kind: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{kind} hook {path} failed: {status}{}", stderr_note(.stderr))]
    Failed {
        kind: &'static str,
        path: String,
        status: String,
        stderr: String,
    },
    #[error("{kind} hook {path} timed out after {secs}s and was killed")]
    Timeout {
        kind: &'static str,
        path: String,
        secs: i64,
    },
}

fn stderr_note(s: &str) -> String {
    if s.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", s.trim())
    }
}

/// Run `hooks` in order; stop at the first failure.
pub fn run_hooks(kind: HookKind, hooks: &[Hook], state_json: &[u8]) -> Result<(), HookError> {
    for hook in hooks {
        run_one(kind, hook, state_json)?;
    }
    Ok(())
}

/// Run every hook even when some fail, returning the failures: poststart and poststop hook
/// failures are warnings, "the remaining hooks and lifecycle continue" (config.md#poststart).
pub fn run_hooks_all(kind: HookKind, hooks: &[Hook], state_json: &[u8]) -> Vec<HookError> {
    hooks
        .iter()
        .filter_map(|h| run_one(kind, h, state_json).err())
        .collect()
}

fn memfd(name: &std::ffi::CStr) -> std::io::Result<File> {
    let fd = nix::sys::memfd::memfd_create(name, nix::sys::memfd::MFdFlags::MFD_CLOEXEC)?;
    Ok(File::from(fd))
}

fn run_one(kind: HookKind, hook: &Hook, state_json: &[u8]) -> Result<(), HookError> {
    let path = hook.path().display().to_string();
    crate::debug!("running the {} hook {path}", kind.name());
    let spawn_err = |source| HookError::Spawn {
        kind: kind.name(),
        path: path.clone(),
        source,
    };
    let mut stdin = memfd(c"hook-stdin").map_err(spawn_err)?;
    stdin.write_all(state_json).map_err(spawn_err)?;
    stdin.seek(SeekFrom::Start(0)).map_err(spawn_err)?;
    let mut stderr = memfd(c"hook-stderr").map_err(spawn_err)?;
    let stdout = memfd(c"hook-stdout").map_err(spawn_err)?;

    let mut cmd = Command::new(hook.path());
    let args = hook.args().clone().unwrap_or_default();
    if let Some((argv0, rest)) = args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.env_clear();
    for kv in hook.env().as_deref().unwrap_or_default() {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::from(stdin))
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr.try_clone().map_err(spawn_err)?));
    let mut child = cmd.spawn().map_err(spawn_err)?;

    let deadline = hook
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.max(0) as u64));
    let status = match wait_until(&mut child, deadline) {
        Some(st) => st,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HookError::Timeout {
                kind: kind.name(),
                path,
                secs: hook.timeout().unwrap_or_default(),
            });
        }
    };
    if status.success() {
        return Ok(());
    }
    Err(HookError::Failed {
        kind: kind.name(),
        path,
        status: describe(status),
        stderr: tail(&mut stderr),
    })
}

/// Poll with a short, growing sleep; `None` when the deadline passed first.
fn wait_until(child: &mut std::process::Child, deadline: Option<Instant>) -> Option<ExitStatus> {
    let mut nap = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) => {}
            Err(_) => return child.wait().ok(),
        }
        // Without a timeout, a stop signal to the runtime (sys/interrupt.rs) ends the wait.
        if deadline.map_or(crate::sys::interrupt::interrupted().is_some(), |d| {
            Instant::now() >= d
        }) {
            return None;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

fn describe(st: ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (_, Some(s)) => format!("killed by signal {s}"),
        _ => "unknown status".into(),
    }
}

/// The last 1 KiB of what the hook wrote to stderr.
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
        let msg = e.to_string();
        assert!(
            msg.contains("createRuntime")
                && msg.contains("exit status 3")
                && msg.contains("broken"),
            "{msg}"
        );
        assert!(!marker.exists());
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
    fn a_hook_past_its_timeout_is_killed() {
        let e =
            run_hooks(HookKind::Poststop, &[hook("sleep 30", Some(1), &[])], b"{}").unwrap_err();
        assert!(matches!(e, HookError::Timeout { secs: 1, .. }), "{e}");
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
