//! `checkpoint`: dump a running (or paused) container with CRIU, as runc 1.1.5 does. On
//! success without --leave-running or --pre-dump the container is gone afterwards (CRIU ended
//! its processes; runc destroys it, so does `delete --force` here). On failure nothing was
//! changed: CRIU thaws what it froze, and the error quotes CRIU's log.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxNamespaceType;

use super::config::load_bundle;
use super::status::Status;
use super::store::StateStore;
use crate::criu::opts::{self, Common, Dirs};
use crate::criu::rpc::{Criu_page_server_info, Criu_req, Criu_req_type, Ext_mount_map};
use crate::criu::{self, mounts, swrk, CriuError};

/// Where runc keeps the init's stdio (`/proc/<pid>/fd/0..2` links) for the restore.
pub const DESCRIPTORS: &str = "descriptors.json";
/// What ferrun keeps besides: the container's original `created` time.
pub const FERRUN_META: &str = "ferrun-checkpoint.json";
const LOG_FILE: &str = "dump.log";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    /// runc's words.
    #[error("Container cannot be checkpointed in {0} state")]
    WrongStatus(Status),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Criu(#[from] CriuError),
    #[error(transparent)]
    Dump(Box<criu::Failure>),
    #[error("write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Delete(#[from] super::delete::DeleteError),
}

#[derive(Debug, Default)]
pub struct CheckpointOptions {
    pub common: Common,
    pub parent_path: Option<PathBuf>,
    pub leave_running: bool,
    pub pre_dump: bool,
    pub page_server: Option<String>,
    pub status_fd: i32,
}

/// runc's prepareImagePaths for `--parent-path`: relative, an existing directory.
pub fn check_parent(image: &Path, parent: &Path) -> Result<(), CheckpointError> {
    if parent.is_absolute() {
        return Err(CheckpointError::Invalid(
            "--parent-path must be relative".into(),
        ));
    }
    let real = image.join(parent);
    match std::fs::metadata(&real) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(CheckpointError::Invalid(format!(
            "invalid --parent-path: stat {}: not a directory",
            real.display()
        ))),
        Err(e) => Err(CheckpointError::Invalid(format!(
            "invalid --parent-path: stat {}: {}",
            real.display(),
            go_errno(&e)
        ))),
    }
}

/// An errno as Go prints it ("no such file or directory").
fn go_errno(e: &std::io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    };
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// runc's `--page-server ADDRESS:PORT` parsing and errors.
pub fn page_server(value: &str) -> Result<(String, i32), CheckpointError> {
    let usage =
        || CheckpointError::Invalid("Use --page-server ADDRESS:PORT to specify page server".into());
    let (addr, port) = value.rsplit_once(':').ok_or_else(usage)?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    if addr.is_empty() || port.is_empty() {
        return Err(usage());
    }
    let port: i32 = port
        .parse()
        .map_err(|_| CheckpointError::Invalid("Invalid port number".into()))?;
    Ok((addr.to_string(), port))
}

