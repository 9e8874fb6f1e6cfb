//! Root tests of `ferrun::security` on the real kernel. Each case forks a child (the test
//! harness's other threads are not copied), changes the child's own seccomp filter,
//! capabilities, credentials or rlimits, checks the result from inside and reports through
//! its exit code; the parent asserts on the code. Nothing outside the child is changed, so
//! there is nothing to clean up. The tests are `#[ignore]`d unless requested (they need root
//! for seccomp without no_new_privs, capset and setresuid; see `support::require`).

use std::ffi::CString;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ferrun::security::{self, caps, rlimits, seccomp};
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::{LinuxCapabilities, LinuxSeccomp, PosixRlimit, Process};
use serde_json::json;

mod support;

/// Write to the real stderr: the harness only captures the print macros of its own threads.
fn say(msg: &str) {
    let _ = std::io::stderr().write_all(format!("[child] {msg}\n").as_bytes());
}

/// Run `f` in a forked child and return its exit code (128+signal if it was killed).
fn in_child(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `f` (syscalls and glibc calls that are fork-safe with
    // glibc's malloc) and leaves with `_exit`, never returning into the harness.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = catch_unwind(AssertUnwindSafe(f)).unwrap_or(101);
            // SAFETY: _exit skips atexit handlers and the harness's state; always sound.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => code,
            WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
            other => panic!("unexpected wait status {other:?}"),
        },
    }
}

fn errno_of(ret: libc::c_long) -> i32 {
    if ret == -1 {
        nix::errno::Errno::last_raw()
    } else {
        0
    }
}

/// The value of a `Key:\tvalue` line of /proc/self/status.
fn status(key: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

fn getcwd_errno() -> i32 {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    let ret = unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) };
    errno_of(ret)
}

fn profile() -> LinuxSeccomp {
    serde_json::from_value(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
             "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": 0}]},
            {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95,
             "args": [{"index": 0, "op": "SCMP_CMP_MASKED_EQ", "value": 448, "valueTwo": 448}]},
            {"names": ["no_such_syscall_ferrun"], "action": "SCMP_ACT_KILL"}
        ]
    }))
    .expect("valid profile")
}

#[test]
#[ignore = "needs root"]
fn seccomp_filter_denies_with_the_configured_errno() {
    support::require(&[support::Need::Root]);
    let dir = std::env::temp_dir().join(format!("ferrun-sec-mkdir-{}", std::process::id()));
    let path = CString::new(dir.to_str().expect("utf-8 path")).expect("no NUL");
    let code = in_child(|| {
        let filter = match seccomp::compile(&profile()) {
            Ok(f) => f,
            Err(e) => return (say(&format!("compile: {e}")), 10).1,
        };
        if let Err(e) = filter.load(None) {
            return (say(&format!("load: {e}")), 11).1;
        }
        if getcwd_errno() != libc::EPERM {
            return 12;
        }
        // SAFETY: valid NUL-terminated path.
        if errno_of(unsafe { libc::mkdir(path.as_ptr(), 0o700) } as libc::c_long) != libc::EACCES {
            return 13;
        }
        // SAFETY: plain integer arguments.
        let (denied, allowed) = unsafe {
            (
                libc::syscall(libc::SYS_getpriority, 0, 0), // PRIO_PROCESS: arg0 == 0
                libc::syscall(libc::SYS_getpriority, 1, 0), // PRIO_PGRP
            )
        };
        if errno_of(denied) != libc::EINVAL || errno_of(allowed) != 0 {
            return 14;
        }
        // SAFETY: plain integer arguments.
        let (masked_hit, masked_miss) = unsafe {
            (
                libc::syscall(libc::SYS_umask, 0o777), // 0o777 & 0o700 == 0o700: denied
                libc::syscall(libc::SYS_umask, 0o022), // 0o022 & 0o700 == 0: allowed
            )
        };
        if errno_of(masked_hit) != libc::EOPNOTSUPP || errno_of(masked_miss) != 0 {
            return 15;
        }
        0
    });
    let leaked = dir.exists();
    if leaked {
        let _ = std::fs::remove_dir(&dir);
    }
    assert_eq!(code, 0, "child failed at step {code}");
    assert!(!leaked, "mkdir was not denied");
}

