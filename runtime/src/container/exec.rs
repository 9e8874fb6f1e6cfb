//! `exec`: run another process in a created or running container.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::sys::signal::SigSet;
use nix::unistd::Pid;
use oci_spec::runtime::{Capability, LinuxCapabilities, LinuxNamespaceType, Process, Spec};

use super::config::{load_bundle, ConfigError};
use super::state::ContainerState;
use super::status::Status;
use super::store::{StateStore, StoreError};
use crate::cgroups::{manager_from_path, CgroupError};
use crate::namespaces::{kind_name, JoinNs};
use crate::process::exec::{spawn, ExecConfig};
use crate::process::LaunchError;
use crate::security::identity::{check_id, IdentityError};
use crate::security::{validate_process, SecurityError};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot exec in container {id:?}: it is {status}")]
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
    #[error("exec in container {id:?}: {source}")]
    Spawn { id: String, source: LaunchError },
    #[error("exec in container {id:?}: {source}")]
    Security { id: String, source: SecurityError },
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
}

pub struct ExecOptions {
    pub console: Option<OwnedFd>,
    pub preserve_fds: u32,
    pub sigmask: SigSet,
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
    if !matches!(status, Status::Created | Status::Running) {
        return Err(ExecError::NotRunning {
            id: id.to_string(),
            status,
        });
    }
    let bundle = load_bundle(&state.bundle)?;
    let process = build_process(&bundle.spec, req)?;
    let seccomp = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().clone());
    // The same checks as create, before anything is spawned: a --process file with a
    // repeated rlimit, or a profile on a host without AppArmor, fails here with its field.
    validate_process(&process, seccomp.as_ref()).map_err(|source| ExecError::Security {
        id: id.to_string(),
        source,
    })?;
    let terminal = process.terminal().unwrap_or(false);
    if terminal && opts.console.is_none() {
        return Err(ExecError::Usage(
            "--tty needs a console (--console-socket when detached)".into(),
        ));
    }
    let (join, join_pid) = container_namespaces(id, &bundle.spec, &state).map_err(|e| match e {
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
    })?;
    let root = container_root(id, &bundle.spec, &state)?;
    let cg_err = |source| ExecError::Cgroup {
        id: id.to_string(),
        source,
    };
    let cgroup = state
        .cgroup_path
        .as_deref()
        .map(manager_from_path)
        .transpose()
        .map_err(cg_err)?;
    let pid = spawn(ExecConfig {
        process: &process,
        seccomp: seccomp.as_ref(),
        join,
        join_pid,
        root,
        user_in_parent: !nix::unistd::geteuid().is_root(),
        cgroup: cgroup.as_deref(),
        console: if terminal { opts.console } else { None },
        preserve_fds: opts.preserve_fds,
        sigmask: opts.sigmask,
    })
    .map_err(|source| ExecError::Spawn {
        id: id.to_string(),
        source,
    })?;
    Ok((pid, terminal))
}

/// The container's process with the command line's changes, or a --process file.
pub fn build_process(spec: &Spec, req: &ExecRequest) -> Result<Process, ExecError> {
    if let Some(path) = &req.process_file {
        let p = read_process_file(path)?;
        // Its user ids are checked with the rest of the process (validate_process).
        super::checks::check_env("process.env", p.env().iter().flatten()).map_err(|msg| {
            ExecError::ProcessFile {
                path: path.clone(),
                msg,
            }
        })?;
        return Ok(p);
    }
    if req.args.is_empty() {
        return Err(ExecError::Usage(
            "exec needs a command (or --process FILE)".into(),
        ));
    }
    let mut p = spec.process().clone().unwrap_or_default();
    p.set_args(Some(req.args.clone()));
    p.set_terminal(Some(req.tty));
    super::checks::check_env("--env", &req.env).map_err(ExecError::Usage)?;
    let mut env = p.env().clone().unwrap_or_default();
    for kv in &req.env {
        let key = kv.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    p.set_env(Some(env));
    if let Some(cwd) = &req.cwd {
        p.set_cwd(cwd.clone());
    }
    let mut user = p.user().clone();
    if let Some(u) = &req.user {
        let (uid, gid) = parse_user(u)?;
        user.set_uid(uid);
        user.set_gid(gid.unwrap_or(user.gid()));
    }
    for gid in &req.additional_gids {
        check_id("--additional-gids", *gid).map_err(|e| ExecError::Usage(e.to_string()))?;
    }
    if !req.additional_gids.is_empty() {
        user.set_additional_gids(Some(req.additional_gids.clone()));
    }
    p.set_user(user);
    if !req.caps.is_empty() {
        p.set_capabilities(Some(add_caps(
            p.capabilities().clone().unwrap_or_default(),
            &req.caps,
        )?));
    }
    if req.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if let Some(profile) = &req.apparmor {
        p.set_apparmor_profile(Some(profile.clone()));
    }
    Ok(p)
}

fn read_process_file(path: &Path) -> Result<Process, ExecError> {
    let err = |msg: String| ExecError::ProcessFile {
        path: path.to_path_buf(),
        msg,
    };
    let text = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&text).map_err(|e| err(e.to_string()))
}

