//! Terminals, as runc does them: the container's init opens a pty in the container's devpts,
//! sends the master over `--console-socket` with SCM_RIGHTS (payload: the name "/dev/ptmx",
//! like runc's `utils.SendFile`), and makes the slave its controlling terminal and stdio.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};

#[derive(Debug, thiserror::Error)]
pub enum TtyError {
    #[error("connect to console socket {path}: {source}")]
    Connect {
        path: PathBuf,
        source: nix::errno::Errno,
    },
    #[error("{op}: {source}")]
    Pty {
        op: &'static str,
        source: nix::errno::Errno,
    },
}

fn pty(op: &'static str) -> impl FnOnce(nix::errno::Errno) -> TtyError {
    move |source| TtyError::Pty { op, source }
}

/// Connect to the caller's console socket (before the clone: the init inherits the fd).
pub fn connect_console_socket(path: &Path) -> Result<OwnedFd, TtyError> {
    let err = |source| TtyError::Connect {
        path: path.to_path_buf(),
        source,
    };
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(err)?;
    let addr = UnixAddr::new(path).map_err(err)?;
    connect(sock.as_raw_fd(), &addr).map_err(err)?;
    Ok(sock)
}

/// A new pty in the current mount namespace's /dev/ptmx: (master, slave, slave path).
pub fn open_pty(
    size: Option<oci_spec::runtime::Box>,
) -> Result<(OwnedFd, OwnedFd, PathBuf), TtyError> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(pty("open /dev/ptmx"))?;
    grantpt(&master).map_err(pty("grantpt"))?;
    unlockpt(&master).map_err(pty("unlockpt"))?;
    let name = ptsname_r(&master).map_err(pty("ptsname"))?;
    // runc clears ONLCR so "\n" is not turned into "\r\n" on the way to the reader.
    let mut t = tcgetattr(master.as_fd()).map_err(pty("tcgetattr"))?;
    t.output_flags.remove(OutputFlags::ONLCR);
    tcsetattr(master.as_fd(), SetArg::TCSANOW, &t).map_err(pty("tcsetattr"))?;
    if let Some(b) = size {
        crate::sys::term::set_window_size(master.as_fd(), b.height() as u16, b.width() as u16)
            .map_err(pty("TIOCSWINSZ"))?;
    }
    let slave = nix::fcntl::open(
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(pty("open pty slave"))?;
    Ok((OwnedFd::from(master), slave, PathBuf::from(name)))
}

/// Send `fd` over a connected unix socket with SCM_RIGHTS.
pub fn send_fd(sock: &OwnedFd, fd: RawFd, name: &str) -> Result<(), TtyError> {
    let iov = [IoSlice::new(name.as_bytes())];
    let fds = [fd];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(pty("send pty master"))?;
    Ok(())
}

/// A session of our own, as runc's nsexec gives every container process (init and exec'd):
/// the caller's session and terminal stay outside the container, and CRIU can dump an init
/// whose session leader is inside its pid namespace. Nothing to do when already the leader.
pub fn new_session() -> Result<(), TtyError> {
    let me = nix::unistd::getpid();
    if nix::unistd::getsid(None).map_err(pty("getsid"))? == me {
        return Ok(());
    }
    nix::unistd::setsid().map(drop).map_err(pty("setsid"))
}

/// Make `slave` our controlling terminal and stdio (in a session of our own: TIOCSCTTY needs
/// a session leader without a terminal).
pub fn become_tty_owner(slave: OwnedFd) -> Result<(), TtyError> {
    new_session()?;
    crate::sys::term::set_controlling_terminal(slave.as_fd()).map_err(pty("TIOCSCTTY"))?;
    for target in 0..3 {
        crate::sys::term::dup_onto(slave.as_fd(), target).map_err(pty("dup2 pty slave"))?;
    }
    if slave.as_raw_fd() > 2 {
        drop(slave);
    } else {
        let _ = slave.into_raw_fd();
    }
    Ok(())
}

/// In the container after pivot_root: create the pty, hand the master to the console socket,
/// and make the slave our terminal. Returns the slave's path for the /dev/console bind.
pub fn setup_console(
    socket: OwnedFd,
    size: Option<oci_spec::runtime::Box>,
) -> Result<PathBuf, TtyError> {
    let (master, slave, path) = open_pty(size)?;
    send_fd(&socket, master.as_raw_fd(), "/dev/ptmx")?;
    drop(master);
    drop(socket);
    become_tty_owner(slave)?;
    Ok(path)
}

/// pipefs's magic (linux/magic.h): an anonymous pipe, not a FIFO in some filesystem.
const PIPEFS_MAGIC: nix::sys::statfs::FsType = nix::sys::statfs::FsType(0x5049_5045);

/// Before the process switches to `uid`, make it the owner of the stdio that was made for it,
/// as runc's fixStdioPermissions does, so a non-root process can reopen its own terminal or
/// pipes (`/dev/tty`, `/dev/stdout`, `/proc/self/fd/1`): the pty slave (`terminal`), and
/// anonymous pipes (runc gives a foreground process pipes of its own). Only the owner changes:
/// the group stays as devpts made it (its `gid=` option; runc's default config says 5, tty).
/// Unlike runc, files, FIFOs and the caller's own terminal handed down as stdio keep their
/// owner: they belong to the caller, not to the container. Failures that only mean the owner
/// cannot be mapped or the file is read-only leave the fd as it is, as in runc.
pub fn give_stdio_to(uid: u32, terminal: bool) -> Result<(), TtyError> {
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    for fd in [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()] {
        let Ok(st) = nix::sys::stat::fstat(fd) else {
            continue; // closed
        };
        if st.st_uid == uid {
            continue;
        }
        let made_for_it = if terminal {
            nix::unistd::isatty(fd).unwrap_or(false)
        } else {
            nix::sys::statfs::fstatfs(fd).is_ok_and(|f| f.filesystem_type() == PIPEFS_MAGIC)
        };
        if !made_for_it {
            continue;
        }
        match nix::unistd::fchown(fd, Some(nix::unistd::Uid::from_raw(uid)), None) {
            Ok(()) => {}
            Err(
                nix::errno::Errno::EINVAL | nix::errno::Errno::EPERM | nix::errno::Errno::EROFS,
            ) => {}
            Err(e) => return Err(pty("chown stdio to the process user")(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::socketpair;

    #[test]
    fn pty_master_crosses_a_socket_and_carries_data() {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let (master, slave, path) = open_pty(Some(
            serde_json::from_value(serde_json::json!({"height": 30, "width": 100})).unwrap(),
        ))
        .unwrap();
        assert!(path.starts_with("/dev/pts/"));
        send_fd(&a, master.as_raw_fd(), "/dev/ptmx").unwrap();
        drop(master);
        let got = crate::process::ttyproxy::recv_master(&b).unwrap();
        nix::unistd::write(&slave, b"hi\n").unwrap();
        let mut buf = [0u8; 16];
        let n = nix::unistd::read(got.as_fd(), &mut buf).unwrap();
        // ONLCR is off: no "\r" is added.
        assert_eq!(&buf[..n], b"hi\n");
        assert_eq!(
            crate::sys::term::window_size(slave.as_fd()).unwrap(),
            (30, 100)
        );
    }
}
