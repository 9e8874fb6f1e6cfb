//! The stream progress goes to, and what it knows about the terminal behind it: whether there
//! is one, and how wide it is. A trait so the progress renderer can be tested against a
//! `Vec<u8>` that claims to be a terminal (or not), with no `cfg!(test)` in the real path.

use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;

/// A byte sink that may be a terminal.
pub trait Console: Write {
    /// The terminal's width in columns; `None` when the stream is not a terminal (a pipe, a
    /// file, a CI log).
    fn columns(&self) -> Option<usize>;
}

/// The process's stderr, where `run` writes its per-result lines.
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        std::io::stderr().lock().write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl Console for Stderr {
    fn columns(&self) -> Option<usize> {
        let err = std::io::stderr();
        if !err.is_terminal() || term_is_dumb() {
            return None;
        }
        // A terminal that cannot say its size (a serial console reports 0) gets the classic 80.
        Some(
            window_columns(err.as_raw_fd())
                .filter(|&c| c > 0)
                .unwrap_or(80),
        )
    }
}

/// `TERM=dumb` (Emacs shell buffers, some CI runners that allocate a pty) cannot erase a
/// line: such a terminal counts as none and gets the plain lines.
fn term_is_dumb() -> bool {
    std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

/// The column count of the terminal on `fd` (TIOCGWINSZ), `None` if the ioctl fails.
#[allow(unsafe_code)] // nix has no safe wrapper for TIOCGWINSZ
fn window_columns(fd: std::os::fd::RawFd) -> Option<usize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes exactly one `struct winsize` through the pointer, which points
    // to a live, properly aligned local of that type; a bad or non-tty fd only makes it fail.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) };
    (rc == 0).then_some(ws.ws_col as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_has_no_window_size() {
        let (r, _w) = nix::unistd::pipe().unwrap();
        assert_eq!(window_columns(r.as_raw_fd()), None);
    }
}
