//! Loading a filter with the ENOSYS stub in front: export libseccomp's BPF into a memfd,
//! prepend the stub and install the whole program with `seccomp(2)` ourselves, since
//! libseccomp cannot load a program it did not generate. The flags mirror what libseccomp
//! would pass for the same attributes.
//!
//! A filter with SCMP_ACT_NOTIFY rules is always loaded here, stub or not, because the
//! flags it needs are not all libseccomp 2.5's: SECCOMP_FILTER_FLAG_NEW_LISTENER, and
//! SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19) so that a fatal signal still ends a
//! process whose notification the agent already received. ferrun adds the latter itself and
//! loads again without it when the kernel refuses it (EINVAL); asked for in
//! `linux.seccomp.flags`, it is kept and an old kernel's refusal is the error.
//!
//! The raw `seccomp(SECCOMP_SET_MODE_FILTER)` call lives in `sys/seccomp.rs` with the other
//! raw syscalls.

use std::io::{Read, Seek};
use std::os::fd::{AsFd, OwnedFd};

use libseccomp::ScmpFilterContext;
use nix::errno::Errno;
use nix::sys::memfd::{memfd_create, MFdFlags};

use super::enosys::Insn;
use super::{Flags, Handoff, SeccompError};
use crate::sys::seccomp::{FLAG_TSYNC_ESRCH, FLAG_WAIT_KILLABLE_RECV};

/// The kernel's limit on a classic-BPF program (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;

fn io_err(step: &'static str) -> impl FnOnce(std::io::Error) -> SeccompError {
    move |source| SeccompError::Patch {
        step,
        errno: source.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
    }
}

