//! Container cgroups: one [`CgroupManager`] trait over cgroup v1, v2 and hybrid hosts.
//!
//! ```text
//!  CgroupSpec ──manager()──► host.rs   detect mode from mountinfo (v1 / hybrid / v2)
//!                            layout.rs resolve the dir in every hierarchy (runc 1.1 rules)
//!                            precheck.rs  before create: config vs host, frozen, occupied
//!                            FsManager create / add_task / apply / freeze / pids / destroy
//!                                │ resources/  linux.resources → ordered file writes (pure)
//!                                │ devices/    rules → policy → v1 lines | eBPF program
//!                                │ stats/      usage counters in runc's events JSON shape
//!                                │ oom.rs      OOM notices for events (eventfd / inotify)
//!                                ▼
//!                            fs.rs (CgroupFs seam)      devices/loader.rs → sys::bpf
//!  --systemd-cgroup ─────────► systemd/  a transient scope over D-Bus, wrapping an FsManager
//!                                        on the scope's directory (see its module doc)
//! ```
//!
//! Why not cgroups-rs: cgroups-rs 0.5 reads /proc/self/mountinfo and /sys/fs/cgroup itself
//! (no injectable root, so nothing could be unit-tested without root), treats a host as either
//! v1 or v2 (this hybrid host — v1 controllers plus a cgroup2 mount holding only hugetlb —
//! needs both at once, joined the way runc joins them), has no eBPF device filter, and its
//! value conversions differ from runc's in places that matter for compatibility
//! (shares→weight, swap). Every file write here is therefore a thin direct write through the
//! [`fs::CgroupFs`] seam, and the eBPF program is built in pure Rust (devices/program.rs) and
//! loaded through `sys::bpf`. ferrun does not depend on cgroups-rs at all (the argument in
//! full: docs/architecture.md, "Why not cgroups-rs").
//!
//! Behaviour follows runc 1.1's cgroupfs driver unless a doc comment says otherwise; the one
//! deliberate difference is that anything a config asks for that the host cannot provide is an
//! error naming the field, never silently dropped (runc drops several v1-only fields on v2).

pub mod apply;
pub mod devices;
pub mod error;
pub mod freeze;
pub mod fs;
pub mod host;
pub mod layout;
pub mod manager;
pub mod oom;
pub mod precheck;
pub mod resources;
pub mod stats;
pub mod systemd;

pub use error::CgroupError;
pub use host::{Host, Mode};
pub use manager::FsManager;
pub use precheck::Precheck;

use std::path::Path;

use devices::loader::{BpfInstaller, DeviceFilterInstaller};
use fs::{CgroupFs, RealFs};
use layout::Layout;

/// What `create` knows about the container when it needs its cgroup.
#[derive(Debug, Clone, Copy)]
pub struct CgroupSpec<'a> {
    /// Container id (names the cgroup when `cgroups_path` is absent).
    pub id: &'a str,
    /// `linux.cgroupsPath` from config.json.
    pub cgroups_path: Option<&'a str>,
    /// `--systemd-cgroup`.
    pub systemd: bool,
    /// `--rootless` (or running unprivileged).
    pub rootless: bool,
    /// Rootless cgroups (`--rootless`, or unprivileged, or in a user namespace): the systemd
    /// driver then asks the user's systemd instance, on the user bus (runc: RootlessCgroups).
    pub user_bus: bool,
    /// `linux.resources`: the systemd driver starts its unit with them.
    pub resources: Option<&'a oci_spec::runtime::LinuxResources>,
}

/// Where a new process can put itself, instead of being moved by a write to cgroup.procs,
/// which waits for an RCU grace period on an idle host (`process::birth`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfPlacement {
    /// The cgroup2 directory to clone the process into (clone3 CLONE_INTO_CGROUP).
    pub birth: Option<std::path::PathBuf>,
    /// v1 directories whose `tasks` file the process writes "0" to, moving itself.
    pub v1: Vec<std::path::PathBuf>,
}

/// What a new process reached by itself: the rest is [`CgroupManager::add_task_rest`]'s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placed {
    /// Born in [`SelfPlacement::birth`].
    pub born: bool,
    /// Will move itself into every [`SelfPlacement::v1`] directory.
    pub self_joined: bool,
}

