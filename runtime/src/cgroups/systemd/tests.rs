//! The driver's flows against a fake bus and a cgroup2 tree in a tempdir: what is asked of
//! systemd, in which order, and what is left behind when something fails.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::bus::{BusError, Connector, SystemdBus, NO_SUCH_UNIT, UNIT_EXISTS};
use super::props::{Property, Value};
use super::*;
use crate::cgroups::fs::testing::TempFs;
use crate::cgroups::host::Host;
use crate::sys::bpf::BpfInsn;

/// What the fake systemd does and what it was asked.
#[derive(Default)]
struct Script {
    calls: Vec<String>,
    /// Answers to StartTransientUnit, in order (default: a job).
    start: VecDeque<Result<String, BusError>>,
    /// Answers to StopUnit (default: a job).
    stop: VecDeque<Result<String, BusError>>,
    /// Results of waited jobs, in order (default: "done").
    jobs: VecDeque<Result<String, BusError>>,
    /// The unit's ControlGroup (default: where the unit should be).
    control_group: Option<String>,
    /// Properties of the last start / set call.
    props: Vec<Property>,
    /// systemd makes the unit's cgroup directory when it starts it.
    make_dir: Option<PathBuf>,
    connects: usize,
    connect_error: bool,
}

type Shared = Rc<RefCell<Script>>;

struct FakeBus(Shared);

impl SystemdBus for FakeBus {
    fn version(&self) -> Result<u32, BusError> {
        Ok(252)
    }
    fn start_transient_unit(&self, unit: &str, props: &[Property]) -> Result<String, BusError> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("start {unit}"));
        s.props = props.to_vec();
        let answer = s.start.pop_front().unwrap_or(Ok("/job/1".into()));
        if answer.is_ok() {
            if let Some(d) = &s.make_dir {
                std::fs::create_dir_all(d).expect("mkdir");
                std::fs::write(d.join("cgroup.controllers"), "cpu memory pids").expect("w");
            }
        }
        answer
    }
    fn stop_unit(&self, unit: &str) -> Result<String, BusError> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("stop {unit}"));
        let answer = s.stop.pop_front().unwrap_or(Ok("/job/2".into()));
        if answer.is_ok() {
            if let Some(d) = &s.make_dir {
                let _ = std::fs::remove_dir_all(d);
            }
        }
        answer
    }
    fn wait_job(&self, job: &str) -> Result<String, BusError> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("wait {job}"));
        s.jobs.pop_front().unwrap_or(Ok("done".into()))
    }
    fn reset_failed_unit(&self, unit: &str) -> Result<(), BusError> {
        self.0.borrow_mut().calls.push(format!("reset {unit}"));
        Ok(())
    }
    fn set_unit_properties(&self, unit: &str, props: &[Property]) -> Result<(), BusError> {
        let mut s = self.0.borrow_mut();
        s.calls.push(format!("set {unit}"));
        s.props = props.to_vec();
        Ok(())
    }
    fn control_group(&self, unit: &str) -> Result<String, BusError> {
        let s = self.0.borrow();
        Ok(s.control_group
            .clone()
            .unwrap_or_else(|| format!("/system.slice/{unit}")))
    }
}

struct FakeConnector(Shared);

impl Connector for FakeConnector {
    fn connect(&self) -> Result<Box<dyn SystemdBus>, CgroupError> {
        let mut s = self.0.borrow_mut();
        s.connects += 1;
        if s.connect_error {
            return Err(CgroupError::SystemdBus {
                bus: "system",
                address: "/run/dbus/system_bus_socket".into(),
                reason: "No such file or directory (os error 2)".into(),
            });
        }
        Ok(Box::new(FakeBus(self.0.clone())))
    }
}

struct Installs(Rc<RefCell<Vec<PathBuf>>>);

