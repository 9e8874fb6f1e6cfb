//! The parent side of `create`: clone the init into its namespaces and walk it through setup.

use std::os::fd::OwnedFd;
use std::path::Path;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use std::cell::RefCell;

use super::birth::{clone_child, open_tasks, BirthCgroup};
use super::channel::{self, Channel};
use super::idmap::{IdMapError, Writer};
use super::init::{self, InitContext};
use super::messages::{describe_end, ChildMsg, InitFailure, ParentMsg};
use crate::cgroups::{CgroupError, CgroupManager, Placed};
use crate::namespaces::NamespacePlan;
use crate::sys::clone::Forked;

pub type HookResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot create the init channel: {0}")]
    Channel(#[source] std::io::Error),
    #[error("channel to container init: {0}")]
    ChannelIo(#[source] std::io::Error),
    #[error("clone of the container init failed: {0}")]
    Clone(#[source] nix::errno::Errno),
    #[error("cannot join the container's user namespace (before its pid namespace): {0}")]
    JoinUser(#[source] nix::errno::Errno),
    #[error("cannot join the pid namespace from linux.namespaces: {0}")]
    JoinPid(#[source] nix::errno::Errno),
    #[error("cannot create the time namespace: {0}")]
    TimeNs(#[source] std::io::Error),
    #[error(transparent)]
    IdMap(#[from] IdMapError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    #[error("process.oomScoreAdj {score}: write {path}: {source}{hint}",
        hint = if *score < 0 { " (lowering oom_score_adj needs CAP_SYS_RESOURCE)" } else { "" })]
    OomScoreAdj {
        path: String,
        score: i32,
        source: std::io::Error,
    },
    #[error(transparent)]
    Init(#[from] InitFailure),
    /// How it ended, from `messages::describe_end`.
    #[error("container init {0} during setup")]
    InitDied(String),
    #[error("container init sent an unexpected message: {0}")]
    Protocol(ChildMsg),
    #[error(transparent)]
    Listener(#[from] super::listener::ListenerError),
    #[error("{0}")]
    Hooks(Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot record the container init (pid {pid}): {source}")]
    Record {
        pid: i32,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub struct LaunchConfig<'a> {
    pub id: &'a str,
    pub spec: &'a Spec,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub plan: NamespacePlan,
    /// Listening socket `<state>/exec.sock` on which the init waits for `start`.
    pub exec_listener: OwnedFd,
    /// Connected `--console-socket`, when process.terminal is true.
    pub console: Option<OwnedFd>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub cgroup: &'a dyn CgroupManager,
    /// The signal mask to restore in the container process.
    pub sigmask: SigSet,
    /// The state JSON for hooks, given the init's host pid.
    pub state_json: &'a dyn Fn(Pid) -> String,
    /// Called with the init's pid right after the clone, before the init does anything: the
    /// caller records it, so a `create` killed from here on leaves a pid `delete` can kill.
    pub on_spawned: &'a dyn Fn(Pid) -> HookResult,
}

#[derive(Debug, Clone, Copy)]
pub struct Launched {
    pub pid: Pid,
}

/// Clone the init and drive it to `Ready`. On any error the child is killed and reaped before
/// this returns; the caller removes its cgroup and state directory.
pub fn launch(
    cfg: LaunchConfig,
    on_create_hooks: &mut dyn FnMut(Pid) -> HookResult,
) -> Result<Launched, LaunchError> {
    let (parent_end, child_end) = channel::pair().map_err(LaunchError::Channel)?;
    // Before the clone and before any namespace changes: the trees need the host's
    // privileges over their source mounts (rootfs::idmapped).
    let requests = crate::rootfs::idmapped::requests(cfg.spec, cfg.bundle)?;
    let idmapped = crate::rootfs::IdmappedMounts::prepare(
        &mut super::idmapped::RealIdmapSys,
        &requests,
        !nix::unistd::geteuid().is_root(),
    )?;
    let idmapped_handles = idmapped.handles();
    prepare_parent_namespaces(&cfg.plan)?;
    let LaunchConfig {
        exec_listener,
        console,
        ..
    } = cfg;
    // Read before the clone: in a new user namespace the child's euid is unmapped.
    let unprivileged_parent = !nix::unistd::geteuid().is_root();
    // Into the cgroup without a cgroup.procs write where the host allows (`process::birth`).
    let placement = cfg.cgroup.self_placement();
    let birth = placement.birth.as_deref().and_then(BirthCgroup::open);
    let mut tasks = open_tasks(&placement.v1);
    // Only when there is a v1 hierarchy to join: a pure v2 host has no `tasks` file to write.
    let self_joined = tasks.as_ref().is_some_and(|t| !t.is_empty());
    let (forked, born) =
        clone_child(cfg.plan.clone_flags.bits(), birth.as_ref()).map_err(LaunchError::Clone)?;
    drop(birth);
    let pid = match forked {
        Forked::Child => {
            drop(parent_end);
            init::run(InitContext {
                id: cfg.id,
                spec: cfg.spec,
                bundle: cfg.bundle,
                rootfs: cfg.rootfs,
                plan: &cfg.plan,
                channel: child_end,
                exec_listener,
                console,
                no_pivot: cfg.no_pivot,
                no_new_keyring: cfg.no_new_keyring,
                preserve_fds: cfg.preserve_fds,
                sigmask: cfg.sigmask,
                unprivileged_parent,
                idmapped: &idmapped_handles,
                cgroup_tasks: RefCell::new(tasks.take().unwrap_or_default()),
            })
        }
        Forked::Parent(pid) => pid,
    };
    crate::debug!(
        "nsexec container setup: cloned the init of {:?}, pid {pid}",
        cfg.id
    );
    // Our copies: the child holds its own. Closing the child's channel end makes a dead init
    // read as EOF instead of a hang.
    drop(child_end);
    drop(exec_listener);
    drop(console);
    drop(idmapped);
    drop(tasks);
    let parent = Parent {
        plan: &cfg.plan,
        cgroup: cfg.cgroup,
        placed: Placed { born, self_joined },
        spec: cfg.spec,
        state_json: cfg.state_json,
    };
    let driven = (cfg.on_spawned)(pid)
        .map_err(|source| LaunchError::Record {
            pid: pid.as_raw(),
            source,
        })
        .and_then(|()| parent.drive(pid, &parent_end, on_create_hooks));
    match driven {
        Ok(()) => Ok(Launched { pid }),
        Err(e) => {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
            Err(e)
        }
    }
}

/// What the parent needs while it drives the init through setup.
struct Parent<'a> {
    plan: &'a NamespacePlan,
    cgroup: &'a dyn CgroupManager,
    /// What the init reached of its cgroup by itself (`process::birth`).
    placed: Placed,
    spec: &'a Spec,
    state_json: &'a dyn Fn(Pid) -> String,
}

/// Namespaces the parent must enter before the clone: a pid namespace to join (setns on a pid
/// namespace only affects children) and a new time namespace (its offsets must be written
/// before any process lives in it: time_namespaces(7)).
fn prepare_parent_namespaces(plan: &NamespacePlan) -> Result<(), LaunchError> {
    if let Some(fd) = &plan.join_pid {
        nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWPID)
            .map_err(LaunchError::JoinPid)?;
    }
    if let Some(offsets) = &plan.new_time {
        nix::sched::unshare(crate::namespaces::clone_flag(
            oci_spec::runtime::LinuxNamespaceType::Time,
        ))
        .map_err(|e| LaunchError::TimeNs(e.into()))?;
        if !offsets.is_empty() {
            std::fs::write("/proc/self/timens_offsets", offsets).map_err(LaunchError::TimeNs)?;
        }
    }
    Ok(())
}

impl Parent<'_> {
    fn drive(
        &self,
        pid: Pid,
        chan: &Channel,
        on_create_hooks: &mut dyn FnMut(Pid) -> HookResult,
    ) -> Result<(), LaunchError> {
        if self.plan.new_user() {
            let euid = nix::unistd::geteuid().as_raw();
            let who = Writer {
                privileged: euid == 0,
                euid,
                egid: nix::unistd::getegid().as_raw(),
            };
            super::idmap::write_id_maps(
                &mut crate::sys::idmap::RealIdMapSys,
                pid.as_raw(),
                &self.plan.uid_mappings,
                &self.plan.gid_mappings,
                who,
            )?;
        }
        // runc puts the init into its cgroup before it does anything that allocates resources
        // the limits should cover, and before it unshares the cgroup namespace (whose root is
        // the cgroup the process is in at that moment). What it was born in, or moves itself
        // into right after `Go`, is left out.
        self.cgroup.add_task_rest(pid.as_raw(), self.placed)?;
        // process.oomScoreAdj from here, in the initial user namespace: lowering it needs
        // CAP_SYS_RESOURCE there, which the init (maybe in a new user namespace) lacks.
        if let Some(score) = self.spec.process().as_ref().and_then(|p| p.oom_score_adj()) {
            write_oom_score_adj(pid, score)?;
        }
        // Always applied, even without linux.resources: the device policy (deny all but
        // runc's default devices) is part of it.
        let default = oci_spec::runtime::LinuxResources::default();
        let res = self
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.resources().as_ref())
            .unwrap_or(&default);
        self.cgroup.apply(res)?;
        let state_json = (self.state_json)(pid);
        chan.send(&ParentMsg::Go { state_json })
            .map_err(LaunchError::ChannelIo)?;
        crate::debug!(
            "init pid {pid}: {} cgroup {}, told to go on",
            placement_words(self.placed),
            self.cgroup.path()
        );
        loop {
            match chan.recv::<ChildMsg>().map_err(LaunchError::ChannelIo)? {
                Some(ChildMsg::RunCreateHooks) => {
                    crate::debug!("init pid {pid}: running prestart and createRuntime hooks");
                    on_create_hooks(pid).map_err(LaunchError::Hooks)?;
                    chan.send(&ParentMsg::HooksDone)
                        .map_err(LaunchError::ChannelIo)?;
                }
                Some(ChildMsg::SeccompFd { fd }) => {
                    // runc's state for the agent: `creating`, with the init's pid.
                    let seccomp = self
                        .spec
                        .linux()
                        .as_ref()
                        .and_then(|l| l.seccomp().as_ref());
                    super::listener::forward(seccomp, pid, fd, &(self.state_json)(pid))?;
                    chan.send(&ParentMsg::SeccompDone)
                        .map_err(LaunchError::ChannelIo)?;
                }
                Some(ChildMsg::Log { level, msg }) => crate::logging::relay(level, &msg),
                Some(ChildMsg::Ready) => return Ok(()),
                Some(ChildMsg::Failed(f)) => return Err(LaunchError::Init(f)),
                None => {
                    let status = waitpid(pid, None).unwrap_or(WaitStatus::StillAlive);
                    return Err(LaunchError::InitDied(describe_end(status)));
                }
            }
        }
    }
}

/// How the init got into its cgroup, for the debug log.
fn placement_words(placed: Placed) -> &'static str {
    match (placed.born, placed.self_joined) {
        (true, true) => "born in (cgroup2) and moving itself into (v1)",
        (true, false) => "born in",
        (false, true) => "moving itself into",
        (false, false) => "moved to",
    }
}

/// process.oomScoreAdj into /proc/<pid>/oom_score_adj, for the init and for every exec'd
/// process (runc's bootstrap data carries the container's value to both).
pub(crate) fn write_oom_score_adj(pid: Pid, score: i32) -> Result<(), LaunchError> {
    let path = format!("/proc/{}/oom_score_adj", pid.as_raw());
    std::fs::write(&path, score.to_string()).map_err(|source| LaunchError::OomScoreAdj {
        path,
        score,
        source,
    })
}
