//! Teardown (always): `kill KILL`, `delete --force` of every container the scenario made
//! (its own, and those restored under new ids), reap what we parented; then the leak
//! check: state dirs under our --root, the scenario's cgroup in every hierarchy, mounts under
//! the bundle, processes in the cgroup or the rootfs, and with the systemd driver the unit its
//! cgroupsPath names (still loaded, or failed). Leaks are reported (ERROR) and removed,
//! touching only what this scenario created (its unique paths and unit).

use super::context::ScenarioRun;
use crate::driver::subreaper::{reap_orphans, reap_quietly, release, wait_exit};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::time::Duration;

/// Runs teardown and returns the leaks found (empty = clean).
pub fn teardown(run: &mut ScenarioRun) -> Vec<String> {
    let dir = run.artifacts.join("teardown");
    let _ = std::fs::create_dir_all(&dir);
    let t = Duration::from_secs(10);
    if run.init_pid.is_none() {
        // e.g. a foreground `run` killed at its deadline left an init re-parented to us:
        // learn its pid so it is reaped below rather than lingering as a zombie.
        if let Ok((_, v)) = run.state(&dir.join("state")) {
            if let Some(p) = v.get("pid").and_then(|p| p.as_i64()).filter(|p| *p > 0) {
                run.set_init(p as i32);
            }
        }
    }
    // Every container the scenario made: its own and any a restore made under a new id.
    let ids = run.all_ids();
    for id in &ids {
        let argv = run.argv_for(id).kill("KILL", false);
        let _ = crate::driver::run_command(&argv, t, &dir.join(artifact("kill", run, id)));
    }
    // Reap first: the init cannot finish dying while zombies of its pid namespace wait for us.
    reap_orphans();
    if let Some(pid) = run.init_pid.filter(|_| !run.init_reaped) {
        let _ = wait_exit(pid, Duration::from_secs(2));
        run.init_reaped = true;
    }
    for (_, pid) in &run.other_inits {
        let _ = wait_exit(*pid, Duration::from_secs(2));
    }
    for id in &ids {
        let argv = run.argv_for(id).delete(true);
        let _ = crate::driver::run_command(&argv, t, &dir.join(artifact("delete", run, id)));
    }
    if let Some(pid) = run.init_pid {
        reap_quietly(pid);
        release(pid);
    }
    for (_, pid) in std::mem::take(&mut run.other_inits) {
        reap_quietly(pid);
        release(pid);
    }
    for pid in &run.detached_pids {
        reap_quietly(*pid);
    }
    reap_orphans();
    // The containers are gone: stop swapping their rootfs (`race` steps).
    super::race::teardown(run);
    // Last: the containers that could still ask the agent anything are gone.
    super::seccomp_agent::teardown(run);
    // The scenario's own tmpfs mounts (`scratch.tmpfs`): the containers that used them are gone.
    super::scratch::release(&run.scratch);
    leak_check(run)
}

/// `kill` for the scenario's own container (as before), `kill.ID` for another.
fn artifact(verb: &str, run: &ScenarioRun, id: &str) -> String {
    if id == run.id {
        verb.to_string()
    } else {
        format!("{verb}.{id}")
    }
}

fn leak_check(run: &ScenarioRun) -> Vec<String> {
    let mut leaks = Vec::new();
    for id in run.all_ids() {
        let state_dir = run.globals.root.join(&id);
        if state_dir.exists() {
            leaks.push(format!(
                "state directory {} remains after delete --force",
                state_dir.display()
            ));
            let _ = std::fs::remove_dir_all(&state_dir);
        }
    }
    let procs = processes_of(run);
    if !procs.is_empty() {
        leaks.push(format!("processes remain: {procs:?}"));
        for p in &procs {
            // Signals the whole thread group, also through a zombie leader whose threads live.
            let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
            reap_quietly(*p);
        }
    }
    if let Some(sd) = &run.systemd {
        leaks.extend(unit_leak(run, &sd.unit));
    }
    if let Some(rel) = run.cgroup_rel() {
        for h in &run.env.host.hierarchies {
            let d = format!("{}/{}", h.mount, rel.trim_start_matches('/'));
            if Path::new(&d).is_dir() {
                leaks.push(format!("cgroup {d} remains"));
                remove_cgroup(Path::new(&d));
            }
        }
    }
    let mounts = super::scratch::mounts_under(&run.bundle);
    if !mounts.is_empty() {
        leaks.push(format!("mounts remain under the bundle: {mounts:?}"));
        super::scratch::detach(mounts);
    }
    leaks
}

