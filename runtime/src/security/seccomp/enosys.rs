//! runc 1.1's "-ENOSYS stub": a few BPF instructions put in front of libseccomp's program so
//! that a syscall *newer than every syscall the profile names* fails with ENOSYS instead of
//! the default action. Without it, a profile written before (say) `clone3` or `faccessat2`
//! existed makes them fail with EPERM, and glibc only falls back to the old syscall on
//! ENOSYS (runc `libcontainer/seccomp/patchbpf`, the faccessat2 breakage of 2021).
//!
//! Same rules as runc: no stub when the default action already lets syscalls through
//! (ALLOW, LOG, TRACE) or already returns ENOSYS; only the architectures listed in
//! `linux.seccomp.architectures` get a section (others meet libseccomp's bad-arch action);
//! the largest number is taken over every name in the profile, whatever its action.
//! Unlike runc, an architecture runc cannot map (loongarch64, m68k, sh, parisc) is left
//! without a section instead of failing the container.
//!
//! Layout (every long jump is a `ja`, so no conditional offset can overflow its 8 bits):
//!
//! ```text
//!   ld  [4]                      ; seccomp_data.arch
//!   jeq AUDIT_ARCH_1, 0, 1 ; ja section_1      (one pair per architecture)
//!   ...
//!   ja  program
//! section (one arch, x86_64 with x32 shown):
//!   ld  [0]                      ; seccomp_data.nr
//!   jset 0x40000000, 1, 0        ; x32 call?
//!   jgt  MAX_X86_64, 1, 2
//!   jgt  MAX_X32,    0, 1
//!   ret  ERRNO(ENOSYS)
//!   ja   program
//! program:                       ; libseccomp's filter, unchanged
//! ```

use libseccomp::{ScmpArch, ScmpSyscall};

use super::plan::{Action, Plan};

/// `SECCOMP_RET_ERRNO | ENOSYS`.
pub const RET_ENOSYS: u32 = 0x0005_0000 | libc::ENOSYS as u32;
/// x32 syscalls are x86_64 ones with this bit set in the number.
const X32_BIT: u32 = 0x4000_0000;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

pub const LD_W_ABS: u16 = 0x20;
pub const JEQ_K: u16 = 0x15;
pub const JGT_K: u16 = 0x25;
pub const JSET_K: u16 = 0x45;
pub const JA: u16 = 0x05;
pub const RET_K: u16 = 0x06;

/// One classic-BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// The largest syscall number the profile names, for one libseccomp architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSyscall {
    pub arch: ScmpArch,
    pub audit_arch: u32,
    pub max: u32,
}

/// Whether a stub is needed at all for this default action.
pub fn needed(default: Action) -> bool {
    match default {
        // TRACE counts as "allow" in runc: a tracer should handle new syscalls itself.
        Action::Allow | Action::Log | Action::Trace(_) => false,
        Action::Errno(e) => i32::from(e) != libc::ENOSYS,
        // Never the default (plan refuses it); as a blocking action it would need the stub.
        Action::KillThread | Action::KillProcess | Action::Trap | Action::Notify => true,
    }
}

/// The kernel's AUDIT_ARCH value for an architecture runc knows how to patch.
pub fn audit_arch(arch: ScmpArch) -> Option<u32> {
    Some(match arch {
        // Callers resolve SCMP_ARCH_NATIVE to the real architecture first.
        ScmpArch::Native => return None,
        ScmpArch::X86 => 0x4000_0003,
        ScmpArch::X8664 | ScmpArch::X32 => AUDIT_ARCH_X86_64,
        ScmpArch::Arm => 0x4000_0028,
        ScmpArch::Aarch64 => 0xc000_00b7,
        ScmpArch::Mips => 0x0000_0008,
        ScmpArch::Mips64 => 0x8000_0008,
        ScmpArch::Mips64N32 => 0xa000_0008,
        ScmpArch::Mipsel => 0x4000_0008,
        ScmpArch::Mipsel64 => 0xc000_0008,
        ScmpArch::Mipsel64N32 => 0xe000_0008,
        ScmpArch::Ppc => 0x0000_0014,
        ScmpArch::Ppc64 => 0x8000_0015,
        ScmpArch::Ppc64Le => 0xc000_0015,
        ScmpArch::S390 => 0x0000_0016,
        ScmpArch::S390X => 0x8000_0016,
        ScmpArch::Riscv64 => 0xc000_00f3,
        _ => return None,
    })
}

