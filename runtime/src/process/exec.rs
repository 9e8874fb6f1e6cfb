//! The parent side of `exec`: clone a child that joins the container's namespaces and cgroup,
//! and learn whether its execve happened (EOF on the close-on-exec channel) or failed.

use std::os::fd::OwnedFd;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxSeccomp, Process};

use super::channel;
use super::init::join::{self, ExecContext};
use super::launch::LaunchError;
use super::messages::{ChildMsg, ParentMsg};
use crate::cgroups::CgroupManager;
use crate::namespaces::JoinNs;
use crate::sys::clone::{clone_fork, Forked};

pub struct ExecConfig<'a> {
    pub process: &'a Process,
    pub seccomp: Option<&'a LinuxSeccomp>,
    /// The container's namespaces, user first; the pid namespace separately.
    pub join: Vec<JoinNs>,
    pub join_pid: Option<OwnedFd>,
    /// The init's root directory (`/proc/<pid>/root`), for a container without a mount
    /// namespace of its own: there is none to join, and the process is chrooted instead.
    pub root: Option<OwnedFd>,
    /// Unprivileged caller: join the user namespace here, before the pid namespace (see
    /// [`join_user_in_parent`]).
    pub user_in_parent: bool,
    pub cgroup: Option<&'a dyn CgroupManager>,
    pub console: Option<OwnedFd>,
    pub preserve_fds: u32,
    pub sigmask: SigSet,
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
pub fn spawn(mut cfg: ExecConfig) -> Result<Pid, LaunchError> {
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
    let pid = match clone_fork(0).map_err(LaunchError::Clone)? {
        Forked::Child => {
            drop(parent_end);
            join::run(ExecContext {
                process: cfg.process,
                seccomp: cfg.seccomp,
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
        if let Some(cg) = cfg.cgroup {
            cg.add_task(pid.as_raw())?;
        }
        parent_end
            .send(&ParentMsg::Go {
                state_json: String::new(),
            })
            .map_err(LaunchError::ChannelIo)?;
        match parent_end
            .recv::<ChildMsg>()
            .map_err(LaunchError::ChannelIo)?
        {
            None => Ok(()),
            Some(ChildMsg::Failed(f)) => Err(LaunchError::Init(f)),
            Some(other) => Err(LaunchError::Protocol(other)),
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
