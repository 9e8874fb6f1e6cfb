//! The order of the per-process security steps, in one place (runc 1.1's
//! `standard_init_linux.go` + `finalizeNamespace`), with the reason for each position:
//!
//! 0. AppArmor: `exec <profile>` is written to the task's own attribute first, as runc's
//!    init does; it only takes effect at execve, and written later it would depend on the
//!    seccomp profile allowing open/write and on /proc/thread-self staying writable for us
//!    after the user switch (step 4).
//!    Then SELinux: the label for the next execve goes to attr/exec, before the seccomp
//!    profile and the user switch for the same reasons (runc: `SetExecLabel` before
//!    `InitSeccomp` and `finalizeNamespace`).
//! 1. rlimits: first of the rest, while the process still has every capability, and before
//!    anything else might need the raised limits (runc sets them before init runs). Then
//!    the scheduler and I/O priority, when asked for: still with every capability (a
//!    realtime policy needs CAP_SYS_NICE) and before the filter, which is the container's,
//!    not the runtime's, and may deny sched_setattr or ioprio_set.
//! 2. seccomp, when `noNewPrivileges` is false: loading a filter without no_new_privs
//!    needs CAP_SYS_ADMIN, which step 5 may drop. The profile must then allow the rest of
//!    init (setgroups, setres[ug]id, capset, prctl, the start wait and execve), as with runc.
//!    A filter with SCMP_ACT_NOTIFY rules hands its listener fd to the runtime right here,
//!    before any of those syscalls, so that the agent can answer them.
//! 3. bounding set: reduced before the user switch, because PR_CAPBSET_DROP needs
//!    CAP_SETPCAP in the effective set and switching away from uid 0 empties that set.
//! 4. keepcaps + setgroups/setresgid/setresuid + umask: with PR_SET_KEEPCAPS the
//!    permitted set survives the switch, so step 5 can still grant caps to a non-root user.
//! 5. inheritable, effective, permitted, ambient: after the switch, since the switch
//!    itself changes the effective set.
//! 6. no_new_privs: after the capability steps (it does not affect them) and before
//!    step 7, because with no_new_privs set the filter loads without CAP_SYS_ADMIN.
//! 7. seccomp, when `noNewPrivileges` is true: not loaded here but handed back to the
//!    caller, which loads it once `start` woke it, right before the startContainer hooks
//!    and execve, so the fewest syscalls run under the container's profile while the
//!    hooks are filtered as with runc (which loads it just before its start wait). A
//!    filter with a listener is the exception: the caller loads it before reporting ready,
//!    where runc loads it, since `create` is the process that passes the fd to the agent.
//!
//! The filter is compiled before step 1, so a bad profile fails before anything changed.

use oci_spec::runtime::{LinuxCapabilities, LinuxSeccomp, PosixRlimit, Process, User};

use super::seccomp::Handoff;

use super::{apparmor, caps, identity, rlimits, sched, seccomp, selinux, SecurityError};

/// The steps of [`super::apply_process`], injectable so the order is unit-testable.
pub trait ProcessSteps {
    fn apparmor(&mut self, profile: &str) -> Result<(), SecurityError>;
    fn selinux_exec_label(&mut self, label: &str) -> Result<(), SecurityError>;
    fn rlimits(&mut self, limits: &[PosixRlimit]) -> Result<(), SecurityError>;
    fn scheduling(&mut self, process: &Process) -> Result<(), SecurityError>;
    fn load_seccomp(&mut self, filter: seccomp::Filter) -> Result<(), SecurityError>;
    fn drop_bounding(&mut self, c: Option<&LinuxCapabilities>) -> Result<(), SecurityError>;
    fn switch_user(&mut self, user: &User) -> Result<(), SecurityError>;
    fn apply_caps(&mut self, c: Option<&LinuxCapabilities>) -> Result<(), SecurityError>;
    fn no_new_privs(&mut self) -> Result<(), SecurityError>;
}

/// The real steps on the calling process; `handoff` takes the listener fd of a filter with
/// SCMP_ACT_NOTIFY rules.
pub struct HostSteps<'r, 'f> {
    pub handoff: Option<&'r mut Handoff<'f>>,
}

