//! `run` in the foreground with `process.terminal` and no `--console-socket`: like runc, ferrun
//! receives the pty master itself and copies between it and its own stdio, with the local
//! terminal in raw mode and window-size changes (SIGWINCH) passed on.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::sys::socket::{
    recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("console socketpair: {0}")]
    Pair(#[source] nix::errno::Errno),
    #[error("receiving the pty master from the container: {0}")]
    Recv(#[source] nix::errno::Errno),
    #[error("the container sent no pty master")]
    NoFd,
}

/// Our end of the internal console socket, and the end handed to `create`.
pub fn console_pair() -> Result<(OwnedFd, OwnedFd), ProxyError> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(ProxyError::Pair)
}

/// Receive the pty master the init sent with SCM_RIGHTS.
pub fn recv_master(sock: &OwnedFd) -> Result<OwnedFd, ProxyError> {
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(ProxyError::Recv)?;
    for c in msg.cmsgs().map_err(ProxyError::Recv)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                return Ok(crate::sys::fd::adopt(fd));
            }
        }
    }
    Err(ProxyError::NoFd)
}

/// The local terminal in raw mode for as long as this lives.
pub struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    pub fn enter() -> Self {
        let stdin = std::io::stdin();
        let Ok(saved) = tcgetattr(stdin.as_fd()) else {
            return RawMode { saved: None };
        };
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        RawMode { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// Copy the local window size to the container's pty.
pub fn copy_winsize(master: BorrowedFd) {
    if let Ok((rows, cols)) = crate::sys::term::window_size(std::io::stdin().as_fd()) {
        let _ = crate::sys::term::set_window_size(master, rows, cols);
    }
}

/// Move what is readable from `from` to `to`; false at EOF or error.
pub fn pump(from: BorrowedFd, to: BorrowedFd) -> bool {
    let mut buf = [0u8; 8192];
    match nix::unistd::read(from, &mut buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            let mut off = 0;
            while off < n {
                match nix::unistd::write(to, &buf[off..n]) {
                    Ok(w) => off += w,
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => return false,
                }
            }
            true
        }
    }
}
