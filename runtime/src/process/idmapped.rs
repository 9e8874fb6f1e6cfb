//! The real [`IdmapSys`]: a user namespace for a mount's mapping comes from a short-lived
//! holder process whose maps the parent writes, as runc's userns helper does; the namespace
//! lives on through the fd after the holder is killed.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use oci_spec::runtime::LinuxIdMapping;

use super::idmap::{write_id_maps, Writer};
use crate::rootfs::idmapped::IdmapSys;
use crate::sys;

pub struct RealIdmapSys;

impl IdmapSys for RealIdmapSys {
    fn userns(&mut self, uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> io::Result<OwnedFd> {
        let pid = sys::idmapped::spawn_userns_holder()?;
        // Only root gets here (IdmappedMounts::prepare refuses rootless), so the maps are
        // written directly.
        let root = Writer {
            privileged: true,
            euid: 0,
            egid: 0,
        };
        let opened = write_id_maps(&mut sys::idmap::RealIdMapSys, pid.as_raw(), uid, gid, root)
            .map_err(io::Error::other)
            .and_then(|()| File::open(format!("/proc/{pid}/ns/user")));
        // The holder only pauses: SIGKILL ends it at once, so the wait is bounded.
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
        Ok(opened?.into())
    }

    fn open_userns(&mut self, path: &Path) -> io::Result<OwnedFd> {
        Ok(File::open(path)?.into())
    }

    fn clone_tree(&mut self, source: &Path, recursive: bool) -> io::Result<OwnedFd> {
        sys::idmapped::clone_tree(source, recursive)
    }

    fn set_idmap(&mut self, tree: &OwnedFd, userns: &OwnedFd, recursive: bool) -> io::Result<()> {
        sys::idmapped::set_idmap(tree.as_fd(), userns.as_fd(), recursive)
    }
}
