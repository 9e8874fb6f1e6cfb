//! The seam between the driver and D-Bus: the few systemd Manager calls the driver makes
//! ([`SystemdBus`]), how a connection is had ([`Connector`]), and the unit lifecycle built on
//! them (start, stop, reset), which runs unchanged against the fake bus of the tests.

use std::time::Duration;

use super::props::Property;
use crate::cgroups::error::CgroupError;

pub const UNIT_EXISTS: &str = "org.freedesktop.systemd1.UnitExists";
pub const NO_SUCH_UNIT: &str = "org.freedesktop.systemd1.NoSuchUnit";

/// What went wrong in one D-Bus step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// systemd answered with a D-Bus error (nothing was done).
    #[error("{name}: {message}")]
    Method { name: String, message: String },
    /// No answer in time: whether systemd acted is unknown.
    #[error("no answer from systemd within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The connection failed under the call.
    #[error("{0}")]
    Transport(String),
}

impl BusError {
    pub fn is(&self, error_name: &str) -> bool {
        matches!(self, BusError::Method { name, .. } if name == error_name)
    }
}

/// The systemd Manager calls the driver needs (org.freedesktop.systemd1.Manager).
pub trait SystemdBus {
    /// The Manager's `Version`, as its leading number ("252.30-1~deb12u2" → 252).
    fn version(&self) -> Result<u32, BusError>;
    /// StartTransientUnit(unit, "replace", props): the job's object path.
    fn start_transient_unit(&self, unit: &str, props: &[Property]) -> Result<String, BusError>;
    /// StopUnit(unit, "replace"): the job's object path.
    fn stop_unit(&self, unit: &str) -> Result<String, BusError>;
    /// Wait (bounded) for the JobRemoved signal of `job`: its result ("done", "failed",
    /// "canceled", "timeout", "dependency", "skipped").
    fn wait_job(&self, job: &str) -> Result<String, BusError>;
    fn reset_failed_unit(&self, unit: &str) -> Result<(), BusError>;
    /// SetUnitProperties(unit, runtime=true, props).
    fn set_unit_properties(&self, unit: &str, props: &[Property]) -> Result<(), BusError>;
    /// The unit's `ControlGroup` (its cgroup relative to the cgroup2 root).
    fn control_group(&self, unit: &str) -> Result<String, BusError>;
}

/// Makes the connection, on first use only: `create` connects after the init is cloned (the
/// D-Bus library runs threads, and nothing may fork while they exist).
pub trait Connector {
    fn connect(&self) -> Result<Box<dyn SystemdBus>, CgroupError>;
}

fn failed(unit: &str, op: &'static str, reason: impl ToString) -> CgroupError {
    CgroupError::Systemd {
        unit: unit.to_string(),
        op,
        reason: reason.to_string(),
    }
}

/// How a start ended, for the caller's bookkeeping.
#[derive(Debug)]
pub enum Started {
    Yes,
    /// systemd refused it outright: no unit of ours exists.
    Refused(CgroupError),
    /// It may exist (failed job, or no answer in time): stop and reset it when cleaning up.
    Maybe(CgroupError),
}

/// runc `startUnit`: start the transient unit and wait for its job. A unit of that name that
/// already exists may be a failed leftover, so it is reset and the start tried once more.
pub fn start(bus: &dyn SystemdBus, unit: &str, props: &[Property]) -> Started {
    let mut retried = false;
    let job = loop {
        match bus.start_transient_unit(unit, props) {
            Ok(job) => break job,
            Err(e) if e.is(UNIT_EXISTS) && !retried => {
                retried = true;
                // Best effort: the retry's answer is what counts.
                let _ = bus.reset_failed_unit(unit);
            }
            Err(e @ BusError::Method { .. }) => return Started::Refused(failed(unit, "start", e)),
            Err(e) => return Started::Maybe(failed(unit, "start", e)),
        }
    };
    match bus.wait_job(&job) {
        Ok(result) if result == "done" => Started::Yes,
        Ok(result) => Started::Maybe(failed(
            unit,
            "start",
            format!("its start job ended with result {result:?} (see journalctl -u {unit})"),
        )),
        Err(e) => Started::Maybe(failed(unit, "start", e)),
    }
}

/// runc `stopUnit`: stop the unit and wait for its job, then reset it in case it failed, so
/// no failed unit is left behind. A unit that is gone already (a scope goes when its last
/// process exits) is fine.
pub fn stop(bus: &dyn SystemdBus, unit: &str) -> Result<(), CgroupError> {
    match bus.stop_unit(unit) {
        Ok(job) => match bus.wait_job(&job) {
            // Anything but "done" (e.g. "canceled" by a concurrent stop) still leaves the
            // unit stopping or stopped; the reset below clears a failed one.
            Ok(_) => {}
            Err(e) => return Err(failed(unit, "stop", e)),
        },
        Err(e) if e.is(NO_SUCH_UNIT) => {}
        Err(e) => return Err(failed(unit, "stop", e)),
    }
    match bus.reset_failed_unit(unit) {
        Ok(()) => Ok(()),
        Err(e) if e.is(NO_SUCH_UNIT) => Ok(()),
        Err(e) => Err(failed(unit, "reset", e)),
    }
}