pub trait CgroupManager {
    /// The resolved cgroup location, to be persisted in state.json and passed back to
    /// [`manager_from_path`]. A JSON object like runc's `cgroup_paths`: hierarchy key
    /// (controllers joined by ",", `name=systemd`, "" for cgroup2) → absolute directory.
    fn path(&self) -> &str;
    /// What state.json keeps after `create`: [`CgroupManager::path`] minus the hierarchies a
    /// rootless create skipped; `None` when it joined none (rootless without delegation).
    fn persisted_path(&self) -> Option<String> {
        Some(self.path().to_string())
    }
    /// Before `create`: refuse a config this host's cgroups cannot take and a cgroup that is
    /// already frozen; report how many processes the cgroup already holds. Reads only.
    fn precheck(
        &self,
        resources: Option<&oci_spec::runtime::LinuxResources>,
    ) -> Result<Precheck, CgroupError>;
    /// mkdir in every hierarchy, remembering what it made so `destroy` can undo it.
    fn create(&self) -> Result<(), CgroupError>;
    /// Move `pid` into the cgroup in every hierarchy.
    fn add_task(&self, pid: i32) -> Result<(), CgroupError>;
    /// How a new process can reach the cgroup without a migration that waits
    /// (`process::birth`). Empty (the default): [`CgroupManager::add_task`] does it all.
    fn self_placement(&self) -> SelfPlacement {
        SelfPlacement::default()
    }
    /// [`CgroupManager::add_task`] for the hierarchies `placed` says the process did not
    /// reach by itself.
    fn add_task_rest(&self, pid: i32, placed: Placed) -> Result<(), CgroupError> {
        let _ = placed;
        self.add_task(pid)
    }
    /// Apply all resources plus the device policy (create time).
    fn apply(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<(), CgroupError>;
    /// Apply resources without touching the device policy (`ferrun update`).
    fn update(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<(), CgroupError>;
    fn freeze(&self, frozen: bool) -> Result<(), CgroupError>;
    /// Whether the cgroup is frozen now (pause, or a freeze in progress).
    fn frozen(&self) -> Result<bool, CgroupError>;
    /// All processes in the cgroup and its descendants.
    fn pids(&self) -> Result<Vec<i32>, CgroupError>;
    /// Idempotent removal; retries EBUSY briefly.
    fn destroy(&self) -> Result<(), CgroupError>;
    /// Usage counters for `events --stats` (runc's JSON shape for the event's `data`).
    fn stats(&self) -> Result<stats::Stats, CgroupError>;
    /// The freezer's directory (the cgroup itself on v2), for CRIU's `freeze_cgroup`, and
    /// whether it is a cgroup v2 one (CRIU freezes v2 cgroups only since 3.14).
    fn freezer(&self) -> Option<(std::path::PathBuf, bool)>;
    /// The systemd unit holding the cgroup (systemd driver), for state.json.
    fn systemd_unit(&self) -> Option<systemd::UnitRecord> {
        None
    }
}

impl CgroupManager for FsManager {
    fn path(&self) -> &str {
        FsManager::path(self)
    }
    fn persisted_path(&self) -> Option<String> {
        FsManager::persisted_path(self)
    }
    fn precheck(
        &self,
        resources: Option<&oci_spec::runtime::LinuxResources>,
    ) -> Result<Precheck, CgroupError> {
        FsManager::precheck(self, resources)
    }
    fn create(&self) -> Result<(), CgroupError> {
        FsManager::create(self)
    }
    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        FsManager::add_task(self, pid)
    }
    fn self_placement(&self) -> SelfPlacement {
        FsManager::self_placement(self)
    }
    fn add_task_rest(&self, pid: i32, placed: Placed) -> Result<(), CgroupError> {
        FsManager::add_task_rest(self, pid, placed)
    }
    fn apply(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<(), CgroupError> {
        FsManager::apply(self, resources)
    }
    fn update(&self, resources: &oci_spec::runtime::LinuxResources) -> Result<(), CgroupError> {
        FsManager::update(self, resources)
    }
    fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        FsManager::freeze(self, frozen)
    }
    fn frozen(&self) -> Result<bool, CgroupError> {
        FsManager::frozen(self)
    }
    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        FsManager::pids(self)
    }
    fn destroy(&self) -> Result<(), CgroupError> {
        FsManager::destroy(self)
    }
    fn stats(&self) -> Result<stats::Stats, CgroupError> {
        FsManager::stats(self)
    }
    fn freezer(&self) -> Option<(std::path::PathBuf, bool)> {
        FsManager::freezer(self)
    }
}

/// Detect the host mode (from /proc/self/mountinfo) and build the manager.
pub fn manager(spec: &CgroupSpec) -> Result<Box<dyn CgroupManager>, CgroupError> {
    let host = Host::from_proc()?;
    if spec.systemd {
        let unit = systemd::UnitRecord::parse(spec.id, spec.cgroups_path, spec.user_bus)?;
        let connector = systemd::dbus::ZbusConnector::new(spec.user_bus);
        let manager_cgroup = connector.manager_cgroup();
        return Ok(Box::new(systemd_manager_with(
            &host,
            systemd::NewUnit {
                unit,
                mount: Path::new(""),
                manager_cgroup: &manager_cgroup,
                resources: spec.resources.cloned(),
                owned: false,
            },
            Box::new(RealFs),
            Box::new(BpfInstaller),
            Box::new(connector),
        )?));
    }
    let m = manager_with(spec, &host, Box::new(RealFs), Box::new(BpfInstaller))?;
    Ok(Box::new(m))
}

