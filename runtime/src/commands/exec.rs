//! `exec`: start the process, write `--pid-file`, and in the foreground wait for it and exit
//! with its status (runc). Every failure before that status exists is `exec failed: ...`
//! with exit code 255, as in runc, so scripts can tell it from the process's own status.

use std::path::PathBuf;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::cli::ExecArgs;
use crate::container::exec::{exec as start_process, Console, ExecOptions, ExecRequest};
use crate::container::StateStore;
use crate::error::Error;
use crate::process::{ttyproxy, wait};

pub fn exec(store: &StateStore, a: &ExecArgs) -> Result<i32, Error> {
    run(store, a).map_err(Error::in_exec)
}

fn request(a: &ExecArgs) -> ExecRequest {
    ExecRequest {
        process_file: a.process.clone(),
        args: a.command.clone(),
        tty: a.tty,
        // runc: an empty --cwd leaves the container's process.cwd.
        cwd: a.cwd.as_ref().filter(|c| !c.is_empty()).map(PathBuf::from),
        env: a.env.clone(),
        user: a.user.clone(),
        additional_gids: a.additional_gids.clone(),
        caps: a.cap.clone(),
        no_new_privs: a.no_new_privs,
        apparmor: a.apparmor.clone(),
        process_label: a.process_label.clone(),
        ignore_paused: a.ignore_paused,
        cgroups: a.cgroup.clone(),
    }
}

fn run(store: &StateStore, a: &ExecArgs) -> Result<i32, Error> {
    let mask = if a.detach {
        SigSet::thread_get_mask().unwrap_or_else(|_| SigSet::empty())
    } else {
        wait::block_signals()?
    };
    let (console, proxy) = match (&a.console_socket, a.detach) {
        (Some(p), _) => (Console::Socket(p.clone()), None),
        (None, false) => {
            let (ours, theirs) = ttyproxy::console_pair()?;
            (Console::Proxy(theirs), Some(ours))
        }
        (None, true) => (Console::None, None),
    };
    let (pid, terminal) = start_process(
        store,
        &a.id,
        &request(a),
        ExecOptions {
            console,
            detach: a.detach,
            preserve_fds: a.preserve_fds,
            sigmask: mask,
        },
    )?;
    crate::debug!("exec: process pid {pid} runs in container {:?}", a.id);
    if let Some(p) = &a.pid_file {
        if let Err(source) = crate::container::pidfile::write(p, pid.as_raw()) {
            // runc terminates the process when its pid cannot be recorded: whoever asked for
            // the file would otherwise lose track of a running process.
            terminate(pid);
            return Err(Error::Io {
                what: format!("--pid-file {}", p.display()),
                source,
            });
        }
    }
    if a.detach {
        return Ok(0);
    }
    let master = match (&proxy, terminal) {
        (Some(sock), true) => Some(ttyproxy::recv_master(sock)?),
        _ => None,
    };
    let code = wait::wait_for_exit(pid, master.as_ref())?;
    crate::debug!("exec: process pid {pid} ended, exit code {code}");
    Ok(code)
}

/// SIGKILL the exec'd process and reap it (it is our child).
fn terminate(pid: Pid) {
    let _ = kill(pid, Signal::SIGKILL);
    let _ = waitpid(pid, None);
}
