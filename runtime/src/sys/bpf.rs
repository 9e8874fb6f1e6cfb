//! Raw bpf(2) calls needed to install a cgroup v2 device filter.
//!
//! cgroup v2 has no `devices.allow`/`devices.deny` files: the kernel consults programs of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE` attached to the cgroup (Documentation/admin-guide/cgroup-v2.rst,
//! "Device controller"). This module is the only place that builds `union bpf_attr`; each command
//! gets its own `#[repr(C)]` prefix of that union (the kernel accepts a shorter attr as long as
//! the bytes it does not know are zero, see `bpf_check_uarg_tail_zero`). Everything above this
//! seam works on plain [`BpfInsn`] values and is unit-tested without privileges.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

/// `enum bpf_cmd` values (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;

/// `BPF_PROG_TYPE_CGROUP_DEVICE`.
pub const PROG_TYPE_CGROUP_DEVICE: u32 = 15;
/// `BPF_CGROUP_DEVICE` attach type.
pub const ATTACH_CGROUP_DEVICE: u32 = 6;
/// `BPF_F_ALLOW_MULTI`: runc attaches with it so a replacement can be attached before the old
/// program is detached (no window without a filter).
pub const F_ALLOW_MULTI: u32 = 1 << 1;

/// One eBPF instruction, layout of `struct bpf_insn`: opcode, dst (low nibble) and src (high
/// nibble) registers, signed offset, signed immediate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

impl BpfInsn {
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        BpfInsn {
            code,
            regs: (src << 4) | (dst & 0x0f),
            off,
            imm,
        }
    }
    pub const fn dst(&self) -> u8 {
        self.regs & 0x0f
    }
    pub const fn src(&self) -> u8 {
        self.regs >> 4
    }
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// Issue bpf(cmd, attr, sizeof attr).
///
/// # Safety
/// `attr` must be a valid `bpf_attr` prefix for `cmd` whose pointers (if any) stay valid for the
/// duration of the call.
unsafe fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> Result<libc::c_long, Errno> {
    let ret = libc::syscall(
        libc::SYS_bpf,
        cmd,
        attr as *mut T as *mut libc::c_void,
        std::mem::size_of::<T>() as libc::c_uint,
    );
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Load a `BPF_PROG_TYPE_CGROUP_DEVICE` program. When `log` is non-empty the verifier log is
/// written into it (log_level 1) so a rejection can be explained to the user.
pub fn prog_load_cgroup_device(
    insns: &[BpfInsn],
    license: &CStr,
    log: &mut [u8],
) -> Result<OwnedFd, Errno> {
    let mut attr = ProgLoadAttr {
        prog_type: PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(insns.len()).map_err(|_| Errno::E2BIG)?,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        expected_attach_type: ATTACH_CGROUP_DEVICE,
        ..Default::default()
    };
    if !log.is_empty() {
        attr.log_level = 1;
        attr.log_size = u32::try_from(log.len()).unwrap_or(u32::MAX);
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    // SAFETY: attr is a BPF_PROG_LOAD prefix; insns, license and log outlive the call.
    let fd = unsafe { bpf(BPF_PROG_LOAD, &mut attr)? };
    let fd = i32::try_from(fd).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel just returned this fd to us; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attach `prog` to the cgroup directory `cgroup` for `attach_type` with `flags`.
pub fn prog_attach(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
    flags: u32,
) -> Result<(), Errno> {
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type,
        attach_flags: flags,
        ..Default::default()
    };
    // SAFETY: attr is a BPF_PROG_ATTACH prefix without pointers.
    unsafe { bpf(BPF_PROG_ATTACH, &mut attr) }.map(drop)
}

/// Detach the specific program `prog` (needed with BPF_F_ALLOW_MULTI).
pub fn prog_detach(
    cgroup: BorrowedFd<'_>,
    prog: BorrowedFd<'_>,
    attach_type: u32,
) -> Result<(), Errno> {
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type,
        ..Default::default()
    };
    // SAFETY: attr is a BPF_PROG_DETACH prefix without pointers.
    unsafe { bpf(BPF_PROG_DETACH, &mut attr) }.map(drop)
}

/// Ids of the programs attached directly to `cgroup` for `attach_type`.
pub fn prog_query(cgroup: BorrowedFd<'_>, attach_type: u32) -> Result<Vec<u32>, Errno> {
    let mut ids = vec![0u32; 64];
    let mut attr = QueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    // SAFETY: attr is a BPF_PROG_QUERY prefix; `ids` outlives the call and prog_cnt bounds it.
    unsafe { bpf(BPF_PROG_QUERY, &mut attr)? };
    ids.truncate(attr.prog_cnt as usize);
    Ok(ids)
}

/// Open a program by its id (to detach it).
pub fn prog_get_fd_by_id(id: u32) -> Result<OwnedFd, Errno> {
    let mut attr = GetFdByIdAttr {
        prog_id: id,
        ..Default::default()
    };
    // SAFETY: attr is a BPF_PROG_GET_FD_BY_ID prefix without pointers.
    let fd = unsafe { bpf(BPF_PROG_GET_FD_BY_ID, &mut attr)? };
    let fd = i32::try_from(fd).map_err(|_| Errno::EBADF)?;
    // SAFETY: fresh fd from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_is_eight_bytes_with_packed_registers() {
        assert_eq!(std::mem::size_of::<BpfInsn>(), 8);
        let i = BpfInsn::new(0x61, 2, 1, 4, -7);
        assert_eq!(i.regs, 0x12);
        assert_eq!((i.dst(), i.src()), (2, 1));
    }

    #[test]
    fn attr_layouts_match_the_uapi_offsets() {
        // offsetof(union bpf_attr, expected_attach_type) == 68 for BPF_PROG_LOAD.
        assert_eq!(std::mem::size_of::<ProgLoadAttr>(), 72);
        assert_eq!(std::mem::size_of::<AttachAttr>(), 20);
        // prog_ids is an __aligned_u64 at offset 16, prog_cnt at 24.
        assert_eq!(std::mem::size_of::<QueryAttr>(), 32);
    }
}
