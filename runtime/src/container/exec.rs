//! `exec`: run another process in a created or running container (runc's rules: a paused one
//! only with `--ignore-paused`). The process it runs: exec_process.rs; `--cgroup`:
//! exec_cgroup.rs.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use nix::sys::signal::SigSet;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use super::config::{load_bundle, ConfigError};
use super::exec_cgroup::{self, SubCgroupError};
use super::exec_process::build_process;
use super::state::ContainerState;
use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::cgroups::layout::Layout;
use crate::cgroups::CgroupError;
use crate::namespaces::{kind_name, JoinNs};
use crate::process::exec::{spawn, ExecConfig, SpawnError};
use crate::security::{check_supported, validate_process, SecurityError, Unsupported};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// runc's words, which scripts match.
    #[error("cannot exec in a paused container (use --ignore-paused to override)")]
    Paused,
    #[error("container {id:?}: cannot exec in a {status} container")]
    NotRunning { id: String, status: Status },
    #[error("--process {path}: {msg}")]
    ProcessFile { path: PathBuf, msg: String },
    #[error("{0}")]
    Usage(String),
    #[error("container {id:?}: open {path}: {source}")]
    Namespace {
        id: String,
        path: String,
        source: std::io::Error,
    },
    #[error("cannot exec in container {id:?} before it is started: its init is not dumpable until it runs the program, so an unprivileged user cannot open its namespaces ({path}: {source}); start it first")]
    CreatedInitProtected {
        id: String,
        path: String,
        source: std::io::Error,
    },
    #[error("cgroup of container {id:?}: {source}")]
    Cgroup { id: String, source: CgroupError },
    #[error(transparent)]
    SubCgroup(#[from] SubCgroupError),
    #[error("exec in container {id:?}: {source}")]
    Spawn { id: String, source: SpawnError },
    #[error("exec in container {id:?}: {source}")]
    Security { id: String, source: SecurityError },
    #[error("exec in container {id:?}: {source}")]
    Unsupported { id: String, source: Unsupported },
}

/// What the command line asks for, besides the container id.
#[derive(Debug, Default)]
pub struct ExecRequest {
    pub process_file: Option<PathBuf>,
    pub args: Vec<String>,
    pub tty: bool,
    pub cwd: Option<PathBuf>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    /// `--apparmor PROFILE`: instead of the container's process.apparmorProfile.
    pub apparmor: Option<String>,
    /// `--process-label LABEL`: instead of the container's process.selinuxLabel.
    pub process_label: Option<String>,
    pub ignore_paused: bool,
    /// `--cgroup` flags, as given.
    pub cgroups: Vec<String>,
}

/// Where the pty master of a `--tty` process goes.
pub enum Console {
    /// Nowhere: no terminal may be asked for.
    None,
    /// To us (foreground `exec`), over our end of this socket pair.
    Proxy(OwnedFd),
    /// To the caller's `--console-socket`.
    Socket(PathBuf),
}

pub struct ExecOptions {
    pub console: Console,
    pub detach: bool,
    pub preserve_fds: u32,
    pub sigmask: SigSet,
}

/// runc refuses a stopped container, and a paused one unless asked: the process would join
/// the frozen cgroup and stay frozen until `resume`.
fn check_status(id: &str, status: Status, ignore_paused: bool) -> Result<(), ExecError> {
    match status {
        Status::Created | Status::Running => Ok(()),
        Status::Paused if ignore_paused => Ok(()),
        Status::Paused => Err(ExecError::Paused),
        status => Err(ExecError::NotRunning {
            id: id.to_string(),
            status,
        }),
    }
}

/// The same checks as create, before anything is spawned: a --process file with a repeated
/// rlimit, a profile on a host without AppArmor, a label on a host without SELinux (runc's
/// words), or a field ferrun does not implement fails here with its field.
fn check_process(id: &str, process: &Process, spec: &Spec) -> Result<(), ExecError> {
    let seccomp = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    validate_process(process, seccomp).map_err(|source| ExecError::Security {
        id: id.to_string(),
        source,
    })?;
    let mut only_process = Spec::default();
    only_process.set_linux(None);
    only_process.set_mounts(None);
    only_process.set_process(Some(process.clone()));
    check_supported(&only_process).map_err(|source| ExecError::Unsupported {
        id: id.to_string(),
        source,
    })
}

