//! Installing a compiled device program on a cgroup2 directory: the seam between the pure
//! compiler and `sys::bpf`.
//!
//! Like runc (libcontainer/cgroups/ebpf `LoadAttachCgroupDeviceFilter`) the new program is
//! attached with `BPF_F_ALLOW_MULTI` *before* the programs already attached to this cgroup are
//! detached, so a running container is never briefly without a filter on `update`.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;

use super::program::LICENSE;
use crate::cgroups::error::CgroupError;
use crate::sys::bpf::{self, BpfInsn};

/// Puts a device program on a cgroup2 directory, replacing any earlier one.
pub trait DeviceFilterInstaller {
    fn install(&self, cgroup_dir: &Path, insns: &[BpfInsn]) -> Result<(), CgroupError>;
}

/// The real installer, through bpf(2).
#[derive(Debug, Default, Clone, Copy)]
pub struct BpfInstaller;

fn bpf_err(op: &'static str, dir: &Path, errno: nix::errno::Errno, log: String) -> CgroupError {
    CgroupError::Bpf {
        op,
        path: dir.to_path_buf(),
        errno,
        log,
    }
}

fn load(dir: &Path, insns: &[BpfInsn]) -> Result<std::os::fd::OwnedFd, CgroupError> {
    match bpf::prog_load_cgroup_device(insns, LICENSE, &mut []) {
        Ok(fd) => Ok(fd),
        Err(errno) => {
            // Load again with the verifier log so the error says why it was rejected.
            let mut log = vec![0u8; 64 * 1024];
            let _ = bpf::prog_load_cgroup_device(insns, LICENSE, &mut log);
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
            let text = if text.is_empty() {
                String::new()
            } else {
                format!(" (verifier: {text})")
            };
            Err(bpf_err("load", dir, errno, text))
        }
    }
}

impl DeviceFilterInstaller for BpfInstaller {
    fn install(&self, cgroup_dir: &Path, insns: &[BpfInsn]) -> Result<(), CgroupError> {
        let dir = File::open(cgroup_dir).map_err(|e| CgroupError::io("open", cgroup_dir, e))?;
        let old = bpf::prog_query(dir.as_fd(), bpf::ATTACH_CGROUP_DEVICE)
            .map_err(|e| bpf_err("query", cgroup_dir, e, String::new()))?;
        let prog = load(cgroup_dir, insns)?;
        bpf::prog_attach(
            dir.as_fd(),
            prog.as_fd(),
            bpf::ATTACH_CGROUP_DEVICE,
            bpf::F_ALLOW_MULTI,
        )
        .map_err(|e| bpf_err("attach", cgroup_dir, e, String::new()))?;
        for id in old {
            let fd = bpf::prog_get_fd_by_id(id)
                .map_err(|e| bpf_err("open old program", cgroup_dir, e, String::new()))?;
            bpf::prog_detach(dir.as_fd(), fd.as_fd(), bpf::ATTACH_CGROUP_DEVICE)
                .map_err(|e| bpf_err("detach old program", cgroup_dir, e, String::new()))?;
        }
        // The attachment holds a reference to the program; our fd can close now.
        Ok(())
    }
}
