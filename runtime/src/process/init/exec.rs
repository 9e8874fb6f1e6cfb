//! The last phases: find the executable, wait for `start`, run startContainer hooks, execve.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::socket::{accept4, SockFlag};
use oci_spec::runtime::Process;

use super::setup::Prepared;
use super::{failure, PhaseExt};
use crate::process::messages::{InitFailure, Phase};

/// Go's default when the container's env has no PATH (what runc's LookPath falls back to).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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
    let mut env = process.env().clone().unwrap_or_default();
    // runc sets HOME from the container's /etc/passwd when the config does not (and "/" when
    // the uid has no entry); shells and many programs expect it.
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        env.push(format!("HOME={}", home_of(&passwd, process.user().uid())));
    }
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let exe = look_path(arg0, path_var).ok_or_else(|| {
        failure(
            Phase::Executable,
            libc::ENOENT,
            format!("exec: {arg0:?}: executable file not found in $PATH"),
        )
    })?;
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

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn look_path(arg0: &str, path_var: &str) -> Option<PathBuf> {
    if arg0.contains('/') {
        let p = PathBuf::from(arg0);
        return is_executable(&p).then_some(p);
    }
    path_var
        .split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(arg0))
        .find(|p| is_executable(p))
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
        let mut f = std::fs::File::from(conn.try_clone().phase(Phase::WaitStart)?);
        // A connection that sends nothing (a prober) does not start the container.
        if matches!(f.read(&mut byte), Ok(1)) {
            return Ok(conn);
        }
    }
}

fn exec(mut p: Prepared) -> InitFailure {
    if let Err(f) = super::after_start(&mut p) {
        return f;
    }
    let e = nix::unistd::execve(&p.path, &p.argv, &p.envp).unwrap_err();
    failure(Phase::Exec, e as i32, format!("exec {:?}", p.path))
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
            Some(PathBuf::from("/bin/sh"))
        );
        assert_eq!(look_path("/bin/sh", ""), Some(PathBuf::from("/bin/sh")));
        assert_eq!(look_path("no-such-binary-xyz", "/bin:/usr/bin"), None);
        assert_eq!(look_path("/etc/passwd", ""), None);
    }
}
