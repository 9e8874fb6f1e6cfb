//! The parent side of `exec`: clone a child that joins the container's namespaces and cgroup,
//! and learn whether its execve happened (EOF on the close-on-exec channel) or failed.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxPersonality, LinuxSeccomp, Process};

use super::birth::{clone_child, BirthCgroup};
use super::channel;
use super::init::join::{self, ExecContext};
use super::launch::LaunchError;
use super::messages::{ChildMsg, ParentMsg};
use crate::namespaces::JoinNs;
use crate::sys::clone::Forked;

pub struct ExecConfig<'a> {
    pub process: &'a Process,
    pub seccomp: Option<&'a LinuxSeccomp>,
    /// The container's linux.personality: an exec'd process runs under it too (runc 1.2).
    pub personality: Option<&'a LinuxPersonality>,
    /// The container's namespaces, user first; the pid namespace separately.
    pub join: Vec<JoinNs>,
    pub join_pid: Option<OwnedFd>,
    /// The init's root directory (`/proc/<pid>/root`), for a container without a mount
    /// namespace of its own: there is none to join, and the process is chrooted instead.
    pub root: Option<OwnedFd>,
    /// Unprivileged caller: join the user namespace here, before the pid namespace (see
    /// [`join_user_in_parent`]).
    pub user_in_parent: bool,
    /// Where the process goes, before it runs anything of its own: the container's cgroup
    /// directory in every hierarchy, or the sub-cgroups `--cgroup` chose.
    pub cgroup_dirs: Vec<PathBuf>,
    /// Asked when joining `cgroup_dirs` failed: another directory to try instead (runc's
    /// cgroup v2 fallback to the init's cgroup).
    pub cgroup_fallback: Option<&'a dyn Fn() -> Option<PathBuf>>,
    /// The container's process.oomScoreAdj: runc gives it to exec'd processes too, whatever
    /// `--process` says (it comes from config.json, not from the exec's process).
    pub oom_score_adj: Option<i32>,
    pub console: Option<OwnedFd>,
    pub preserve_fds: u32,
    pub sigmask: SigSet,
    /// The container's state as a seccomp agent gets it with the listener fd of this process
    /// (runc: `running`, with the init's pid).
    pub state_json: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// runc's words (" adding pid N to cgroups", Go's errno text), which scripts match.
    #[error("error adding pid {pid} to cgroups: write {}: {}", path.display(), go_io(source))]
    AddPid {
        pid: i32,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An errno as Go prints it (runc's messages are Go's): strerror with a lowercase first letter.
pub(crate) fn go_errno(e: nix::errno::Errno) -> String {
    let desc = e.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => desc.to_string(),
    }
}

/// [`go_errno`] of an I/O error (its own text when it carries no errno).
fn go_io(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map(|n| go_errno(nix::errno::Errno::from_raw(n)))
        .unwrap_or_else(|| e.to_string())
}

/// setns(CLONE_NEWPID) needs CAP_SYS_ADMIN in the user namespace owning the pid namespace;
/// an unprivileged caller only has it after joining the container's user namespace, which
/// runc's nsexec also joins first. Root must not do this: it would trade its host
/// capabilities for the container's, and then could not write the host cgroup files. The
/// user namespace is taken out of `join`, since setns into one's own user namespace is EINVAL.
fn join_user_in_parent(join: &mut Vec<JoinNs>) -> Result<(), LaunchError> {
    let Some(i) = join
        .iter()
        .position(|j| j.kind == oci_spec::runtime::LinuxNamespaceType::User)
    else {
        return Ok(());
    };
    let user = join.remove(i);
    nix::sched::setns(&user.file, nix::sched::CloneFlags::CLONE_NEWUSER)
        .map_err(LaunchError::JoinUser)
}

