//! The stub is checked by running it in a small classic-BPF interpreter over
//! `(arch, nr)` pairs: it either returns ENOSYS or falls through to libseccomp's program.

use oci_spec::runtime::LinuxSeccomp;
use rstest::rstest;
use serde_json::json;

use super::*;
use crate::security::seccomp::plan::plan;

const I386: u32 = 0x4000_0003;
const AARCH64: u32 = 0xc000_00b7;
const S390X: u32 = 0x8000_0016;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ret(u32),
    Program,
}

fn run(stub: &[Insn], arch: u32, nr: u32) -> Outcome {
    let mut acc = 0u32;
    let mut pc = 0usize;
    for _ in 0..1000 {
        let Some(i) = stub.get(pc) else {
            assert_eq!(pc, stub.len(), "jumped past the program start");
            return Outcome::Program;
        };
        let cond = |taken: bool| if taken { i.jt } else { i.jf } as usize;
        pc += 1 + match i.code {
            LD_W_ABS => {
                acc = match i.k {
                    0 => nr,
                    4 => arch,
                    k => panic!("unexpected load offset {k}"),
                };
                0
            }
            JEQ_K => cond(acc == i.k),
            JGT_K => cond(acc > i.k),
            JSET_K => cond(acc & i.k != 0),
            JA => i.k as usize,
            RET_K => return Outcome::Ret(i.k),
            code => panic!("unexpected opcode {code:#x}"),
        };
    }
    panic!("stub does not terminate");
}

fn stub_for(v: serde_json::Value) -> Vec<Insn> {
    let cfg: LinuxSeccomp = serde_json::from_value(v).expect("valid seccomp");
    let p = plan(&cfg).expect("plans");
    stub(&last_syscalls(&p))
}

fn profile(arches: serde_json::Value) -> serde_json::Value {
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": arches,
        "syscalls": [{"names": ["read", "openat2", "exit_group"], "action": "SCMP_ACT_ALLOW"}]
    })
}

#[rstest]
#[case::x86_64_newer(AUDIT_ARCH_X86_64, 438, Outcome::Ret(RET_ENOSYS))]
#[case::x86_64_far_newer(AUDIT_ARCH_X86_64, 100_000, Outcome::Ret(RET_ENOSYS))]
#[case::x86_64_last_known(AUDIT_ARCH_X86_64, 437, Outcome::Program)]
#[case::x86_64_old(AUDIT_ARCH_X86_64, 110, Outcome::Program)]
#[case::x32_newer(AUDIT_ARCH_X86_64, X32_BIT | 438, Outcome::Ret(RET_ENOSYS))]
#[case::x32_old(AUDIT_ARCH_X86_64, X32_BIT | 10, Outcome::Program)]
#[case::i386_newer(I386, 1000, Outcome::Ret(RET_ENOSYS))]
#[case::i386_old(I386, 3, Outcome::Program)]
#[case::unlisted_arch(AARCH64, 1000, Outcome::Program)]
fn stub_returns_enosys_only_above_the_newest_listed_syscall(
    #[case] arch: u32,
    #[case] nr: u32,
    #[case] expected: Outcome,
) {
    let s = stub_for(profile(json!([
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32"
    ])));
    assert_eq!(run(&s, arch, nr), expected);
}

#[test]
fn x32_calls_go_to_libseccomp_when_only_x86_64_is_listed() {
    let s = stub_for(profile(json!(["SCMP_ARCH_X86_64"])));
    assert_eq!(run(&s, AUDIT_ARCH_X86_64, X32_BIT | 999), Outcome::Program);
    assert_eq!(run(&s, AUDIT_ARCH_X86_64, 999), Outcome::Ret(RET_ENOSYS));
}

#[test]
fn x86_64_calls_go_to_libseccomp_when_only_x32_is_listed() {
    let s = stub_for(profile(json!(["SCMP_ARCH_X32"])));
    assert_eq!(run(&s, AUDIT_ARCH_X86_64, 999), Outcome::Program);
    assert_eq!(
        run(&s, AUDIT_ARCH_X86_64, X32_BIT | 999),
        Outcome::Ret(RET_ENOSYS)
    );
}

