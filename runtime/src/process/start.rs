//! `<state>/exec.sock`: how `start` wakes the blocked init, and how it learns the outcome.
//!
//! The socket is bound by the parent before the clone, so the init (already behind pivot_root
//! when it waits) holds a listening fd on a host path. `start` connects and writes one byte;
//! the init runs startContainer hooks and execs. The accepted connection is close-on-exec, so
//! EOF without data means the exec happened; a JSON `InitFailure` means it did not. Paths are
//! reached through `/proc/self/fd/<dirfd>/exec.sock` so long `--root` paths do not hit the
//! 108-byte `sun_path` limit.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
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
    use nix::errno::Errno;
    match probe() {
        Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINPROGRESS) => true,
        Err(Errno::ECONNREFUSED) | Err(Errno::ENOENT) => false,
        Err(_) => true,
    }
}

/// Wake the init and wait until it exec'd the user process (or failed to).
pub fn start_init(dir: &Path) -> Result<(), StartError> {
    let (_dirfd, path) = dir_path(dir)?;
    let sock = stream_socket().map_err(StartError::NotWaiting)?;
    let addr = UnixAddr::new(path.as_str()).map_err(StartError::NotWaiting)?;
    connect(sock.as_raw_fd(), &addr).map_err(StartError::NotWaiting)?;
    let mut conn = File::from(sock);
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
