//! `seccomp_agent` and `seccomp_agent_stop` steps: oci-seccomp-agent (conformance/agent) runs
//! in the background as the listener of `linux.seccomp.listenerPath` (config-linux.md#seccomp)
//! for one scenario. Its socket and logs sit in the scenario's scratch directory, under fixed
//! names, so the bundle's config can name the socket before any step runs.
//!
//! The agent is never left running: teardown stops it whatever the steps did, each stop is
//! SIGTERM then SIGKILL within a bound, and the agent itself exits when its parent dies
//! (PR_SET_PDEATHSIG) or after its maximum lifetime.

use super::context::{error, ScenarioRun, StepError, StepResult};
use crate::driver::subreaper::{release, spawn_reserved};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SOCKET: &str = "agent.sock";
pub const LOG: &str = "agent.log";
pub const SUMMARY: &str = "agent.json";
const BINARY: &str = "oci-seccomp-agent";
/// sun_path holds 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
/// A scenario's deadline is at most minutes; the agent outlives no run by much more.
const MAX_LIFETIME_SECS: &str = "600";
const READY_WITHIN: Duration = Duration::from_secs(5);
const STOP_WITHIN: Duration = Duration::from_secs(5);

/// Running agents by scenario scratch directory (unique per scenario and runtime), so the
/// worker threads of `--jobs` keep theirs apart without a field in every ScenarioRun.
static RUNNING: Mutex<BTreeMap<PathBuf, Child>> = Mutex::new(BTreeMap::new());

fn running() -> std::sync::MutexGuard<'static, BTreeMap<PathBuf, Child>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Finds the agent where oci-probe is looked for: next to this executable, then in a
/// target/ directory above it or the working directory.
pub fn find_agent() -> Option<PathBuf> {
    crate::host::built::candidates(BINARY, &["release", "debug"])
        .into_iter()
        .find(|c| c.is_file())
}

/// The agent's command line for the scenario's scratch directory.
pub fn agent_args(scratch: &Path, rules: &BTreeMap<String, String>, default: &str) -> Vec<String> {
    let path = |n: &str| scratch.join(n).display().to_string();
    let mut args = vec![
        "--socket".to_string(),
        path(SOCKET),
        "--log".to_string(),
        path(LOG),
        "--summary".to_string(),
        path(SUMMARY),
        "--default".to_string(),
        default.to_string(),
        "--max-lifetime".to_string(),
        MAX_LIFETIME_SECS.to_string(),
    ];
    for (names, action) in rules {
        args.extend(["--rule".to_string(), format!("{names}={action}")]);
    }
    args
}

pub fn start(
    run: &ScenarioRun,
    rules: &BTreeMap<String, String>,
    default: &str,
    prefix: &Path,
) -> StepResult {
    let socket = run.scratch.join(SOCKET);
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(error(format!(
            "the agent socket path {} is longer than a unix socket address allows ({MAX_SOCKET_PATH} bytes): use a shorter --out or --work-dir",
            socket.display()
        )));
    }
    if running().contains_key(&run.scratch) {
        return Err(error(
            "seccomp_agent: an agent is already running for this scenario",
        ));
    }
    let bin = find_agent().ok_or_else(|| {
        error(format!(
            "{BINARY} was not found next to oci-conform or under target/ (cargo build --release -p {BINARY})"
        ))
    })?;
    let args = agent_args(&run.scratch, rules, default);
    let _ = std::fs::write(
        prefix.with_extension("argv"),
        serde_json::to_string(&args).unwrap_or_default(),
    );
    let out = |ext: &str| {
        File::create(prefix.with_extension(ext)).map_err(|e| error(format!("{ext}: {e}")))
    };
    let (stdout, stderr) = (out("stdout")?, out("stderr")?);
    let child = spawn_reserved(|| {
        let c = Command::new(&bin)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()?;
        let pid = c.id() as i32;
        Ok::<_, std::io::Error>((c, pid))
    })
    .map_err(|e| error(format!("cannot start {}: {e}", bin.display())))?;
    wait_ready(child, &socket, prefix, &run.scratch)
}

/// Waits until the agent listens (its socket exists); an agent that exits first is an ERROR
/// with its stderr.
fn wait_ready(mut child: Child, socket: &Path, prefix: &Path, scratch: &Path) -> StepResult {
    let start = Instant::now();
    loop {
        if socket.exists() {
            running().insert(scratch.to_path_buf(), child);
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            release(child.id() as i32);
            let stderr =
                std::fs::read_to_string(prefix.with_extension("stderr")).unwrap_or_default();
            return Err(error(format!(
                "{BINARY} exited ({status}) before listening: {}",
                stderr.trim()
            )));
        }
        if start.elapsed() >= READY_WITHIN {
            stop_child(child);
            return Err(error(format!(
                "{BINARY} did not listen on {} within {} ms",
                socket.display(),
                READY_WITHIN.as_millis()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `seccomp_agent_stop`: the agent goes away mid-scenario, as a crashed agent would.
pub fn stop(run: &ScenarioRun) -> StepResult {
    let child = running().remove(&run.scratch).ok_or_else(|| {
        StepError::Error(
            "seccomp_agent_stop: no agent is running for this scenario".into(),
            None,
        )
    })?;
    stop_child(child);
    keep_logs(run);
    Ok(())
}

/// Teardown: stops the scenario's agent if a step started one, keeps its logs with the
/// artifacts and removes its socket.
pub fn teardown(run: &ScenarioRun) {
    let child = running().remove(&run.scratch);
    if let Some(child) = child {
        stop_child(child);
    }
    keep_logs(run);
    let _ = std::fs::remove_file(run.scratch.join(SOCKET));
}

fn keep_logs(run: &ScenarioRun) {
    for name in [LOG, SUMMARY] {
        let from = run.scratch.join(name);
        if from.is_file() {
            let _ = std::fs::copy(&from, run.artifacts.join(name));
        }
    }
}

/// SIGTERM, then SIGKILL if it has not exited within the bound; always reaped.
fn stop_child(mut child: Child) {
    let pid = child.id() as i32;
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let start = Instant::now();
    while !matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
        if start.elapsed() >= STOP_WITHIN {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    release(pid);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_name_the_scratch_files_and_every_rule() {
        let mut rules = BTreeMap::new();
        rules.insert("mkdir,mkdirat".to_string(), "errno:EPERM".to_string());
        rules.insert("chmod".to_string(), "success".to_string());
        let a = agent_args(Path::new("/s"), &rules, "continue");
        let joined = a.join(" ");
        assert!(joined.starts_with("--socket /s/agent.sock --log /s/agent.log --summary /s/agent.json --default continue"), "{joined}");
        assert!(
            joined.ends_with("--rule chmod=success --rule mkdir,mkdirat=errno:EPERM"),
            "{joined}"
        );
    }

    #[test]
    fn stopping_a_child_that_ignores_nothing_is_bounded_and_reaps_it() {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id() as i32;
        let start = Instant::now();
        stop_child(child);
        assert!(start.elapsed() < STOP_WITHIN);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn an_agent_that_never_listens_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("00-seccomp_agent");
        std::fs::write(prefix.with_extension("stderr"), "").unwrap();
        let child = Command::new("sh")
            .args(["-c", "echo refusing >&2; exit 3"])
            .stderr(File::create(prefix.with_extension("stderr")).unwrap())
            .spawn()
            .unwrap();
        let e = wait_ready(child, &dir.path().join("none.sock"), &prefix, dir.path()).unwrap_err();
        match e {
            StepError::Error(m, _) => assert!(m.contains("refusing"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
