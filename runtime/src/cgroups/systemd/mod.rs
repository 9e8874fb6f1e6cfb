//! The systemd cgroup driver (`--systemd-cgroup`), after runc 1.1's
//! libcontainer/cgroups/systemd (v2.go): the container's cgroup is a transient scope unit that
//! systemd makes and owns, started over D-Bus with the init's pid in it.
//!
//! ```text
//!  create: parse slice:prefix:name (unit.rs) → path known before anything exists → record it
//!          clone the init → add_task: connect (first D-Bus use), StartTransientUnit with the
//!          unit's properties and the resources systemd owns (props.rs), wait for the job,
//!          check systemd put it where we recorded → apply: the files (FsManager on the scope)
//!  update: SetUnitProperties, then the files      delete / failed create: StopUnit, wait, reset
//!  pause, kill --all, ps, events, exec: the scope's directory, as with cgroupfs (no D-Bus)
//! ```
//!
//! Only the unified hierarchy is supported (runc's systemd v1 driver also drives every v1
//! controller through systemd; that is not done here and is refused with a clear error).
//!
//! Freezing goes through the files (`cgroup.freeze`), as runc's v2 driver does: the freezer is
//! the kernel's either way, `ferrun state` and the cgroupfs driver read the same file, and
//! systemd's FreezeUnit (systemd 246+) would only add a second owner of that file, a unit
//! state that can disagree with it, and one more bus round trip with its own timeout.

pub mod bus;
pub mod dbus;
pub mod props;
pub mod unit;

use std::cell::{Cell, OnceCell};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use super::devices::loader::DeviceFilterInstaller;
use super::error::CgroupError;
use super::fs::CgroupFs;
use super::host::Mode;
use super::layout::{HierDir, Layout};
use super::manager::FsManager;
use super::precheck::Precheck;
use super::stats::Stats;
use super::CgroupManager;
use bus::{Connector, Started, SystemdBus};
use props::Context;
pub use unit::UnitRecord;

/// The cgroup2 mount point systemd itself uses.
pub const UNIFIED_MOUNTPOINT: &str = "/sys/fs/cgroup";

pub struct SystemdManager {
    unit: UnitRecord,
    /// The files of the unit's cgroup (resources, freezer, pids, stats).
    fs: FsManager,
    connector: Box<dyn Connector>,
    bus: OnceCell<Box<dyn SystemdBus>>,
    /// `linux.resources` for StartTransientUnit (create only; `None` re-opened, or none set).
    resources: Option<LinuxResources>,
    /// Whether `destroy` must stop the unit: it was (maybe) started by this manager, or this
    /// manager was re-opened from a state that records it. A unit that systemd refused to
    /// start (say it exists already, for another container) is never ours to stop.
    owned: Cell<bool>,
}

/// The user manager's cgroup (systemd's user@.service runs every user's instance there);
/// checked against systemd's answer when the unit starts.
pub fn user_manager_cgroup(host_uid: u32) -> String {
    format!("/user.slice/user-{host_uid}.slice/user@{host_uid}.service")
}

fn layout_for(dir: PathBuf, mount: &Path) -> Layout {
    Layout {
        mode: Mode::V2,
        v1: Vec::new(),
        unified: Some(HierDir {
            controllers: Vec::new(),
            dir,
            mount: Some(mount.to_path_buf()),
        }),
    }
}

/// Inputs of [`SystemdManager::new`] besides the seams.
pub struct NewUnit<'a> {
    pub unit: UnitRecord,
    /// The cgroup2 mount point (a tempdir in tests).
    pub mount: &'a Path,
    /// The owning systemd instance's cgroup ("/" for the system instance).
    pub manager_cgroup: &'a str,
    pub resources: Option<LinuxResources>,
    pub owned: bool,
}

impl SystemdManager {
    pub fn new(
        n: NewUnit,
        fs: Box<dyn CgroupFs>,
        devices: Box<dyn DeviceFilterInstaller>,
        connector: Box<dyn Connector>,
    ) -> Result<Self, CgroupError> {
        let dir = n.unit.cgroup_dir(n.mount, n.manager_cgroup)?;
        // Rootless: the device filter cannot be programmed (FsManager ignores its failure).
        let fs = FsManager::new(layout_for(dir, n.mount), n.unit.user, fs, devices);
        Ok(SystemdManager {
            unit: n.unit,
            fs,
            connector,
            bus: OnceCell::new(),
            resources: n.resources,
            owned: Cell::new(n.owned),
        })
    }

    pub fn unit(&self) -> &UnitRecord {
        &self.unit
    }

    fn bus(&self) -> Result<&dyn SystemdBus, CgroupError> {
        if self.bus.get().is_none() {
            let bus = self.connector.connect()?;
            let _ = self.bus.set(bus);
        }
        Ok(self.bus.get().expect("just set").as_ref())
    }

