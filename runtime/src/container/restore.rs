//! `restore`: a new container from a CRIU image, as runc 1.1.5 makes one: the id must be
//! new, the container's cgroup is made and CRIU put into it (so the restored tree lands
//! there), the restored init becomes our child (`rst_sibling`), and the state records the
//! new init pid, `restored`, and the checkpointed container's `created` time.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sys::signal::SigSet;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxNamespaceType;

use super::checkpoint::{external_key, DESCRIPTORS, FERRUN_META};
use super::config::{load_bundle, Bundle};
use super::create::{self, ConsoleSource, CreateOptions, Rollback};
use super::state::ContainerState;
use super::status::{read_proc_stat, Status};
use super::store::StateStore;
use crate::cgroups::CgroupManager;
use crate::criu::opts::{self, Common, Dirs};
use crate::criu::rpc::{
    Cgroup_root, Criu_req, Criu_req_type, Ext_mount_map, Inherit_fd, Join_namespace,
};
use crate::criu::{self, mounts, swrk, CriuError};
use crate::hooks::{run_hooks_at, HookKind, HookSite};

const LOG_FILE: &str = "restore.log";

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Create(#[from] create::CreateError),
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Criu(#[from] CriuError),
    #[error(transparent)]
    Restore(Box<criu::Failure>),
    #[error("--pid-file {path}: {source}")]
    PidFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug)]
pub struct RestoreOptions {
    pub common: Common,
    pub id: String,
    pub bundle: PathBuf,
    /// `--console-socket`, or (foreground, no socket) keep the pty master to proxy it.
    pub console_socket: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub lsm_profile: Option<String>,
    pub lsm_mount_context: Option<String>,
    pub rootless: crate::rootless::Rootless,
    pub systemd_cgroup: bool,
}

pub struct Restored {
    pub state: ContainerState,
    pub pid: Pid,
    /// The restored terminal's pty master, for a foreground restore to proxy.
    pub master: Option<OwnedFd>,
}

pub fn restore(store: &StateStore, o: &RestoreOptions) -> Result<Restored, RestoreError> {
    let bundle = load_bundle(&o.bundle)?;
    let console = console_source(o, &bundle)?;
    let version = criu::version(&o.common.criu)?;
    criu::require(version, 30000)?;
    check_lsm(o, version)?;
    opts::mkdir(&o.common.image_path)?;
    let descriptors = read_descriptors(&o.common.image_path)?;
    let mut rollback = Rollback {
        dir: Some(store.create(&o.id)?),
        cgroup: None,
        shared_rootfs: None,
    };
    let dir = rollback.dir.as_ref().expect("just set");
    let mut state = create::initial_state(&o.id, &bundle);
    state.restored = true;
    if let Some(created) = original_created(&o.common.image_path) {
        state.created = created;
    }
    let create_opts = CreateOptions {
        id: o.id.clone(),
        bundle: bundle.dir.clone(),
        console: ConsoleSource::None,
        pid_file: None,
        no_pivot: false,
        no_new_keyring: false,
        preserve_fds: 0,
        systemd_cgroup: o.systemd_cgroup,
        rootless: o.rootless,
        sigmask: SigSet::empty(),
    };
    let cgroup = create::make_cgroup(&create_opts, &bundle, dir, &mut state)?;
    rollback.cgroup = Some(cgroup);
    let cgroup = rollback.cgroup.as_deref().expect("just set");

    let dirs = Dirs::open(&o.common)?;
    let root = super::restore_root::prepare(&dir.path, &bundle.rootfs, &bundle.dir, &bundle.spec)
        .map_err(RestoreError::Invalid)?;
    let (opts, ns_files) = restore_opts(o, &bundle, &dirs, &root.root, version, &descriptors)?;
    let mut req = Criu_req::new();
    req.set_type(Criu_req_type::RESTORE);
    req.opts = protobuf::MessageField::some(opts);
    let inherit: Vec<BorrowedFd> = ns_files.iter().map(|f| f.as_fd()).collect();
    let launch = swrk::Launch {
        binary: &o.common.criu,
        inherit: &inherit,
        stdio: true,
    };
    let console_fd = match &console {
        ConsoleSource::Socket(p) => create::connect_console(Some(p))?,
        _ => None,
    };
    let mut handler = Notes {
        bundle: &bundle,
        cgroup,
        state: &state,
        console: console_fd,
        master: None,
        pid: None,
    };
    let result = swrk::call(&launch, req, &mut handler);
    drop(root);
    let resp = result.map_err(|source| {
        let log = dirs.log_dir.join(LOG_FILE);
        RestoreError::Restore(criu::Failure::new("restore", &o.id, source, log))
    })?;
    let pid = handler.pid.unwrap_or_else(|| resp.restore.pid());
    let master = handler.master.take();
    record(dir, &mut state, pid, o.pid_file.as_deref())?;
    rollback.cgroup = None;
    rollback.dir = None;
    Ok(Restored {
        state,
        pid: Pid::from_raw(pid),
        master,
    })
}