impl ProcessSteps for HostSteps<'_, '_> {
    fn apparmor(&mut self, profile: &str) -> Result<(), SecurityError> {
        Ok(apparmor::change_on_exec(profile)?)
    }
    fn selinux_exec_label(&mut self, label: &str) -> Result<(), SecurityError> {
        Ok(selinux::set_exec_label(label)?)
    }
    fn rlimits(&mut self, limits: &[PosixRlimit]) -> Result<(), SecurityError> {
        Ok(rlimits::apply(limits)?)
    }
    fn scheduling(&mut self, process: &Process) -> Result<(), SecurityError> {
        Ok(sched::apply(process)?)
    }
    fn load_seccomp(&mut self, filter: seccomp::Filter) -> Result<(), SecurityError> {
        Ok(filter.load(self.handoff.as_deref_mut())?)
    }
    fn drop_bounding(&mut self, c: Option<&LinuxCapabilities>) -> Result<(), SecurityError> {
        Ok(caps::drop_bounding_with(&mut caps::HostCaps, c)?)
    }
    fn switch_user(&mut self, user: &User) -> Result<(), SecurityError> {
        Ok(identity::switch_user(user)?)
    }
    fn apply_caps(&mut self, c: Option<&LinuxCapabilities>) -> Result<(), SecurityError> {
        Ok(caps::apply_with(&mut caps::HostCaps, c)?)
    }
    fn no_new_privs(&mut self) -> Result<(), SecurityError> {
        super::set_no_new_privs()
    }
}

