//! One connection from a runtime: the container process state (runtime-spec runtime.md,
//! "containerProcessState") as JSON, with the descriptors it names in `fds` passed by
//! SCM_RIGHTS (config-linux.md#seccomp, listenerPath). The seccomp notify fd is the one at
//! the position of `"seccompFd"` in `fds`.

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use serde_json::Value;
use std::io::{IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A runtime that connects but sends no complete state is given this long before the agent
/// gives up on it.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Far more than the state of any scenario (annotations included).
const MAX_STATE: usize = 1 << 20;

pub struct Received {
    /// The state as sent, or what could be read of it when it is not JSON.
    pub state: Result<Value, String>,
    /// Every descriptor received, in order.
    pub fds: Vec<OwnedFd>,
    /// The connection, kept to see when the runtime closes it.
    pub stream: UnixStream,
}

impl Received {
    /// The notify fd: the received descriptor at the position of `"seccompFd"` in `fds`.
    pub fn take_seccomp_fd(&mut self) -> Option<OwnedFd> {
        let names = self.state.as_ref().ok()?.get("fds")?.as_array()?;
        let at = names.iter().position(|n| n == "seccompFd")?;
        (at < self.fds.len()).then(|| self.fds.remove(at))
    }
}

pub fn receive(mut stream: UnixStream) -> Received {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let mut data = Vec::new();
    let mut fds = Vec::new();
    // Descriptors ride on the first bytes; later reads only collect the rest of the text.
    match first_message(&stream, &mut fds) {
        Ok(bytes) => data.extend(bytes),
        Err(e) => {
            return Received {
                state: Err(format!("recvmsg failed: {e}")),
                fds,
                stream,
            }
        }
    }
    // runc keeps its end open for a while after sending, so the message ends where the JSON
    // does, not at EOF; later reads only happen for a state split over several writes.
    let mut chunk = [0u8; 8192];
    while serde_json::from_slice::<Value>(&data).is_err() && data.len() < MAX_STATE {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
            // A timeout or reset ends the message: what arrived is reported.
            Err(_) => break,
        }
    }
    let state = serde_json::from_slice(&data).map_err(|e| {
        format!(
            "not JSON ({e}): {:?}",
            String::from_utf8_lossy(&data[..data.len().min(400)])
        )
    });
    Received { state, fds, stream }
}

/// How long after the state the runtime closed the connection (config-linux.md#seccomp:
/// "it MUST be closed after sending a seccomp state"), or None if it was still open when
/// `within` ran out. Anything sent after the state counts as not closing.
pub fn closed_within(mut stream: UnixStream, within: Duration) -> Option<Duration> {
    let start = std::time::Instant::now();
    let _ = stream.set_read_timeout(Some(within));
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => Some(start.elapsed()),
        _ => None,
    }
}

fn first_message(stream: &UnixStream, fds: &mut Vec<OwnedFd>) -> nix::Result<Vec<u8>> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 16]);
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let len = msg.bytes;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            fds.extend(raw.into_iter().map(own));
        }
    }
    buf.truncate(len);
    Ok(buf)
}

// The one place the agent takes ownership of raw descriptors: those SCM_RIGHTS gave us.
#[allow(unsafe_code)]
fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel has just installed this descriptor in our table for this message;
    // nothing else refers to it, so it is ours to own and close.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{sendmsg, ControlMessage};
    use std::io::{IoSlice, Write};
    use std::os::fd::AsFd;

    fn send(a: &UnixStream, text: &[u8], fds: &[RawFd]) {
        let iov = [IoSlice::new(text)];
        let cmsg = [ControlMessage::ScmRights(fds)];
        sendmsg::<()>(a.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None).unwrap();
    }

    #[test]
    fn state_and_the_named_fd_arrive() {
        let (a, b) = UnixStream::pair().unwrap();
        let f = tempfile::tempfile().unwrap();
        let state = br#"{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":4,"state":{"id":"x"}}"#;
        send(&a, state, &[f.as_fd().as_raw_fd()]);
        drop(a);
        let mut r = receive(b);
        assert_eq!(r.state.as_ref().unwrap()["pid"], 4);
        assert!(r.take_seccomp_fd().is_some());
        assert!(r.fds.is_empty());
        assert!(closed_within(r.stream, Duration::from_secs(1)).is_some());
    }

    #[test]
    fn a_connection_left_open_is_reported() {
        let (a, b) = UnixStream::pair().unwrap();
        send(&a, b"{}", &[]);
        let r = receive(b);
        assert!(closed_within(r.stream, Duration::from_millis(50)).is_none());
        drop(a);
    }

    #[test]
    fn a_state_split_over_several_writes_is_joined() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let f = tempfile::tempfile().unwrap();
        send(&a, br#"{"fds":["seccompFd"],"#, &[f.as_fd().as_raw_fd()]);
        a.write_all(br#""pid":9}"#).unwrap();
        drop(a);
        let r = receive(b);
        assert_eq!(r.state.unwrap()["pid"], 9);
    }

    #[test]
    fn garbage_is_reported_not_fatal() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"hello").unwrap();
        drop(a);
        let mut r = receive(b);
        assert!(r.state.as_ref().unwrap_err().contains("hello"));
        assert!(r.take_seccomp_fd().is_none());
    }
}
