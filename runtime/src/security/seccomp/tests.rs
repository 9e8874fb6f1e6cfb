//! Rule translation (pure, via `plan`) and the built filter (via libseccomp's PFC export);
//! nothing here loads a filter.

use std::io::{Read, Seek};

use oci_spec::runtime::LinuxSeccomp;
use rstest::rstest;
use serde_json::json;

use super::*;

fn cfg(v: serde_json::Value) -> LinuxSeccomp {
    serde_json::from_value(v).expect("valid linux.seccomp")
}

fn one_call(action: &str, errno_ret: Option<u32>, args: serde_json::Value) -> LinuxSeccomp {
    let mut call = json!({"names": ["getcwd"], "action": action, "args": args});
    if let Some(e) = errno_ret {
        call["errnoRet"] = json!(e);
    }
    cfg(json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [call]}))
}

fn pfc(c: &LinuxSeccomp) -> String {
    let filter = compile(c).expect("compiles");
    let mut file = tempfile::tempfile().expect("tempfile");
    filter.export_pfc(&file).expect("export");
    file.rewind().expect("rewind");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("utf-8 pfc");
    text
}

#[rstest]
#[case("SCMP_ACT_KILL", None, Action::KillThread)]
#[case("SCMP_ACT_KILL_THREAD", None, Action::KillThread)]
#[case("SCMP_ACT_KILL_PROCESS", None, Action::KillProcess)]
#[case("SCMP_ACT_TRAP", None, Action::Trap)]
#[case("SCMP_ACT_ERRNO", None, Action::Errno(libc::EPERM as u16))]
#[case("SCMP_ACT_ERRNO", Some(38), Action::Errno(38))]
#[case("SCMP_ACT_TRACE", None, Action::Trace(libc::EPERM as u16))]
#[case("SCMP_ACT_TRACE", Some(7), Action::Trace(7))]
#[case("SCMP_ACT_LOG", None, Action::Log)]
fn syscall_actions_follow_runc(
    #[case] action: &str,
    #[case] errno_ret: Option<u32>,
    #[case] expected: Action,
) {
    let p = plan::plan(&one_call(action, errno_ret, json!([]))).expect("plans");
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].action, expected);
    assert_eq!(p.rules[0].syscall, "getcwd");
    assert!(p.rules[0].conditions.is_empty());
}

#[rstest]
#[case(json!({"defaultAction": "SCMP_ACT_ERRNO"}), Action::Errno(1))]
#[case(json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}), Action::Errno(38))]
#[case(json!({"defaultAction": "SCMP_ACT_KILL_PROCESS"}), Action::KillProcess)]
#[case(json!({"defaultAction": "SCMP_ACT_ALLOW"}), Action::Allow)]
fn default_action_and_default_errno_ret(#[case] v: serde_json::Value, #[case] expected: Action) {
    assert_eq!(plan::plan(&cfg(v)).expect("plans").default_action, expected);
}

#[rstest]
#[case("SCMP_CMP_NE", 3, None, Op::Ne, 3)]
#[case("SCMP_CMP_LT", 3, None, Op::Lt, 3)]
#[case("SCMP_CMP_LE", 3, None, Op::Le, 3)]
#[case("SCMP_CMP_EQ", 3, None, Op::Eq, 3)]
#[case("SCMP_CMP_GE", 3, None, Op::Ge, 3)]
#[case("SCMP_CMP_GT", 3, None, Op::Gt, 3)]
#[case("SCMP_CMP_MASKED_EQ", 0xff, Some(8), Op::MaskedEq { mask: 0xff }, 8)]
fn every_operator(
    #[case] op: &str,
    #[case] value: u64,
    #[case] value_two: Option<u64>,
    #[case] expected_op: Op,
    #[case] expected_value: u64,
) {
    let mut arg = json!({"index": 2, "op": op, "value": value});
    if let Some(v2) = value_two {
        arg["valueTwo"] = json!(v2);
    }
    let p = plan::plan(&one_call("SCMP_ACT_ERRNO", None, json!([arg]))).expect("plans");
    assert_eq!(
        p.rules[0].conditions,
        [Condition {
            index: 2,
            op: expected_op,
            value: expected_value
        }]
    );
}

#[test]
fn distinct_indexes_are_anded_in_one_rule() {
    let args = json!([
        {"index": 0, "op": "SCMP_CMP_EQ", "value": 1},
        {"index": 1, "op": "SCMP_CMP_GT", "value": 5}
    ]);
    let p = plan::plan(&one_call("SCMP_ACT_ERRNO", None, args)).expect("plans");
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].conditions.len(), 2);
}

