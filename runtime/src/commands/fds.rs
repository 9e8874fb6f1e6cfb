//! `--preserve-fds N`: the container gets fds 3..3+N, and they must be the caller's.
//!
//! The init keeps those numbers whatever they hold when it is cloned. Had the caller left a
//! gap, ferrun's own descriptors (the state lock, the init channel, exec.sock) would fill it
//! and reach the container: a container holding the state lock deadlocked `run` and
//! `delete --force`. So every fd of the range must be open when ferrun starts, before it opens
//! anything itself; then nothing ferrun opens later can take one of those numbers. runc 1.1.5
//! fails the same way ("unable to stat preserved-fd"). Checking stops at the first missing
//! fd, which also bounds N by what is open: no allocation or arithmetic ever sees a huge N.

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::sys::fd::is_open;

/// The first fd after stdin, stdout and stderr.
const FIRST: i64 = 3;

/// Check `--preserve-fds` of create, run and exec against the fds open right now. Call it
/// before ferrun opens any descriptor that outlives a call.
pub fn check_preserved_fds(cli: &Cli) -> Result<(), Error> {
    let n = match &cli.command {
        Some(Command::Create(a)) => a.preserve_fds,
        Some(Command::Run(a)) => a.create.preserve_fds,
        Some(Command::Exec(a)) => a.preserve_fds,
        _ => return Ok(()),
    };
    match first_missing(n, is_open) {
        None => Ok(()),
        Some(fd) => Err(Error::Usage(format!(
            "--preserve-fds {n} asks for fds 3 to {}, but fd {fd} is not open: only \
             descriptors the caller passes open can be preserved",
            FIRST + i64::from(n) - 1
        ))),
    }
}

/// The lowest fd of `3..3+n` that `open` says is not open.
fn first_missing(n: u32, open: impl Fn(i32) -> bool) -> Option<i64> {
    (FIRST..FIRST + i64::from(n)).find(|&fd| i32::try_from(fd).map_or(true, |fd| !open(fd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_gap_is_named_and_huge_counts_stop_there() {
        let open_up_to_4 = |fd: i32| fd <= 4;
        assert_eq!(first_missing(0, open_up_to_4), None);
        assert_eq!(first_missing(2, open_up_to_4), None);
        assert_eq!(first_missing(5, open_up_to_4), Some(5));
        assert_eq!(first_missing(u32::MAX, open_up_to_4), Some(5));
    }

    #[test]
    fn numbers_beyond_an_fd_are_never_open() {
        assert_eq!(
            first_missing(u32::MAX, |_| true),
            Some(i64::from(i32::MAX) + 1)
        );
    }
}