/// CRIU older than 3.16 cannot switch LSM profiles (runc's checks and words).
fn check_lsm(o: &RestoreOptions, version: u32) -> Result<(), RestoreError> {
    for (set, flag) in [
        (o.lsm_profile.is_some(), "--lsm-profile"),
        (o.lsm_mount_context.is_some(), "--lsm-mount-context"),
    ] {
        if set && version < 31600 {
            return Err(RestoreError::Invalid(format!(
                "{flag} requires at least CRIU 3.16"
            )));
        }
    }
    Ok(())
}

/// runc's restore `criu_opts`, and the namespace fds CRIU inherits.
fn restore_opts(
    o: &RestoreOptions,
    bundle: &Bundle,
    dirs: &Dirs,
    root: &Path,
    version: u32,
    descriptors: &[String],
) -> Result<(crate::criu::rpc::Criu_opts, Vec<OwnedFd>), RestoreError> {
    let mut opts = opts::base(&o.common, dirs, LOG_FILE, &bundle.spec);
    opts.set_evasive_devices(true);
    opts.set_rst_sibling(true);
    opts.set_root(root.to_string_lossy().into_owned());
    if let Some(p) = &o.lsm_profile {
        opts.set_lsm_profile(p.clone());
    }
    if let Some(c) = &o.lsm_mount_context {
        opts.set_lsm_mount_context(c.clone());
    }
    let ns_files = namespaces(bundle, version, &mut opts)?;
    for (i, link) in descriptors.iter().enumerate() {
        // The checkpointed init's stdio pipes become ours (runc: its own stdio).
        if link.contains("pipe:") {
            let mut f = Inherit_fd::new();
            f.set_key(link.clone());
            f.set_fd(i as i32);
            opts.inherit_fd.push(f);
        }
    }
    Ok((opts, ns_files))
}

/// The restored container's record: the new init, running; then --pid-file (a pid file
/// that cannot be written ends the restored init, as runc does).
fn record(
    dir: &super::ContainerDir,
    state: &mut ContainerState,
    pid: i32,
    pid_file: Option<&Path>,
) -> Result<(), RestoreError> {
    state.pid = pid;
    state.pid_start_time = read_proc_stat(pid).map_or(0, |s| s.start_time);
    state.status = Status::Running;
    dir.save(state)?;
    if let Some(p) = pid_file {
        if let Err(source) = super::pidfile::write(p, pid) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
            return Err(RestoreError::PidFile {
                path: p.to_path_buf(),
                source,
            });
        }
    }
    Ok(())
}

/// Where a terminal's pty master goes: `--console-socket`, or (foreground) our own proxy; a
/// detached terminal restore without a socket is create's error.
fn console_source(o: &RestoreOptions, bundle: &Bundle) -> Result<ConsoleSource, RestoreError> {
    let terminal = bundle
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    let console = match (&o.console_socket, o.detach) {
        (Some(p), _) => ConsoleSource::Socket(p.clone()),
        (None, false) if terminal => ConsoleSource::Proxy(dummy_proxy()?),
        (None, _) => ConsoleSource::None,
    };
    create::check_console(&console, terminal)?;
    Ok(console)
}

/// A foreground terminal restore gets the pty master from CRIU's `orphan-pts-master`
/// itself; the console check only needs to know it is proxied.
fn dummy_proxy() -> Result<OwnedFd, RestoreError> {
    std::fs::File::open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| RestoreError::Invalid(format!("open /dev/null: {e}")))
}

fn read_descriptors(image: &Path) -> Result<Vec<String>, RestoreError> {
    let path = image.join(DESCRIPTORS);
    let text = std::fs::read(&path)
        .map_err(|e| RestoreError::Invalid(format!("open {}: {e}", path.display())))?;
    serde_json::from_slice(&text)
        .map_err(|e| RestoreError::Invalid(format!("{}: {e}", path.display())))
}

/// The checkpointed container's `created` (an image from runc has none: restore time).
fn original_created(image: &Path) -> Option<String> {
    let text = std::fs::read(image.join(FERRUN_META)).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("created")?.as_str().map(str::to_string)
}

