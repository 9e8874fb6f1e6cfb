//! Compile a device [`Policy`] into a `BPF_PROG_TYPE_CGROUP_DEVICE` program.
//!
//! Same shape as runc's libcontainer/cgroups/ebpf/devicefilter: the program gets a
//! `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }` in R1 and returns 1
//! (allow) or 0 (deny).
//!
//! ```text
//!   prologue:  R2 = type   (access_type & 0xffff)      R3 = access (access_type >> 16)
//!              R4 = major                              R5 = minor
//!   block i:   if R2 != type  goto block i+1
//!              [if (R3 & acc) != R3 goto block i+1]    (omitted when the rule grants rwm)
//!              [if R4 != major goto block i+1]         (omitted for a wildcard)
//!              [if R5 != minor goto block i+1]         (omitted for a wildcard)
//!              R0 = !default; exit
//!   epilogue:  R0 = default; exit
//! ```
//!
//! Exceptions never overlap in verdict (they all say `!default`), so first match is correct.

use super::{DevKind, DevRule, Policy, ACC_ALL};
use crate::sys::bpf::BpfInsn;

// Opcodes (include/uapi/linux/bpf_common.h + bpf.h).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X: u8 = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

/// `BPF_DEVCG_DEV_BLOCK` / `BPF_DEVCG_DEV_CHAR`.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

/// License passed to BPF_PROG_LOAD (no GPL-only helpers are called).
pub const LICENSE: &std::ffi::CStr = c"Apache-2.0";

fn prologue() -> [BpfInsn; 6] {
    [
        BpfInsn::new(LDX_MEM_W, R2, R1, 0, 0),
        BpfInsn::new(ALU32_AND_K, R2, 0, 0, 0xffff),
        BpfInsn::new(LDX_MEM_W, R3, R1, 0, 0),
        BpfInsn::new(ALU32_RSH_K, R3, 0, 0, 16),
        BpfInsn::new(LDX_MEM_W, R4, R1, 4, 0),
        BpfInsn::new(LDX_MEM_W, R5, R1, 8, 0),
    ]
}

fn verdict(allow: bool) -> [BpfInsn; 2] {
    [
        BpfInsn::new(ALU32_MOV_K, R0, 0, 0, i32::from(allow)),
        BpfInsn::new(JMP_EXIT, 0, 0, 0, 0),
    ]
}

/// One block: conditional jumps to the end of the block, then the verdict. Jump offsets are
/// relative to the next instruction, so each is "instructions left in this block".
fn block(rule: &DevRule) -> Vec<BpfInsn> {
    enum Cond {
        Imm(u8, i32),
        AccessSubset(i32),
    }
    let dev_type = match rule.kind {
        DevKind::Block => DEV_BLOCK,
        // Policy::fold expands "a" into char and block, so All never reaches here.
        DevKind::Char | DevKind::All => DEV_CHAR,
    };
    let mut conds = vec![Cond::Imm(R2, dev_type)];
    if rule.access != ACC_ALL {
        conds.push(Cond::AccessSubset(i32::from(rule.access)));
    }
    if let Some(m) = rule.major {
        conds.push(Cond::Imm(R4, m as u32 as i32));
    }
    if let Some(m) = rule.minor {
        conds.push(Cond::Imm(R5, m as u32 as i32));
    }
    // Lay out with placeholder offsets, then patch each jump to land after the block.
    let mut insns = Vec::new();
    let mut jumps = Vec::new();
    for c in conds {
        match c {
            Cond::Imm(reg, v) => {
                jumps.push(insns.len());
                insns.push(BpfInsn::new(JMP_JNE_K, reg, 0, 0, v));
            }
            Cond::AccessSubset(acc) => {
                // R1 is free after the prologue: R1 = R3 & acc; if R1 != R3 the request asks
                // for something this rule does not grant.
                insns.push(BpfInsn::new(ALU32_MOV_X, R1, R3, 0, 0));
                insns.push(BpfInsn::new(ALU32_AND_K, R1, 0, 0, acc));
                jumps.push(insns.len());
                insns.push(BpfInsn::new(JMP_JNE_X, R1, R3, 0, 0));
            }
        }
    }
    insns.extend(verdict(rule.allow));
    let len = insns.len();
    for j in jumps {
        insns[j].off = (len - j - 1) as i16;
    }
    insns
}

/// The whole program for `policy`.
pub fn compile(policy: &Policy) -> Vec<BpfInsn> {
    let mut insns = prologue().to_vec();
    for e in &policy.exceptions {
        insns.extend(block(e));
    }
    insns.extend(verdict(policy.default_allow));
    insns
}