#[test]
fn a_shared_index_splits_into_one_rule_per_condition_like_runc() {
    let args = json!([
        {"index": 0, "op": "SCMP_CMP_EQ", "value": 1},
        {"index": 0, "op": "SCMP_CMP_EQ", "value": 2},
        {"index": 1, "op": "SCMP_CMP_GT", "value": 5}
    ]);
    let p = plan::plan(&one_call("SCMP_ACT_ERRNO", None, args)).expect("plans");
    let per_rule: Vec<Vec<u64>> = p
        .rules
        .iter()
        .map(|r| r.conditions.iter().map(|c| c.value).collect())
        .collect();
    assert_eq!(per_rule, [vec![1], vec![2], vec![5]]);
}

#[test]
fn names_expand_unknown_are_skipped_and_default_action_rules_dropped() {
    let c = cfg(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["getcwd", "no_such_syscall_ferrun", "mkdir"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["chdir"], "action": "SCMP_ACT_ERRNO"}
        ]
    }));
    let p = plan::plan(&c).expect("plans");
    let names: Vec<&str> = p.rules.iter().map(|r| r.syscall.as_str()).collect();
    assert_eq!(names, ["getcwd", "mkdir"]);
    assert_eq!(
        p.skipped,
        [
            Skipped {
                syscall: "no_such_syscall_ferrun".into(),
                reason: SkipReason::UnknownSyscall
            },
            Skipped {
                syscall: "chdir".into(),
                reason: SkipReason::SameAsDefault
            }
        ]
    );
}

#[test]
fn a_different_errno_is_not_the_default_action() {
    let c = cfg(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    }));
    let p = plan::plan(&c).expect("plans");
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].action, Action::Errno(38));
}

#[rstest]
#[case::notify_default(json!({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/a.sock"}),
    "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action")]
#[case::notify_without_listener(json!({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
    "linux.seccomp.listenerPath: listenerPath is not set")]
#[case::notify_empty_listener(json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "",
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
    "linux.seccomp.listenerPath: listenerPath is not set")]
#[case::notify_write(json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a.sock",
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]}),
    "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall")]
#[case::wait_killable_without_notify(json!({"defaultAction": "SCMP_ACT_ALLOW",
    "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}),
    "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY rules")]
#[case::errno_too_big(json!({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]}),
    "linux.seccomp.syscalls[0].action: errnoRet 70000")]
#[case::arg_index(json!({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 6, "op": "SCMP_CMP_EQ", "value": 0}]}]}),
    "linux.seccomp.syscalls[0].args[0]: argument index 6")]
#[case::empty_name(json!({"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": [""], "action": "SCMP_ACT_ERRNO"}]}),
    "linux.seccomp.syscalls[0].names[0]: empty syscall name")]
fn refused_configs_name_the_field(#[case] v: serde_json::Value, #[case] expected: &str) {
    let err = compile(&cfg(v)).expect_err("refused");
    assert!(err.to_string().starts_with(expected), "{err}");
}

#[test]
fn notify_rules_ask_for_a_listener_and_keep_their_action() {
    let c = cfg(
        json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
        "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls": [{"names": ["mkdir", "no_such_syscall_xyz"], "action": "SCMP_ACT_NOTIFY"},
                     {"names": ["writev"], "action": "SCMP_ACT_NOTIFY"}]}),
    );
    let p = plan::plan(&c).expect("plans");
    assert!(p.listener);
    assert!(p.flags.wait_killable_recv);
    assert_eq!(p.rules.len(), 2, "{p:?}");
    assert!(p.rules.iter().all(|r| r.action == Action::Notify));
    let filter = compile(&c).expect("compiles");
    assert!(filter.has_listener());
    // SECCOMP_RET_USER_NOTIF, which libseccomp 2.5 prints as a number.
    assert!(pfc(&c).contains("action 0x7fc00000;"), "{}", pfc(&c));
    // A notify rule libseccomp cannot resolve still asks for the listener, as in runc.
    let only_unknown = cfg(
        json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a.sock",
        "syscalls": [{"names": ["no_such_syscall_xyz"], "action": "SCMP_ACT_NOTIFY"}]}),
    );
    assert!(plan::plan(&only_unknown).expect("plans").listener);
    let none = cfg(json!({"defaultAction": "SCMP_ACT_ALLOW"}));
    assert!(!compile(&none).expect("compiles").has_listener());
}

