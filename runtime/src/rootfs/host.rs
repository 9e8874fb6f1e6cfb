//! The host's mount table as the init sees it before pivot_root, read at most once per
//! container setup (issue 14: it was read twice in the init, and its cost grows with the
//! host's mount count). Nothing reads it unless it is needed: `root.rs` asks only for a
//! propagation that can leave the rootfs's mount shared, `cgroup.rs` only for cgroup v1
//! mounts (or the cgroup2 bind fallback). The first reader parses it, later readers share
//! that parse; mounts made under the rootfs since are not in it, and neither reader wants them.

use super::RootfsError;
use crate::mountinfo::{self, MountInfo};
use crate::sys::mount::MountSys;
use std::cell::OnceCell;
use std::path::Path;

const MOUNTINFO: &str = "/proc/self/mountinfo";

pub struct HostMounts<'a> {
    sys: &'a dyn MountSys,
    parsed: OnceCell<Vec<MountInfo>>,
}

impl<'a> HostMounts<'a> {
    pub fn new(sys: &'a dyn MountSys) -> Self {
        HostMounts {
            sys,
            parsed: OnceCell::new(),
        }
    }

    /// The parsed /proc/self/mountinfo, read on the first call.
    pub fn get(&self) -> Result<&[MountInfo], RootfsError> {
        if let Some(m) = self.parsed.get() {
            return Ok(m);
        }
        let text = self
            .sys
            .read_file(Path::new(MOUNTINFO))
            .map_err(|e| RootfsError::sys("read", MOUNTINFO, e))?;
        let parsed = mountinfo::parse(&text)?;
        Ok(self.parsed.get_or_init(|| parsed))
    }
}
