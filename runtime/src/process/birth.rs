//! Reaching the cgroup without a migration that waits.
//!
//! A write of a pid to cgroup.procs takes the writer side of the kernel's global cgroup
//! threadgroup lock, which first waits for an RCU grace period unless another writer passed
//! moments ago: about 10 ms of wall time per `run` and per `exec` on an idle host. Two routes
//! avoid it:
//! - cgroup2 (a pure v2 host, or a hybrid host's unified hierarchy): the process is cloned
//!   straight into its cgroup (clone3 with CLONE_INTO_CGROUP), so it is never migrated, and
//!   never outside its limits for a moment;
//! - cgroup v1: the init moves itself by writing "0" to each hierarchy's `tasks` file. A
//!   thread moving only itself does not take that lock, and the init is single-threaded, so
//!   this moves the whole process. The parent opens the files (as itself, before the clone);
//!   the init writes them first thing after `Go`, before it unshares the cgroup namespace.
//!
//! Any failure of clone3 (an older kernel, a seccomp profile that refuses clone3, a cgroup
//! that cannot take processes) falls back to the plain clone and the write, whose error is the
//! one the user sees, worded as before; so does a `tasks` file that cannot be opened. The
//! systemd driver keeps the write: systemd moves the process into the unit it starts.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::statfs::{fstatfs, CGROUP2_SUPER_MAGIC};

use crate::sys::clone::{clone_fork, clone_fork_into, Forked};

/// An open cgroup v2 directory to clone a child into.
pub struct BirthCgroup(OwnedFd);

impl BirthCgroup {
    /// `dir`, when it is a directory of a cgroup2 filesystem that we can open; `None` means
    /// "place the child with a cgroup.procs write" (and let that report any problem).
    pub fn open(dir: &Path) -> Option<BirthCgroup> {
        let file = std::fs::File::open(dir).ok()?;
        let on_cgroup2 = fstatfs(&file).ok()?.filesystem_type() == CGROUP2_SUPER_MAGIC;
        on_cgroup2.then(|| BirthCgroup(file.into()))
    }
}

/// Clone with `flags` (CLONE_NEW* bits), into `cgroup` when there is one and the kernel takes
/// it. Returns the fork result and whether the child was born in the cgroup: when it was not,
/// the caller must still add it.
pub fn clone_child(
    flags: libc::c_int,
    cgroup: Option<&BirthCgroup>,
) -> Result<(Forked, bool), Errno> {
    if let Some(cg) = cgroup {
        match clone_fork_into(flags, cg.0.as_fd()) {
            Ok(forked) => return Ok((forked, true)),
            Err(e) => crate::debug!("clone3 into the cgroup failed ({e}): cloning, then moving"),
        }
    }
    clone_fork(flags).map(|forked| (forked, false))
}

/// A v1 hierarchy's `tasks` file, opened by the parent for the init to move itself with.
pub struct TasksFile {
    path: PathBuf,
    file: std::fs::File,
}

/// The init could not move itself into a v1 hierarchy.
#[derive(Debug, thiserror::Error)]
#[error("join cgroup: write {}: {source}", path.display())]
pub struct SelfJoinError {
    path: PathBuf,
    source: std::io::Error,
}

/// The `tasks` file of every v1 directory in `dirs`, all or none: `None` when one cannot be
/// opened, and the parent writes cgroup.procs as before (reporting that error).
pub fn open_tasks(dirs: &[PathBuf]) -> Option<Vec<TasksFile>> {
    dirs.iter()
        .map(|d| {
            let path = d.join("tasks");
            let file = std::fs::OpenOptions::new().write(true).open(&path).ok()?;
            Some(TasksFile { path, file })
        })
        .collect()
}

/// The fds of `files`, which the init keeps through its fd cleanup until it has used them.
pub fn raw_fds(files: &[TasksFile]) -> impl Iterator<Item = RawFd> + '_ {
    files.iter().map(|t| t.file.as_raw_fd())
}

/// In the init: "0" (this thread) into every `tasks` file, then close them.
pub fn join_self(files: Vec<TasksFile>) -> Result<(), SelfJoinError> {
    for TasksFile { path, mut file } in files {
        file.write_all(b"0")
            .map_err(|source| SelfJoinError { path, source })?;
    }
    Ok(())
}