pub fn checkpoint(
    store: &StateStore,
    id: &str,
    o: &CheckpointOptions,
) -> Result<(), CheckpointError> {
    let dir = store.open(id)?;
    let state = dir.load()?;
    let status = store.status(&state);
    if !matches!(status, Status::Running | Status::Paused) {
        return Err(CheckpointError::WrongStatus(status));
    }
    // runc makes the image directory once the container is known to be checkpointable.
    opts::mkdir(&o.common.image_path)?;
    if let Some(parent) = &o.parent_path {
        check_parent(&o.common.image_path, parent)?;
    }
    let spec = load_bundle(&state.bundle)?.spec;
    let version = criu::version(&o.common.criu)?;
    criu::require(version, 30000)?;
    let dirs = Dirs::open(&o.common)?;
    let mut req = Criu_req::new();
    let mut opts = dump_opts(o, &state, &spec, &dirs, version)?;
    if o.pre_dump {
        criu::check_features(&o.common.criu, true, false)?;
        req.set_type(Criu_req_type::PRE_DUMP);
    } else {
        req.set_type(Criu_req_type::DUMP);
    }
    let status_fd = lazy_pages(o, version, &mut opts)?;
    if !o.pre_dump {
        for m in mounts::for_dump(&spec, &state.rootfs, state.pid) {
            opts.ext_mnt.push(ext_mount(m));
        }
        write_descriptors(&o.common.image_path, state.pid, &state.created)?;
    }
    req.opts = protobuf::MessageField::some(opts);
    let inherit: Vec<BorrowedFd> = status_fd.iter().map(|f| f.as_fd()).collect();
    let launch = swrk::Launch {
        binary: &o.common.criu,
        inherit: &inherit,
        stdio: false,
    };
    let mut notes = StatusReady {
        fd: status_fd.as_ref(),
    };
    if let Err(source) = swrk::call(&launch, req, &mut notes) {
        let log = dirs.log_dir.join(LOG_FILE);
        return Err(CheckpointError::Dump(criu::Failure::new(
            "checkpoint",
            id,
            source,
            log,
        )));
    }
    crate::debug!(
        "checkpoint: container {id:?} dumped to {}",
        o.common.image_path.display()
    );
    if o.leave_running || o.pre_dump {
        return Ok(());
    }
    // runc destroys the container whose processes CRIU ended: kill what is left, poststop
    // hooks, cgroup and state removed.
    drop(dir);
    super::delete::delete(store, id, true)?;
    Ok(())
}

/// runc's dump options: the container's root and init, external namespaces, the cgroup
/// freezer, the page server, and the parent images of a pre-dump chain.
fn dump_opts(
    o: &CheckpointOptions,
    state: &super::ContainerState,
    spec: &oci_spec::runtime::Spec,
    dirs: &Dirs,
    version: u32,
) -> Result<crate::criu::rpc::Criu_opts, CheckpointError> {
    let mut opts = opts::base(&o.common, dirs, LOG_FILE, spec);
    opts.set_root(state.rootfs.to_string_lossy().into_owned());
    opts.set_pid(state.pid);
    opts.set_leave_running(o.leave_running);
    for t in [LinuxNamespaceType::Network, LinuxNamespaceType::Pid] {
        if let Some(ext) = external_namespace(spec, t, version)? {
            opts.external.push(ext);
        }
    }
    // CRIU freezes through the cgroup freezer (v2 since 3.14), else with ptrace.
    let cgroup = state
        .cgroup_path
        .as_deref()
        .and_then(|p| crate::cgroups::manager_from_path(p).ok());
    if let Some((freezer, v2)) = cgroup.as_ref().and_then(|c| c.freezer()) {
        if !v2 || version >= 31400 {
            opts.set_freeze_cgroup(freezer.to_string_lossy().into_owned());
        }
    }
    if let Some((address, port)) = o.page_server.as_deref().map(page_server).transpose()? {
        let mut info = Criu_page_server_info::new();
        info.set_address(address);
        info.set_port(port);
        opts.ps = protobuf::MessageField::some(info);
    }
    if let Some(parent) = &o.parent_path {
        opts.set_parent_img(parent.to_string_lossy().into_owned());
        opts.set_track_mem(true);
    }
    Ok(opts)
}

fn ext_mount(m: mounts::ExtMount) -> Ext_mount_map {
    let mut e = Ext_mount_map::new();
    e.set_key(m.key);
    e.set_val(m.val);
    e
}

/// runc's criuNsToKey: the key a namespace joined by path is dumped under, `extRootNetNS`.
pub fn external_key(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Pid => "extRootPidNS",
        _ => "extRootNetNS",
    }
}

/// The short name CRIU uses in `--external net[<inode>]:<key>`.
pub fn criu_ns_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Pid => "pid",
        _ => "net",
    }
}

