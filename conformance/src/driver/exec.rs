//! Running one runtime command with a deadline.
//!
//! stdout/stderr go to files, not pipes: after `create` or `run -d` the container inherits
//! them and would hold a pipe open forever, so "read until EOF" would hang the runner. The
//! command runs in its own process group so a deadline can kill everything it started.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one invocation did; kept in reports for failed steps.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Evidence {
    pub argv: Vec<String>,
    /// Exit code, when the command exited.
    pub status: Option<i32>,
    /// Terminating signal, when it was killed.
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub duration_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot create output file {path}: {source}")]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
    #[error("empty argv")]
    Empty,
}

const MAX_CAPTURE: u64 = 1 << 20;

/// Set in the environment of every runtime command. A runtime that hands its own environment
/// to the container process leaks this variable too, whatever environment oci-conform itself
/// was started with (`env -i` leaves nothing else to notice);
/// `process.env-not-leaked-from-runtime` looks for it.
pub const CANARY: (&str, &str) = ("OCI_CONFORM_CANARY", "runtime-environment-leaked");

fn read_capped(p: &Path) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    if let Ok(f) = File::open(p) {
        let _ = f.take(MAX_CAPTURE).read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs `argv` with stdin from /dev/null, output captured into `<io_prefix>.stdout/.stderr`.
/// On the deadline the whole process group gets SIGKILL and `timed_out` is set.
pub fn run_command(
    argv: &[String],
    deadline: Duration,
    io_prefix: &Path,
) -> Result<Evidence, ExecError> {
    let (program, args) = argv.split_first().ok_or(ExecError::Empty)?;
    let out_path = io_prefix.with_extension("stdout");
    let err_path = io_prefix.with_extension("stderr");
    let out = File::create(&out_path).map_err(|source| ExecError::Output {
        path: out_path.clone(),
        source,
    })?;
    let err = File::create(&err_path).map_err(|source| ExecError::Output {
        path: err_path.clone(),
        source,
    })?;
    let start = Instant::now();
    let mut child = super::subreaper::spawn_reserved(|| {
        let c = Command::new(program)
            .args(args)
            .env(CANARY.0, CANARY.1)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|source| ExecError::Spawn {
                program: program.clone(),
                source,
            })?;
        let pid = c.id() as i32;
        Ok((c, pid))
    })?;
    let pid = child.id() as i32;
    let mut timed_out = false;
    let timed_out_ref = &mut timed_out;
    let mut pause = Duration::from_millis(1);
    let status = (|| loop {
        match child.try_wait() {
            Ok(Some(st)) => return Ok(st),
            Ok(None) if start.elapsed() >= deadline => {
                *timed_out_ref = true;
                // The whole process group this command leads: a runtime's helpers too.
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                return child.wait().map_err(|source| ExecError::Wait {
                    program: program.clone(),
                    source,
                });
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(ExecError::Wait {
                    program: program.clone(),
                    source,
                })
            }
        }
    })();
    super::subreaper::release(pid);
    let status = status?;
    Ok(Evidence {
        argv: argv.to_vec(),
        status: status.code(),
        signal: status.signal(),
        timed_out,
        stdout: read_capped(&out_path),
        stderr: read_capped(&err_path),
        duration_ms: start.elapsed().as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn captures_output_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let ev = run_command(
            &strs(&["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(5),
            &dir.path().join("s1"),
        )
        .unwrap();
        assert_eq!(
            (
                ev.status,
                ev.stdout.as_str(),
                ev.stderr.as_str(),
                ev.timed_out
            ),
            (Some(3), "out\n", "err\n", false)
        );
    }

    #[test]
    fn every_command_gets_the_canary() {
        let dir = tempfile::tempdir().unwrap();
        let ev = run_command(
            &strs(&["/usr/bin/env"]),
            Duration::from_secs(5),
            &dir.path().join("env"),
        )
        .unwrap();
        let line = format!("{}={}", CANARY.0, CANARY.1);
        assert!(ev.stdout.lines().any(|l| l == line), "{}", ev.stdout);
    }

    #[test]
    fn deadline_kills_a_hanging_command() {
        let dir = tempfile::tempdir().unwrap();
        let ev = run_command(
            &strs(&["/bin/sh", "-c", "sleep 30"]),
            Duration::from_millis(200),
            &dir.path().join("s2"),
        )
        .unwrap();
        assert!(ev.timed_out);
        assert_eq!(ev.signal, Some(libc::SIGKILL));
        assert!(ev.duration_ms < 5000);
    }

    #[test]
    fn missing_binary_is_a_spawn_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = run_command(
            &strs(&["/nonexistent/runtime"]),
            Duration::from_secs(1),
            &dir.path().join("s3"),
        );
        assert!(matches!(e, Err(ExecError::Spawn { .. })));
    }
}