/// The systemd driver's manager on `host` (its cgroup2 mount point replaces `n.mount`).
pub fn systemd_manager_with(
    host: &Host,
    n: systemd::NewUnit,
    fs: Box<dyn CgroupFs>,
    devices: Box<dyn DeviceFilterInstaller>,
    connector: Box<dyn systemd::bus::Connector>,
) -> Result<systemd::SystemdManager, CgroupError> {
    let mounts = host::detect(host)?;
    let mount = match (mounts.mode, &mounts.unified) {
        (Mode::V2, Some(m)) => host.under_root(&m.mountpoint),
        (Mode::Hybrid, _) => {
            return Err(CgroupError::SystemdNeedsV2(
                "is hybrid (cgroup v1 controllers beside a cgroup2 mount)",
            ))
        }
        _ => return Err(CgroupError::SystemdNeedsV2("has cgroup v1 only")),
    };
    systemd::SystemdManager::new(
        systemd::NewUnit { mount: &mount, ..n },
        fs,
        devices,
        connector,
    )
}

/// Re-open the manager of an existing container from its state.json: the path persisted,
/// and the systemd unit when the systemd driver made it (`delete` stops it, `update` sets its
/// properties). Commands that only read or write the cgroup's files use [`manager_from_path`].
pub fn reopen(
    path: &str,
    unit: Option<&systemd::UnitRecord>,
) -> Result<Box<dyn CgroupManager>, CgroupError> {
    let Some(unit) = unit else {
        return manager_from_path(path);
    };
    let layout = Layout::decode(path)?;
    let dir = layout
        .unified
        .as_ref()
        .filter(|_| layout.mode == Mode::V2)
        .map(|u| u.dir.clone())
        .ok_or_else(|| CgroupError::Persisted {
            persisted: path.to_string(),
            reason: "a systemd unit's cgroup must be a single cgroup2 directory".into(),
        })?;
    let connector = systemd::dbus::ZbusConnector::new(unit.user);
    let manager_cgroup = connector.manager_cgroup();
    // The mount point is what is left of the persisted directory once the unit's own part is
    // taken off (the unit decides the rest).
    let own = unit.control_group(&manager_cgroup)?;
    let mount = dir
        .to_str()
        .and_then(|d| d.strip_suffix(own.as_str()))
        .map(std::path::PathBuf::from)
        .ok_or_else(|| CgroupError::Persisted {
            persisted: path.to_string(),
            reason: format!("it is not the cgroup of unit {} ({own})", unit.unit),
        })?;
    Ok(Box::new(systemd::SystemdManager::new(
        systemd::NewUnit {
            unit: unit.clone(),
            mount: &mount,
            manager_cgroup: &manager_cgroup,
            resources: None,
            owned: true,
        },
        Box::new(RealFs),
        Box::new(BpfInstaller),
        Box::new(connector),
    )?))
}

/// [`manager`] with every input injected (tests, or a caller that already read the host).
pub fn manager_with(
    spec: &CgroupSpec,
    host: &Host,
    fs: Box<dyn CgroupFs>,
    devices: Box<dyn DeviceFilterInstaller>,
) -> Result<FsManager, CgroupError> {
    let mounts = host::detect(host)?;
    if mounts.mode != Mode::V2
        && !spec.rootless
        && !mounts
            .v1
            .iter()
            .any(|m| m.controllers.iter().any(|c| c == "devices"))
    {
        // runc: "the non-presence of the devices subsystem is considered fatal for security
        // reasons" — without it a container could open any device node it can create.
        return Err(CgroupError::NotMounted {
            controller: "devices".into(),
            hint: " (required to confine device access)",
        });
    }
    let inner = layout::inner_path(spec.id, spec.cgroups_path)?;
    let layout = layout::resolve(host, &mounts, &inner)?;
    Ok(FsManager::new(layout, spec.rootless, fs, devices))
}

/// Re-open the manager of an existing container from the path persisted in its state.json.
pub fn manager_from_path(path: &str) -> Result<Box<dyn CgroupManager>, CgroupError> {
    Ok(Box::new(manager_from_path_with(
        path,
        Box::new(RealFs),
        Box::new(BpfInstaller),
    )?))
}

/// [`manager_from_path`] with injected seams.
pub fn manager_from_path_with(
    path: &str,
    fs: Box<dyn CgroupFs>,
    devices: Box<dyn DeviceFilterInstaller>,
) -> Result<FsManager, CgroupError> {
    Ok(FsManager::new(Layout::decode(path)?, false, fs, devices))
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
