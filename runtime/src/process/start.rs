//! `<state>/exec.sock`: how `start` wakes the blocked init, and how it learns the outcome.
//!
//! The socket is bound by the parent before the clone, so the init (already behind pivot_root
//! when it waits) holds a listening fd on a host path. `start` connects and writes one byte;
//! the init runs startContainer hooks and execs. The accepted connection is close-on-exec, so
//! EOF without data means the exec happened; a JSON `InitFailure` means it did not. Paths are
//! reached through `/proc/self/fd/<dirfd>/exec.sock` so long `--root` paths do not hit the
//! 108-byte `sun_path` limit.
//!
//! `start`'s own connection is also its probe of [`init_waiting`] (see [`connect_init`]): a
//! separate probe first would wake the init for a connection it can only discard.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::socket::{
    bind, connect, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
};

use super::messages::InitFailure;
use crate::container::store::EXEC_SOCK;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("exec.sock in {dir}: {source}")]
    Socket {
        dir: String,
        source: nix::errno::Errno,
    },
    #[error("container init is not waiting for start (it may have been killed): {0}")]
    NotWaiting(#[source] nix::errno::Errno),
    #[error("reading the start result: {0}")]
    Read(#[source] std::io::Error),
    #[error(transparent)]
    Init(#[from] InitFailure),
    #[error("container init sent an unreadable result: {0:?}")]
    Garbled(String),
}

fn dir_path(dir: &Path) -> Result<(File, String), StartError> {
    let f = File::open(dir).map_err(|e| StartError::Socket {
        dir: dir.display().to_string(),
        source: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    let p = format!("/proc/self/fd/{}/{EXEC_SOCK}", f.as_raw_fd());
    Ok((f, p))
}

fn stream_socket() -> Result<OwnedFd, nix::errno::Errno> {
    socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// Create the listening socket in the container's state directory.
pub fn bind_exec_listener(dir: &Path) -> Result<OwnedFd, StartError> {
    let err = |source| StartError::Socket {
        dir: dir.display().to_string(),
        source,
    };
    let (_dirfd, path) = dir_path(dir)?;
    let sock = stream_socket().map_err(err)?;
    let addr = UnixAddr::new(path.as_str()).map_err(err)?;
    bind(sock.as_raw_fd(), &addr).map_err(err)?;
    listen(&sock, Backlog::new(1).map_err(err)?).map_err(err)?;
    Ok(sock)
}

/// Whether an init is still waiting for `start` on `dir`'s exec.sock: a connection that
/// sends nothing, which the init ignores. The listening socket is close-on-exec, so it is
/// refused once the init executed the user process (even when a `start` killed before it
/// could remove the socket file left that behind) or died. Never blocks: a full backlog
/// means the init is busy with another connection, so it is still waiting. When the probe
/// cannot tell (no permission), the socket file's presence decides, as runc's exec fifo does.
pub fn init_waiting(dir: &Path) -> bool {
    let sock_path = dir.join(EXEC_SOCK);
    if !sock_path.exists() {
        return false;
    }
    let probe = || -> Result<(), nix::errno::Errno> {
        let (_dirfd, path) = dir_path(dir).map_err(|_| nix::errno::Errno::EACCES)?;
        let sock = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        connect(sock.as_raw_fd(), &UnixAddr::new(path.as_str())?)
    };
    waiting_after(probe())
}

/// What a connection attempt on exec.sock says about the init (see [`init_waiting`]).
fn waiting_after(connected: Result<(), nix::errno::Errno>) -> bool {
    use nix::errno::Errno;
    match connected {
        Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINPROGRESS) => true,
        Err(Errno::ECONNREFUSED) | Err(Errno::ENOENT) => false,
        Err(_) => true,
    }
}

/// `start`'s connection to exec.sock, made before the container's status is known.
pub struct StartConn {
    conn: Result<UnixStream, StartError>,
    waiting: bool,
}

/// Connect to `dir`'s exec.sock without sending anything yet. The outcome answers
/// [`init_waiting`] as its probe would ([`StartConn::init_waiting`]), so `start` decides on
/// the status with this connection and the init wakes once: dropped unsent (a container
/// that cannot start, e.g. paused), it is a prober's connection, which the init ignores.
pub fn connect_init(dir: &Path) -> StartConn {
    let attempt = || -> Result<UnixStream, nix::errno::Errno> {
        let (_dirfd, path) = dir_path(dir).map_err(|_| nix::errno::Errno::EACCES)?;
        let sock = stream_socket()?;
        connect(sock.as_raw_fd(), &UnixAddr::new(path.as_str())?)?;
        Ok(UnixStream::from(sock))
    };
    match attempt() {
        Ok(s) => StartConn {
            conn: Ok(s),
            waiting: true,
        },
        Err(e) => StartConn {
            conn: Err(StartError::NotWaiting(e)),
            waiting: waiting_after(Err(e)),
        },
    }
}

impl StartConn {
    /// Whether the init is waiting for `start`, as [`init_waiting`] would say.
    pub fn init_waiting(&self) -> bool {
        self.waiting
    }

    /// Wake the init and wait until it exec'd the user process (or failed to).
    pub fn start(self) -> Result<(), StartError> {
        // A UnixStream, not a File: read_to_end on a File asks fstat and lseek for a size.
        let mut conn = self.conn?;
        conn.write_all(b"s").map_err(StartError::Read)?;
        let mut reply = Vec::new();
        conn.read_to_end(&mut reply).map_err(StartError::Read)?;
        if reply.is_empty() {
            return Ok(());
        }
        match serde_json::from_slice::<InitFailure>(&reply) {
            Ok(f) => Err(StartError::Init(f)),
            Err(_) => Err(StartError::Garbled(
                String::from_utf8_lossy(&reply).into_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::messages::Phase;
    use nix::sys::socket::accept4;

    /// An init stand-in: accept `conns` connections on `listener`, read up to one byte of
    /// each; answer the first that sends one with `reply` and close it.
    fn fake_init(
        listener: OwnedFd,
        conns: usize,
        reply: &'static [u8],
    ) -> std::thread::JoinHandle<Vec<usize>> {
        std::thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..conns {
                let conn = accept4(&listener, SockFlag::SOCK_CLOEXEC).expect("accept");
                let mut s = UnixStream::from(conn);
                let mut byte = [0u8; 1];
                let n = s.read(&mut byte).expect("read");
                got.push(n);
                if n == 1 {
                    s.write_all(reply).expect("reply");
                    break;
                }
            }
            got
        })
    }

    #[test]
    fn the_start_connection_is_the_waiting_probe_and_wakes_the_init_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = bind_exec_listener(dir.path()).expect("bind");
        let init = fake_init(listener, 1, b"");
        let conn = connect_init(dir.path());
        assert!(conn.init_waiting());
        conn.start().expect("EOF without data: the exec happened");
        assert_eq!(init.join().expect("init"), [1], "one connection, one byte");
    }

    #[test]
    fn a_connection_dropped_unsent_is_ignored_like_a_probers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = bind_exec_listener(dir.path()).expect("bind");
        let init = fake_init(listener, 2, b"");
        drop(connect_init(dir.path()));
        connect_init(dir.path()).start().expect("started");
        assert_eq!(init.join().expect("init"), [0, 1]);
    }

    #[test]
    fn an_init_failure_on_the_connection_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = bind_exec_listener(dir.path()).expect("bind");
        let init = fake_init(
            listener,
            1,
            br#"{"phase":"exec","errno":2,"message":"exec /x: no such file or directory"}"#,
        );
        let err = connect_init(dir.path()).start().expect_err("failed");
        init.join().expect("init");
        match err {
            StartError::Init(f) => {
                assert_eq!(f.phase, Phase::Exec);
                assert_eq!(f.message, "exec /x: no such file or directory");
            }
            other => panic!("not an InitFailure: {other}"),
        }
    }

    #[test]
    fn no_listener_means_not_waiting_and_start_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = connect_init(dir.path());
        assert!(!conn.init_waiting());
        assert!(!init_waiting(dir.path()));
        let err = conn.start().expect_err("nobody listens");
        assert!(
            matches!(err, StartError::NotWaiting(nix::errno::Errno::ENOENT)),
            "{err}"
        );
        // A socket file whose listener is gone (the init exec'd): refused, not waiting.
        drop(bind_exec_listener(dir.path()).expect("bind"));
        assert!(!connect_init(dir.path()).init_waiting());
        assert!(!init_waiting(dir.path()));
    }
}
