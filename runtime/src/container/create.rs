//! `create`: everything up to an init blocked on exec.sock; on failure, nothing left behind.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::sys::signal::SigSet;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxNamespaceType;

use super::config::{load_bundle, Bundle, ConfigError};
use super::state::ContainerState;
use super::status::{read_proc_stat, Status};
use super::store::{ContainerDir, StateStore, StoreError};
use super::time::rfc3339_now;
use crate::cgroups::{self, CgroupError, CgroupManager, CgroupSpec};
use crate::hooks::{run_hooks_at, HookKind, HookSite};
use crate::namespaces::{self, NamespaceError};
use crate::process::start::{bind_exec_listener, StartError};
use crate::process::{launch, LaunchConfig, LaunchError};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Namespaces(#[from] NamespaceError),
    /// runc 1.1.5 (validate/rootless.go): "rootless container requires user namespaces".
    #[error("container {id:?}: rootless container (euid {euid}) requires a user namespace: add {{\"type\": \"user\"}} to linux.namespaces, with linux.uidMappings and linux.gidMappings (see `ferrun spec --rootless`)")]
    RootlessWithoutUserns { id: String, euid: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cgroup for container {id:?}: {source}")]
    Cgroup { id: String, source: CgroupError },
    #[error("container {id:?}: linux.cgroupsPath {path:?} cannot be created rootless (delegate it to this user, or leave linux.cgroupsPath unset to run without cgroups): {source}")]
    RootlessCgroupsPath {
        id: String,
        path: String,
        source: Box<CgroupError>,
    },
    #[error(transparent)]
    ExecSocket(#[from] StartError),
    #[error("--console-socket {path}: {source}")]
    Console {
        path: PathBuf,
        source: crate::tty::TtyError,
    },
    #[error("{0}")]
    Usage(String),
    #[error("create container {id:?}: {source}")]
    Launch { id: String, source: LaunchError },
    #[error("--pid-file {path}: {source}")]
    PidFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the pty master goes when process.terminal is true.
#[derive(Debug)]
pub enum ConsoleSource {
    /// Nowhere: a terminal config is an error (runc: detaching needs a console socket).
    None,
    /// `--console-socket PATH`.
    Socket(PathBuf),
    /// Our own socket end: foreground `run` proxies the tty itself (used only if terminal).
    Proxy(OwnedFd),
}

#[derive(Debug)]
pub struct CreateOptions {
    pub id: String,
    pub bundle: PathBuf,
    pub console: ConsoleSource,
    pub pid_file: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub systemd_cgroup: bool,
    /// `--rootless` and the caller's euid (see [`crate::rootless`]).
    pub rootless: crate::rootless::Rootless,
    /// The mask the container process gets (the caller may have blocked signals).
    pub sigmask: SigSet,
}

#[derive(Debug)]
pub struct Created {
    pub state: ContainerState,
    pub pid: Pid,
    pub terminal: bool,
}

/// Undo what `create` made, in reverse order, unless committed.
pub(super) struct Rollback {
    pub(super) dir: Option<ContainerDir>,
    pub(super) cgroup: Option<Box<dyn CgroupManager>>,
    /// The rootfs of a container sharing the runtime's mount namespace, whose mounts under
    /// it would outlive a failed create (see `rootfs::leftovers`).
    pub(super) shared_rootfs: Option<std::path::PathBuf>,
}

impl Drop for Rollback {
    fn drop(&mut self) {
        // The init (if any) was killed and reaped by `launch`; its cgroup is empty now.
        if let Some(rootfs) = self.shared_rootfs.take() {
            let _ = crate::rootfs::leftovers::unmount_below(&crate::rootfs::real(), &rootfs);
        }
        if let Some(cg) = self.cgroup.take() {
            let _ = cg.destroy();
        }
        if let Some(dir) = self.dir.take() {
            let _ = dir.remove();
        }
    }
}

pub fn create(store: &StateStore, opts: &CreateOptions) -> Result<Created, CreateError> {
    let bundle = load_bundle(&opts.bundle)?;
    crate::debug!(
        "create: {:?} loaded the config of bundle {}",
        opts.id,
        bundle.dir.display()
    );
    let process = bundle.spec.process().as_ref().expect("validated");
    let terminal = process.terminal().unwrap_or(false);
    check_console(&opts.console, terminal)?;
    let plan = namespaces::plan(&bundle.spec)?;
    if opts.rootless.euid && !plan.has_user() {
        return Err(CreateError::RootlessWithoutUserns {
            id: opts.id.clone(),
            euid: nix::unistd::geteuid().as_raw(),
        });
    }
    // The order is what makes a killed create recoverable: the directory is claimed, then
    // the record (with the cgroup path) is written, and only then is anything made outside
    // the directory; the init's pid is recorded right after the clone. `delete --force` finds
    // everything from the record, and a directory without one holds nothing else.
    let mut rollback = Rollback {
        dir: Some(store.create(&opts.id)?),
        cgroup: None,
        shared_rootfs: plan.shares_mount_ns().then(|| bundle.rootfs.clone()),
    };
    let dir = rollback.dir.as_ref().expect("just set");
    let mut state = initial_state(&opts.id, &bundle);

    let cgroup = make_cgroup(opts, &bundle, dir, &mut state)?;
    rollback.cgroup = Some(cgroup);
    let cgroup = rollback.cgroup.as_deref().expect("just set");

    let exec_listener = bind_exec_listener(&dir.path)?;
    let console = console_fd(&opts.console, terminal)?;
    let hooks = bundle.spec.hooks().clone().unwrap_or_default();
    let base = state.clone();
    let state_with = move |pid: Pid, status: Status| {
        let mut s = base.clone();
        s.pid = pid.as_raw();
        s.status = status;
        s.oci_state_unchecked().hook_json_string()
    };
    let state_json = |pid: Pid| state_with(pid, Status::Creating);
    // From the bundle directory, where runc's create and run work. prestart reads `created`:
    // the deprecated hook's contract is "after start is called" (runtime-tools checks it);
    // createRuntime, new in 1.1, keeps runc's `creating`.
    let bundle_dir = bundle.dir.clone();
    let mut create_hooks = |pid: Pid| -> crate::process::launch::HookResult {
        let at = HookSite {
            cwd: Some(&bundle_dir),
            default_env: None,
        };
        run_hooks_at(
            HookKind::Prestart,
            hooks.prestart().as_deref().unwrap_or_default(),
            state_with(pid, Status::Created).as_bytes(),
            at,
        )?;
        run_hooks_at(
            HookKind::CreateRuntime,
            hooks.create_runtime().as_deref().unwrap_or_default(),
            state_json(pid).as_bytes(),
            at,
        )?;
        Ok(())
    };
    let record_pid = |pid: Pid| -> crate::process::launch::HookResult {
        crate::sys::interrupt::guard_init(pid.as_raw());
        let mut s = state.clone();
        s.pid = pid.as_raw();
        s.pid_start_time = read_proc_stat(s.pid).map_or(0, |st| st.start_time);
        dir.save(&s)?;
        Ok(())
    };
    let launched = launch(
        LaunchConfig {
            id: &opts.id,
            spec: &bundle.spec,
            bundle: &bundle.dir,
            rootfs: &bundle.rootfs,
            plan,
            exec_listener,
            console,
            no_pivot: opts.no_pivot,
            no_new_keyring: opts.no_new_keyring,
            preserve_fds: opts.preserve_fds,
            cgroup,
            sigmask: opts.sigmask,
            state_json: &state_json,
            on_spawned: &record_pid,
        },
        &mut create_hooks,
    );
    let launched = match launched {
        Ok(l) => l,
        Err(source) => {
            run_poststop_after_failure(&state);
            return Err(CreateError::Launch {
                id: opts.id.clone(),
                source,
            });
        }
    };
    state.pid = launched.pid.as_raw();
    state.pid_start_time = read_proc_stat(state.pid).map_or(0, |s| s.start_time);
    state.status = Status::Created;
    let finish = dir
        .save(&state)
        .map_err(CreateError::from)
        .and_then(|()| match &opts.pid_file {
            Some(p) => super::pidfile::write(p, state.pid).map_err(|source| CreateError::PidFile {
                path: p.clone(),
                source,
            }),
            None => Ok(()),
        });
    if let Err(e) = finish {
        let _ = nix::sys::signal::kill(launched.pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(launched.pid, None);
        return Err(e);
    }
    // Committed: the container exists now.
    rollback.cgroup = None;
    rollback.dir = None;
    rollback.shared_rootfs = None;
    Ok(Created {
        state,
        pid: launched.pid,
        terminal,
    })
}

pub(super) fn check_console(console: &ConsoleSource, terminal: bool) -> Result<(), CreateError> {
    match (console, terminal) {
        (ConsoleSource::None, true) => Err(CreateError::Usage(
            "process.terminal is true: cannot allocate a tty without --console-socket when detaching".into(),
        )),
        (ConsoleSource::Socket(_), false) => Err(CreateError::Usage(
            "--console-socket given but process.terminal is false".into(),
        )),
        _ => Ok(()),
    }
}

/// The socket the init sends its pty master to, when it has a terminal.
fn console_fd(console: &ConsoleSource, terminal: bool) -> Result<Option<OwnedFd>, CreateError> {
    match (console, terminal) {
        (ConsoleSource::Socket(p), _) => connect_console(Some(p)),
        (ConsoleSource::Proxy(fd), true) => {
            fd.try_clone()
                .map(Some)
                .map_err(|source| CreateError::Console {
                    path: PathBuf::from("(internal console socket)"),
                    source: crate::tty::TtyError::Pty {
                        op: "dup the internal console socket",
                        source: nix::errno::Errno::from_raw(
                            source.raw_os_error().unwrap_or(libc::EIO),
                        ),
                    },
                })
        }
        _ => Ok(None),
    }
}

/// Resolve the container's cgroup, record where it is (before it exists, so a create killed
/// while making it leaves a record `delete --force` removes it by), then make it.
pub(super) fn make_cgroup(
    opts: &CreateOptions,
    bundle: &Bundle,
    dir: &ContainerDir,
    state: &mut ContainerState,
) -> Result<Box<dyn CgroupManager>, CreateError> {
    let cgroups_path = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.cgroups_path().clone());
    let cgroups_path = cgroups_path.map(|p| p.to_string_lossy().into_owned());
    let cg_err = |source| CreateError::Cgroup {
        id: opts.id.clone(),
        source,
    };
    let resources = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.resources().as_ref());
    let cgroup = cgroups::manager(&CgroupSpec {
        id: &opts.id,
        cgroups_path: cgroups_path.as_deref(),
        systemd: opts.systemd_cgroup,
        // runc (cgroups/fs Apply): permission errors are ignored only when no explicit
        // linux.cgroupsPath was asked for; a requested cgroup that cannot be made is an error.
        rootless: opts.rootless.cgroups && cgroups_path.is_none(),
        user_bus: opts.rootless.cgroups,
        resources,
    })
    .map_err(cg_err)?;
    // runc (libcontainer Create): before anything is made, refuse what the host cannot take
    // and a frozen cgroup (the init would freeze in it and create would never return); a
    // cgroup that already holds processes is only a warning, as in runc 1.1.
    let found = cgroup.precheck(resources).map_err(cg_err)?;
    if found.processes > 0 {
        crate::logging::warn(&format!(
            "container's cgroup is not empty: {} process(es) found",
            found.processes
        ));
    }
    state.cgroup_path = Some(cgroup.path().to_string());
    state.systemd = cgroup.systemd_unit();
    dir.save(state)?;
    cgroup.create().map_err(|source| match &cgroups_path {
        Some(path) if opts.rootless.cgroups => CreateError::RootlessCgroupsPath {
            id: opts.id.clone(),
            path: path.clone(),
            source: Box::new(source),
        },
        _ => cg_err(source),
    })?;
    // Rootless: only the hierarchies actually made are persisted, so later commands do not
    // read cgroups the container never joined (none at all without delegation).
    state.cgroup_path = cgroup.persisted_path();
    Ok(cgroup)
}

pub(super) fn initial_state(id: &str, bundle: &Bundle) -> ContainerState {
    let owner = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default();
    ContainerState {
        id: id.to_string(),
        pid: 0,
        pid_start_time: 0,
        status: Status::Creating,
        bundle: bundle.dir.clone(),
        rootfs: bundle.rootfs.clone(),
        created: rfc3339_now(),
        owner,
        annotations: bundle.spec.annotations().clone().unwrap_or_default(),
        cgroup_path: None,
        systemd: None,
        hooks: bundle.spec.hooks().clone(),
        own_pid_namespace: bundle
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().as_ref())
            .is_some_and(|nss| {
                nss.iter()
                    .any(|ns| ns.typ() == LinuxNamespaceType::Pid && ns.path().is_none())
            }),
        restored: false,
    }
}

pub(super) fn connect_console(path: Option<&Path>) -> Result<Option<OwnedFd>, CreateError> {
    path.map(|p| {
        crate::tty::connect_console_socket(p).map_err(|source| CreateError::Console {
            path: p.to_path_buf(),
            source,
        })
    })
    .transpose()
}

/// runtime.md#lifecycle: when a create-time hook fails the runtime stops the container and
/// continues at "delete", whose last step runs the poststop hooks. Their failures only warn.
fn run_poststop_after_failure(state: &ContainerState) {
    let mut s = state.clone();
    s.status = Status::Stopped;
    s.run_warning_hooks(HookKind::Poststop);
}