/// runc's handleRestoringNamespaces: a network or pid namespace joined by path goes back in
/// as the external one it was dumped as (an inherited fd under its key); other namespaces
/// with a path are joined by CRIU (`join_ns`), except cgroup, which CRIU cannot.
fn namespaces(
    bundle: &Bundle,
    version: u32,
    opts: &mut crate::criu::rpc::Criu_opts,
) -> Result<Vec<OwnedFd>, RestoreError> {
    let mut files = Vec::new();
    for (t, path) in mounts::namespaces(&bundle.spec) {
        let Some(path) = path else { continue };
        match t {
            LinuxNamespaceType::Network | LinuxNamespaceType::Pid => {
                let need = if t == LinuxNamespaceType::Pid {
                    31500
                } else {
                    31100
                };
                if version < need {
                    return Err(RestoreError::Invalid(format!(
                        "criu lacks support for external {} namespace during the restoration process (old criu version?)",
                        crate::namespaces::kind_name(t)
                    )));
                }
                let file = std::fs::File::open(&path).map_err(|_| {
                    RestoreError::Invalid(format!(
                        "Requested network namespace {} does not exist",
                        path.display()
                    ))
                })?;
                let fd = OwnedFd::from(file);
                let mut inherit = Inherit_fd::new();
                inherit.set_key(external_key(t).to_string());
                inherit.set_fd(fd.as_raw_fd());
                opts.inherit_fd.push(inherit);
                files.push(fd);
            }
            LinuxNamespaceType::Cgroup => {
                return Err(RestoreError::Invalid(
                    "Do not know how to handle namespace NEWCGROUP".into(),
                ))
            }
            _ => {
                let mut j = Join_namespace::new();
                j.set_ns(criu_join_name(t).to_string());
                j.set_ns_file(path.to_string_lossy().into_owned());
                opts.join_ns.push(j);
            }
        }
    }
    Ok(files)
}

/// The names CRIU's join_ns takes (runc's configs.NsName).
fn criu_join_name(t: LinuxNamespaceType) -> &'static str {
    match t {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Time => "time",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "net",
    }
}

/// The restore's side of the conversation.
struct Notes<'a> {
    bundle: &'a Bundle,
    cgroup: &'a dyn CgroupManager,
    state: &'a ContainerState,
    console: Option<OwnedFd>,
    master: Option<OwnedFd>,
    pid: Option<i32>,
}

impl Notes<'_> {
    fn hooks(&self, pid: i32) -> Result<(), CriuError> {
        let Some(hooks) = self.bundle.spec.hooks() else {
            return Ok(());
        };
        let mut s = self.state.clone();
        s.pid = pid;
        s.status = Status::Creating;
        let json = s.oci_state_unchecked().hook_json_string();
        let at = HookSite {
            cwd: Some(&self.bundle.dir),
            default_env: None,
        };
        let err = |e: crate::hooks::HookError| CriuError::Other(e.to_string());
        let none = Vec::new();
        run_hooks_at(
            HookKind::Prestart,
            hooks.prestart().as_ref().unwrap_or(&none),
            json.as_bytes(),
            at,
        )
        .map_err(err)?;
        run_hooks_at(
            HookKind::CreateRuntime,
            hooks.create_runtime().as_ref().unwrap_or(&none),
            json.as_bytes(),
            at,
        )
        .map_err(err)
    }
}

impl swrk::Handler for Notes<'_> {
    /// runc's criuApplyCgroups: CRIU joins the container's cgroup (with its resources set),
    /// so the restored tree lands in it; `cg_root` maps the dumped root there; the cgroup
    /// v1 binds now name the new container's directories.
    fn started(&mut self, criu_pid: i32, req: &mut Criu_req) -> Result<(), CriuError> {
        let cg_err = |e: crate::cgroups::CgroupError| CriuError::Other(format!("cgroup: {e}"));
        self.cgroup.add_task(criu_pid).map_err(cg_err)?;
        if let Some(r) = self
            .bundle
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.resources().as_ref())
        {
            self.cgroup.apply(r).map_err(cg_err)?;
        }
        let proc_cgroup = std::fs::read_to_string(format!("/proc/{criu_pid}/cgroup"))
            .map_err(|e| CriuError::Other(format!("read /proc/{criu_pid}/cgroup: {e}")))?;
        let opts = req.opts.mut_or_insert_default();
        for (ctrls, path) in crate::rootfs::cgroup::parse_proc_cgroup(&proc_cgroup) {
            let names = if ctrls.is_empty() {
                vec![String::new()]
            } else {
                ctrls
            };
            for ctrl in names {
                let mut root = Cgroup_root::new();
                root.set_ctrl(ctrl);
                root.set_path(path.clone());
                opts.cg_root.push(root);
            }
        }
        for m in mounts::for_restore(
            &self.bundle.spec,
            &self.bundle.rootfs,
            &self.bundle.dir,
            &proc_cgroup,
        ) {
            let mut e = Ext_mount_map::new();
            e.set_key(m.key);
            e.set_val(m.val);
            opts.ext_mnt.push(e);
        }
        Ok(())
    }

    fn notify(&mut self, mut n: swrk::Notice) -> Result<(), CriuError> {
        match n.script.as_str() {
            // The namespaces exist, nothing runs yet: runc's prestart/createRuntime point.
            "setup-namespaces" => self.hooks(n.pid)?,
            "post-restore" => self.pid = Some(n.pid),
            "orphan-pts-master" => {
                let master = n.fds.pop().ok_or_else(|| {
                    CriuError::Protocol("orphan-pts-master came without an fd".into())
                })?;
                match &self.console {
                    Some(sock) => crate::tty::send_fd(sock, master.as_raw_fd(), "console")
                        .map_err(|e| CriuError::Other(format!("console socket: {e}")))?,
                    None => self.master = Some(master),
                }
            }
            _ => {}
        }
        Ok(())
    }
}