/// Start the process; returns its host pid once it has exec'd.
pub fn spawn(mut cfg: ExecConfig) -> Result<Pid, SpawnError> {
    let (parent_end, child_end) = channel::pair().map_err(LaunchError::Channel)?;
    if cfg.user_in_parent && cfg.join_pid.is_some() {
        join_user_in_parent(&mut cfg.join)?;
    }
    if let Some(fd) = &cfg.join_pid {
        // setns on a pid namespace only affects children: do it here, before the clone.
        nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWPID)
            .map_err(LaunchError::JoinPid)?;
    }
    let ExecConfig { console, .. } = cfg;
    // Born in the cgroup when the placement is one cgroup v2 directory (`process::birth`).
    let birth = match cfg.cgroup_dirs.as_slice() {
        [dir] => BirthCgroup::open(dir),
        _ => None,
    };
    let (forked, born_in_cgroup) = clone_child(0, birth.as_ref()).map_err(LaunchError::Clone)?;
    drop(birth);
    let pid = match forked {
        Forked::Child => {
            drop(parent_end);
            join::run(ExecContext {
                process: cfg.process,
                seccomp: cfg.seccomp,
                personality: cfg.personality,
                join: &cfg.join,
                root: cfg.root.as_ref(),
                channel: child_end,
                console,
                preserve_fds: cfg.preserve_fds,
                sigmask: cfg.sigmask,
            })
        }
        Forked::Parent(pid) => pid,
    };
    drop(child_end);
    drop(console);
    let result = (|| {
        if born_in_cgroup {
            crate::debug!("exec pid {pid}: born in cgroup {:?}", cfg.cgroup_dirs);
        } else {
            join_cgroups(&cfg.cgroup_dirs, cfg.cgroup_fallback, pid)?;
        }
        if let Some(score) = cfg.oom_score_adj {
            super::launch::write_oom_score_adj(pid, score)?;
        }
        parent_end
            .send(&ParentMsg::Go {
                state_json: String::new(),
            })
            .map_err(LaunchError::ChannelIo)?;
        // The child's log lines come first (init::forward_logs), then end-of-file when it
        // executed the process, or its failure.
        loop {
            match parent_end
                .recv::<ChildMsg>()
                .map_err(LaunchError::ChannelIo)?
            {
                None => return Ok(()),
                Some(ChildMsg::Log { level, msg }) => crate::logging::relay(level, &msg),
                Some(ChildMsg::SeccompFd { fd }) => {
                    super::listener::forward(cfg.seccomp, pid, fd, &cfg.state_json)
                        .map_err(LaunchError::from)?;
                    parent_end
                        .send(&ParentMsg::SeccompDone)
                        .map_err(LaunchError::ChannelIo)?;
                }
                Some(ChildMsg::Failed(f)) => return Err(LaunchError::Init(f).into()),
                Some(other) => return Err(LaunchError::Protocol(other).into()),
            }
        }
    })();
    match result {
        Ok(()) => Ok(pid),
        Err(e) => {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
            Err(e)
        }
    }
}

fn join_cgroups(
    dirs: &[PathBuf],
    fallback: Option<&dyn Fn() -> Option<PathBuf>>,
    pid: Pid,
) -> Result<(), SpawnError> {
    let Err(first) = dirs.iter().try_for_each(|dir| add_pid(dir, pid)) else {
        return Ok(());
    };
    match fallback.and_then(|f| f()) {
        Some(dir) => {
            crate::logging::debug(&format!(
                "{first}; joining the init's cgroup {}",
                dir.display()
            ));
            add_pid(&dir, pid)
        }
        None => Err(first),
    }
}

/// Write `pid` into `dir`'s cgroup.procs (no O_CREAT: a missing sub-cgroup is an error, not
/// a new regular file).
fn add_pid(dir: &std::path::Path, pid: Pid) -> Result<(), SpawnError> {
    use std::io::Write;
    let path = dir.join("cgroup.procs");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(pid.as_raw().to_string().as_bytes()))
        .map_err(|source| SpawnError::AddPid {
            pid: pid.as_raw(),
            path,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_is_tried_only_when_joining_failed() {
        let tmp = tempfile::tempdir().unwrap();
        let (own, init) = (tmp.path().join("own"), tmp.path().join("init"));
        std::fs::create_dir(&init).unwrap();
        std::fs::write(init.join("cgroup.procs"), "").unwrap();
        let to_init = || Some(init.clone());
        let pid = Pid::from_raw(42);
        // own/cgroup.procs is missing: the write fails, the fallback takes the pid.
        join_cgroups(std::slice::from_ref(&own), Some(&to_init), pid).unwrap();
        assert_eq!(
            std::fs::read_to_string(init.join("cgroup.procs")).unwrap(),
            "42"
        );
        let e = join_cgroups(std::slice::from_ref(&own), None, pid).unwrap_err();
        assert!(e.to_string().contains("own/cgroup.procs"), "{e}");
        // A fallback with nothing to offer keeps the first error.
        let nothing = || None;
        assert!(join_cgroups(std::slice::from_ref(&own), Some(&nothing), pid).is_err());
    }

    #[test]
    fn errors_read_as_runcs() {
        assert_eq!(
            go_errno(nix::errno::Errno::ENOENT),
            "no such file or directory"
        );
        let e = SpawnError::AddPid {
            pid: 42,
            path: PathBuf::from("/sys/fs/cgroup/ct/nonexistent/cgroup.procs"),
            source: std::io::Error::from_raw_os_error(libc::ENOENT),
        };
        assert_eq!(
            e.to_string(),
            "error adding pid 42 to cgroups: write /sys/fs/cgroup/ct/nonexistent/cgroup.procs: \
             no such file or directory"
        );
    }
}
