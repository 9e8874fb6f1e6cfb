//! `syscall NAME [ARG...]`: issue one raw system call and print its outcome.
//!
//! Seccomp scenarios need to know exactly which syscall number was made
//! (glibc may route `mkdir()` through `mkdirat`), so this goes through
//! `libc::syscall(SYS_*)` directly. Output is `ok` or the errno name
//! (`EPERM`, or the errno a profile's `errnoRet` chose) and the exit code is
//! 0 either way: the probe itself succeeded, the kernel's answer is the data.
//!
//! Arguments: an integer literal (`42`, `-1`, `0x8`) is passed as a number,
//! `buf` as a pointer to a 4 KiB scratch buffer, anything else as a pointer
//! to a NUL-terminated string. A call given no arguments gets its defaults.

use std::ffi::CString;

use crate::error::ProbeError;

/// A known system call: its name, number and default arguments.
struct Known {
    name: &'static str,
    nr: libc::c_long,
    defaults: &'static [&'static str],
    /// Path argument index to remove again after a successful call (mkdir).
    cleanup_dir: Option<usize>,
}

const fn known(name: &'static str, nr: libc::c_long, defaults: &'static [&'static str]) -> Known {
    Known {
        name,
        nr,
        defaults,
        cleanup_dir: None,
    }
}

const MKDIR_DEFAULT: &str = "/tmp/.oci-probe-mkdir";

const TABLE: &[Known] = &[
    known("getpid", libc::SYS_getpid, &[]),
    known("getppid", libc::SYS_getppid, &[]),
    known("getuid", libc::SYS_getuid, &[]),
    known("getcwd", libc::SYS_getcwd, &["buf", "4096"]),
    known("uname", libc::SYS_uname, &["buf"]),
    known("sync", libc::SYS_sync, &[]),
    Known {
        name: "mkdir",
        nr: libc::SYS_mkdir,
        defaults: &[MKDIR_DEFAULT, "0o755"],
        cleanup_dir: Some(0),
    },
    Known {
        name: "mkdirat",
        nr: libc::SYS_mkdirat,
        defaults: &["-100", MKDIR_DEFAULT, "0o755"],
        cleanup_dir: Some(1),
    },
    known("rmdir", libc::SYS_rmdir, &[MKDIR_DEFAULT]),
    known("chdir", libc::SYS_chdir, &["/"]),
    known("chroot", libc::SYS_chroot, &["/"]),
    known("sethostname", libc::SYS_sethostname, &["probe", "5"]),
    known("setdomainname", libc::SYS_setdomainname, &["probe", "5"]),
    known("unshare", libc::SYS_unshare, &["0"]),
    known("personality", libc::SYS_personality, &["0xffffffff"]),
    known("socket", libc::SYS_socket, &["1", "1", "0"]),
    known("kill", libc::SYS_kill, &["0", "0"]),
    known("setuid", libc::SYS_setuid, &["0"]),
    known("setgid", libc::SYS_setgid, &["0"]),
    known("chmod", libc::SYS_chmod, &["/", "0o755"]),
    known(
        "mknod",
        libc::SYS_mknod,
        &["/tmp/.oci-probe-null", "0o20666", "0x103"],
    ),
    known(
        "mount",
        libc::SYS_mount,
        &["none", "/tmp", "tmpfs", "0", "0"],
    ),
    known("umount2", libc::SYS_umount2, &["/tmp", "0"]),
    known("acct", libc::SYS_acct, &["0"]),
    known("swapoff", libc::SYS_swapoff, &["/nonexistent"]),
    known("settimeofday", libc::SYS_settimeofday, &["0", "0"]),
];

/// One parsed argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Buf,
    Str(String),
}

/// Parses an argument: integers (decimal, `0x`, `0o`, negative), `buf`, or a string.
pub fn parse_arg(raw: &str) -> Arg {
    if raw == "buf" {
        return Arg::Buf;
    }
    let (neg, body) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let parsed = if let Some(hex) = body.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = body.strip_prefix("0o") {
        u64::from_str_radix(oct, 8).ok()
    } else if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        body.parse::<u64>().ok()
    } else {
        None
    };
    match parsed {
        // Bit patterns above i64::MAX are passed through unchanged (as the kernel sees a long).
        Some(v) if neg => Arg::Int((v as i64).wrapping_neg()),
        Some(v) => Arg::Int(v as i64),
        None => Arg::Str(raw.to_string()),
    }
}

fn lookup(name: &str) -> Result<&'static Known, ProbeError> {
    TABLE.iter().find(|k| k.name == name).ok_or_else(|| {
        let names: Vec<&str> = TABLE.iter().map(|k| k.name).collect();
        ProbeError::Usage(format!(
            "syscall: unknown name {name:?} (known: {})",
            names.join(" ")
        ))
    })
}

