//! The console socket (runtime.md / runc's `--console-socket`): when `process.terminal` is
//! true the runtime creates a pty and sends its master over this unix socket with
//! SCM_RIGHTS; we keep reading the master into a log file the scenario can check
//! (`{{console}}`). Each connection (create, `exec --tty`) gets its own reader thread, which
//! ends when the pty's other side is closed (read fails with EIO).

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use std::fs::OpenOptions;
use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

static SEQ: AtomicU64 = AtomicU64::new(0);

pub struct Console {
    pub socket: PathBuf,
    pub log: PathBuf,
    stop: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("console socket {path}: {source}")]
pub struct ConsoleError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A socket path short enough for sun_path (108 bytes) whatever the work directory is.
pub fn socket_path() -> PathBuf {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("oci-conform-{}-{n}.sock", std::process::id()))
}

// The one place oci-conform takes ownership of a raw descriptor: the one SCM_RIGHTS gave us.
#[allow(unsafe_code)]
fn receive_fd(stream: &UnixStream) -> Option<OwnedFd> {
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .ok()?;
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: the kernel just installed this descriptor for us; we own it now.
            return fds.first().map(|fd| unsafe { OwnedFd::from_raw_fd(*fd) });
        }
    }
    None
}

fn pump(master: OwnedFd, log: &Path) {
    let mut f = std::fs::File::from(master);
    let Ok(mut out) = OpenOptions::new().create(true).append(true).open(log) else {
        return;
    };
    let mut buf = [0u8; 4096];
    // EIO (slave closed) or EOF ends the copy.
    while let Ok(n) = f.read(&mut buf) {
        if n == 0 || out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}

impl Console {
    pub fn start(socket: PathBuf, log: PathBuf) -> Result<Console, ConsoleError> {
        let err = |source| ConsoleError {
            path: socket.clone(),
            source,
        };
        let _ = std::fs::remove_file(&socket);
        std::fs::write(&log, b"").map_err(|source| ConsoleError {
            path: log.clone(),
            source,
        })?;
        let listener = UnixListener::bind(&socket).map_err(err)?;
        listener.set_nonblocking(true).map_err(err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, log2) = (stop.clone(), log.clone());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        if let Some(master) = receive_fd(&stream) {
                            let log = log2.clone();
                            std::thread::spawn(move || pump(master, &log));
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(Console { socket, log, stop })
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::fs::remove_file(&self.socket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{sendmsg, ControlMessage};
    use std::io::IoSlice;

    #[test]
    fn receives_a_descriptor_and_copies_what_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let c = Console::start(socket_path(), dir.path().join("console.log")).unwrap();
        // Stand in for a runtime: send the read end of a pipe as the "pty master".
        let (r, w) = nix::unistd::pipe().unwrap();
        let stream = UnixStream::connect(&c.socket).unwrap();
        let fds = [r.as_raw_fd()];
        sendmsg::<()>(
            stream.as_raw_fd(),
            &[IoSlice::new(b"x")],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        )
        .unwrap();
        drop(r);
        let mut w = std::fs::File::from(w);
        w.write_all(b"hello from the pty\n").unwrap();
        drop(w);
        let mut text = String::new();
        for _ in 0..200 {
            text = std::fs::read_to_string(&c.log).unwrap();
            if !text.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(text, "hello from the pty\n");
    }
}
