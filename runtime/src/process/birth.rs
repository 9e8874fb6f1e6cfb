//! Born in the cgroup: on cgroup v2 the container's processes are cloned straight into their
//! cgroup (clone3 with CLONE_INTO_CGROUP) instead of being cloned where ferrun runs and then
//! moved by a write to cgroup.procs.
//!
//! The move is what costs: every write to cgroup.procs takes the writer side of the kernel's
//! global cgroup threadgroup lock, which first waits for an RCU grace period unless another
//! writer passed moments ago. On an idle host that is about 10 ms of wall time per `run` and
//! per `exec`. A process born in its cgroup is never migrated, so it never waits; it is also
//! never outside its limits for a moment. cgroup v1 has no such route: a hybrid host and the
//! systemd driver keep the write.
//!
//! Any failure of clone3 (an older kernel, a seccomp profile that refuses clone3, a cgroup
//! that cannot take processes) falls back to the plain clone and the write, whose error is the
//! one the user sees, worded as before.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

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