/// A network or pid namespace the config joins by path is external: CRIU leaves it alone
/// and the restore hands it back (runc's handleCheckpointingExternalNamespaces).
fn external_namespace(
    spec: &oci_spec::runtime::Spec,
    t: LinuxNamespaceType,
    version: u32,
) -> Result<Option<String>, CheckpointError> {
    let need = if t == LinuxNamespaceType::Pid {
        31500
    } else {
        31100
    };
    let name = criu_ns_name(t);
    if version < need {
        return Err(CheckpointError::Invalid(format!(
            "criu lacks support for external {} namespace during checkpointing process (old criu version?)",
            crate::namespaces::kind_name(t)
        )));
    }
    let Some(path) = mounts::namespaces(spec)
        .find(|(k, _)| *k == t)
        .and_then(|(_, p)| p)
    else {
        return Ok(None);
    };
    let meta = std::fs::metadata(&path)
        .map_err(|e| CheckpointError::Invalid(format!("stat {}: {e}", path.display())))?;
    Ok(Some(format!(
        "{name}[{}]:{}",
        std::os::unix::fs::MetadataExt::ino(&meta),
        external_key(t)
    )))
}

/// `--lazy-pages`: runc's feature check, and `--status-fd` checked (open, writable) and
/// passed to CRIU before 3.15, or written by us on CRIU's `status-ready` from 3.15 on.
fn lazy_pages(
    o: &CheckpointOptions,
    version: u32,
    opts: &mut crate::criu::rpc::Criu_opts,
) -> Result<Option<OwnedFd>, CheckpointError> {
    if !o.common.lazy_pages {
        return Ok(None);
    }
    criu::check_features(&o.common.criu, false, true)?;
    if o.status_fd == -1 {
        return Ok(None);
    }
    let bad = |why: String| {
        CheckpointError::Invalid(format!(
            "invalid --status-fd argument {}: {why}",
            o.status_fd
        ))
    };
    let path = format!("/proc/self/fd/{}", o.status_fd);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| bad(e.to_string()))?;
    let fd = OwnedFd::from(file);
    if version < 31500 {
        opts.set_status_fd(std::os::fd::AsRawFd::as_raw_fd(&fd));
    }
    Ok(Some(fd))
}

/// CRIU 3.15+ announces a ready lazy-pages server with `status-ready`; runc then writes \0
/// to --status-fd.
struct StatusReady<'a> {
    fd: Option<&'a OwnedFd>,
}

impl swrk::Handler for StatusReady<'_> {
    fn notify(&mut self, n: swrk::Notice) -> Result<(), CriuError> {
        if n.script == "status-ready" {
            if let Some(fd) = self.fd.take() {
                if let Err(e) = nix::unistd::write(fd, &[0]) {
                    crate::logging::warn(&format!("can't write \\0 to status fd: {e}"));
                }
            }
        }
        Ok(())
    }
}

/// runc's descriptors.json (the init's fds 0-2 as /proc links show them, so the restore can
/// hand pipes back), and ours with the original `created` time.
fn write_descriptors(image: &Path, pid: i32, created: &str) -> Result<(), CheckpointError> {
    let links: Vec<String> = (0..3)
        .map(|fd| {
            std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "/dev/null".into())
        })
        .collect();
    let write = |name: &str, value: serde_json::Value| {
        let path = image.join(name);
        std::fs::write(&path, value.to_string())
            .map_err(|source| CheckpointError::Write { path, source })
    };
    write(DESCRIPTORS, serde_json::json!(links))?;
    write(FERRUN_META, serde_json::json!({ "created": created }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_path_rules_are_runcs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("parent")).unwrap();
        std::fs::write(d.path().join("file"), "").unwrap();
        assert!(check_parent(d.path(), Path::new("parent")).is_ok());
        let abs = check_parent(d.path(), Path::new("/abs")).unwrap_err();
        assert_eq!(abs.to_string(), "--parent-path must be relative");
        let missing = check_parent(d.path(), Path::new("nope")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("invalid --parent-path: stat "),
            "{missing}"
        );
        let file = check_parent(d.path(), Path::new("file")).unwrap_err();
        assert!(file.to_string().ends_with("not a directory"), "{file}");
    }

    #[test]
    fn page_server_takes_address_and_port() {
        assert_eq!(page_server("10.0.0.1:27").unwrap(), ("10.0.0.1".into(), 27));
        assert_eq!(page_server("[::1]:27").unwrap(), ("::1".into(), 27));
        let e = page_server("nope").unwrap_err().to_string();
        assert_eq!(e, "Use --page-server ADDRESS:PORT to specify page server");
        assert_eq!(
            page_server("h:x").unwrap_err().to_string(),
            "Invalid port number"
        );
    }
}
