//! The last phases: find the executable, wait for `start`, run startContainer hooks, execve.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::socket::{accept4, SockFlag};
use oci_spec::runtime::Process;

use super::setup::Prepared;
use super::{failure, PhaseExt};
use crate::process::exec::go_errno;
use crate::process::messages::{InitFailure, Phase};

/// Resolve process.args[0] as runc does (exec.LookPath with the container's PATH), inside the
/// container's root, so a missing binary fails `create`, not `start`.
pub fn resolve(process: &Process) -> Result<(CString, Vec<CString>, Vec<CString>), InitFailure> {
    let args = process.args().clone().unwrap_or_default();
    let Some(arg0) = args.first() else {
        return Err(failure(
            Phase::Executable,
            libc::EINVAL,
            "process.args must not be empty",
        ));
    };
    let env = environment(process.env().as_deref().unwrap_or_default(), || {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        home_of(&passwd, process.user().uid())
    });
    // No PATH means no search path, as in runc (Go's LookPath with an empty $PATH).
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or_default();
    // The message already says why (errno 0: no second description of it).
    let exe = look_path(arg0, path_var).map_err(|msg| failure(Phase::Executable, 0, msg))?;
    let cstr = |s: &[u8]| {
        CString::new(s).map_err(|_| {
            failure(
                Phase::Executable,
                libc::EINVAL,
                "NUL byte in process.args or process.env",
            )
        })
    };
    let path = cstr(exe.as_os_str().as_bytes())?;
    let argv = args
        .iter()
        .map(|a| cstr(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    let envp = env
        .iter()
        .map(|e| cstr(e.as_bytes()))
        .collect::<Result<_, _>>()?;
    Ok((path, argv, envp))
}

/// The environment the process gets, as runc's init builds it: one entry per name, at the
/// place of its first occurrence with the value of its last (runc sets each entry in turn
/// with os.Setenv); then HOME from the container's passwd when it is missing or empty, since
/// shells and many programs expect it.
fn environment(entries: &[String], home: impl FnOnce() -> String) -> Vec<String> {
    let mut env: Vec<String> = Vec::with_capacity(entries.len() + 1);
    for entry in entries {
        let name = entry.split('=').next().unwrap_or_default();
        match env.iter_mut().find(|e| e.split('=').next() == Some(name)) {
            Some(slot) => slot.clone_from(entry),
            None => env.push(entry.clone()),
        }
    }
    match env.iter_mut().find(|e| e.starts_with("HOME=")) {
        Some(slot) if slot == "HOME=" => *slot = format!("HOME={}", home()),
        Some(_) => {}
        None => env.push(format!("HOME={}", home())),
    }
    env
}

/// The home directory of `uid` in passwd(5) text, "/" when it has none.
fn home_of(passwd: &str, uid: u32) -> String {
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && f[2].parse::<u32>() == Ok(uid))
        .map(|f| f[5].to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "/".to_string())
}

/// Why `p` cannot be executed, in Go's words (os/exec findExecutable), or `None` when it can.
fn not_executable(p: &Path) -> Option<String> {
    match std::fs::metadata(p) {
        Err(e) => {
            let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
            Some(format!("stat {}: {}", p.display(), go_errno(errno)))
        }
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => None,
        Ok(_) => Some(go_errno(nix::errno::Errno::EACCES)),
    }
}

/// runc's exec.LookPath: a name with a slash is taken as it is, any other is searched for in
/// $PATH (an empty entry meaning "."); the error reads as Go's.
fn look_path(arg0: &str, path_var: &str) -> Result<PathBuf, String> {
    if arg0.contains('/') {
        let p = PathBuf::from(arg0);
        return match not_executable(&p) {
            None => Ok(p),
            Some(why) => Err(format!("exec: {arg0:?}: {why}")),
        };
    }
    path_var
        .split(':')
        .filter(|_| !path_var.is_empty())
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(arg0))
        .find(|p| not_executable(p).is_none())
        .ok_or_else(|| format!("exec: {arg0:?}: executable file not found in $PATH"))
}