#[test]
fn native_is_resolved_to_the_running_arch() {
    let s = stub_for(profile(json!(["SCMP_ARCH_NATIVE"])));
    assert_eq!(run(&s, AUDIT_ARCH_X86_64, 999), Outcome::Ret(RET_ENOSYS));
}

#[test]
fn s390x_setup_multiplexer_returns_enosys() {
    let s = stub_for(profile(json!(["SCMP_ARCH_S390X"])));
    assert_eq!(run(&s, S390X, 0), Outcome::Ret(RET_ENOSYS));
    assert_eq!(run(&s, S390X, 3), Outcome::Program);
    assert_eq!(run(&s, S390X, 5000), Outcome::Ret(RET_ENOSYS));
}

#[test]
fn no_listed_architectures_means_no_stub_like_runc() {
    let cfg = json!({"defaultAction": "SCMP_ACT_ERRNO",
                     "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]});
    assert!(stub_for(cfg).is_empty());
}

#[test]
fn names_with_the_default_action_still_count_for_the_maximum() {
    // openat2 matches the default action, so no rule is added for it, but runc still
    // counts it: 437 is "known" and must not turn into ENOSYS.
    let cfg = json!({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                     "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                                  {"names": ["openat2"], "action": "SCMP_ACT_ERRNO"}]});
    let s = stub_for(cfg);
    assert_eq!(run(&s, AUDIT_ARCH_X86_64, 437), Outcome::Program);
    assert_eq!(run(&s, AUDIT_ARCH_X86_64, 438), Outcome::Ret(RET_ENOSYS));
}

#[rstest]
#[case(Action::Allow, false)]
#[case(Action::Log, false)]
#[case(Action::Trace(1), false)]
#[case(Action::Errno(libc::ENOSYS as u16), false)]
#[case(Action::Errno(libc::EPERM as u16), true)]
#[case(Action::KillThread, true)]
#[case(Action::KillProcess, true)]
#[case(Action::Trap, true)]
fn stub_only_when_the_default_action_blocks(#[case] default: Action, #[case] want: bool) {
    assert_eq!(needed(default), want);
}

#[test]
fn compile_attaches_the_stub_only_when_needed() {
    use crate::security::seccomp::compile;
    let blocked: LinuxSeccomp =
        serde_json::from_value(profile(json!(["SCMP_ARCH_X86_64"]))).expect("valid");
    assert!(!compile(&blocked)
        .expect("compiles")
        .enosys_stub()
        .is_empty());
    let mut enosys = profile(json!(["SCMP_ARCH_X86_64"]));
    enosys["defaultErrnoRet"] = json!(38);
    let enosys: LinuxSeccomp = serde_json::from_value(enosys).expect("valid");
    assert!(compile(&enosys).expect("compiles").enosys_stub().is_empty());
}

#[test]
fn audit_arch_values_match_the_spec_constants() {
    use oci_spec::runtime::Arch;
    for a in [
        Arch::ScmpArchX86,
        Arch::ScmpArchX86_64,
        Arch::ScmpArchArm,
        Arch::ScmpArchAarch64,
        Arch::ScmpArchMips,
        Arch::ScmpArchMips64,
        Arch::ScmpArchMips64n32,
        Arch::ScmpArchMipsel,
        Arch::ScmpArchMipsel64,
        Arch::ScmpArchMipsel64n32,
        Arch::ScmpArchPpc,
        Arch::ScmpArchPpc64,
        Arch::ScmpArchPpc64le,
        Arch::ScmpArchS390,
        Arch::ScmpArchS390x,
        Arch::ScmpArchRiscv64,
    ] {
        let ours = audit_arch(crate::security::seccomp::plan::arch(a));
        assert_eq!(ours, Some(a as u32), "{a:?}");
    }
}