impl DeviceFilterInstaller for Installs {
    fn install(&self, dir: &Path, _: &[BpfInsn]) -> Result<(), CgroupError> {
        self.0.borrow_mut().push(dir.to_path_buf());
        Ok(())
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    script: Shared,
    writes: Rc<RefCell<Vec<(PathBuf, String)>>>,
    installs: Rc<RefCell<Vec<PathBuf>>>,
}

const UNIT: &str = "ferrun-c1.scope";

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(root.join("system.slice")).expect("mkdir");
        std::fs::write(root.join("cgroup.controllers"), "cpu memory pids hugetlb").expect("w");
        let script = Shared::default();
        script.borrow_mut().make_dir = Some(root.join("system.slice").join(UNIT));
        Fixture {
            dir,
            script,
            writes: Rc::default(),
            installs: Rc::default(),
        }
    }

    fn host(&self, mountinfo: &str) -> Host {
        Host {
            pure_v2: false,
            mountinfo: mountinfo.into(),
            self_cgroup: "0::/\n".into(),
            root: self.dir.path().to_path_buf(),
        }
    }

    fn scope(&self) -> PathBuf {
        self.dir
            .path()
            .join("sys/fs/cgroup/system.slice")
            .join(UNIT)
    }

    fn manager_on(&self, mountinfo: &str, resources: &str) -> Result<SystemdManager, CgroupError> {
        let unit = UnitRecord::parse("c1", Some("system.slice:ferrun:c1"), false)?;
        crate::cgroups::systemd_manager_with(
            &self.host(mountinfo),
            NewUnit {
                unit,
                mount: Path::new(""),
                manager_cgroup: "/",
                resources: Some(serde_json::from_str(resources).expect("resources")),
                owned: false,
            },
            Box::new(TempFs {
                writes: self.writes.clone(),
                ..TempFs::default()
            }),
            Box::new(Installs(self.installs.clone())),
            Box::new(FakeConnector(self.script.clone())),
        )
    }

    fn manager(&self, resources: &str) -> SystemdManager {
        self.manager_on(V2, resources).expect("manager")
    }

    fn calls(&self) -> Vec<String> {
        self.script.borrow().calls.clone()
    }

    fn prop(&self, name: &str) -> Option<Value> {
        let s = self.script.borrow();
        s.props
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.clone())
    }

    fn wrote(&self, file: &str) -> Vec<String> {
        self.writes
            .borrow()
            .iter()
            .filter(|(p, _)| p.ends_with(file))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

const V2: &str = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
const HYBRID: &str = "\
32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
const LIMITS: &str = r#"{"memory":{"limit":67108864},"pids":{"limit":16}}"#;

#[test]
fn resolves_the_scope_without_asking_the_bus() {
    let f = Fixture::new();
    let m = f.manager(LIMITS);
    let want = format!(r#"{{"":"{}"}}"#, f.scope().display());
    assert_eq!(m.path(), want);
    assert_eq!(m.systemd_unit().expect("unit").unit, UNIT);
    m.precheck(None).expect("precheck");
    m.create().expect("create makes nothing");
    assert_eq!(
        f.script.borrow().connects,
        0,
        "no bus before the init exists"
    );
    assert!(!f.scope().exists());
}

#[test]
fn refuses_a_host_without_the_unified_hierarchy() {
    let f = Fixture::new();
    let err = f.manager_on(HYBRID, LIMITS).err().expect("refused");
    assert_eq!(
        err.to_string(),
        "the systemd cgroup driver requires cgroup v2 (unified hierarchy); this host is hybrid \
         (cgroup v1 controllers beside a cgroup2 mount)"
    );
}

#[test]
fn create_starts_the_scope_with_its_limits_then_writes_the_files() {
    let f = Fixture::new();
    let m = f.manager(LIMITS);
    m.add_task(42).expect("start");
    assert_eq!(
        f.calls(),
        [format!("start {UNIT}"), "wait /job/1".to_string()]
    );
    assert_eq!(f.prop("PIDs"), Some(Value::U32s(vec![42])));
    assert_eq!(f.prop("Delegate"), Some(Value::Bool(true)));
    assert_eq!(f.prop("MemoryMax"), Some(Value::U64(67_108_864)));
    assert_eq!(f.prop("TasksMax"), Some(Value::U64(16)));
    assert_eq!(f.prop("DevicePolicy"), Some(Value::Str("strict".into())));
    // Like runc's fs2.CreateCgroupPath: the levels above the scope delegate what they have.
    let root_stc = f.dir.path().join("sys/fs/cgroup/cgroup.subtree_control");
    assert!(
        f.writes.borrow().iter().any(|(p, _)| *p == root_stc),
        "controllers enabled from the root down"
    );
    m.apply(&serde_json::from_str(LIMITS).expect("r"))
        .expect("apply");
    assert_eq!(f.wrote("memory.max"), ["67108864"]);
    assert_eq!(f.wrote("pids.max"), ["16"]);
    assert_eq!(
        *f.installs.borrow(),
        [f.scope()],
        "ferrun's device filter too"
    );
}

#[test]
fn a_config_without_resources_still_gets_the_device_policy() {
    let f = Fixture::new();
    let unit = UnitRecord::parse("c1", Some("system.slice:ferrun:c1"), false).expect("unit");
    let m = crate::cgroups::systemd_manager_with(
        &f.host(V2),
        NewUnit {
            unit,
            mount: Path::new(""),
            manager_cgroup: "/",
            resources: None,
            owned: false,
        },
        Box::new(TempFs::default()),
        Box::new(Installs(f.installs.clone())),
        Box::new(FakeConnector(f.script.clone())),
    )
    .expect("manager");
    m.add_task(42).expect("start");
    assert_eq!(f.prop("DevicePolicy"), Some(Value::Str("strict".into())));
    assert_eq!(f.prop("MemoryMax"), None);
}

#[test]
fn delete_stops_the_unit_waits_and_resets_it() {
    let f = Fixture::new();
    let m = f.manager(LIMITS);
    m.add_task(42).expect("start");
    f.script.borrow_mut().calls.clear();
    m.destroy().expect("destroy");
    assert_eq!(
        f.calls(),
        [
            format!("stop {UNIT}"),
            "wait /job/2".to_string(),
            format!("reset {UNIT}")
        ]
    );
    assert!(!f.scope().exists());
    assert_eq!(f.script.borrow().connects, 1, "one connection for both");
}

#[test]
fn a_failed_start_job_is_stopped_and_reset_by_the_rollback() {
    let f = Fixture::new();
    f.script.borrow_mut().jobs.push_back(Ok("failed".into()));
    let m = f.manager(LIMITS);
    let err = m.add_task(42).expect_err("start failed");
    assert!(
        err.to_string().contains("ended with result \"failed\""),
        "{err}"
    );
    m.destroy().expect("rollback");
    let calls = f.calls();
    assert_eq!(
        calls[calls.len() - 3..],
        [
            format!("stop {UNIT}"),
            "wait /job/2".into(),
            format!("reset {UNIT}")
        ]
    );
}

#[test]
fn a_start_without_answer_is_cleaned_up_too() {
    let f = Fixture::new();
    f.script
        .borrow_mut()
        .start
        .push_back(Err(BusError::Timeout(std::time::Duration::from_secs(30))));
    let m = f.manager(LIMITS);
    let err = m.add_task(42).expect_err("no answer");
    assert_eq!(
        err.to_string(),
        format!("systemd cgroup driver: start unit {UNIT}: no answer from systemd within 30 s")
    );
    m.destroy().expect("rollback");
    assert!(f.calls().contains(&format!("stop {UNIT}")));
}

#[test]
fn a_leftover_unit_is_reset_and_the_start_tried_once_more() {
    let f = Fixture::new();
    let exists = BusError::Method {
        name: UNIT_EXISTS.into(),
        message: format!("Unit {UNIT} already exists."),
    };
    f.script.borrow_mut().start.push_back(Err(exists));
    let m = f.manager(LIMITS);
    m.add_task(42).expect("second start");
    assert_eq!(
        f.calls()[..3],
        [
            format!("start {UNIT}"),
            format!("reset {UNIT}"),
            format!("start {UNIT}")
        ]
    );
}

#[test]
fn another_containers_unit_is_never_stopped() {
    let f = Fixture::new();
    let exists = BusError::Method {
        name: UNIT_EXISTS.into(),
        message: format!("Unit {UNIT} already exists."),
    };
    f.script
        .borrow_mut()
        .start
        .extend([Err(exists.clone()), Err(exists)]);
    std::fs::create_dir_all(f.scope()).expect("the other container's scope");
    let m = f.manager(LIMITS);
    let err = m.add_task(42).expect_err("exists");
    assert!(err.to_string().contains(UNIT_EXISTS), "{err}");
    f.script.borrow_mut().calls.clear();
    m.destroy().expect("rollback");
    assert!(f.calls().is_empty(), "{:?}", f.calls());
    assert!(f.scope().exists(), "its cgroup stays");
}

#[test]
fn a_unit_placed_elsewhere_is_an_error() {
    let f = Fixture::new();
    f.script.borrow_mut().control_group = Some(format!("/other.slice/{UNIT}"));
    let m = f.manager(LIMITS);
    let err = m.add_task(42).expect_err("misplaced");
    assert!(
        err.to_string()
            .contains("systemd put it in cgroup /other.slice/"),
        "{err}"
    );
}

#[test]
fn a_failed_create_before_the_init_never_asks_the_bus() {
    let f = Fixture::new();
    let m = f.manager(LIMITS);
    m.destroy().expect("nothing to undo");
    assert_eq!(f.script.borrow().connects, 0);
}

#[test]
fn no_bus_is_a_clear_error() {
    let f = Fixture::new();
    f.script.borrow_mut().connect_error = true;
    let m = f.manager(LIMITS);
    let err = m.add_task(42).expect_err("no bus");
    assert_eq!(
        err.to_string(),
        "systemd cgroup driver: cannot connect to the system bus at \
         /run/dbus/system_bus_socket: No such file or directory (os error 2)"
    );
}

/// A manager as `delete` and `update` re-open it from state.json.
fn reopened(f: &Fixture) -> SystemdManager {
    let unit = UnitRecord::parse("c1", Some("system.slice:ferrun:c1"), false).expect("unit");
    SystemdManager::new(
        NewUnit {
            unit,
            mount: &f.dir.path().join("sys/fs/cgroup"),
            manager_cgroup: "/",
            resources: None,
            owned: true,
        },
        Box::new(TempFs {
            writes: f.writes.clone(),
            ..TempFs::default()
        }),
        Box::new(Installs(f.installs.clone())),
        Box::new(FakeConnector(f.script.clone())),
    )
    .expect("manager")
}

#[test]
fn update_sets_the_unit_properties_then_the_files() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.scope()).expect("scope");
    std::fs::write(f.scope().join("cgroup.controllers"), "memory pids").expect("w");
    let m = reopened(&f);
    m.update(&serde_json::from_str(r#"{"memory":{"limit":1048576}}"#).expect("r"))
        .expect("update");
    assert_eq!(f.calls(), [format!("set {UNIT}")]);
    assert_eq!(f.prop("MemoryMax"), Some(Value::U64(1_048_576)));
    assert_eq!(
        f.prop("DevicePolicy"),
        None,
        "update leaves the device policy alone"
    );
    assert_eq!(f.wrote("memory.max"), ["1048576"]);
}

#[test]
fn deleting_a_unit_systemd_already_removed_is_fine() {
    let f = Fixture::new();
    let gone = BusError::Method {
        name: NO_SUCH_UNIT.into(),
        message: format!("Unit {UNIT} not loaded."),
    };
    f.script.borrow_mut().stop.push_back(Err(gone));
    reopened(&f).destroy().expect("destroy");
    assert_eq!(f.calls(), [format!("stop {UNIT}"), format!("reset {UNIT}")]);
}

#[test]
fn a_stop_without_answer_is_an_error() {
    let f = Fixture::new();
    f.script
        .borrow_mut()
        .jobs
        .push_back(Err(BusError::Timeout(std::time::Duration::from_secs(30))));
    let err = reopened(&f).destroy().expect_err("timeout");
    assert_eq!(
        err.to_string(),
        format!("systemd cgroup driver: stop unit {UNIT}: no answer from systemd within 30 s")
    );
}

#[test]
fn reopen_finds_the_mount_point_from_the_persisted_directory() {
    let unit = UnitRecord::parse("c1", None, false).expect("unit");
    let path = r#"{"":"/sys/fs/cgroup/system.slice/runc-c1.scope"}"#;
    let m = crate::cgroups::reopen(path, Some(&unit)).expect("reopen");
    assert_eq!(m.path(), path);
    assert_eq!(m.systemd_unit(), Some(unit.clone()));
    let wrong = r#"{"":"/sys/fs/cgroup/other/runc-x.scope"}"#;
    assert!(crate::cgroups::reopen(wrong, Some(&unit)).is_err());
}
