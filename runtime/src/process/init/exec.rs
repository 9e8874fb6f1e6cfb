//! The last phases: find the executable, wait for `start`, run startContainer hooks, execve.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::signal::{sigprocmask, SigmaskHow};
use nix::sys::socket::{accept4, SockFlag};
use oci_spec::runtime::Process;

use super::setup::Prepared;
use super::{failure, PhaseExt};
use crate::hooks::{run_hooks, HookKind};
use crate::process::messages::{InitFailure, Phase};
use crate::sys;

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
    let env = process.env().clone().unwrap_or_default();
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
    if let Err(e) = run_hooks(HookKind::StartContainer, &p.start_hooks, &p.state_json) {
        return failure(Phase::StartContainerHooks, 0, e.to_string());
    }
    // Only stdio and --preserve-fds reach the container process.
    if let Err(e) = sys::fd::cloexec_from(3 + p.preserve_fds as i32) {
        return failure(Phase::Exec, e as i32, "mark fds close-on-exec");
    }
    sys::misc::reset_signal_dispositions();
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&p.sigmask), None);
    // As close to execve as possible, so few syscalls run under the container's profile.
    if let Some(filter) = p.late_seccomp.take() {
        if let Err(e) = filter.load() {
            return failure(Phase::Exec, 0, format!("load seccomp filter: {e}"));
        }
    }
    let e = nix::unistd::execve(&p.path, &p.argv, &p.envp).unwrap_err();
    failure(Phase::Exec, e as i32, format!("exec {:?}", p.path))
}

#[cfg(test)]
mod tests {
    use super::*;

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
