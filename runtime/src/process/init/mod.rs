//! The container init: the cloned child, walking named phases from "wait for the parent" to
//! `execve`. Each phase's failure becomes a typed `InitFailure {phase, errno, message}` sent to
//! the parent (before `Ready`) or to `start` (after it); then the init exits.

mod exec;
mod hooks;
pub mod join;
mod setup;

use std::os::fd::OwnedFd;
use std::path::Path;

use nix::sys::signal::SigSet;
use oci_spec::runtime::Spec;

use super::channel::Channel;
use super::messages::{errno_of, ChildMsg, InitFailure, Phase};
use crate::namespaces::NamespacePlan;

pub struct InitContext<'a> {
    pub id: &'a str,
    pub spec: &'a Spec,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub plan: &'a NamespacePlan,
    pub channel: Channel,
    pub exec_listener: OwnedFd,
    pub console: Option<OwnedFd>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub sigmask: SigSet,
    /// The parent is not root: it (or newuidmap) opens our /proc files until `Go`, which
    /// needs us dumpable until then (see [`hide_from_ptrace`]).
    pub unprivileged_parent: bool,
    /// The id-mapped trees the parent made (`rootfs::IdmappedMounts::handles`).
    pub idmapped: &'a [(usize, crate::sys::mount::Handle)],
    /// The v1 `tasks` files to move ourselves with after `Go` (`process::birth`), taken when
    /// used.
    pub cgroup_tasks: std::cell::RefCell<Vec<crate::process::birth::TasksFile>>,
}

/// Attach a phase to any error.
pub(crate) trait PhaseExt<T> {
    fn phase(self, phase: Phase) -> Result<T, InitFailure>;
}

impl<T, E: std::error::Error + 'static> PhaseExt<T> for Result<T, E> {
    fn phase(self, phase: Phase) -> Result<T, InitFailure> {
        self.map_err(|e| InitFailure {
            phase,
            errno: errno_of(&e),
            message: e.to_string(),
        })
    }
}

pub(crate) fn failure(phase: Phase, errno: i32, message: impl Into<String>) -> InitFailure {
    InitFailure {
        phase,
        errno,
        message: message.into(),
    }
}

/// prctl(PR_SET_DUMPABLE, 0) until the execve of the user process, which makes it dumpable
/// again (execve(2): unless set-user-ID or unreadable). Until then the init runs runtime code
/// and holds the start socket; a process exec'd into the container with the same uid and
/// capabilities could otherwise ptrace it or open its /proc/PID/mem, fd and environ
/// (CVE-2016-9962). A non-dumpable process's /proc files belong to root, and ptrace access
/// to it needs CAP_SYS_PTRACE. The exec child does the same until its own execve.
pub(crate) fn hide_from_ptrace() -> Result<(), InitFailure> {
    nix::sys::prctl::set_dumpable(false).map_err(|e| {
        failure(
            Phase::WaitParent,
            e as i32,
            "prctl(PR_SET_DUMPABLE, 0) failed",
        )
    })
}

/// A uid change sets dumpable to fs.suid_dumpable, which a host may set to 1: hide again.
/// Asked first because the container's seccomp filter may be loaded by now (without
/// noNewPrivileges): a profile that denies prctl makes the query fail, and then the flag is
/// left as the kernel set it (0 unless the host chose otherwise).
pub(crate) fn hide_again_after_user_switch() -> Result<(), InitFailure> {
    match nix::sys::prctl::get_dumpable() {
        Ok(true) => hide_from_ptrace(),
        _ => Ok(()),
    }
}

/// The steps between `start`'s wake-up and execve, in runc's order (standard_init_linux.go):
/// only stdio and --preserve-fds stay open across exec; signal dispositions and the mask go
/// back to what the program should get; then, with noNewPrivileges, the seccomp filter is
/// loaded (without it the filter was loaded during create, before the capabilities were
/// dropped); and only then the startContainer hooks run, so they run under the container's
/// filter as they do with runc. A profile must therefore allow what a hook needs (fork,
/// execve, wait4) as well as the program's execve.
pub(crate) fn after_start(p: &mut setup::Prepared) -> Result<(), InitFailure> {
    crate::sys::fd::cloexec_from(3 + p.preserve_fds as i32)
        .map_err(|e| failure(Phase::Exec, e as i32, "mark fds close-on-exec"))?;
    crate::sys::misc::reset_signal_dispositions();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&p.sigmask),
        None,
    );
    if let Some(filter) = p.late_seccomp.take() {
        // Never one with a listener: that one was loaded before Ready (setup::setup).
        filter
            .load(None)
            .map_err(|e| failure(Phase::Exec, 0, format!("load seccomp filter: {e}")))?;
    }
    let env: Vec<String> = p
        .envp
        .iter()
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    hooks::start_container(&p.start_hooks, &p.state_json, &env)
}

/// The child's side of passing a seccomp listener fd (see `process/listener.rs`): its number
/// goes to the runtime with one write(2), then the child waits until the runtime says the
/// agent has it. Nothing else may run in between (no log line: that is a sendto), since a
/// notify rule on it would wait for an agent that has no fd yet; once the agent holds the fd
/// every later syscall can be notified and answered.
pub(crate) fn seccomp_handoff(
    channel: &Channel,
) -> impl FnMut(std::os::fd::BorrowedFd<'_>) -> Result<(), String> + '_ {
    use std::os::fd::AsRawFd;
    move |fd| {
        channel
            .send_small(&ChildMsg::SeccompFd { fd: fd.as_raw_fd() })
            .map_err(|e| format!("sending the fd number: {e}"))?;
        match channel.recv::<super::messages::ParentMsg>() {
            Ok(Some(super::messages::ParentMsg::SeccompDone)) => Ok(()),
            Ok(other) => Err(super::messages::unexpected(&other)),
            Err(e) => Err(format!("waiting for the runtime: {e}")),
        }
    }
}

/// Entry point of the cloned child. Never returns.
pub fn run(ctx: InitContext) -> ! {
    crate::sys::interrupt::restore_defaults();
    forward_logs(&ctx.channel);
    // The words runc's debug.bats and log scrapers look for, around ferrun's own.
    crate::debug!(
        "child process in init(): the init of container {:?} is running",
        ctx.id
    );
    let prepared = match setup::setup(&ctx) {
        Ok(p) => p,
        Err(f) => {
            let _ = ctx.channel.send(&ChildMsg::Failed(f));
            std::process::exit(1)
        }
    };
    crate::debug!("init: closing the pipe to signal completion (set up, waiting for start)");
    if let Err(f) = ctx.channel.send(&ChildMsg::Ready) {
        let _ = f;
        std::process::exit(1)
    }
    let InitContext {
        channel,
        exec_listener,
        ..
    } = ctx;
    crate::logging::silence();
    drop(channel);
    exec::wait_and_exec(exec_listener, prepared)
}

/// The init's (and the exec child's) log lines go to the runtime over the channel: its own
/// stderr may be the container's, and the `--log` path names another file once the root is
/// pivoted or the mount namespace joined.
pub(super) fn forward_logs(channel: &Channel) {
    let fd = channel.raw();
    crate::logging::forward(Box::new(move |level, msg| {
        let line = ChildMsg::Log {
            level,
            msg: msg.to_string(),
        };
        let _ = super::channel::send_on(fd, &line);
    }));
}
