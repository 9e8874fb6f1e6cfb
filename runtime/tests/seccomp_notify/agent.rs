//! A tiny seccomp agent for the notify tests: it listens on a socket in a tempdir, takes the
//! container process state and the listener fd from each connection (SCM_RIGHTS), and answers
//! every notification with libseccomp's ScmpNotifReq/ScmpNotifResp: an errno for the
//! syscalls given one, "continue" (run the syscall as asked) for the rest. It records what it
//! saw. It runs in a thread and every wait in it is bounded.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use libseccomp::{ScmpNotifReq, ScmpNotifResp, ScmpNotifRespFlags};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
use serde_json::Value;

/// The longest an agent thread lives, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(60);

/// What the agent does with the listener fds it gets.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Answer notifications: `errno` maps syscall names to the errno they fail with; every
    /// other notified syscall continues.
    Serve { errno: HashMap<String, i32> },
    /// Close each fd at once, as an agent that died after receiving it.
    Die,
}

impl Mode {
    pub fn allow_all() -> Self {
        Mode::Serve {
            errno: HashMap::new(),
        }
    }

    pub fn errno(pairs: &[(&str, i32)]) -> Self {
        Mode::Serve {
            errno: pairs.iter().map(|(n, e)| (n.to_string(), *e)).collect(),
        }
    }
}

/// What the agent saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// One containerProcessState per connection, in order.
    pub states: Vec<Value>,
    /// How many fds each connection carried.
    pub fds: Vec<usize>,
    /// The name of every notified syscall, in order.
    pub syscalls: Vec<String>,
    pub errors: Vec<String>,
}

pub struct Agent {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Seen>>,
}

impl Agent {
    pub fn start(mode: Mode) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferrun-agent-")
            .tempdir()
            .expect("agent tempdir");
        let path = dir.path().join("agent.sock");
        let listener = UnixListener::bind(&path).expect("bind agent socket");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || serve(listener, mode, &flag));
        Agent {
            path,
            _dir: dir,
            stop,
            thread: Some(thread),
        }
    }

    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("utf-8")
    }

    /// Stop the agent (within a poll period) and return what it saw.
    pub fn finish(mut self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .map(|t| t.join().expect("agent thread"))
            .unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: UnixListener, mode: Mode, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let mut notify: Vec<OwnedFd> = Vec::new();
    let deadline = Instant::now() + LIFETIME;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let mut polled = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        polled.extend(
            notify
                .iter()
                .map(|f| PollFd::new(f.as_fd(), PollFlags::POLLIN)),
        );
        if poll(&mut polled, PollTimeout::from(100u16)).unwrap_or(0) == 0 {
            continue;
        }
        let ready: Vec<PollFlags> = polled
            .iter()
            .map(|p| p.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(polled);
        if ready[0].contains(PollFlags::POLLIN) {
            if let Ok((conn, _)) = listener.accept() {
                if let Some(fd) = take_connection(conn, &mut seen) {
                    match mode {
                        Mode::Die => drop(fd),
                        Mode::Serve { .. } => notify.push(fd),
                    }
                }
            }
        }
        let mut gone = Vec::new();
        for (i, flags) in ready[1..].iter().enumerate() {
            if flags.contains(PollFlags::POLLIN) {
                answer(notify[i].as_raw_fd(), &mode, &mut seen);
            } else if flags.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            notify.remove(i);
        }
    }
    seen
}

/// Read the state and the fd the runtime sends on one connection.
fn take_connection(conn: UnixStream, seen: &mut Seen) -> Option<OwnedFd> {
    conn.set_nonblocking(false).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = vec![0u8; 1 << 16];
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = match recvmsg::<UnixAddr>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    ) {
        Ok(m) => m,
        Err(e) => {
            seen.errors.push(format!("recvmsg: {e}"));
            return None;
        }
    };
    let mut fds: Vec<OwnedFd> = Vec::new();
    for c in msg.cmsgs().into_iter().flatten() {
        if let ControlMessageOwned::ScmRights(raw) = c {
            // SCM_RIGHTS hands us new descriptors nobody else owns.
            fds.extend(raw.into_iter().map(ferrun::sys::fd::adopt));
        }
    }
    let n = msg.bytes;
    match serde_json::from_slice::<Value>(&buf[..n]) {
        Ok(v) => seen.states.push(v),
        Err(e) => seen.errors.push(format!("state JSON: {e}")),
    }
    seen.fds.push(fds.len());
    fds.into_iter().next()
}

fn answer(fd: RawFd, mode: &Mode, seen: &mut Seen) {
    let req = match ScmpNotifReq::receive(fd) {
        Ok(r) => r,
        // The process died between the poll and the receive.
        Err(_) => return,
    };
    let name = req.data.syscall.get_name().unwrap_or_else(|_| "?".into());
    let errno = match mode {
        Mode::Serve { errno } => errno.get(&name).copied(),
        Mode::Die => None,
    };
    seen.syscalls.push(name);
    let resp = match errno {
        Some(e) => ScmpNotifResp::new_error(req.id, -e, ScmpNotifRespFlags::empty()),
        None => ScmpNotifResp::new_continue(req.id, ScmpNotifRespFlags::CONTINUE),
    };
    // ENOENT: the process is gone, nothing to answer.
    let _ = resp.respond(fd);
}