/// Start the process; returns its host pid and whether it has a terminal.
pub fn exec(
    store: &StateStore,
    id: &str,
    req: &ExecRequest,
    opts: ExecOptions,
) -> Result<(Pid, bool), ExecError> {
    let state = store.peek(id)?;
    let status = store.status(&state);
    check_status(id, status, req.ignore_paused)?;
    let sub_cgroups = exec_cgroup::parse(&req.cgroups)?;
    let bundle = load_bundle(&state.bundle)?;
    let process = build_process(&bundle.spec, req)?;
    check_process(id, &process, &bundle.spec)?;
    let terminal = process.terminal().unwrap_or(false);
    let console = console_for(terminal, opts.detach, opts.console)?;
    let layout = state
        .cgroup_path
        .as_deref()
        .map(Layout::decode)
        .transpose()
        .map_err(|source| ExecError::Cgroup {
            id: id.to_string(),
            source,
        })?;
    let cgroup_dirs = exec_cgroup::target_dirs(layout.as_ref(), sub_cgroups.as_ref())?;
    let fallback = exec_cgroup::v2_fallback(layout.as_ref(), sub_cgroups.as_ref(), state.pid);
    let (join, join_pid) = namespaces_of(id, &bundle.spec, &state, status)?;
    let seccomp = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().clone());
    let root = container_root(id, &bundle.spec, &state)?;
    let pid = spawn(ExecConfig {
        process: &process,
        seccomp: seccomp.as_ref(),
        personality: bundle
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.personality().as_ref()),
        join,
        join_pid,
        root,
        user_in_parent: !nix::unistd::geteuid().is_root(),
        cgroup_dirs,
        cgroup_fallback: Some(&fallback),
        oom_score_adj: bundle
            .spec
            .process()
            .as_ref()
            .and_then(|p| p.oom_score_adj()),
        console,
        preserve_fds: opts.preserve_fds,
        sigmask: opts.sigmask,
        state_json: state.oci_state(Status::Running).hook_json_string(),
    })
    .map_err(|source| ExecError::Spawn {
        id: id.to_string(),
        source,
    })?;
    Ok((pid, terminal))
}

/// The console end the process gets, refusing what runc refuses: a terminal for a detached
/// process needs `--console-socket`, and `--console-socket` needs both a terminal and
/// `--detach` (in the foreground the pty comes to us).
fn console_for(
    terminal: bool,
    detach: bool,
    console: Console,
) -> Result<Option<OwnedFd>, ExecError> {
    match console {
        Console::Socket(path) if terminal && detach => crate::tty::connect_console_socket(&path)
            .map(Some)
            .map_err(|e| ExecError::Usage(format!("--console-socket {}: {e}", path.display()))),
        Console::Socket(_) => Err(ExecError::Usage(
            "cannot use console socket without both --tty and --detach".into(),
        )),
        Console::Proxy(fd) if terminal => Ok(Some(fd)),
        _ if terminal => Err(ExecError::Usage(
            "cannot allocate tty when detached without --console-socket".into(),
        )),
        _ => Ok(None),
    }
}

/// [`container_namespaces`], explaining the one refusal an unprivileged caller meets.
fn namespaces_of(
    id: &str,
    spec: &Spec,
    state: &ContainerState,
    status: Status,
) -> Result<(Vec<JoinNs>, Option<OwnedFd>), ExecError> {
    container_namespaces(id, spec, state).map_err(|e| match e {
        // Opening /proc/<pid>/ns needs ptrace access, which a non-dumpable init grants
        // only with CAP_SYS_PTRACE (crun behaves the same).
        ExecError::Namespace { id, path, source }
            if status == Status::Created
                && source.kind() == std::io::ErrorKind::PermissionDenied
                && !nix::unistd::geteuid().is_root() =>
        {
            ExecError::CreatedInitProtected { id, path, source }
        }
        other => other,
    })
}