#[test]
fn a_filter_with_a_listener_is_not_loaded_without_a_handoff() {
    let c = cfg(
        json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a.sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
    );
    let err = compile(&c)
        .expect("compiles")
        .load(None)
        .expect_err("no handoff");
    assert!(matches!(err, SeccompError::NoHandoff), "{err}");
}

#[test]
fn a_listener_path_without_notify_rules_is_ignored() {
    let c = cfg(
        json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
        "listenerMetadata": "m", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}),
    );
    assert_eq!(plan::plan(&c).expect("plans").rules.len(), 1);
}

#[test]
fn unknown_flags_and_operators_are_rejected_when_parsing() {
    let bad_flag = serde_json::from_value::<LinuxSeccomp>(json!({
        "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]
    }));
    assert!(bad_flag.is_err());
    let bad_op = serde_json::from_value::<LinuxSeccomp>(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "op": "SCMP_CMP_BOGUS", "value": 0}]}]
    }));
    assert!(bad_op.is_err());
}

#[test]
fn flags_are_translated() {
    let c = cfg(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                  "SECCOMP_FILTER_FLAG_TSYNC"]
    }));
    let p = plan::plan(&c).expect("plans");
    assert_eq!(
        p.flags,
        Flags {
            log: true,
            spec_allow: true,
            tsync: true,
            wait_killable_recv: false
        }
    );
    let filter = compile(&c).expect("libseccomp accepts LOG, SPEC_ALLOW and TSYNC");
    assert!(filter.skipped().is_empty());
}

#[rstest]
#[case("SCMP_ARCH_X86", "x86")]
#[case("SCMP_ARCH_X32", "x32")]
#[case("SCMP_ARCH_AARCH64", "aarch64")]
fn architectures_are_added_to_the_filter(#[case] arch: &str, #[case] pfc_name: &str) {
    let text = pfc(&cfg(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", arch],
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]
    })));
    assert!(
        text.contains(&format!("# filter for arch {pfc_name} (")),
        "{text}"
    );
}

#[test]
fn every_spec_architecture_maps_to_libseccomp() {
    let names = [
        "SCMP_ARCH_NATIVE",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH",
        "SCMP_ARCH_SHEB",
    ];
    for name in names {
        let spec: oci_spec::runtime::Arch =
            serde_json::from_value(json!(name)).expect("spec arch name");
        let ours = plan::arch(spec);
        let theirs: libseccomp::ScmpArch = name.parse().expect("libseccomp arch name");
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn pfc_shows_actions_and_masked_eq() {
    let text = pfc(&cfg(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "op": "SCMP_CMP_MASKED_EQ", "value": 255, "valueTwo": 8}]}
        ]
    })));
    assert!(text.contains("# filter for syscall \"getcwd\""), "{text}");
    assert!(text.contains("action ERRNO(1);"), "{text}");
    assert!(text.contains("action KILL_PROCESS;"), "{text}");
    assert!(text.contains("if ($a0.lo32 & 0x000000ff == 8)"), "{text}");
    assert!(text.contains("action ERRNO(13);"), "{text}");
    assert!(text.contains("# default action\n  action ALLOW;"), "{text}");
}

#[test]
fn a_docker_like_profile_compiles_with_the_tree_optimisation() {
    let names: Vec<String> = [
        "read",
        "write",
        "openat",
        "close",
        "fstat",
        "mmap",
        "mprotect",
        "munmap",
        "brk",
        "rt_sigaction",
        "rt_sigprocmask",
        "ioctl",
        "pread64",
        "pwrite64",
        "readv",
        "writev",
        "access",
        "pipe",
        "select",
        "sched_yield",
        "mremap",
        "msync",
        "mincore",
        "madvise",
        "dup",
        "dup2",
        "pause",
        "nanosleep",
        "getitimer",
        "alarm",
        "setitimer",
        "getpid",
        "sendfile",
        "socket",
        "connect",
        "execve",
        "exit_group",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let calls: Vec<serde_json::Value> = names
        .iter()
        .map(|n| json!({"names": [n], "action": "SCMP_ACT_ALLOW"}))
        .collect();
    let c = cfg(json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": calls}));
    let filter = compile(&c).expect("compiles");
    assert!(filter.skipped().is_empty());
}