/// The largest number per listed architecture, over every syscall name of the plan.
pub fn last_syscalls(plan: &Plan) -> Vec<LastSyscall> {
    let names: Vec<&str> = plan
        .rules
        .iter()
        .map(|r| r.syscall.as_str())
        .chain(plan.skipped.iter().map(|s| s.syscall.as_str()))
        .collect();
    let mut out: Vec<LastSyscall> = Vec::new();
    for &listed in &plan.architectures {
        let arch = if listed == ScmpArch::Native {
            ScmpArch::native()
        } else {
            listed
        };
        let Some(audit_arch) = audit_arch(arch) else {
            continue;
        };
        if out.iter().any(|l| l.arch == arch) {
            continue;
        }
        let max = names
            .iter()
            .filter_map(|n| ScmpSyscall::from_name_by_arch(n, arch).ok())
            .filter_map(|s| u32::try_from(s.as_raw_syscall()).ok())
            .max();
        if let Some(max) = max {
            out.push(LastSyscall {
                arch,
                audit_arch,
                max,
            });
        }
    }
    out
}

/// A jump still to be resolved: to the libseccomp program or to a section.
enum Target {
    Program,
    Section(usize),
}

/// Build the stub; the libseccomp program must follow it directly.
pub fn stub(last: &[LastSyscall]) -> Vec<Insn> {
    let mut groups: Vec<(u32, Vec<LastSyscall>)> = Vec::new();
    for l in last {
        match groups.iter_mut().find(|(a, _)| *a == l.audit_arch) {
            Some((_, v)) => v.push(*l),
            None => groups.push((l.audit_arch, vec![*l])),
        }
    }
    let sections: Vec<(u32, Vec<Insn>)> = groups
        .iter()
        .filter_map(|(audit, members)| section(*audit, members).map(|s| (*audit, s)))
        .collect();
    if sections.is_empty() {
        return Vec::new();
    }
    let mut code: Vec<(Insn, Option<Target>)> = vec![(insn(LD_W_ABS, 0, 0, 4), None)];
    for (i, (audit, _)) in sections.iter().enumerate() {
        code.push((insn(JEQ_K, 0, 1, *audit), None));
        code.push((insn(JA, 0, 0, 0), Some(Target::Section(i))));
    }
    code.push((insn(JA, 0, 0, 0), Some(Target::Program)));
    let mut starts = Vec::new();
    for (_, body) in &sections {
        starts.push(code.len());
        for ins in body {
            let target = (ins.code == JA).then_some(Target::Program);
            code.push((*ins, target));
        }
    }
    let end = code.len();
    code.into_iter()
        .enumerate()
        .map(|(pc, (mut ins, target))| {
            let dest = match target {
                None => return ins,
                Some(Target::Program) => end,
                Some(Target::Section(i)) => starts[i],
            };
            ins.k = (dest - pc - 1) as u32;
            ins
        })
        .collect()
}

/// The body of one architecture's section; its `ja` instructions go to the program.
fn section(audit: u32, members: &[LastSyscall]) -> Option<Vec<Insn>> {
    let ld_nr = insn(LD_W_ABS, 0, 0, 0);
    let enosys = insn(RET_K, 0, 0, RET_ENOSYS);
    let to_program = insn(JA, 0, 0, 0);
    let max_of = |arch| members.iter().find(|m| m.arch == arch).map(|m| m.max);
    let mut body = vec![ld_nr];
    if audit == AUDIT_ARCH_X86_64 {
        match (max_of(ScmpArch::X8664), max_of(ScmpArch::X32)) {
            (Some(x64), Some(x32)) => body.extend([
                insn(JSET_K, 1, 0, X32_BIT),
                insn(JGT_K, 1, 2, x64),
                insn(JGT_K, 0, 1, x32),
            ]),
            // Only one ABI listed: calls of the other one go straight to libseccomp.
            (Some(x64), None) => body.extend([insn(JSET_K, 2, 0, X32_BIT), insn(JGT_K, 0, 1, x64)]),
            (None, Some(x32)) => body.extend([insn(JSET_K, 0, 2, X32_BIT), insn(JGT_K, 0, 1, x32)]),
            (None, None) => return None,
        }
    } else {
        let [only] = members else { return None };
        if matches!(only.arch, ScmpArch::S390 | ScmpArch::S390X) {
            // s390 multiplexes large syscall numbers through setup(2) = 0; an unknown one
            // arrives as 0, so 0 must be ENOSYS too (runc does the same).
            body.extend([insn(JEQ_K, 0, 1, 0), enosys]);
        }
        body.push(insn(JGT_K, 0, 1, only.max));
    }
    body.extend([enosys, to_program]);
    Some(body)
}

#[cfg(test)]
mod tests;