/// The systemd driver must leave no unit behind (issue: "no failed or abandoned units"): after
/// `delete --force` systemd must no longer know the scope. A transient unit is unloaded right
/// after its stop job, so it gets a moment; one still there (running, or failed) is stopped
/// and reset so that it does not outlive the scenario.
fn unit_leak(run: &ScenarioRun, unit: &str) -> Option<String> {
    let prefix = run.artifacts.join("teardown").join("unit");
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let state = loop {
        match crate::systemd::show(unit, &["Result"], &prefix) {
            Ok(st) if st.exists() && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Ok(st) => break st,
            Err(e) => return Some(format!("cannot ask systemd about unit {unit}: {e}")),
        }
    };
    if !state.exists() {
        return None;
    }
    crate::systemd::stop_and_reset(unit, &prefix);
    Some(format!(
        "systemd unit {unit} remains after delete --force ({} Result={})",
        state.summary(),
        state.get("Result").unwrap_or("?")
    ))
}

/// Processes whose cgroup is this scenario's or whose root is this scenario's rootfs.
fn processes_of(run: &ScenarioRun) -> Vec<i32> {
    let me = std::process::id() as i32;
    let cg = run
        .cgroup_rel()
        .map(|c| c.trim_end_matches('/').to_string())
        .unwrap_or_default();
    let rootfs = run.rootfs.to_string_lossy().to_string();
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        if !holds_anything(pid) {
            continue;
        }
        let in_cgroup = !cg.is_empty()
            && std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|t| {
                t.lines().any(|l| {
                    let path = l.splitn(3, ':').nth(2).unwrap_or("");
                    path == cg || path.starts_with(&format!("{cg}/"))
                })
            });
        let in_rootfs = std::fs::read_link(format!("/proc/{pid}/root"))
            .is_ok_and(|r| r.to_string_lossy().starts_with(&rootfs));
        if in_cgroup || in_rootfs {
            out.push(pid);
        }
    }
    out
}

fn is_zombie(stat_path: &str) -> bool {
    std::fs::read_to_string(stat_path).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}

/// False for a plain zombie, which holds nothing but its pid until reaped. A zombie
/// thread-group leader may still have live threads (an init whose main thread a seccomp
/// KILL_THREAD rule killed): they keep the cgroup busy and the mounts alive, so the process
/// counts until its last thread is gone.
fn holds_anything(pid: i32) -> bool {
    if !is_zombie(&format!("/proc/{pid}/stat")) {
        return true;
    }
    std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
        tasks.flatten().any(|t| {
            let tid = t.file_name();
            tid.to_str() != Some(&pid.to_string())
                && !is_zombie(&format!("/proc/{pid}/task/{}/stat", tid.to_string_lossy()))
        })
    })
}

/// rmdir children first; retried briefly because the kernel frees a cgroup asynchronously.
fn remove_cgroup(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup(&e.path());
            }
        }
    }
    for _ in 0..20 {
        if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// At the end of a run: remove the per-run parent cgroup `/oci-conform-<pid>` (empty by now).
pub fn remove_run_cgroup_parent(host: &crate::host::HostFacts, parent: &str) {
    for h in &host.hierarchies {
        let d = format!("{}/{}", h.mount, parent.trim_start_matches('/'));
        if Path::new(&d).is_dir() {
            remove_cgroup(Path::new(&d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    /// A process whose main thread has exited while another thread sleeps: the leader shows
    /// `Z` in /proc/PID/stat although the process is alive.
    const ZOMBIE_LEADER: &str = "import threading, time, ctypes\n\
        threading.Thread(target=time.sleep, args=(60,)).start()\n\
        ctypes.CDLL(None).syscall(60, 0)\n";

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out waiting: {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_zombie_leader_with_live_threads_is_found_and_killed() {
        let mut child = Command::new("python3")
            .args(["-c", ZOMBIE_LEADER])
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 runs (it builds the zombie leader)");
        let pid = child.id() as i32;
        wait_until("the main thread exits", || {
            is_zombie(&format!("/proc/{pid}/stat"))
        });
        assert!(
            holds_anything(pid),
            "live threads behind a zombie leader must count"
        );
        kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
        let _ = child.wait();
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn a_plain_zombie_holds_nothing() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        wait_until("true exits", || is_zombie(&format!("/proc/{pid}/stat")));
        assert!(!holds_anything(pid));
        let _ = child.wait();
    }
}
