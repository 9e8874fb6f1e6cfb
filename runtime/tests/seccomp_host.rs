//! `linux.seccomp` (config-linux.md#seccomp) seen from inside: the filter mode in
//! /proc/self/status, a denied syscall's errno (default EPERM, or errnoRet), the default
//! action, an argument rule, and a kill action.

mod support;

use serde_json::{json, Value};
use support::{sh_ok, status_field, Rt};

/// Deny mkdir/mkdirat with `action` (and `extra` fields such as errnoRet); allow the rest.
fn deny_mkdir(action: &str, extra: Value) -> Value {
    let mut rule = json!({"names": ["mkdir", "mkdirat"], "action": action});
    support::merge(&mut rule, &extra);
    json!({"defaultAction": "SCMP_ACT_ALLOW",
           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
           "syscalls": [rule]})
}

#[test]
#[ignore = "needs root and busybox-static"]
fn filter_mode_and_errno_ret_with_and_without_no_new_privileges() {
    support::require_root();
    let rt = Rt::new();
    // noNewPrivileges decides when the filter is loaded (just before execve, or before the
    // capabilities are dropped); both paths must end with the filter in place.
    let mut outs = Vec::new();
    for nnp in [false, true] {
        let patch = json!({"process": {"noNewPrivileges": nnp}, "linux": {
            "seccomp": deny_mkdir("SCMP_ACT_ERRNO", json!({"errnoRet": 28}))}});
        let out = sh_ok(
            &rt,
            "scerr",
            "grep -E '^Seccomp(_filters)?:' /proc/self/status; mkdir /tmp/d 2>&1; echo done",
            patch,
        );
        outs.push((nnp, out));
    }
    for (nnp, out) in outs {
        assert_eq!(
            status_field(&out, "Seccomp").as_deref(),
            Some("2"),
            "{nnp}: {out}"
        );
        assert!(out.contains("No space left on device"), "nnp={nnp}: {out}");
        assert!(out.ends_with("done\n"), "{out}");
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn errno_action_defaults_to_eperm() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"seccomp": deny_mkdir("SCMP_ACT_ERRNO", json!({}))}});
    let out = sh_ok(
        &rt,
        "sceperm",
        "mkdir /tmp/d 2>&1; test -d /tmp/d || echo absent",
        patch,
    );
    assert!(out.contains("Operation not permitted"), "{out}");
    assert!(out.ends_with("absent\n"), "{out}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn no_seccomp_means_mode_zero() {
    support::require_root();
    let rt = Rt::new();
    let out = sh_ok(
        &rt,
        "scnone",
        "grep '^Seccomp:' /proc/self/status",
        json!({}),
    );
    assert_eq!(status_field(&out, "Seccomp").as_deref(), Some("0"));
}

/// What busybox sh, echo and cat need (found with strace), plus what glibc may call; mkdir is
/// not on the list, so it meets the default action.
const ALLOWED: &[&str] = &[
    "access",
    "arch_prctl",
    "brk",
    "capget",
    "chdir",
    "clone",
    "clone3",
    "close",
    "dup",
    "dup2",
    "dup3",
    "execve",
    "exit",
    "exit_group",
    "fcntl",
    "fstat",
    "futex",
    "getcwd",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getrandom",
    "getuid",
    "ioctl",
    "lseek",
    "lstat",
    "madvise",
    "mmap",
    "mprotect",
    "munmap",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "pipe",
    "pipe2",
    "poll",
    "prctl",
    "pread64",
    "prlimit64",
    "read",
    "readlink",
    "rseq",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sendfile",
    "set_robust_list",
    "set_tid_address",
    "setpgid",
    "sigaltstack",
    "stat",
    "statx",
    "uname",
    "vfork",
    "wait4",
    "write",
    "writev",
    // runc's init (Go) after loading the filter: its procfs check, scheduler and signals.
    "fstatfs",
    "statfs",
    "close_range",
    "gettid",
    "tgkill",
    "sched_yield",
    "epoll_pwait",
    "epoll_ctl",
    "epoll_create1",
    "clock_gettime",
    "mremap",
    "restart_syscall",
];

#[test]
#[ignore = "needs root and busybox-static"]
fn default_action_applies_to_unlisted_syscalls() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"seccomp": {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ALLOWED, "action": "SCMP_ACT_ALLOW"}]
    }}});
    let out = sh_ok(&rt, "scdef", "echo alive; mkdir /tmp/d 2>&1; true", patch);
    assert!(out.starts_with("alive\n"), "{out}");
    assert!(out.contains("Function not implemented"), "{out}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn argument_rule_matches_only_the_given_value() {
    support::require_root();
    let rt = Rt::new();
    // kill(pid, SIGUSR1) is refused; kill(pid, 0) is not.
    let patch = json!({"linux": {"seccomp": {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                      "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]
    }}});
    let out = sh_ok(
        &rt,
        "scarg",
        "kill -USR1 $$ 2>&1 || echo usr1-refused; kill -0 $$ && echo zero-ok",
        patch,
    );
    assert!(out.contains("Operation not permitted"), "{out}");
    assert!(out.contains("usr1-refused\n"), "{out}");
    assert!(out.ends_with("zero-ok\n"), "{out}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn kill_process_action_kills_with_sigsys() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"seccomp": deny_mkdir("SCMP_ACT_KILL_PROCESS", json!({}))}});
    let out = sh_ok(&rt, "sckill", "mkdir /tmp/d 2>/dev/null; echo rc=$?", patch);
    assert_eq!(out, format!("rc={}\n", 128 + libc::SIGSYS));
}