#[test]
#[ignore = "needs root"]
fn seccomp_kill_process_kills_the_child() {
    support::require(&[support::Need::Root]);
    let cfg: LinuxSeccomp = serde_json::from_value(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_KILL_PROCESS"}]
    }))
    .expect("valid profile");
    let code = in_child(|| {
        let Ok(filter) = seccomp::compile(&cfg) else {
            return 10;
        };
        if filter.load(None).is_err() {
            return 11;
        }
        getcwd_errno();
        12
    });
    assert_eq!(code, 128 + libc::SIGSYS, "expected death by SIGSYS");
}

fn capabilities(v: serde_json::Value) -> LinuxCapabilities {
    serde_json::from_value(v).expect("valid capabilities")
}

#[test]
#[ignore = "needs root"]
fn caps_apply_sets_bounding_effective_and_permitted() {
    support::require(&[support::Need::Root]);
    let c = capabilities(json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL"],
        "effective": ["CAP_CHOWN"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"]
    }));
    let code = in_child(|| {
        if let Err(e) = caps::apply(&c) {
            return (say(&format!("apply: {e}")), 10).1;
        }
        let expect = [
            ("CapBnd", "0000000000000021"),
            ("CapEff", "0000000000000001"),
            ("CapPrm", "0000000000000021"),
            ("CapInh", "0000000000000020"),
            ("CapAmb", "0000000000000020"),
        ];
        for (i, (key, want)) in expect.iter().enumerate() {
            let got = status(key);
            if got != *want {
                say(&format!("{key}: got {got}, want {want}"));
                return 20 + i as i32;
            }
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

fn process(v: serde_json::Value) -> Process {
    serde_json::from_value(v).expect("valid process")
}

#[test]
#[ignore = "needs root"]
fn apply_process_switches_user_keeps_configured_caps_and_defers_seccomp_with_nnp() {
    support::require(&[support::Need::Root]);
    let p = process(json!({
        "user": {"uid": 65534, "gid": 65534, "additionalGids": [1234]},
        "args": ["sh"], "cwd": "/", "noNewPrivileges": true,
        "capabilities": {
            "bounding": ["CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_NET_BIND_SERVICE"]
        },
        "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    }));
    let cfg = profile();
    let code = in_child(|| {
        let pending = match security::apply_process(&p, Some(&cfg), None) {
            Ok(p) => p,
            Err(e) => return (say(&format!("apply_process: {e}")), 10).1,
        };
        // NNP is set and the filter is handed back, not loaded yet.
        if getcwd_errno() != 0 || status("NoNewPrivs") != "1" {
            return 11;
        }
        let expect = [
            ("Uid", "65534\t65534\t65534\t65534"),
            ("Gid", "65534\t65534\t65534\t65534"),
            ("Groups", "1234"),
            ("CapEff", "0000000000000400"),
            ("CapPrm", "0000000000000400"),
            ("CapBnd", "0000000000000400"),
            ("Umask", "0022"),
        ];
        for (i, (key, want)) in expect.iter().enumerate() {
            let got = status(key);
            if got != *want {
                say(&format!("{key}: got {got:?}, want {want:?}"));
                return 20 + i as i32;
            }
        }
        let Some(filter) = pending else { return 12 };
        // With no_new_privs the load needs no CAP_SYS_ADMIN, which this user lacks.
        if let Err(e) = filter.load(None) {
            return (say(&format!("late load: {e}")), 13).1;
        }
        if getcwd_errno() != libc::EPERM {
            return 14;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

#[test]
#[ignore = "needs root"]
fn apply_process_without_nnp_loads_seccomp_before_dropping_caps() {
    support::require(&[support::Need::Root]);
    // No capabilities at all: the load must have happened while CAP_SYS_ADMIN was held.
    let p = process(json!({"user": {"uid": 1000, "gid": 1000}, "args": ["sh"], "cwd": "/"}));
    let cfg = profile();
    let code = in_child(|| {
        match security::apply_process(&p, Some(&cfg), None) {
            Ok(None) => {}
            Ok(Some(_)) => return 10,
            Err(e) => return (say(&format!("apply_process: {e}")), 11).1,
        }
        if status("CapEff") != "0000000000000000" || status("NoNewPrivs") != "0" {
            return 12;
        }
        if getcwd_errno() != libc::EPERM {
            return 13;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

fn nofile(soft: u64, hard: u64) -> PosixRlimit {
    serde_json::from_value(json!({"type": "RLIMIT_NOFILE", "soft": soft, "hard": hard}))
        .expect("valid rlimit")
}

/// Lowering always works; raising above the hard limit needs CAP_SYS_RESOURCE, which this
/// project's host withholds from root: then the error names the limit and the errno.
#[test]
#[ignore = "needs root"]
fn rlimits_lower_and_raising_above_hard_needs_cap_sys_resource() {
    support::require(&[support::Need::Root]);
    let can_raise = support::has_effective_cap(support::CAP_SYS_RESOURCE);
    let code = in_child(|| {
        if let Err(e) = rlimits::apply(&[nofile(64, 128)]) {
            return (say(&format!("lowering: {e}")), 10).1;
        }
        if getrlimit(Resource::RLIMIT_NOFILE) != Ok((64, 128)) {
            return 11;
        }
        match rlimits::apply(&[nofile(64, 129)]) {
            Ok(()) if can_raise => {
                if getrlimit(Resource::RLIMIT_NOFILE) == Ok((64, 129)) {
                    0
                } else {
                    13
                }
            }
            Ok(()) => (say("raising succeeded without CAP_SYS_RESOURCE"), 14).1,
            Err(e) => {
                let msg = e.to_string();
                say(&format!("raising refused: {msg}"));
                if !can_raise && msg.contains("RLIMIT_NOFILE") && msg.contains("EPERM") {
                    0
                } else {
                    12
                }
            }
        }
    });
    assert_eq!(
        code, 0,
        "child failed at step {code} (CAP_SYS_RESOURCE: {can_raise})"
    );
}

#[test]
#[ignore = "needs root"]
fn runc_spec_default_capabilities_apply_with_ambient_left_out() {
    support::require(&[support::Need::Root]);
    // The shape of `runc spec`'s process: ambient listed, inheritable absent.
    let three = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let p = process(json!({
        "user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "noNewPrivileges": true,
        "capabilities": {"bounding": three, "effective": three, "permitted": three,
                         "ambient": three},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    }));
    let code = in_child(|| {
        match security::apply_process(&p, None, None) {
            Ok(None) => {}
            Ok(Some(_)) => return 10,
            Err(e) => return (say(&format!("apply_process: {e}")), 11).1,
        }
        // AUDIT_WRITE=29, KILL=5, NET_BIND_SERVICE=10.
        let want = format!("{:016x}", (1u64 << 29) | (1 << 5) | (1 << 10));
        for (i, key) in ["CapEff", "CapPrm", "CapBnd"].iter().enumerate() {
            if status(key) != want {
                say(&format!("{key}: got {}, want {want}", status(key)));
                return 20 + i as i32;
            }
        }
        if status("CapAmb") != "0000000000000000" || status("CapInh") != "0000000000000000" {
            return 12;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

fn raw_errno(nr: libc::c_long) -> i32 {
    // SAFETY: numbers the kernel does not know (or harmless ones) with no arguments.
    errno_of(unsafe { libc::syscall(nr) })
}

/// Default ERRNO(EPERM), allowing only what the child needs to report and exit.
fn blocking_profile(arches: serde_json::Value) -> LinuxSeccomp {
    serde_json::from_value(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": arches,
        "syscalls": [{"names": ["exit_group", "exit", "getpid", "openat2"],
                      "action": "SCMP_ACT_ALLOW"}]
    }))
    .expect("valid profile")
}

#[test]
#[ignore = "needs root"]
fn syscalls_newer_than_the_profile_get_enosys_like_runc() {
    support::require(&[support::Need::Root]);
    let cfg = blocking_profile(json!([
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32"
    ]));
    let code = in_child(|| {
        let Ok(filter) = seccomp::compile(&cfg) else {
            return 10;
        };
        if filter.enosys_stub().is_empty() {
            return 11;
        }
        if filter.load(None).is_err() {
            return 12;
        }
        // 1000 and 450 are above openat2 (437): ENOSYS; getppid (110) is older: EPERM.
        if raw_errno(1000) != libc::ENOSYS || raw_errno(450) != libc::ENOSYS {
            return 13;
        }
        if raw_errno(libc::SYS_getppid) != libc::EPERM || raw_errno(libc::SYS_getpid) != 0 {
            return 14;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}

#[test]
#[ignore = "needs root"]
fn without_listed_architectures_newer_syscalls_get_the_default_action_like_runc() {
    support::require(&[support::Need::Root]);
    let cfg = blocking_profile(json!([]));
    let code = in_child(|| {
        let Ok(filter) = seccomp::compile(&cfg) else {
            return 10;
        };
        if filter.load(None).is_err() {
            return 11;
        }
        if raw_errno(1000) != libc::EPERM {
            return 12;
        }
        0
    });
    assert_eq!(code, 0, "child failed at step {code}");
}