/// `--user UID[:GID]`.
fn parse_user(s: &str) -> Result<(u32, Option<u32>), ExecError> {
    let bad = || ExecError::Usage(format!("--user {s:?}: expected UID[:GID] (numbers)"));
    let mut it = s.splitn(2, ':');
    let uid = it.next().unwrap_or_default().parse().map_err(|_| bad())?;
    let gid = it
        .next()
        .map(|g| g.parse().map_err(|_| bad()))
        .transpose()?;
    let range = |e: IdentityError| ExecError::Usage(e.to_string());
    check_id("--user uid", uid).map_err(range)?;
    gid.map(|g| check_id("--user gid", g))
        .transpose()
        .map_err(range)?;
    Ok((uid, gid))
}

/// runc's `--cap`: added to the bounding, effective and permitted sets.
fn add_caps(mut caps: LinuxCapabilities, names: &[String]) -> Result<LinuxCapabilities, ExecError> {
    for name in names {
        let cap: Capability = serde_json::from_value(serde_json::Value::String(name.clone()))
            .map_err(|_| ExecError::Usage(format!("--cap {name:?}: unknown capability")))?;
        let with = |set: &Option<std::collections::HashSet<Capability>>| {
            let mut s = set.clone().unwrap_or_default();
            s.insert(cap);
            Some(s)
        };
        caps.set_bounding(with(caps.bounding()));
        caps.set_effective(with(caps.effective()));
        caps.set_permitted(with(caps.permitted()));
    }
    Ok(caps)
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

    fn spec() -> Spec {
        serde_json::from_value(serde_json::json!({"ociVersion":"1.2.0","process":{
            "user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/","env":["PATH=/bin","A=1"]}}))
        .unwrap()
    }

    #[test]
    fn command_line_overrides_the_container_process() {
        let req = ExecRequest {
            args: vec!["id".into()],
            env: vec!["A=2".into(), "B=3".into()],
            user: Some("1000:100".into()),
            cwd: Some("/tmp".into()),
            caps: vec!["CAP_NET_ADMIN".into()],
            apparmor: Some("vmt-exec".into()),
            ..Default::default()
        };
        let p = build_process(&spec(), &req).unwrap();
        assert_eq!(p.apparmor_profile().as_deref(), Some("vmt-exec"));
        assert_eq!(p.args().as_deref().unwrap(), ["id"]);
        assert_eq!(p.env().as_deref().unwrap(), ["PATH=/bin", "A=2", "B=3"]);
        assert_eq!((p.user().uid(), p.user().gid()), (1000, 100));
        assert_eq!(p.cwd(), Path::new("/tmp"));
        assert!(p
            .capabilities()
            .as_ref()
            .unwrap()
            .bounding()
            .as_ref()
            .unwrap()
            .contains(&Capability::NetAdmin));
    }

    #[test]
    fn ids_that_read_as_unchanged_are_refused() {
        let mut req = ExecRequest {
            args: vec!["id".into()],
            user: Some("4294967295:4294967295".into()),
            ..Default::default()
        };
        assert_eq!(
            build_process(&spec(), &req).unwrap_err().to_string(),
            "--user uid 4294967295: uids and gids must be in range 0-2147483647"
        );
        req.user = Some("0:2147483648".into());
        assert!(build_process(&spec(), &req)
            .unwrap_err()
            .to_string()
            .starts_with("--user gid 2147483648"));
        req.user = None;
        req.additional_gids = vec![4294967295];
        assert!(build_process(&spec(), &req)
            .unwrap_err()
            .to_string()
            .starts_with("--additional-gids 4294967295"));
    }

    #[test]
    fn bad_user_and_cap_and_missing_command_are_errors() {
        let mut req = ExecRequest::default();
        assert!(matches!(
            build_process(&spec(), &req),
            Err(ExecError::Usage(_))
        ));
        req.args = vec!["id".into()];
        req.user = Some("bob".into());
        assert!(build_process(&spec(), &req).is_err());
        req.user = None;
        req.env = vec!["A=1".into(), "NOEQUALS".into()];
        assert_eq!(
            build_process(&spec(), &req).unwrap_err().to_string(),
            r#"--env: invalid environment variable: "NOEQUALS""#
        );
        req.env.clear();
        req.caps = vec!["CAP_NOPE".into()];
        assert!(build_process(&spec(), &req)
            .unwrap_err()
            .to_string()
            .contains("CAP_NOPE"));
    }
}
