//! A SOCK_STREAM socketpair carrying JSON messages, each behind a 4-byte length prefix.
//!
//! The parent's `Go` message carries the container state, annotations included, so it is as
//! big as the config makes it: Kubernetes allows 256 KB of annotations and runc accepts
//! configs of tens of megabytes. A datagram socket caps a message at the socket buffer
//! (~208 KiB) and a fixed receive buffer cut it shorter still, so the framing lives in the
//! stream instead: any size up to [`MAX_MSG`] crosses, in as many reads as it takes. A dead
//! peer still reads as end-of-file instead of a hang.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::sys::socket::{send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest message either side sends or accepts. Far above any real config (runc's
/// largest reported ones are ~55 MB), low enough that a corrupt length cannot make the
/// receiver reserve gigabytes: memory grows only as data actually arrives.
pub const MAX_MSG: usize = 256 << 20;

#[derive(Debug)]
pub struct Channel {
    sock: UnixStream,
}

pub fn pair() -> io::Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((Channel::from_fd(a), Channel::from_fd(b)))
}

impl Channel {
    fn from_fd(fd: OwnedFd) -> Self {
        Channel {
            sock: UnixStream::from(fd),
        }
    }

    pub fn raw(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    pub fn send<T: Serialize>(&self, msg: &T) -> io::Result<()> {
        send_on(self.raw(), msg)
    }

    /// Send a small message with write(2), without touching the heap: the init's notice of
    /// its seccomp listener fd, sent right after the filter is loaded, when any other syscall
    /// (an mmap for a bigger buffer, or the sendto std's `UnixStream` writes with) may be one
    /// a notify rule holds until the agent, which has no fd yet, answers. write is the one
    /// syscall the config validation keeps out of notify rules, as runc does for the same
    /// reason.
    pub fn send_small<T: Serialize>(&self, msg: &T) -> io::Result<()> {
        let mut frame = [0u8; 128];
        let (head, body) = frame.split_at_mut(4);
        let mut cursor = io::Cursor::new(body);
        serde_json::to_writer(&mut cursor, msg).map_err(io::Error::other)?;
        let len = cursor.position() as usize;
        head.copy_from_slice(&(len as u32).to_le_bytes());
        let mut rest = &frame[..4 + len];
        while !rest.is_empty() {
            match nix::unistd::write(&self.sock, rest) {
                Ok(n) => rest = &rest[n..],
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The next message, or `None` when the peer closed its end (exited) between messages.
    pub fn recv<T: DeserializeOwned>(&self) -> io::Result<Option<T>> {
        let mut head = [0u8; 4];
        if !read_header(&self.sock, &mut head)? {
            return Ok(None);
        }
        let len = u32::from_le_bytes(head) as usize;
        if len > MAX_MSG {
            return Err(too_big(len));
        }
        let mut data = Vec::new();
        (&self.sock).take(len as u64).read_to_end(&mut data)?;
        if data.len() < len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the peer closed the channel after {} of {len} bytes of a message",
                    data.len()
                ),
            ));
        }
        serde_json::from_slice(&data)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// Send one message on the channel whose socket is `fd`: for the init's log lines, which are
/// sent from inside the logger, where the `Channel` itself is out of reach.
pub fn send_on<T: Serialize>(fd: RawFd, msg: &T) -> io::Result<()> {
    let data = serde_json::to_vec(msg).map_err(io::Error::other)?;
    let len = u32::try_from(data.len())
        .ok()
        .filter(|&n| n as usize <= MAX_MSG)
        .ok_or_else(|| too_big(data.len()))?;
    let mut frame = Vec::with_capacity(4 + data.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&data);
    send_all(fd, &frame)
}

/// MSG_NOSIGNAL: a dead peer is EPIPE here, never a SIGPIPE, whatever the disposition.
fn send_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match send(fd, buf, MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Fill `head`; false on end-of-file before its first byte (a clean close).
fn read_header(mut sock: &UnixStream, head: &mut [u8; 4]) -> io::Result<bool> {
    let mut got = 0;
    while got < head.len() {
        match sock.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed the channel inside a message header",
                ))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn too_big(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "a message of {len} bytes is larger than the {} MiB limit",
            MAX_MSG >> 20
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::messages::{ChildMsg, ParentMsg};
    use std::io::Write;

    #[test]
    fn messages_cross_and_eof_is_none() {
        let (a, b) = pair().unwrap();
        a.send(&ParentMsg::HooksDone).unwrap();
        assert_eq!(b.recv::<ParentMsg>().unwrap(), Some(ParentMsg::HooksDone));
        b.send_small(&ChildMsg::SeccompFd { fd: 1234 }).unwrap();
        assert_eq!(
            a.recv::<ChildMsg>().unwrap(),
            Some(ChildMsg::SeccompFd { fd: 1234 })
        );
        b.send(&ChildMsg::Ready).unwrap();
        assert_eq!(a.recv::<ChildMsg>().unwrap(), Some(ChildMsg::Ready));
        drop(b);
        assert_eq!(a.recv::<ChildMsg>().unwrap(), None);
    }

    /// 4 MiB: far beyond the old 64 KiB receive buffer and the socket's own buffer, so the
    /// sender blocks until the receiver (another thread here, the init in real life) reads.
    #[test]
    fn a_message_larger_than_the_socket_buffer_crosses_whole() {
        let (a, b) = pair().unwrap();
        let state_json = "x".repeat(4 << 20);
        let want = ParentMsg::Go {
            state_json: state_json.clone(),
        };
        let reader = std::thread::spawn(move || b.recv::<ParentMsg>().unwrap());
        a.send(&want).unwrap();
        a.send(&ParentMsg::HooksDone).unwrap();
        assert_eq!(reader.join().unwrap(), Some(ParentMsg::Go { state_json }));
    }

    #[test]
    fn a_cut_message_is_an_error_not_eof() {
        let (a, b) = pair().unwrap();
        (&a.sock).write_all(&100u32.to_le_bytes()).unwrap();
        (&a.sock).write_all(b"{\"Go\"").unwrap();
        drop(a);
        let err = b.recv::<ParentMsg>().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    }

    #[test]
    fn an_absurd_length_is_refused_without_allocating_it() {
        let (a, b) = pair().unwrap();
        (&a.sock).write_all(&u32::MAX.to_le_bytes()).unwrap();
        let err = b.recv::<ParentMsg>().unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }
}