/// [`super::apply_process`] through explicit steps.
pub fn apply_process_with(
    steps: &mut dyn ProcessSteps,
    process: &Process,
    seccomp_cfg: Option<&LinuxSeccomp>,
) -> Result<Option<seccomp::Filter>, SecurityError> {
    let mut filter = seccomp_cfg.map(seccomp::compile).transpose()?;
    let nnp = process.no_new_privileges().unwrap_or(false);
    let caps = process.capabilities().as_ref();

    if let Some(profile) = process
        .apparmor_profile()
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        steps.apparmor(profile)?;
    }
    if let Some(label) = process.selinux_label().as_deref().filter(|l| !l.is_empty()) {
        steps.selinux_exec_label(label)?;
    }
    steps.rlimits(process.rlimits().as_deref().unwrap_or(&[]))?;
    if sched::wanted(process) {
        steps.scheduling(process)?;
    }
    if !nnp {
        if let Some(f) = filter.take() {
            steps.load_seccomp(f)?;
        }
    }
    steps.drop_bounding(caps)?;
    steps.switch_user(process.user())?;
    steps.apply_caps(caps)?;
    if nnp {
        steps.no_new_privs()?;
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::rlimits::RlimitError;
    use rstest::rstest;

    #[derive(Default)]
    struct Recorder {
        log: Vec<&'static str>,
        fail_at: Option<&'static str>,
    }

    impl Recorder {
        fn step(&mut self, name: &'static str) -> Result<(), SecurityError> {
            self.log.push(name);
            if self.fail_at == Some(name) {
                return Err(SecurityError::Rlimit(RlimitError::Duplicate { name }));
            }
            Ok(())
        }
    }

    impl ProcessSteps for Recorder {
        fn apparmor(&mut self, _: &str) -> Result<(), SecurityError> {
            self.step("apparmor")
        }
        fn selinux_exec_label(&mut self, _: &str) -> Result<(), SecurityError> {
            self.step("selinux")
        }
        fn rlimits(&mut self, _: &[PosixRlimit]) -> Result<(), SecurityError> {
            self.step("rlimits")
        }
        fn scheduling(&mut self, _: &Process) -> Result<(), SecurityError> {
            self.step("sched")
        }
        fn load_seccomp(&mut self, _: seccomp::Filter) -> Result<(), SecurityError> {
            self.step("seccomp")
        }
        fn drop_bounding(&mut self, _: Option<&LinuxCapabilities>) -> Result<(), SecurityError> {
            self.step("bounding")
        }
        fn switch_user(&mut self, _: &User) -> Result<(), SecurityError> {
            self.step("user")
        }
        fn apply_caps(&mut self, _: Option<&LinuxCapabilities>) -> Result<(), SecurityError> {
            self.step("caps")
        }
        fn no_new_privs(&mut self) -> Result<(), SecurityError> {
            self.step("nnp")
        }
    }

    fn process(nnp: bool) -> Process {
        serde_json::from_value(serde_json::json!({
            "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"],
            "noNewPrivileges": nnp
        }))
        .expect("valid process")
    }

    fn profile() -> LinuxSeccomp {
        serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]
        }))
        .expect("valid seccomp")
    }

    #[rstest]
    #[case::seccomp_early_without_nnp(false, true,
        &["rlimits", "seccomp", "bounding", "user", "caps"], false)]
    #[case::seccomp_handed_back_with_nnp(true, true,
        &["rlimits", "bounding", "user", "caps", "nnp"], true)]
    #[case::no_seccomp_no_nnp(false, false, &["rlimits", "bounding", "user", "caps"], false)]
    #[case::no_seccomp_nnp(true, false, &["rlimits", "bounding", "user", "caps", "nnp"], false)]
    fn steps_run_in_runc_order(
        #[case] nnp: bool,
        #[case] with_seccomp: bool,
        #[case] expected: &[&str],
        #[case] filter_returned: bool,
    ) {
        let mut rec = Recorder::default();
        let cfg = profile();
        let pending = apply_process_with(&mut rec, &process(nnp), with_seccomp.then_some(&cfg))
            .expect("recorder never fails");
        assert_eq!(rec.log, expected);
        assert_eq!(pending.is_some(), filter_returned);
    }

    #[test]
    fn apparmor_comes_first_and_only_with_a_profile() {
        let mut p = process(true);
        p.set_apparmor_profile(Some("vmt-smoke".into()));
        let mut rec = Recorder::default();
        apply_process_with(&mut rec, &p, None).expect("recorder never fails");
        assert_eq!(
            rec.log,
            ["apparmor", "rlimits", "bounding", "user", "caps", "nnp"]
        );
        p.set_apparmor_profile(Some(String::new()));
        let mut rec = Recorder::default();
        apply_process_with(&mut rec, &p, None).expect("recorder never fails");
        assert_eq!(rec.log[0], "rlimits", "an empty profile means none");
    }

    #[test]
    fn the_selinux_exec_label_comes_after_apparmor_and_before_the_filter_and_user() {
        let mut p = process(false);
        p.set_apparmor_profile(Some("vmt-smoke".into()));
        p.set_selinux_label(Some("system_u:system_r:container_t:s0".into()));
        let mut rec = Recorder::default();
        apply_process_with(&mut rec, &p, Some(&profile())).expect("recorder never fails");
        assert_eq!(
            rec.log,
            ["apparmor", "selinux", "rlimits", "seccomp", "bounding", "user", "caps"]
        );
        p.set_selinux_label(Some(String::new()));
        let mut rec = Recorder::default();
        apply_process_with(&mut rec, &p, None).expect("recorder never fails");
        assert!(!rec.log.contains(&"selinux"), "an empty label means none");
    }

    #[test]
    fn a_bad_profile_fails_before_any_step() {
        let mut rec = Recorder::default();
        let bad: LinuxSeccomp = serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_NOTIFY"
        }))
        .expect("parses");
        let err = apply_process_with(&mut rec, &process(false), Some(&bad)).expect_err("notify");
        assert!(
            err.to_string()
                .contains("SCMP_ACT_NOTIFY cannot be used as default action"),
            "{err}"
        );
        assert!(rec.log.is_empty());
    }

    #[test]
    fn scheduling_comes_after_rlimits_and_before_the_filter() {
        let mut p = process(false);
        p.set_io_priority(Some(
            serde_json::from_value(serde_json::json!({"class": "IOPRIO_CLASS_BE", "priority": 4}))
                .expect("valid"),
        ));
        let mut rec = Recorder::default();
        apply_process_with(&mut rec, &p, Some(&profile())).expect("recorder never fails");
        assert_eq!(
            rec.log,
            ["rlimits", "sched", "seccomp", "bounding", "user", "caps"]
        );
    }

    #[test]
    fn a_failing_step_stops_the_sequence() {
        let mut rec = Recorder {
            fail_at: Some("user"),
            ..Recorder::default()
        };
        apply_process_with(&mut rec, &process(true), None).expect_err("user fails");
        assert_eq!(rec.log, ["rlimits", "bounding", "user"]);
    }
}