    fn version(&self, bus: &dyn SystemdBus) -> Result<u32, CgroupError> {
        bus.version().map_err(|e| CgroupError::Systemd {
            unit: self.unit.unit.clone(),
            op: "read the version of systemd for",
            reason: e.to_string(),
        })
    }

    fn dir(&self) -> &Path {
        self.fs
            .layout()
            .unified
            .as_ref()
            .map(|u| u.dir.as_path())
            .expect("systemd layouts are unified")
    }

    /// systemd decides where a unit's cgroup is; make sure it is where state.json says.
    fn check_cgroup(&self, bus: &dyn SystemdBus) -> Result<(), CgroupError> {
        let got = bus
            .control_group(&self.unit.unit)
            .map_err(|e| CgroupError::Systemd {
                unit: self.unit.unit.clone(),
                op: "read the cgroup of",
                reason: e.to_string(),
            })?;
        let mount = self
            .fs
            .layout()
            .unified
            .as_ref()
            .and_then(|u| u.mount.clone());
        let want = self
            .dir()
            .strip_prefix(mount.unwrap_or_default())
            .map(|p| Path::new("/").join(p))
            .unwrap_or_default();
        if Path::new(&got) != want {
            return Err(CgroupError::Systemd {
                unit: self.unit.unit.clone(),
                op: "place",
                reason: format!(
                    "systemd put it in cgroup {got}, not {} where it was expected",
                    want.display()
                ),
            });
        }
        Ok(())
    }

    fn start(&self, pid: i32) -> Result<(), CgroupError> {
        let bus = self.bus()?;
        let version = self.version(bus)?;
        let mut props = props::unit_properties(&self.unit, pid);
        // Without linux.resources there is still the device policy (runc's default list),
        // as `apply` installs it too.
        let none = LinuxResources::default();
        props.extend(props::resource_properties(
            self.resources.as_ref().unwrap_or(&none),
            Context {
                version,
                devices: true,
                user: self.unit.user,
            },
        )?);
        match bus::start(bus, &self.unit.unit, &props) {
            Started::Yes => self.owned.set(true),
            Started::Refused(e) => return Err(e),
            Started::Maybe(e) => {
                self.owned.set(true);
                return Err(e);
            }
        }
        self.check_cgroup(bus)?;
        // runc runs fs2.CreateCgroupPath after startUnit: every level above the unit gets the
        // controllers it has enabled for its children (systemd enables only those it knows,
        // so hugetlb, rdma and misc would be missing). The directories exist already.
        self.fs.create()
    }
}

impl CgroupManager for SystemdManager {
    fn path(&self) -> &str {
        self.fs.path()
    }
    fn precheck(&self, resources: Option<&LinuxResources>) -> Result<Precheck, CgroupError> {
        self.fs.precheck(resources)
    }
    /// Nothing to make: systemd makes the unit's cgroup when the unit starts (`add_task`,
    /// which needs the init's pid).
    fn create(&self) -> Result<(), CgroupError> {
        Ok(())
    }
    /// Start the unit with `pid` in it (runc `Apply`).
    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        self.start(pid)
    }
    /// The unit got the resource properties when it started; the files follow, with the
    /// device filter (runc's fs2 `Set` after `startUnit`).
    fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        self.fs.apply(resources)
    }
    /// runc `Set`: the unit's properties first, then the files.
    fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        let bus = self.bus()?;
        let ctx = Context {
            version: self.version(bus)?,
            devices: false,
            user: self.unit.user,
        };
        let props = props::resource_properties(resources, ctx)?;
        if !props.is_empty() {
            bus.set_unit_properties(&self.unit.unit, &props)
                .map_err(|e| CgroupError::Systemd {
                    unit: self.unit.unit.clone(),
                    op: "set the properties of",
                    reason: e.to_string(),
                })?;
        }
        self.fs.update(resources)
    }
    fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        self.fs.freeze(frozen)
    }
    fn frozen(&self) -> Result<bool, CgroupError> {
        self.fs.frozen()
    }
    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        self.fs.pids()
    }
    /// Stop the unit (systemd removes its cgroup), reset it if it failed, then remove what
    /// may be left of the directory. A unit systemd refused to start (maybe another
    /// container's of the same name) is not touched, nor is its directory.
    fn destroy(&self) -> Result<(), CgroupError> {
        if !self.owned.get() {
            return Ok(());
        }
        bus::stop(self.bus()?, &self.unit.unit)?;
        self.fs.destroy()
    }
    fn stats(&self) -> Result<Stats, CgroupError> {
        self.fs.stats()
    }
    fn freezer(&self) -> Option<(PathBuf, bool)> {
        self.fs.freezer()
    }
    fn systemd_unit(&self) -> Option<UnitRecord> {
        Some(self.unit.clone())
    }
}

#[cfg(test)]
mod tests;
