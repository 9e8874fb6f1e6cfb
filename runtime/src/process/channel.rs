//! A SOCK_SEQPACKET socketpair carrying one JSON message per packet: message boundaries come
//! from the socket, and a dead peer reads as end-of-file instead of a hang.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::de::DeserializeOwned;
use serde::Serialize;

const MAX_MSG: usize = 64 * 1024;

#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

pub fn pair() -> io::Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn send<T: Serialize>(&self, msg: &T) -> io::Result<()> {
        let data = serde_json::to_vec(msg).map_err(io::Error::other)?;
        send(self.fd.as_raw_fd(), &data, MsgFlags::MSG_NOSIGNAL)?;
        Ok(())
    }

    /// The next message, or `None` when the peer closed its end (exited).
    pub fn recv<T: DeserializeOwned>(&self) -> io::Result<Option<T>> {
        let mut buf = vec![0u8; MAX_MSG];
        let n = loop {
            match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => break r?,
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::messages::{ChildMsg, ParentMsg};

    #[test]
    fn messages_cross_and_eof_is_none() {
        let (a, b) = pair().unwrap();
        a.send(&ParentMsg::HooksDone).unwrap();
        assert_eq!(b.recv::<ParentMsg>().unwrap(), Some(ParentMsg::HooksDone));
        b.send(&ChildMsg::Ready).unwrap();
        assert_eq!(a.recv::<ChildMsg>().unwrap(), Some(ChildMsg::Ready));
        drop(b);
        assert_eq!(a.recv::<ChildMsg>().unwrap(), None);
    }
}
