//! The agent binary end to end, without a runtime: a thread of this test loads a filter with
//! notify rules (on that thread only: no TSYNC), hands the notify fd to the agent the way a
//! runtime does (the container process state over SCM_RIGHTS), then makes the calls.

use libseccomp::{ScmpAction, ScmpFilterContext, ScmpSyscall};
use nix::errno::Errno;
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use nix::sys::stat::Mode;
use serde_json::Value;
use std::io::IoSlice;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

const AGENT: &str = env!("CARGO_BIN_EXE_oci-seccomp-agent");

fn wait_until(what: &str, within: Duration, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < within, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct Agent {
    child: Child,
    dir: tempfile::TempDir,
}

impl Agent {
    fn start(rules: &[&str]) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(AGENT);
        cmd.arg("--socket")
            .arg(dir.path().join("a.sock"))
            .arg("--log")
            .arg(dir.path().join("a.log"))
            .arg("--summary")
            .arg(dir.path().join("a.json"))
            .args(["--max-lifetime", "60"]);
        for r in rules {
            cmd.args(["--rule", r]);
        }
        let child = cmd.spawn().unwrap();
        let sock = dir.path().join("a.sock");
        wait_until("the agent listens", Duration::from_secs(5), || {
            sock.exists()
        });
        Agent { child, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn summary(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path("a.json")).unwrap()).unwrap()
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if start.elapsed() > within {
                let _ = self.child.kill();
                panic!("the agent did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// On this thread: load the filter, send the state and fd to the agent, run `calls`.
fn under_filter<T>(sock: &Path, names: &[&str], calls: impl FnOnce() -> T) -> T {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).unwrap();
    for n in names {
        if let Ok(sc) = ScmpSyscall::from_name(n) {
            ctx.add_rule(ScmpAction::Notify, sc).unwrap();
        }
    }
    ctx.load().unwrap();
    let fd = ctx.get_notify_fd().unwrap();
    let pid = nix::unistd::gettid().as_raw();
    let state = format!(
        r#"{{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":{pid},"metadata":"m1","state":{{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":{pid},"bundle":"/b"}}}}"#
    );
    let stream = UnixStream::connect(sock).unwrap();
    let iov = [IoSlice::new(state.as_bytes())];
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(stream.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None).unwrap();
    drop(stream);
    nix::unistd::close(fd).unwrap();
    calls()
}

#[test]
fn notifications_are_answered_by_rule_and_logged() {
    let mut agent = Agent::start(&[
        "mkdir,mkdirat=errno:EPERM",
        "chmod,fchmodat,fchmodat2=success",
    ]);
    let sock = agent.path("a.sock");
    let dir = agent.path("made");
    let file = agent.path("file");
    std::fs::write(&file, "").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (d, f) = (dir.clone(), file.clone());
    let (mkdir, chmod) = std::thread::spawn(move || {
        under_filter(
            &sock,
            &["mkdir", "mkdirat", "chmod", "fchmodat", "fchmodat2"],
            || {
                let m = nix::unistd::mkdir(&d, Mode::from_bits_truncate(0o755));
                let c = std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o777))
                    .map_err(|e| e.raw_os_error());
                (m, c)
            },
        )
    })
    .join()
    .unwrap();
    assert_eq!(mkdir, Err(Errno::EPERM));
    assert!(!dir.exists(), "an errno answer must not run the call");
    assert_eq!(chmod, Ok(()));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a success answer must not run the call");
    // The thread is gone, so is the filter: the agent ends by itself.
    assert!(agent.wait(Duration::from_secs(5)).success());
    let s = agent.summary();
    assert_eq!(s["connections"][0]["metadata"], "m1");
    assert_eq!(s["connections"][0]["fds"][0], "seccompFd");
    assert_eq!(s["connections"][0]["pid_is_init"], true);
    assert_eq!(s["closes"][0]["closed"], true);
    let n = s["notifications"].as_array().unwrap();
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(n[0]["action"], "errno");
    assert_eq!(n[0]["errno"], "EPERM");
    assert_eq!(n[0]["from_process_pid"], true);
    assert_eq!(n[1]["action"], "success");
    assert_eq!(s["exit"]["reason"], "every filter served has no task left");
    assert!(
        !agent.path("a.sock").exists(),
        "the agent removes its socket"
    );
}

#[test]
fn sigterm_ends_an_idle_agent_promptly() {
    let mut agent = Agent::start(&[]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(agent.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(agent.wait(Duration::from_secs(2)).success());
    assert_eq!(agent.summary()["exit"]["reason"], "signal");
}

#[test]
fn a_bad_rule_is_refused_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(AGENT)
        .arg("--socket")
        .arg(dir.path().join("a.sock"))
        .arg("--log")
        .arg(dir.path().join("a.log"))
        .args(["--rule", "mkdir=errno:EWHAT"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EWHAT"));
    assert!(!dir.path().join("a.sock").exists());
}