/// Block until `start` connects to exec.sock, then exec. Failures after this point are written
/// to the `start` connection, which is the only one listening now.
pub fn wait_and_exec(listener: OwnedFd, p: Prepared) -> ! {
    let conn = match wait_start(&listener) {
        Ok(c) => c,
        Err(_) => std::process::exit(1),
    };
    drop(listener);
    let err = exec(p);
    let mut out = std::fs::File::from(conn);
    let _ = out.write_all(&serde_json::to_vec(&err).unwrap_or_default());
    std::process::exit(1)
}

fn wait_start(listener: &OwnedFd) -> Result<OwnedFd, InitFailure> {
    loop {
        let conn = match accept4(listener, SockFlag::SOCK_CLOEXEC) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => r.phase(Phase::WaitStart)?,
        };
        let mut byte = [0u8; 1];
        // A connection that sends nothing (a prober) does not start the container.
        if matches!(nix::unistd::read(&conn, &mut byte), Ok(1)) {
            return Ok(conn);
        }
    }
}

fn exec(mut p: Prepared) -> InitFailure {
    if let Err(f) = super::after_start(&mut p) {
        return f;
    }
    let e = nix::unistd::execve(&p.path, &p.argv, &p.envp).unwrap_err();
    execve_failure(&p.path, e)
}

/// A failed execve, in runc's words (Go's PathError): `exec /run.sh: no such file or directory`
/// (here: the script's interpreter is missing).
pub(crate) fn execve_failure(path: &CString, e: nix::errno::Errno) -> InitFailure {
    failure(
        Phase::Exec,
        0,
        format!("exec {}: {}", path.to_string_lossy(), go_errno(e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_comes_from_passwd_or_is_root() {
        let passwd =
            "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\nnohome:x:7:7::::\n";
        assert_eq!(home_of(passwd, 0), "/root");
        assert_eq!(home_of(passwd, 1000), "/home/bob");
        assert_eq!(home_of(passwd, 7), "/");
        assert_eq!(home_of(passwd, 42), "/");
    }

    #[test]
    fn look_path_searches_path_and_accepts_slashes() {
        assert_eq!(
            look_path("sh", "/nonexistent:/bin"),
            Ok(PathBuf::from("/bin/sh"))
        );
        assert_eq!(look_path("/bin/sh", ""), Ok(PathBuf::from("/bin/sh")));
        assert_eq!(
            look_path("no-such-binary-xyz", "/bin:/usr/bin").unwrap_err(),
            r#"exec: "no-such-binary-xyz": executable file not found in $PATH"#
        );
        // runc: no PATH at all finds nothing, whatever is in /bin.
        assert_eq!(
            look_path("sh", "").unwrap_err(),
            r#"exec: "sh": executable file not found in $PATH"#
        );
        assert_eq!(
            look_path("/etc/passwd", "").unwrap_err(),
            r#"exec: "/etc/passwd": permission denied"#
        );
        assert_eq!(
            look_path("/no/such-binary", "/bin").unwrap_err(),
            r#"exec: "/no/such-binary": stat /no/such-binary: no such file or directory"#
        );
    }

    #[test]
    fn environment_keeps_one_entry_per_name_and_fills_in_home() {
        let env = |e: &[&str]| {
            let owned: Vec<String> = e.iter().map(|s| s.to_string()).collect();
            environment(&owned, || "/root".to_string())
        };
        // The first position, the last value (runc's os.Setenv in turn).
        assert_eq!(
            env(&["ONE=two", "PATH=/bin", "ONE=three", "TWO=", "TWO=2"]),
            ["ONE=three", "PATH=/bin", "TWO=2", "HOME=/root"]
        );
        // An empty HOME is replaced in place; a set one is kept.
        assert_eq!(env(&["HOME=", "A=1"]), ["HOME=/root", "A=1"]);
        assert_eq!(env(&["HOME=/override", "HOME="]), ["HOME=/root"]);
        assert_eq!(env(&["HOME=/x"]), ["HOME=/x"]);
        // A value may hold "=" and newlines.
        assert_eq!(env(&["A=b=c", "N=\n"]), ["A=b=c", "N=\n", "HOME=/root"]);
    }

    #[test]
    fn execve_failures_read_as_runc_reports_them() {
        let path = CString::new("/run.sh").unwrap();
        assert_eq!(
            execve_failure(&path, nix::errno::Errno::ENOENT).message,
            "exec /run.sh: no such file or directory"
        );
    }
}
