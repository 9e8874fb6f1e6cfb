//! The conversation with `criu swrk <fd>`, as runc has it (libcontainer's criuSwrk): one
//! SOCK_SEQPACKET socketpair, a `criu_req` out, then `criu_resp` messages in until the answer
//! to the request. CRIU interrupts itself with NOTIFY messages (`notify_scripts`), each of
//! which we act on and acknowledge with `notify_success` before CRIU goes on; fds it hands us
//! (the pty master of `orphan-pts-master`) arrive as SCM_RIGHTS on the same message.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    recvmsg, sendmsg, shutdown, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, Shutdown,
    SockFlag, SockType,
};
use protobuf::Message;
use rust_criu::rust_criu_protobuf::rpc::{Criu_req, Criu_req_type, Criu_resp};

use super::CriuError;

/// runc reads responses into 10 pages and treats a full buffer as an error; so do we.
const RESPONSE_BUFFER: usize = 10 * 4096;
/// One message may wait this long: a dump of a large container, or a lazy-pages dump that
/// serves pages until the restore has pulled them all. CRIU's death ends the wait at once
/// (the socket reads EOF), so the bound only catches a CRIU that hangs.
const MESSAGE_WAIT: Duration = Duration::from_secs(1800);
/// How long CRIU may take to exit after it answered.
const EXIT_WAIT: Duration = Duration::from_secs(30);

/// A NOTIFY message: the script name CRIU would have run, its pid, and the fds it sent.
pub struct Notice {
    pub script: String,
    pub pid: i32,
    pub fds: Vec<OwnedFd>,
}

/// What the caller does at the points of the conversation.
pub trait Handler {
    /// CRIU runs, the request is not sent yet (restore moves CRIU into the container's
    /// cgroup here and names it in `cg_root`, as runc's criuApplyCgroups does).
    fn started(&mut self, _criu_pid: i32, _req: &mut Criu_req) -> Result<(), CriuError> {
        Ok(())
    }
    /// A notification; an error aborts CRIU's action (it is not acknowledged).
    fn notify(&mut self, _notice: Notice) -> Result<(), CriuError> {
        Ok(())
    }
}

/// A handler that only acknowledges.
pub struct Quiet;
impl Handler for Quiet {}

/// How CRIU is started.
pub struct Launch<'a> {
    pub binary: &'a Path,
    /// fds CRIU inherits under their own numbers (`inherit_fd` entries name them).
    pub inherit: &'a [BorrowedFd<'a>],
    /// CRIU gets our stdin/stdout/stderr (restore: the restored process's pipes are
    /// replaced by them through `inherit_fd`), else /dev/null as runc's dump has it.
    pub stdio: bool,
}

/// Send `req` to a new `criu swrk` and return CRIU's answer to it.
pub fn call(
    launch: &Launch,
    mut req: Criu_req,
    handler: &mut dyn Handler,
) -> Result<Criu_resp, CriuError> {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| CriuError::Socket("socketpair", e))?;
    let mut child = spawn(launch, theirs)?;
    let result = converse(&ours, &mut child, &mut req, handler);
    // EOF on CRIU's side: a CRIU waiting for more (after PRE_DUMP) exits on it.
    let _ = shutdown(ours.as_raw_fd(), Shutdown::Write);
    let status = wait_bounded(&mut child);
    let resp = result?;
    let status = status?;
    // After a PRE_DUMP CRIU waits for the final dump and exits non-zero on the EOF (runc
    // ignores its status then too).
    if !status.success() && req.type_() != Criu_req_type::PRE_DUMP {
        return Err(CriuError::Exit(status.to_string()));
    }
    Ok(resp)
}

