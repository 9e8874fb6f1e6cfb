//! The runtime's side of a seccomp listener (config-linux.md#seccomp, `listenerPath`): the
//! init (or an exec child) loaded a filter with SCMP_ACT_NOTIFY rules and sent the number of
//! its listener fd (`ChildMsg::SeccompFd`); this takes a copy of the fd with pidfd_getfd(2),
//! connects to the agent's socket and sends it the container process state
//! (runtime.md#state, `containerProcessState`) with the fd in SCM_RIGHTS. The child waits for
//! `ParentMsg::SeccompDone` meanwhile.
//!
//! As runc 1.1.5 does (process_linux.go), and for the same reason: the child can pass the fd
//! number with one write(2), which config validation keeps out of notify rules, while
//! sendmsg with SCM_RIGHTS would be one more syscall the filter may hold until an agent that
//! has no fd yet answers. Everything the child does afterwards may be notified: the agent
//! can answer by then.
//!
//! The messages are runc's, so scripts that look for them find them.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::socket::{
    connect, send, sendmsg, setsockopt, socket, sockopt, AddressFamily, ControlMessage, MsgFlags,
    SockFlag, SockType, UnixAddr,
};
use nix::sys::time::TimeVal;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxSeccomp;
use serde::Serialize;

use super::exec::go_errno;

/// How long connecting to the agent and sending to it may block (a listening agent that
/// never accepts, a full socket buffer) before `create` or `exec` fails.
const AGENT_TIMEOUT_SECS: i64 = 10;

/// runtime-spec's `seccompFd`: the name of the listener fd in `fds`.
const SECCOMP_FD_NAME: &str = "seccompFd";

#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("listenerPath is not set")]
    NoPath,
    #[error("performing SYS_PIDFD_OPEN syscall: {}", go_errno(*.0))]
    PidfdOpen(Errno),
    #[error("performing SYS_PIDFD_GETFD syscall (fd {fd} of pid {pid}): {}{}", go_errno(*errno),
        if *errno == Errno::EPERM && !nix::unistd::geteuid().is_root() {
            " (an unprivileged runtime may not take an fd of its init, which stays non-dumpable \
             until execve: seccomp notify is not supported rootless)"
        } else { "" })]
    PidfdGetfd { pid: i32, fd: RawFd, errno: Errno },
    #[error("failed to connect with seccomp agent specified in the seccomp profile: dial unix {path}: connect: {reason}")]
    Connect { path: String, reason: String },
    #[error("cannot send seccomp fd to {path}: {reason}")]
    Send { path: String, reason: String },
}

/// runtime-spec's `containerProcessState`, fields in the spec's order.
#[derive(Serialize)]
struct ProcessState<'a> {
    #[serde(rename = "ociVersion")]
    version: &'a str,
    fds: [&'a str; 1],
    pid: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
    state: serde_json::Value,
}

/// The JSON sent to the agent: `pid` is the process whose filter it is (the init, or the
/// exec'd process), `state_json` the container's state as hooks get it (runc: `creating`
/// for the init, `running` for an exec).
pub fn process_state(pid: Pid, metadata: Option<&str>, state_json: &str) -> Vec<u8> {
    let state: serde_json::Value = serde_json::from_str(state_json).unwrap_or_default();
    let version = state["ociVersion"].as_str().unwrap_or_default().to_string();
    let msg = ProcessState {
        version: &version,
        fds: [SECCOMP_FD_NAME],
        pid: pid.as_raw(),
        // Go's omitempty: an empty listenerMetadata is left out.
        metadata: metadata.filter(|m| !m.is_empty()),
        state,
    };
    serde_json::to_vec(&msg).unwrap_or_default()
}

/// Take fd `fd` of `pid` and send it with the process state to `seccomp.listenerPath`.
pub fn forward(
    seccomp: Option<&LinuxSeccomp>,
    pid: Pid,
    fd: RawFd,
    state_json: &str,
) -> Result<(), ListenerError> {
    let path = seccomp
        .and_then(|s| s.listener_path().as_deref())
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or(ListenerError::NoPath)?;
    let metadata = seccomp.and_then(|s| s.listener_metadata().as_deref());
    let notify_fd = take_fd(pid, fd)?;
    let payload = process_state(pid, metadata, state_json);
    let conn = dial(path)?;
    send_with_fd(&conn, &payload, notify_fd.as_raw_fd()).map_err(|e| ListenerError::Send {
        path: path.display().to_string(),
        reason: go_errno(e),
    })?;
    crate::debug!(
        "seccomp: sent the listener fd of pid {pid} to the agent at {}",
        path.display()
    );
    Ok(())
}

