//! Terminal ioctls: window size, controlling terminal, and stdio redirection.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// TIOCGWINSZ: (rows, cols).
pub fn window_size(fd: BorrowedFd) -> Result<(u16, u16), Errno> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize we own.
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) })?;
    Ok((ws.ws_row, ws.ws_col))
}

/// TIOCSWINSZ.
pub fn set_window_size(fd: BorrowedFd, rows: u16, cols: u16) -> Result<(), Errno> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize we own.
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) }).map(drop)
}

/// TIOCSCTTY: make `fd` (a tty) the caller's controlling terminal.
pub fn set_controlling_terminal(fd: BorrowedFd) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY with argument 0 on a descriptor the caller owns.
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) }).map(drop)
}

/// dup2 onto a stdio number (0, 1 or 2), replacing what is there.
pub fn dup_onto(fd: BorrowedFd, target: i32) -> Result<(), Errno> {
    // SAFETY: dup2(2) replaces `target` atomically; the caller owns both numbers.
    Errno::result(unsafe { libc::dup2(fd.as_raw_fd(), target) }).map(drop)
}
