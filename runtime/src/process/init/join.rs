//! The child of `exec`: join the container's namespaces, then the same process phases as the
//! init (console, cwd, security, exec). No rootfs work: setns into the container's mount
//! namespace puts us at its root already (setns(2): root and cwd move to the namespace's);
//! a container sharing the runtime's mount namespace is entered with chroot instead.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::sched::setns;
use nix::sys::signal::SigSet;
use oci_spec::runtime::{LinuxPersonality, LinuxSeccomp, Process};

use super::{failure, PhaseExt};
use crate::namespaces::{clone_flag, JoinNs};
use crate::process::channel::Channel;
use crate::process::messages::{unexpected, ChildMsg, InitFailure, ParentMsg, Phase};
use crate::sys;

pub struct ExecContext<'a> {
    pub process: &'a Process,
    pub seccomp: Option<&'a LinuxSeccomp>,
    pub personality: Option<&'a LinuxPersonality>,
    pub join: &'a [JoinNs],
    /// The init's root, to chroot into when the container shares the runtime's mount
    /// namespace (setns moves nobody's root then).
    pub root: Option<&'a OwnedFd>,
    pub channel: Channel,
    pub console: Option<OwnedFd>,
    pub preserve_fds: u32,
    pub sigmask: SigSet,
}

/// Entry point of the cloned exec child. Never returns: it execs or reports and exits. The
/// channel is close-on-exec, so the parent reads EOF once the exec happened.
pub fn run(ctx: ExecContext) -> ! {
    super::forward_logs(&ctx.channel);
    let err = match steps(&ctx) {
        Ok(never) => match never {},
        Err(f) => f,
    };
    let _ = ctx.channel.send(&ChildMsg::Failed(err));
    std::process::exit(1)
}

fn steps(ctx: &ExecContext) -> Result<std::convert::Infallible, InitFailure> {
    // Nobody needs our /proc files: the parent only puts our pid into the cgroup.
    super::hide_from_ptrace()?;
    let mut keep: Vec<i32> = (0..3 + ctx.preserve_fds as i32).collect();
    keep.push(ctx.channel.raw());
    keep.extend(ctx.console.as_ref().map(|c| c.as_raw_fd()));
    keep.extend(ctx.join.iter().map(|j| j.file.as_raw_fd()));
    keep.extend(ctx.root.map(|r| r.as_raw_fd()));
    sys::fd::close_all_except(&keep).phase(Phase::WaitParent)?;
    match ctx.channel.recv::<ParentMsg>().phase(Phase::WaitParent)? {
        Some(ParentMsg::Go { .. }) => {}
        other => return Err(failure(Phase::WaitParent, 0, unexpected(&other))),
    }
    // The user namespace comes first in `join` (namespaces::plan sorts it so): it decides
    // which capabilities we hold for every setns after it.
    for j in ctx.join {
        setns(&j.file, clone_flag(j.kind)).phase(Phase::JoinNamespaces)?;
    }
    // runc's debug.bats and exec.bats grep for these phrases of runc's nsexec and init.
    crate::debug!(
        "nsexec container setup: exec: child joined the container's {} namespace(s)",
        ctx.join.len()
    );
    crate::debug!("child process in init(): exec: setting up the process");
    if let Some(root) = ctx.root {
        // runc 1.1.5 leaves such an exec at the host's root; the init is chrooted into the
        // rootfs (rootfs::root::chroot_into), and so is everything exec'd beside it.
        nix::unistd::fchdir(root).phase(Phase::Cwd)?;
        nix::unistd::chroot(".").phase(Phase::Cwd)?;
    }
    crate::tty::new_session().phase(Phase::Console)?;
    if let Some(console) = &ctx.console {
        let sock = console.try_clone().phase(Phase::Console)?;
        crate::tty::setup_console(sock, ctx.process.console_size()).phase(Phase::Console)?;
    }
    super::setup::change_dir(ctx.process.cwd())?;
    crate::tty::give_stdio_to(ctx.process.user().uid(), ctx.console.is_some())
        .phase(Phase::Console)?;
    // Before the filter, which may deny personality(2) (see setup::setup).
    super::setup::apply_personality(ctx.personality)?;
    let mut handoff = super::seccomp_handoff(&ctx.channel);
    let late_seccomp = crate::security::apply_process(ctx.process, ctx.seccomp, Some(&mut handoff))
        .phase(Phase::Security)?;
    super::hide_again_after_user_switch()?;
    let (path, argv, envp) = super::exec::resolve(ctx.process)?;
    crate::debug!("setns_init: about to exec {}", path.to_string_lossy());
    sys::fd::cloexec_from(3 + ctx.preserve_fds as i32).phase(Phase::Exec)?;
    sys::misc::reset_signal_dispositions();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&ctx.sigmask),
        None,
    );
    if let Some(filter) = late_seccomp {
        filter.load(Some(&mut handoff)).phase(Phase::Exec)?;
    }
    let e = nix::unistd::execve(&path, &argv, &envp).unwrap_err();
    Err(super::exec::execve_failure(&path, e))
}