/// Run `insns` on a device access the way the kernel would (only the opcodes `compile` emits).
/// Used by tests to check verdicts, not just shapes.
#[cfg(test)]
pub fn simulate(insns: &[BpfInsn], kind: DevKind, major: u32, minor: u32, access: u8) -> bool {
    let dev = if kind == DevKind::Block {
        DEV_BLOCK
    } else {
        DEV_CHAR
    } as u32;
    let ctx = [dev | (u32::from(access) << 16), major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = insns[pc];
        let (d, s) = (i.dst() as usize, i.src() as usize);
        pc += 1;
        match i.code {
            LDX_MEM_W => r[d] = u64::from(ctx[(i.off / 4) as usize]),
            ALU32_AND_K => r[d] = u64::from(r[d] as u32 & i.imm as u32),
            ALU32_RSH_K => r[d] = u64::from((r[d] as u32) >> i.imm),
            ALU32_MOV_K => r[d] = u64::from(i.imm as u32),
            ALU32_MOV_X => r[d] = u64::from(r[s] as u32),
            JMP_JNE_K if r[d] != i.imm as i64 as u64 => pc += i.off as usize,
            JMP_JNE_X if r[d] != r[s] => pc += i.off as usize,
            JMP_JNE_K | JMP_JNE_X => {}
            JMP_EXIT => return r[R0 as usize] == 1,
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{effective_rules, ACC_MKNOD, ACC_READ, ACC_WRITE, DEFAULT_ALLOWED};
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroup;
    use rstest::rstest;

    fn policy(json: &str) -> Policy {
        let cfg: Vec<LinuxDeviceCgroup> = serde_json::from_str(json).expect("json");
        Policy::fold(&effective_rules(Some(&cfg)).expect("rules"))
    }

    #[test]
    fn deny_all_is_prologue_plus_deny() {
        let p = Policy {
            default_allow: false,
            exceptions: vec![],
        };
        let insns = compile(&p);
        assert_eq!(insns.len(), 8);
        assert_eq!(insns[..6], prologue());
        assert_eq!(insns[6], BpfInsn::new(ALU32_MOV_K, R0, 0, 0, 0));
        assert_eq!(insns[7].code, JMP_EXIT);
    }

    #[test]
    fn block_shape_for_specific_rwm_and_partial_rules() {
        // c 1:3 rwm: type, major, minor checks then allow.
        let b = block(&DEFAULT_ALLOWED[2]);
        let codes: Vec<u8> = b.iter().map(|i| i.code).collect();
        assert_eq!(
            codes,
            [JMP_JNE_K, JMP_JNE_K, JMP_JNE_K, ALU32_MOV_K, JMP_EXIT]
        );
        assert_eq!(b.iter().map(|i| i.off).collect::<Vec<_>>(), [4, 3, 2, 0, 0]);
        assert_eq!((b[1].dst(), b[1].imm), (R4, 1));
        assert_eq!((b[2].dst(), b[2].imm), (R5, 3));
        // c *:* m: type check, then the access-subset check, no major/minor.
        let b = block(&DEFAULT_ALLOWED[0]);
        let codes: Vec<u8> = b.iter().map(|i| i.code).collect();
        assert_eq!(
            codes,
            [
                JMP_JNE_K,
                ALU32_MOV_X,
                ALU32_AND_K,
                JMP_JNE_X,
                ALU32_MOV_K,
                JMP_EXIT
            ]
        );
        assert_eq!(b[0].off, 5);
        assert_eq!(b[3].off, 2);
        assert_eq!(b[2].imm, i32::from(ACC_MKNOD));
    }

    #[test]
    fn every_jump_lands_inside_the_program() {
        let insns = compile(&policy(r#"[{"allow":false}]"#));
        for (pc, i) in insns.iter().enumerate() {
            if i.code == JMP_JNE_K || i.code == JMP_JNE_X {
                assert!(pc + 1 + (i.off as usize) < insns.len(), "jump at {pc}");
            }
        }
        assert_eq!(insns.last().map(|i| i.code), Some(JMP_EXIT));
    }

    const RW: u8 = ACC_READ | ACC_WRITE;

    #[rstest]
    #[case::null_rw(DevKind::Char, 1, 3, RW, true)]
    #[case::pts_any_minor(DevKind::Char, 136, 42, RW, true)]
    #[case::mknod_any_char(DevKind::Char, 8, 0, ACC_MKNOD, true)]
    #[case::mknod_any_block(DevKind::Block, 8, 0, ACC_MKNOD, true)]
    #[case::read_disk_denied(DevKind::Block, 8, 0, ACC_READ, false)]
    #[case::kmsg_denied(DevKind::Char, 1, 11, ACC_READ, false)]
    #[case::block_1_3_is_not_null(DevKind::Block, 1, 3, ACC_READ, false)]
    fn default_policy_verdicts(
        #[case] kind: DevKind,
        #[case] major: u32,
        #[case] minor: u32,
        #[case] access: u8,
        #[case] allowed: bool,
    ) {
        let insns = compile(&policy(r#"[{"allow":false,"access":"rwm"}]"#));
        assert_eq!(simulate(&insns, kind, major, minor, access), allowed);
    }

    #[test]
    fn blacklist_policy_denies_only_the_exception() {
        let insns = compile(&policy(
            r#"[{"allow":true},{"allow":false,"type":"c","major":10,"minor":229,"access":"rw"}]"#,
        ));
        // Defaults appended after an allow-all only remove bits from nothing: still allow-all.
        assert!(!simulate(&insns, DevKind::Char, 10, 229, ACC_READ));
        assert!(simulate(&insns, DevKind::Char, 10, 229, ACC_MKNOD));
        assert!(simulate(&insns, DevKind::Block, 8, 0, RW));
    }
}
