//! `events` streaming where the scenario language cannot reach: a stream that ends because
//! the container went away while it slept, a caller that vanished (stdout's reader closed),
//! SIGTERM and SIGINT, and `delete` never waiting for a stream. Each events process runs
//! under a guard that kills it if the test fails, and every wait has a bound.

mod support;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{cg, eventually, unique_id, Bundle, Rt};

/// A running `events`, killed and reaped on drop.
struct Events(Child);

impl Events {
    fn spawn(rt: &Rt, args: &[&str], stdout: Stdio) -> Self {
        let child = rt
            .cmd()
            .arg("events")
            .args(args)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn events");
        Events(child)
    }

    /// Its exit status, or a panic when it is still running after `limit`.
    fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.0.try_wait().expect("wait events") {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "events still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.0.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running container `id` whose process is `args`.
fn running(rt: &Rt, id: &str, args: &[&str], patch: serde_json::Value) -> Bundle {
    let mut p = cg(id);
    support::merge(&mut p, &patch);
    let b = Bundle::with_args(args, p);
    rt.create_start(&b, id);
    b
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs root and busybox-static"]
fn delete_is_not_blocked_by_a_stream_and_ends_it() {
    support::require_root();
    let rt = Rt::new();
    let id = unique_id("ev-delete");
    let _b = running(&rt, &id, &["sleep", "60"], json!({}));
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.log");
    let out = std::fs::File::create(&log).expect("log");
    let mut ev = Events::spawn(&rt, &["--interval", "100ms", &id], out.into());
    assert!(
        eventually(Duration::from_secs(10), || !lines(&log).is_empty()),
        "no stats line within 10 s"
    );
    let t = Instant::now();
    rt.ok(&["delete", "--force", &id]);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "delete took {:?} beside a stream",
        t.elapsed()
    );
    let st = ev.exit_within(Duration::from_secs(5));
    assert_eq!(st.code(), Some(0), "stderr: {}", ev.stderr());
    let first = &lines(&log)[0];
    let prefix = format!(r#"{{"type":"stats","id":"{id}","data":{{"cpu":"#);
    assert!(first.starts_with(&prefix), "{first}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn the_stream_ends_when_the_container_stops_not_at_the_next_tick() {
    support::require_root();
    let rt = Rt::new();
    let id = unique_id("ev-stop");
    let _b = running(&rt, &id, &["sleep", "1"], json!({}));
    // Default interval (5 s): the stream must end at the exit, about 1 s in, with no sample.
    let mut ev = Events::spawn(&rt, &[&id], Stdio::piped());
    let st = ev.exit_within(Duration::from_secs(4));
    assert_eq!(st.code(), Some(0), "stderr: {}", ev.stderr());
    let again = rt.run(&["events", &id]);
    assert_eq!(again.code, Some(1));
    assert!(
        again
            .err
            .contains(&format!("container with id {id} is not running")),
        "{again:?}"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn an_oom_kill_is_reported_at_once() {
    support::require_root();
    let rt = Rt::new();
    let id = unique_id("ev-oom");
    // The swap limit too, or the hog is swapped out instead of killed.
    let limits = json!({"linux": {"resources": {"memory": {"limit": 16777216, "swap": 16777216}}}});
    let script = "sleep 1; dd if=/dev/zero of=/dev/null bs=128M count=1; sleep 60";
    let _b = running(&rt, &id, &["sh", "-c", script], limits);
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("events.log");
    let out = std::fs::File::create(&log).expect("log");
    // A 60 s interval: only the OOM watch can print within the bound.
    let mut ev = Events::spawn(&rt, &["--interval", "60s", &id], out.into());
    let want = format!(r#"{{"type":"oom","id":"{id}"}}"#);
    assert!(
        eventually(Duration::from_secs(10), || lines(&log).contains(&want)),
        "no OOM line within 10 s: {:?}",
        lines(&log)
    );
    rt.ok(&["delete", "--force", &id]);
    assert_eq!(ev.exit_within(Duration::from_secs(5)).code(), Some(0));
}

#[test]
#[ignore = "needs root and busybox-static"]
fn a_vanished_reader_ends_the_stream() {
    support::require_root();
    let rt = Rt::new();
    let id = unique_id("ev-epipe");
    let _b = running(&rt, &id, &["sleep", "60"], json!({}));
    let mut ev = Events::spawn(&rt, &["--interval", "60s", &id], Stdio::piped());
    // Let it settle into its wait, then close the only read end of its stdout.
    std::thread::sleep(Duration::from_millis(300));
    drop(ev.0.stdout.take());
    let st = ev.exit_within(Duration::from_secs(5));
    assert_eq!(st.code(), Some(0), "stderr: {}", ev.stderr());
    assert_eq!(rt.state(&id)["status"], "running");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn sigterm_and_sigint_end_the_stream() {
    support::require_root();
    let rt = Rt::new();
    let id = unique_id("ev-signal");
    let _b = running(&rt, &id, &["sleep", "60"], json!({}));
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut ev = Events::spawn(&rt, &["--interval", "100ms", &id], Stdio::null());
        std::thread::sleep(Duration::from_millis(300));
        let pid = nix::unistd::Pid::from_raw(ev.0.id() as i32);
        let signal = nix::sys::signal::Signal::try_from(sig).expect("signal");
        nix::sys::signal::kill(pid, signal).expect("kill events");
        let st = ev.exit_within(Duration::from_secs(5));
        assert_eq!(st.signal(), Some(sig), "{st:?}");
    }
    assert_eq!(rt.state(&id)["status"], "running");
}