/// The arguments a call will get: the given ones, or its defaults.
fn effective_args(known: &Known, given: &[String]) -> Vec<Arg> {
    if given.is_empty() {
        known.defaults.iter().map(|s| parse_arg(s)).collect()
    } else {
        given.iter().map(|s| parse_arg(s)).collect()
    }
}

/// Raw call arguments plus the heap storage their pointers point into.
struct Prepared {
    raw: [libc::c_long; 6],
    _strings: Vec<CString>,
    _buf: Vec<u8>,
}

/// Turns parsed args into raw longs. Pointers target heap allocations owned
/// by the returned value, so they stay valid while it lives.
fn materialize(args: &[Arg]) -> Result<Prepared, ProbeError> {
    if args.len() > 6 {
        return Err(ProbeError::Usage("syscall: at most 6 arguments".into()));
    }
    let mut strings = Vec::new();
    for arg in args {
        if let Arg::Str(s) = arg {
            let c = CString::new(s.as_str())
                .map_err(|_| ProbeError::Usage(format!("syscall: NUL in argument {s:?}")))?;
            strings.push(c);
        }
    }
    let mut buf = vec![0u8; 4096];
    let mut raw = [0 as libc::c_long; 6];
    let mut next_string = strings.iter();
    for (slot, arg) in raw.iter_mut().zip(args) {
        *slot = match arg {
            Arg::Int(i) => *i as libc::c_long,
            Arg::Buf => buf.as_mut_ptr() as libc::c_long,
            Arg::Str(_) => next_string
                .next()
                .map(|c| c.as_ptr() as libc::c_long)
                .unwrap_or(0),
        };
    }
    Ok(Prepared {
        raw,
        _strings: strings,
        _buf: buf,
    })
}

/// Runs the call; returns the line to print (`ok` or an errno name).
pub fn run(name: &str, given: &[String]) -> Result<String, ProbeError> {
    let known = lookup(name)?;
    let args = effective_args(known, given);
    let prepared = materialize(&args)?;
    let raw = prepared.raw;
    // SAFETY: every pointer argument points into heap storage owned by
    // `prepared`, which lives until the end of this function.
    let ret = unsafe { libc::syscall(known.nr, raw[0], raw[1], raw[2], raw[3], raw[4], raw[5]) };
    if ret < 0 {
        return Ok(crate::errno::name(crate::errno::last()));
    }
    if let Some(Arg::Str(path)) = known.cleanup_dir.and_then(|i| args.get(i)) {
        // Leave no trace so the same exec can be repeated in one scenario.
        let _ = std::fs::remove_dir(path);
    }
    Ok("ok".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("42", Arg::Int(42))]
    #[case("-1", Arg::Int(-1))]
    #[case("-100", Arg::Int(-100))]
    #[case("0x8", Arg::Int(8))]
    #[case("0xffffffff", Arg::Int(0xffff_ffff))]
    #[case("0o755", Arg::Int(0o755))]
    #[case("buf", Arg::Buf)]
    #[case("/tmp/x", Arg::Str("/tmp/x".into()))]
    #[case("12abc", Arg::Str("12abc".into()))]
    #[case("-", Arg::Str("-".into()))]
    fn args(#[case] raw: &str, #[case] expected: Arg) {
        assert_eq!(parse_arg(raw), expected);
    }

    #[test]
    fn unknown_name_is_a_usage_error_listing_known_names() {
        let err = run("frob", &[]).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
        assert!(err.to_string().contains("getpid"), "{err}");
    }

    #[test]
    fn defaults_apply_only_without_arguments() {
        let k = lookup("mkdir").unwrap();
        assert_eq!(
            effective_args(k, &[]),
            vec![Arg::Str(MKDIR_DEFAULT.into()), Arg::Int(0o755)]
        );
        assert_eq!(
            effective_args(k, &["/d".into()]),
            vec![Arg::Str("/d".into())]
        );
    }

    #[test]
    fn harmless_calls_succeed_unconfined() {
        assert_eq!(run("getpid", &[]), Ok("ok".into()));
        assert_eq!(run("getcwd", &[]), Ok("ok".into()));
    }

    #[test]
    fn errors_print_the_errno_name() {
        assert_eq!(
            run("rmdir", &["/nonexistent/oci-probe".into()]),
            Ok("ENOENT".into())
        );
    }

    #[test]
    fn too_many_arguments_are_rejected() {
        let seven: Vec<String> = (0..7).map(|i| i.to_string()).collect();
        assert!(run("getpid", &seven).is_err());
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }
}
