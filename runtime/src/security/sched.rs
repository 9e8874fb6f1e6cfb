//! `process.scheduler` (sched_setattr(2)) and `process.ioPriority` (ioprio_set(2)), applied to
//! the container's init and to exec'd processes, as runc 1.2 does. Both are checked at create,
//! with the kernel's own rules, so a bad value fails before anything is made.

use nix::errno::Errno;
use oci_spec::runtime::{
    IOPriorityClass, LinuxIOPriority, LinuxSchedulerFlag, LinuxSchedulerPolicy, Process, Scheduler,
};

use crate::sys::misc::{ioprio_set_self, sched_setattr, SchedAttr};

#[derive(Debug, thiserror::Error)]
pub enum SchedError {
    #[error("process.{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("process.scheduler: sched_setattr: {0}")]
    Scheduler(Errno),
    #[error("process.ioPriority: ioprio_set: {0}")]
    IoPriority(Errno),
}

impl SchedError {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Self::Invalid { .. } => None,
            Self::Scheduler(e) | Self::IoPriority(e) => Some(*e),
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SchedError {
    SchedError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// The sched_attr for `s`, refusing what sched_setattr(2) would (sched(7)): nice outside
/// -20..19, a static priority other than 1..99 for SCHED_FIFO/RR or other than 0 otherwise,
/// deadline parameters on another policy.
pub fn attr_of(s: &Scheduler) -> Result<SchedAttr, SchedError> {
    use LinuxSchedulerPolicy::*;
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return Err(invalid(
            "scheduler.nice",
            format!("{nice} is not in -20..19"),
        ));
    }
    let priority = s.priority().unwrap_or(0);
    let realtime = matches!(s.policy(), SchedFifo | SchedRr);
    if realtime && !(1..=99).contains(&priority) {
        return Err(invalid(
            "scheduler.priority",
            format!("{priority} is not in 1..99, which SCHED_FIFO and SCHED_RR need"),
        ));
    }
    if !realtime && priority != 0 {
        return Err(invalid(
            "scheduler.priority",
            format!("{priority}: only SCHED_FIFO and SCHED_RR take a priority other than 0"),
        ));
    }
    let deadline_set = s.runtime().is_some() || s.deadline().is_some() || s.period().is_some();
    if deadline_set && *s.policy() != SchedDeadline {
        return Err(invalid(
            "scheduler",
            "runtime, deadline and period are for SCHED_DEADLINE only",
        ));
    }
    let policy = match s.policy() {
        SchedOther => 0,
        SchedFifo => 1,
        SchedRr => 2,
        SchedBatch => 3,
        SchedIso => 4,
        SchedIdle => 5,
        SchedDeadline => 6,
    };
    let flags = s.flags().iter().flatten().fold(0u64, |acc, f| {
        acc | match f {
            LinuxSchedulerFlag::SchedResetOnFork => 0x01,
            LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
            LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
            LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
            LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
            LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
            LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
        }
    });
    Ok(SchedAttr {
        size: 0,
        policy,
        flags,
        nice,
        priority: priority as u32,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
    })
}

/// The ioprio value: class in the top bits, level 0..7 below (linux/ioprio.h).
pub fn ioprio_of(p: &LinuxIOPriority) -> Result<i32, SchedError> {
    let level = p.priority();
    if !(0..=7).contains(&level) {
        return Err(invalid(
            "ioPriority.priority",
            format!("{level} is not in 0..7"),
        ));
    }
    let class = match p.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    Ok((class << 13) | level as i32)
}

/// Whether `process` asks for either setting.
pub fn wanted(process: &Process) -> bool {
    process.scheduler().is_some() || process.io_priority().is_some()
}

/// Every check of [`apply`], changing nothing.
pub fn check(process: &Process) -> Result<(), SchedError> {
    if let Some(s) = process.scheduler() {
        attr_of(s)?;
    }
    if let Some(p) = process.io_priority() {
        ioprio_of(p)?;
    }
    Ok(())
}

/// Set both on the calling process.
pub fn apply(process: &Process) -> Result<(), SchedError> {
    if let Some(s) = process.scheduler() {
        sched_setattr(&attr_of(s)?).map_err(SchedError::Scheduler)?;
    }
    if let Some(p) = process.io_priority() {
        ioprio_set_self(ioprio_of(p)?).map_err(SchedError::IoPriority)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sched(v: serde_json::Value) -> Scheduler {
        serde_json::from_value(v).expect("valid scheduler")
    }

    #[test]
    fn a_batch_policy_with_nice_maps_to_sched_attr() {
        let a = attr_of(&sched(
            json!({"policy": "SCHED_BATCH", "priority": 0, "nice": 19}),
        ))
        .unwrap();
        assert_eq!((a.policy, a.nice, a.priority, a.flags), (3, 19, 0, 0));
    }

    #[test]
    fn deadline_parameters_and_flags_pass_through() {
        let a = attr_of(&sched(json!({"policy": "SCHED_DEADLINE", "runtime": 42000,
            "deadline": 100000, "period": 1000000, "flags": ["SCHED_RESET_ON_FORK"]})))
        .unwrap();
        assert_eq!(
            (a.policy, a.flags, a.runtime, a.deadline, a.period),
            (6, 1, 42000, 100000, 1000000)
        );
    }

    #[test]
    fn values_the_kernel_refuses_are_refused_naming_the_field() {
        for (v, field) in [
            (
                json!({"policy": "SCHED_OTHER", "nice": 20}),
                "scheduler.nice",
            ),
            (json!({"policy": "SCHED_FIFO"}), "scheduler.priority"),
            (
                json!({"policy": "SCHED_OTHER", "priority": 5}),
                "scheduler.priority",
            ),
            (json!({"policy": "SCHED_BATCH", "runtime": 1}), "scheduler"),
        ] {
            let e = attr_of(&sched(v)).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("process.{field}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn io_priority_packs_class_and_level() {
        let p: LinuxIOPriority =
            serde_json::from_value(json!({"class": "IOPRIO_CLASS_IDLE", "priority": 7})).unwrap();
        assert_eq!(ioprio_of(&p).unwrap(), (3 << 13) | 7);
        let bad: LinuxIOPriority =
            serde_json::from_value(json!({"class": "IOPRIO_CLASS_BE", "priority": 8})).unwrap();
        assert!(ioprio_of(&bad).is_err());
    }
}
