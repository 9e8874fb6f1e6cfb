//! `check_supported`: at `create` time, before anything is made, every config.json field
//! (runtime-spec 1.2) that ferrun does not implement is either refused or ignored with a
//! warning, named in JSON path style.
//!
//! The rule: refuse where ignoring would leave the container less confined or less isolated
//! than the config asks (a VM); ignore, with a warning, what runc 1.1.5 ignores too when ignoring it is
//! harmless (scheduling and I/O hints, other platforms' sections, network devices the
//! container then lacks). Per field:
//!
//! | field                               | runc 1.1.5                        | ferrun  |
//! |-------------------------------------|-----------------------------------|---------|
//! | linux.intelRdt                      | refuses schemas without resctrl   | refuse  |
//! | vm                                  | ignores                           | refuse: hypervisor isolation was asked for |
//! | linux.seccomp.listenerPath/Metadata | ignores without a notify rule     | ignore (debug line) |
//! | process.execCPUAffinity             | ignores (runc 1.2 has it)         | warn    |
//! | linux.personality.flags             | ignores personality entirely      | warn (the spec defines no flag) |
//! | linux.netDevices                    | ignores (runc 1.3 has it)         | warn    |
//! | windows, solaris, zos               | ignores                           | warn    |
//! | process.commandLine, user.username  | ignores (Windows-only)            | warn    |
//! | linux.memoryPolicy                  | ignores (runc 1.3 has it)         | warn: a hint the process may change itself |
//!
//! What other modules implement, and so passes here: namespaces (with path, time offsets,
//! id mappings), root, mounts (id-mapped ones too: rootfs/idmapped.rs), devices, maskedPaths, readonlyPaths, rootfsPropagation,
//! hostname, domainname, sysctl, process args/env/cwd/user (uid, gid, umask,
//! additionalGids)/rlimits/noNewPrivileges/oomScoreAdj/apparmorProfile/selinuxLabel
//! (security/selinux.rs)/capabilities/terminal/
//! consoleSize/scheduler/ioPriority, personality domain, seccomp (SCMP_ACT_NOTIFY with its
//! listener included: security/seccomp/plan.rs checks those rules), hooks, cgroupsPath and
//! resources, annotations, linux.mountLabel (rootfs/label.rs).

use oci_spec::runtime::{Linux, LinuxSeccomp, LinuxSeccompAction, Process, Spec};

/// One refused or ignored field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedField {
    /// JSON path of the field, e.g. `process.apparmorProfile`.
    pub field: String,
    pub reason: &'static str,
}

impl std::fmt::Display for UnsupportedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Every refused field found in a config (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Unsupported {
    pub fields: Vec<UnsupportedField>,
}

/// What [`survey`] found: fields to refuse, fields ignored with a warning, and fields
/// ignored because they have no effect (a debug line).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Survey {
    pub refused: Vec<UnsupportedField>,
    pub warned: Vec<UnsupportedField>,
    pub inert: Vec<UnsupportedField>,
}

/// Refuse what `spec` asks for that ferrun cannot give safely (the error lists all of it);
/// log what is ignored.
pub fn check_supported(spec: &Spec) -> Result<(), Unsupported> {
    let found = survey(spec);
    for f in &found.warned {
        crate::logging::warn(&format!("{f}; ignored, as runc 1.1.5 ignores it"));
    }
    for f in &found.inert {
        crate::logging::debug(&format!("{f}; ignored"));
    }
    if found.refused.is_empty() {
        Ok(())
    } else {
        Err(Unsupported {
            fields: found.refused,
        })
    }
}

/// Sort every field ferrun does not implement into refused, warned and inert (see the
/// module's table).
pub fn survey(spec: &Spec) -> Survey {
    let mut found = Survey::default();
    if spec.vm().is_some() {
        found.refuse(
            "vm",
            "VM-based containers are not supported by ferrun, and running one without the \
             hypervisor would isolate it less than asked",
        );
    }
    for (name, present) in [
        ("windows", spec.windows().is_some()),
        ("solaris", spec.solaris().is_some()),
        ("zos", spec.zos().is_some()),
    ] {
        if present {
            found.warn(name, "configures another platform, not a Linux container");
        }
    }
    if let Some(process) = spec.process() {
        check_process(process, &mut found);
    }
    if let Some(linux) = spec.linux() {
        check_linux(linux, &mut found);
    }
    found
}

impl Survey {
    fn refuse(&mut self, field: impl Into<String>, reason: &'static str) {
        self.refused.push(field_of(field, reason));
    }
    fn warn(&mut self, field: impl Into<String>, reason: &'static str) {
        self.warned.push(field_of(field, reason));
    }
    fn inert(&mut self, field: impl Into<String>, reason: &'static str) {
        self.inert.push(field_of(field, reason));
    }
}

fn field_of(field: impl Into<String>, reason: &'static str) -> UnsupportedField {
    UnsupportedField {
        field: field.into(),
        reason,
    }
}

fn check_process(p: &Process, found: &mut Survey) {
    if p.exec_cpu_affinity().is_some() {
        found.warn(
            "process.execCPUAffinity",
            "exec CPU affinity is not supported by ferrun yet",
        );
    }
    if p.command_line().is_some() {
        found.warn(
            "process.commandLine",
            "commandLine is Windows-only; process.args is what runs",
        );
    }
    if p.user().username().is_some() {
        found.warn(
            "process.user.username",
            "username is Windows-only; process.user.uid/gid are what apply",
        );
    }
}

fn check_linux(l: &Linux, found: &mut Survey) {
    if l.intel_rdt().is_some() {
        found.refuse("linux.intelRdt", "Intel RDT is not supported by ferrun yet");
    }
    if l.personality()
        .as_ref()
        .and_then(|p| p.flags().as_ref())
        .is_some_and(|f| !f.is_empty())
    {
        found.warn(
            "linux.personality.flags",
            "runtime-spec defines no personality flag yet (the domain is applied)",
        );
    }
    if l.net_devices().is_some() {
        found.warn(
            "linux.netDevices",
            "moving network devices is not supported by ferrun yet",
        );
    }
    // A NUMA placement hint, not a limit: the process may change its own policy at any time
    // (set_mempolicy needs no privilege), and cpuset.mems is what confines memory nodes.
    if l.memory_policy().is_some() {
        found.warn(
            "linux.memoryPolicy",
            "NUMA memory policy is not applied by ferrun; cpuset.mems confines memory nodes",
        );
    }
    if let Some(seccomp) = l.seccomp() {
        check_seccomp(seccomp, found);
    }
}

/// Without a notify rule, listenerPath and listenerMetadata have nothing to carry: runc then
/// ignores them, and so does ferrun. With one, `seccomp::plan` checks them.
fn check_seccomp(seccomp: &LinuxSeccomp, found: &mut Survey) {
    const NO_NOTIFY: &str = "no rule uses SCMP_ACT_NOTIFY, so there is nothing to listen to";
    let notify = seccomp
        .syscalls()
        .iter()
        .flatten()
        .any(|call| call.action() == LinuxSeccompAction::ScmpActNotify);
    if notify {
        return;
    }
    if seccomp.listener_path().is_some() {
        found.inert("linux.seccomp.listenerPath", NO_NOTIFY);
    }
    if seccomp.listener_metadata().is_some() {
        found.inert("linux.seccomp.listenerMetadata", NO_NOTIFY);
    }
}

#[cfg(test)]
mod tests;