/// Decode the host-endian `struct sock_filter` array libseccomp exports.
pub fn parse_program(bytes: &[u8]) -> Result<Vec<Insn>, SeccompError> {
    if bytes.len() % 8 != 0 {
        return Err(SeccompError::Patch {
            step: "parsing libseccomp's BPF (not a whole number of instructions)",
            errno: Errno::EINVAL,
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

fn export(ctx: &ScmpFilterContext) -> Result<Vec<Insn>, SeccompError> {
    let fd = memfd_create("ferrun-seccomp", MFdFlags::MFD_CLOEXEC).map_err(|errno| {
        SeccompError::Patch {
            step: "creating a memfd for the BPF program",
            errno,
        }
    })?;
    ctx.export_bpf(&fd)
        .map_err(super::lib_err("exporting libseccomp's BPF program"))?;
    let mut file = std::fs::File::from(fd);
    file.rewind().map_err(io_err("rewinding the BPF memfd"))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(io_err("reading the BPF memfd"))?;
    parse_program(&bytes)
}

fn kernel_flags(flags: Flags) -> libc::c_ulong {
    let mut bits = 0;
    if flags.tsync {
        bits |= libc::SECCOMP_FILTER_FLAG_TSYNC;
    }
    if flags.log {
        bits |= libc::SECCOMP_FILTER_FLAG_LOG;
    }
    if flags.spec_allow {
        bits |= libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    }
    if flags.wait_killable_recv {
        bits |= FLAG_WAIT_KILLABLE_RECV;
    }
    bits
}

/// Install `stub` followed by `ctx`'s program on the calling thread. With a `handoff`, the
/// filter gets a listener and `handoff` receives its fd right after the seccomp(2) call,
/// before anything this function allocated is freed: freeing may call munmap, and a notify
/// rule may cover any syscall the runtime makes before the agent holds the fd. The fd is
/// closed once `handoff` returns (the agent has its own copy by then).
pub fn load_raw(
    ctx: &ScmpFilterContext,
    stub: &[Insn],
    flags: Flags,
    handoff: Option<&mut Handoff<'_>>,
) -> Result<(), SeccompError> {
    let mut program: Vec<libc::sock_filter> = stub
        .iter()
        .chain(export(ctx)?.iter())
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    if program.len() > MAX_INSNS {
        return Err(SeccompError::Patch {
            step: "the patched program exceeds BPF_MAXINSNS (4096)",
            errno: Errno::E2BIG,
        });
    }
    let Some(handoff) = handoff else {
        return crate::sys::seccomp::set_mode_filter(&mut program, kernel_flags(flags)).map_err(
            |errno| SeccompError::Patch {
                step: "seccomp(SECCOMP_SET_MODE_FILTER) with the ENOSYS stub",
                errno,
            },
        );
    };
    let fd = load_listener(&mut program, flags)?;
    handoff(fd.as_fd()).map_err(SeccompError::Handoff)?;
    drop(fd);
    drop(program);
    Ok(())
}

/// seccomp(2) with NEW_LISTENER (the kernel call adds it).
fn load_listener(program: &mut [libc::sock_filter], flags: Flags) -> Result<OwnedFd, SeccompError> {
    listener_flags(flags, |bits| {
        crate::sys::seccomp::set_mode_filter_listener(program, bits)
    })
    .map_err(|errno| SeccompError::Patch {
        step: "seccomp(SECCOMP_SET_MODE_FILTER) with a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER)",
        errno,
    })
}

/// Call `load` with the flags of a filter with a listener: TSYNC_ESRCH beside TSYNC (the
/// kernel refuses TSYNC with NEW_LISTENER otherwise), and WAIT_KILLABLE_RECV tried first when
/// the config did not ask for it, then dropped if the kernel refuses it (EINVAL: before 5.19).
fn listener_flags<T>(
    flags: Flags,
    mut load: impl FnMut(libc::c_ulong) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let mut bits = kernel_flags(flags);
    if flags.tsync {
        bits |= FLAG_TSYNC_ESRCH;
    }
    if !flags.wait_killable_recv {
        match load(bits | FLAG_WAIT_KILLABLE_RECV) {
            Err(Errno::EINVAL) => {}
            other => return other,
        }
    }
    load(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libseccomp::ScmpAction;

    #[test]
    fn exported_program_parses_and_starts_with_the_arch_check() {
        let ctx = ScmpFilterContext::new(ScmpAction::Allow).expect("filter");
        let program = export(&ctx).expect("exports");
        assert_eq!(program.first().map(|i| (i.code, i.k)), Some((0x20, 4)));
        assert_eq!(
            program.last().map(|i| i.code),
            Some(0x06),
            "ends with a ret"
        );
    }

    #[test]
    fn a_truncated_program_is_refused() {
        assert!(parse_program(&[0u8; 12]).is_err());
        assert_eq!(parse_program(&[]).expect("empty is fine").len(), 0);
    }

    #[test]
    fn flags_map_to_the_kernel_bits() {
        let all = Flags {
            log: true,
            spec_allow: true,
            tsync: true,
            wait_killable_recv: true,
        };
        assert_eq!(kernel_flags(all), 0b10_0111);
        assert_eq!(kernel_flags(Flags::default()), 0);
    }

    /// The flags each seccomp(2) attempt of a filter with a listener gets, with a kernel that
    /// knows WAIT_KILLABLE_RECV (`new`) or not.
    fn attempts(flags: Flags, new: bool) -> (Vec<libc::c_ulong>, Result<(), Errno>) {
        let mut seen = Vec::new();
        let result = listener_flags(flags, |bits| {
            seen.push(bits);
            if !new && bits & FLAG_WAIT_KILLABLE_RECV != 0 {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        });
        (seen, result)
    }

    #[test]
    fn wait_killable_recv_is_tried_first_and_dropped_on_einval_unless_asked_for() {
        let none = Flags::default();
        assert_eq!(
            attempts(none, true),
            (vec![FLAG_WAIT_KILLABLE_RECV], Ok(()))
        );
        assert_eq!(
            attempts(none, false),
            (vec![FLAG_WAIT_KILLABLE_RECV, 0], Ok(()))
        );
        let asked = Flags {
            wait_killable_recv: true,
            ..Flags::default()
        };
        assert_eq!(
            attempts(asked, false),
            (vec![FLAG_WAIT_KILLABLE_RECV], Err(Errno::EINVAL))
        );
        let tsync = Flags {
            tsync: true,
            ..Flags::default()
        };
        let both = libc::SECCOMP_FILTER_FLAG_TSYNC | FLAG_TSYNC_ESRCH;
        assert_eq!(
            attempts(tsync, true),
            (vec![both | FLAG_WAIT_KILLABLE_RECV], Ok(()))
        );
    }
}
