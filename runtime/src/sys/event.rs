//! Descriptors that become readable when something happens, for `ferrun events`: an eventfd
//! (cgroup v1 OOM notices through cgroup.event_control), an inotify instance (cgroup v2's
//! memory.events), a pidfd (the container's init exiting), and one poll over them all.
//! nix 0.32 as configured here has no safe form for the first three.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;

/// eventfd(2), non-blocking and close-on-exec, counter starting at 0.
pub fn eventfd() -> Result<OwnedFd, Errno> {
    // SAFETY: eventfd takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    owned(fd)
}

/// Read and reset an eventfd's counter; `None` when nothing was signalled since the last read.
pub fn eventfd_take(fd: BorrowedFd) -> Result<Option<u64>, Errno> {
    let mut buf = [0u8; 8];
    match read(fd, &mut buf)? {
        Some(8) => Ok(Some(u64::from_ne_bytes(buf))),
        Some(_) => Err(Errno::EIO),
        None => Ok(None),
    }
}

/// inotify_init1(2), non-blocking and close-on-exec.
pub fn inotify() -> Result<OwnedFd, Errno> {
    // SAFETY: inotify_init1 takes flags and returns a new descriptor or -1.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
    owned(fd)
}

/// Watch `path` for IN_MODIFY (cgroup interface files report their changes that way).
pub fn inotify_watch_modify(fd: BorrowedFd, path: &Path) -> Result<(), Errno> {
    let c =
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call; fd is an open descriptor.
    let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_MODIFY) };
    Errno::result(wd).map(drop)
}

/// Discard every queued inotify event; `true` if there was any. The caller re-reads the
/// watched file itself, so which event it was does not matter.
pub fn inotify_drain(fd: BorrowedFd) -> Result<bool, Errno> {
    // Room for several events with the longest name inotify can report.
    let mut buf = [0u8; 4096];
    let mut any = false;
    while let Some(n) = read(fd, &mut buf)? {
        if n == 0 {
            break;
        }
        any = true;
    }
    Ok(any)
}

/// pidfd_open(2): a descriptor that polls readable once `pid` has exited. `ENOSYS` before
/// Linux 5.3; the caller then has to look at the process from time to time instead.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags (0) and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    owned(fd as libc::c_int)
}

/// What [`wait`] saw on each descriptor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// Readable (or hung up / in error, which a read then reports).
    pub readable: bool,
    /// POLLERR, POLLHUP or POLLNVAL: for a write end, the reader has gone.
    pub broken: bool,
}

/// One poll(2) over `fds`, each watched for readability when its flag says so and always for
/// errors and hang-ups, for at most `timeout`. An interrupted poll reports nothing ready.
pub fn wait(fds: &[(BorrowedFd, bool)], timeout: Duration) -> Result<Vec<Ready>, Errno> {
    let mut polls: Vec<libc::pollfd> = fds
        .iter()
        .map(|(fd, read)| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: if *read { libc::POLLIN } else { 0 },
            revents: 0,
        })
        .collect();
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `polls` is a valid array of `polls.len()` pollfd structs for the whole call.
    let r = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, ms) };
    match Errno::result(r) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok(vec![Ready::default(); fds.len()]),
        Err(e) => return Err(e),
    }
    let broken = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;
    Ok(polls
        .iter()
        .map(|p| Ready {
            readable: p.revents & (libc::POLLIN | broken) != 0,
            broken: p.revents & broken != 0,
        })
        .collect())
}

/// read(2) on a non-blocking descriptor: `None` when it would block.
fn read(fd: BorrowedFd, buf: &mut [u8]) -> Result<Option<usize>, Errno> {
    loop {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match Errno::result(n) {
            Ok(n) => return Ok(Some(n as usize)),
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

fn owned(fd: RawFd) -> Result<OwnedFd, Errno> {
    let fd = Errno::result(fd)?;
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn eventfd_counts_and_resets() {
        let fd = eventfd().expect("eventfd");
        assert_eq!(eventfd_take(fd.as_fd()).expect("read"), None);
        let one = 1u64.to_ne_bytes();
        nix::unistd::write(&fd, &one).expect("write");
        nix::unistd::write(&fd, &one).expect("write");
        let ready = wait(&[(fd.as_fd(), true)], Duration::from_secs(1)).expect("poll");
        assert!(ready[0].readable);
        assert_eq!(eventfd_take(fd.as_fd()).expect("read"), Some(2));
        assert_eq!(eventfd_take(fd.as_fd()).expect("read"), None);
    }

    #[test]
    fn inotify_sees_a_modified_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("memory.events");
        std::fs::write(&file, "oom_kill 0\n").expect("write");
        let fd = inotify().expect("inotify");
        inotify_watch_modify(fd.as_fd(), &file).expect("watch");
        assert!(!inotify_drain(fd.as_fd()).expect("drain"));
        std::fs::write(&file, "oom_kill 1\n").expect("write");
        let ready = wait(&[(fd.as_fd(), true)], Duration::from_secs(1)).expect("poll");
        assert!(ready[0].readable);
        assert!(inotify_drain(fd.as_fd()).expect("drain"));
    }

    #[test]
    fn pidfd_polls_readable_when_the_process_exits() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let fd = pidfd_open(child.id() as i32).expect("pidfd_open");
        let ready = wait(&[(fd.as_fd(), true)], Duration::from_secs(10)).expect("poll");
        assert!(ready[0].readable);
        child.wait().expect("reap");
    }

    #[test]
    fn a_closed_pipe_reader_shows_as_broken() {
        let (r, w) = nix::unistd::pipe().expect("pipe");
        let ready = wait(&[(w.as_fd(), false)], Duration::ZERO).expect("poll");
        assert_eq!(ready[0], Ready::default());
        drop(r);
        let ready = wait(&[(w.as_fd(), false)], Duration::ZERO).expect("poll");
        assert!(ready[0].broken);
    }
}