/// Every namespace the container has (new or joined), through its init's /proc/<pid>/ns.
/// Without a mount namespace entry the init is only chrooted (rootfs::root): hand its root
/// to the exec'd process, which has no mount namespace to join.
fn container_root(
    id: &str,
    spec: &Spec,
    state: &ContainerState,
) -> Result<Option<OwnedFd>, ExecError> {
    if !crate::rootfs::leftovers::shares_mount_ns(spec) {
        return Ok(None);
    }
    let path = format!("/proc/{}/root", state.pid);
    File::open(&path)
        .map(|f| Some(f.into()))
        .map_err(|source| ExecError::Namespace {
            id: id.to_string(),
            path,
            source,
        })
}

fn container_namespaces(
    id: &str,
    spec: &Spec,
    state: &ContainerState,
) -> Result<(Vec<JoinNs>, Option<OwnedFd>), ExecError> {
    let mut join = Vec::new();
    let mut join_pid = None;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    for ns in namespaces {
        let name = match ns.typ() {
            LinuxNamespaceType::Mount => "mnt",
            LinuxNamespaceType::Network => "net",
            k => kind_name(k),
        };
        let path = format!("/proc/{}/ns/{name}", state.pid);
        let file = File::open(&path).map_err(|source| ExecError::Namespace {
            id: id.to_string(),
            path: path.clone(),
            source,
        })?;
        if ns.typ() == LinuxNamespaceType::Pid {
            join_pid = Some(file.into());
        } else {
            join.push(JoinNs {
                kind: ns.typ(),
                file: file.into(),
            });
        }
    }
    // User first (capabilities for the rest), mount last (after it, paths change meaning).
    join.sort_by_key(|j| match j.kind {
        LinuxNamespaceType::User => 0,
        LinuxNamespaceType::Mount => 2,
        _ => 1,
    });
    Ok((join, join_pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_needs_ignore_paused_and_stopped_is_refused_in_runcs_words() {
        assert!(check_status("c", Status::Running, false).is_ok());
        assert!(check_status("c", Status::Created, false).is_ok());
        assert!(check_status("c", Status::Paused, true).is_ok());
        assert_eq!(
            check_status("c", Status::Paused, false)
                .unwrap_err()
                .to_string(),
            "cannot exec in a paused container (use --ignore-paused to override)"
        );
        assert_eq!(
            check_status("c", Status::Stopped, true)
                .unwrap_err()
                .to_string(),
            r#"container "c": cannot exec in a stopped container"#
        );
    }

    #[test]
    fn process_checks_apply_to_exec_too() {
        let spec: Spec =
            serde_json::from_value(serde_json::json!({"ociVersion": "1.2.0"})).unwrap();
        let p: Process = serde_json::from_value(serde_json::json!({
            "user": {"uid": 0, "gid": 0}, "args": ["id"], "cwd": "/",
            "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
                        {"type": "RLIMIT_CORE", "soft": 1, "hard": 1}]}))
        .unwrap();
        let e = check_process("c", &p, &spec).unwrap_err().to_string();
        assert!(e.contains("RLIMIT_CORE is given more than once"), "{e}");
    }
}

#[cfg(test)]
mod console_tests {
    use super::*;

    #[test]
    fn console_socket_needs_tty_and_detach_and_a_detached_tty_needs_it() {
        let sock = || Console::Socket(PathBuf::from("/nonexistent/console.sock"));
        let msg = |r: Result<Option<OwnedFd>, ExecError>| r.unwrap_err().to_string();
        assert!(msg(console_for(true, false, sock())).starts_with("cannot use console socket"));
        assert!(msg(console_for(false, true, sock())).starts_with("cannot use console socket"));
        assert!(msg(console_for(true, true, sock())).starts_with("--console-socket"));
        assert!(msg(console_for(true, true, Console::None)).starts_with("cannot allocate tty"));
        assert!(console_for(false, true, Console::None).unwrap().is_none());
        let (a, _b) = crate::process::ttyproxy::console_pair().unwrap();
        assert!(console_for(false, false, Console::Proxy(a))
            .unwrap()
            .is_none());
        let (a, _b) = crate::process::ttyproxy::console_pair().unwrap();
        assert!(console_for(true, false, Console::Proxy(a))
            .unwrap()
            .is_some());
    }
}