fn spawn(launch: &Launch, theirs: OwnedFd) -> Result<Child, CriuError> {
    let fds: Vec<BorrowedFd> = std::iter::once(theirs.as_fd())
        .chain(launch.inherit.iter().copied())
        .collect();
    // Inherited under their own numbers: cleared close-on-exec for the spawn only, so no
    // other child (a hook) gets them. ferrun is single-threaded here.
    for fd in &fds {
        set_cloexec(*fd, false)?;
    }
    let stdio = || {
        if launch.stdio {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    let spawned = Command::new(launch.binary)
        .arg("swrk")
        .arg(theirs.as_raw_fd().to_string())
        .stdin(stdio())
        .stdout(stdio())
        .stderr(stdio())
        .spawn();
    for fd in &fds {
        set_cloexec(*fd, true)?;
    }
    // Our copy of CRIU's end closes here, so CRIU's death reads as EOF instead of a hang.
    drop(theirs);
    spawned.map_err(|source| CriuError::Spawn {
        binary: launch.binary.to_path_buf(),
        source,
    })
}

fn set_cloexec(fd: BorrowedFd, on: bool) -> Result<(), CriuError> {
    let flag = if on {
        FdFlag::FD_CLOEXEC
    } else {
        FdFlag::empty()
    };
    fcntl(fd, FcntlArg::F_SETFD(flag))
        .map(drop)
        .map_err(|e| CriuError::Socket("fcntl(F_SETFD)", e))
}

fn converse(
    sock: &OwnedFd,
    child: &mut Child,
    req: &mut Criu_req,
    handler: &mut dyn Handler,
) -> Result<Criu_resp, CriuError> {
    handler.started(child.id() as i32, req)?;
    let wanted = req.type_();
    send(sock, req)?;
    loop {
        let (resp, fds) = receive(sock)?;
        let t = resp.type_();
        if !resp.success() {
            return Err(CriuError::Failed {
                kind: format!("{t:?}"),
                errno: resp.cr_errno(),
                message: resp.cr_errmsg().to_string(),
            });
        }
        if t != Criu_req_type::NOTIFY {
            if t != wanted {
                return Err(CriuError::Protocol(format!(
                    "CRIU answered {t:?} to a {wanted:?} request"
                )));
            }
            return Ok(resp);
        }
        let notice = Notice {
            script: resp.notify.script().to_string(),
            pid: resp.notify.pid(),
            fds,
        };
        crate::debug!(
            "criu: notification {:?} (pid {})",
            notice.script,
            notice.pid
        );
        handler.notify(notice)?;
        let mut ack = Criu_req::new();
        ack.set_type(Criu_req_type::NOTIFY);
        ack.set_notify_success(true);
        send(sock, &ack)?;
    }
}

fn send(sock: &OwnedFd, msg: &Criu_req) -> Result<(), CriuError> {
    let data = msg
        .write_to_bytes()
        .map_err(|e| CriuError::Protocol(format!("encode request: {e}")))?;
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(&data)],
        &[],
        MsgFlags::empty(),
        None,
    )
    .map(drop)
    .map_err(|e| CriuError::Socket("send to criu", e))
}

fn receive(sock: &OwnedFd) -> Result<(Criu_resp, Vec<OwnedFd>), CriuError> {
    let mut pfd = [PollFd::new(sock.as_fd(), PollFlags::POLLIN)];
    let ms = u16::try_from(MESSAGE_WAIT.as_millis()).unwrap_or(u16::MAX);
    let mut waited = Duration::ZERO;
    loop {
        match poll(&mut pfd, PollTimeout::from(ms)) {
            Ok(0) => {
                waited += Duration::from_millis(ms.into());
                if waited >= MESSAGE_WAIT {
                    return Err(CriuError::Timeout(MESSAGE_WAIT.as_secs()));
                }
            }
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(CriuError::Socket("poll the criu socket", e)),
        }
    }
    let mut buf = vec![0u8; RESPONSE_BUFFER];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 8]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| CriuError::Socket("receive from criu", e))?;
    let mut fds = Vec::new();
    for c in msg
        .cmsgs()
        .map_err(|e| CriuError::Socket("receive from criu", e))?
    {
        if let ControlMessageOwned::ScmRights(got) = c {
            fds.extend(got.into_iter().map(crate::sys::fd::adopt));
        }
    }
    let n = msg.bytes;
    if n == 0 {
        return Err(CriuError::Protocol(
            "criu closed the connection without an answer".into(),
        ));
    }
    if n == RESPONSE_BUFFER {
        return Err(CriuError::Protocol(
            "criu's answer overflowed the buffer".into(),
        ));
    }
    let resp = Criu_resp::parse_from_bytes(&buf[..n])
        .map_err(|e| CriuError::Protocol(format!("decode criu's answer: {e}")))?;
    Ok((resp, fds))
}

fn wait_bounded(child: &mut Child) -> Result<std::process::ExitStatus, CriuError> {
    let deadline = Instant::now() + EXIT_WAIT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CriuError::Timeout(EXIT_WAIT.as_secs()));
            }
            Err(e) => return Err(CriuError::Wait(e)),
        }
    }
}