fn take_fd(pid: Pid, fd: RawFd) -> Result<OwnedFd, ListenerError> {
    let pidfd = crate::sys::event::pidfd_open(pid.as_raw()).map_err(ListenerError::PidfdOpen)?;
    crate::sys::seccomp::pidfd_getfd(pidfd.as_fd(), fd).map_err(|errno| ListenerError::PidfdGetfd {
        pid: pid.as_raw(),
        fd,
        errno,
    })
}

/// Connect to the agent. A path starting with `@` names an abstract socket, as Go's net
/// package (and so runc) reads it.
fn dial(path: &Path) -> Result<OwnedFd, ListenerError> {
    let err = |e: Errno| ListenerError::Connect {
        path: path.display().to_string(),
        reason: go_errno(e),
    };
    let bytes = path.as_os_str().as_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => UnixAddr::new_abstract(name),
        None => UnixAddr::new(path),
    }
    .map_err(err)?;
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(err)?;
    // SO_SNDTIMEO bounds connect(2) on a unix socket too (an agent whose backlog is full).
    setsockopt(
        &sock,
        sockopt::SendTimeout,
        &TimeVal::new(AGENT_TIMEOUT_SECS, 0),
    )
    .map_err(err)?;
    connect(sock.as_raw_fd(), &addr).map_err(err)?;
    Ok(sock)
}

/// One sendmsg carrying the fd and as much of the payload as fits, then the rest.
fn send_with_fd(conn: &OwnedFd, payload: &[u8], fd: RawFd) -> Result<(), Errno> {
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(payload)];
    let mut sent =
        sendmsg::<UnixAddr>(conn.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None)?;
    while sent < payload.len() {
        match send(conn.as_raw_fd(), &payload[sent..], MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => sent += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn the_process_state_has_the_spec_fields_and_omits_empty_metadata() {
        let state =
            r#"{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"}"#;
        let v: serde_json::Value =
            serde_json::from_slice(&process_state(Pid::from_raw(42), Some("m"), state)).unwrap();
        assert_eq!(v["ociVersion"], "1.2.0");
        assert_eq!(v["fds"], serde_json::json!(["seccompFd"]));
        assert_eq!(v["pid"], 42);
        assert_eq!(v["metadata"], "m");
        assert_eq!(v["state"]["status"], "creating");
        assert_eq!(v["state"]["id"], "c1");
        let v: serde_json::Value =
            serde_json::from_slice(&process_state(Pid::from_raw(42), Some(""), state)).unwrap();
        assert!(v.get("metadata").is_none(), "{v}");
    }

    #[test]
    fn a_missing_agent_reads_as_runcs_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let err = dial(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "failed to connect with seccomp agent specified in the seccomp profile: \
                 dial unix {}: connect: no such file or directory",
                path.display()
            )
        );
        let seccomp: LinuxSeccomp = serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW"
        }))
        .unwrap();
        let err = forward(Some(&seccomp), Pid::this(), 0, "{}").unwrap_err();
        assert_eq!(err.to_string(), "listenerPath is not set");
    }

    #[test]
    fn an_at_sign_names_an_abstract_socket_as_in_go() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("ferrun-listener-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let agent = UnixListener::bind_addr(&addr).unwrap();
        dial(Path::new(&format!("@{name}"))).expect("connects to the abstract socket");
        drop(agent);
        let err = dial(Path::new(&format!("@{name}"))).unwrap_err();
        assert!(
            err.to_string().ends_with("connect: connection refused"),
            "{err}"
        );
    }

    #[test]
    fn the_agent_gets_the_fd_and_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let agent = UnixListener::bind(&path).unwrap();
        let conn = dial(&path).unwrap();
        let (peer, _) = agent.accept().unwrap();
        let file = tempfile::tempfile().unwrap();
        let payload = process_state(Pid::from_raw(7), None, r#"{"ociVersion":"1.2.0"}"#);
        send_with_fd(&conn, &payload, file.as_raw_fd()).unwrap();
        drop(conn);
        let mut buf = vec![0u8; 4096];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = nix::sys::socket::recvmsg::<UnixAddr>(
            peer.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .unwrap();
        let mut got = Vec::new();
        for c in msg.cmsgs().unwrap() {
            if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = c {
                got.extend(fds.into_iter().map(crate::sys::fd::adopt));
            }
        }
        let n = msg.bytes;
        assert_eq!(got.len(), 1);
        let v: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
        assert_eq!(v["pid"], 7);
        assert_eq!(v["fds"][0], "seccompFd");
    }
}
