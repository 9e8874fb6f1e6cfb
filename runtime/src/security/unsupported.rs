//! `check_supported`: refuse, at `create` time and before anything is made, every
//! config.json field (runtime-spec 1.2) that ferrun does not implement, naming it in JSON
//! path style. A field that is silently ignored would make a container look confined while
//! it is not (an SELinux label, an I/O priority), so each unimplemented field is an
//! error, never a no-op.
//!
//! What other modules implement, and so passes here: namespaces (with path, time offsets,
//! id mappings), root, mounts (without idmapped-mount mappings), devices, maskedPaths,
//! readonlyPaths, rootfsPropagation, hostname, domainname, sysctl, process args/env/cwd/
//! user (uid, gid, umask, additionalGids)/rlimits/noNewPrivileges/oomScoreAdj/apparmorProfile/
//! capabilities/terminal/consoleSize, seccomp (all but notify), hooks, cgroupsPath and
//! resources, annotations. `linux.memoryPolicy` is let through with a warning
//! (`container::config::load_bundle`): a placement hint the process may change itself,
//! which runc 1.1.5 ignores too.

use oci_spec::runtime::{Linux, LinuxSeccompAction, Process, Spec};

/// One refused field.
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

/// Every unsupported field found in a config (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Unsupported {
    pub fields: Vec<UnsupportedField>,
}

/// Refuse anything in `spec` that ferrun does not implement; the error lists all of them.
pub fn check_supported(spec: &Spec) -> Result<(), Unsupported> {
    let mut found = Found::default();
    if spec.solaris().is_some() {
        found.add("solaris", "Solaris containers are not supported by ferrun");
    }
    if spec.windows().is_some() {
        found.add("windows", "Windows containers are not supported by ferrun");
    }
    if spec.vm().is_some() {
        found.add("vm", "VM-based containers are not supported by ferrun");
    }
    if spec.zos().is_some() {
        found.add("zos", "z/OS containers are not supported by ferrun");
    }
    for (i, mount) in spec.mounts().iter().flatten().enumerate() {
        if mount.uid_mappings().is_some() || mount.gid_mappings().is_some() {
            found.add(
                format!("mounts[{i}].uidMappings/gidMappings"),
                "idmapped mounts are not supported by ferrun yet",
            );
        }
    }
    if let Some(process) = spec.process() {
        check_process(process, &mut found);
    }
    if let Some(linux) = spec.linux() {
        check_linux(linux, &mut found);
    }
    found.into_result()
}

#[derive(Default)]
struct Found(Vec<UnsupportedField>);

impl Found {
    fn add(&mut self, field: impl Into<String>, reason: &'static str) {
        self.0.push(UnsupportedField {
            field: field.into(),
            reason,
        });
    }

    fn into_result(self) -> Result<(), Unsupported> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Unsupported { fields: self.0 })
        }
    }
}

fn check_process(p: &Process, found: &mut Found) {
    if p.selinux_label().is_some() {
        found.add(
            "process.selinuxLabel",
            "SELinux labels are not supported by ferrun yet",
        );
    }
    if p.io_priority().is_some() {
        found.add(
            "process.ioPriority",
            "I/O priority is not supported by ferrun yet",
        );
    }
    if p.scheduler().is_some() {
        found.add(
            "process.scheduler",
            "scheduler settings are not supported by ferrun yet",
        );
    }
    if p.exec_cpu_affinity().is_some() {
        found.add(
            "process.execCPUAffinity",
            "exec CPU affinity is not supported by ferrun yet",
        );
    }
    if p.command_line().is_some() {
        found.add(
            "process.commandLine",
            "commandLine is Windows-only; use process.args",
        );
    }
    if p.user().username().is_some() {
        found.add(
            "process.user.username",
            "username is Windows-only; use process.user.uid/gid",
        );
    }
}

fn check_linux(l: &Linux, found: &mut Found) {
    if l.mount_label().is_some() {
        found.add(
            "linux.mountLabel",
            "SELinux mount labels are not supported by ferrun yet",
        );
    }
    if l.intel_rdt().is_some() {
        found.add("linux.intelRdt", "Intel RDT is not supported by ferrun yet");
    }
    if l.personality()
        .as_ref()
        .and_then(|p| p.flags().as_ref())
        .is_some_and(|f| !f.is_empty())
    {
        found.add(
            "linux.personality.flags",
            "personality flags are not supported by ferrun yet (the domain is)",
        );
    }
    if l.net_devices().is_some() {
        found.add(
            "linux.netDevices",
            "moving network devices is not supported by ferrun yet",
        );
    }
    if let Some(seccomp) = l.seccomp() {
        const NOTIFY: &str = "the seccomp notify listener is not supported by ferrun yet";
        if seccomp.listener_path().is_some() {
            found.add("linux.seccomp.listenerPath", NOTIFY);
        }
        if seccomp.listener_metadata().is_some() {
            found.add("linux.seccomp.listenerMetadata", NOTIFY);
        }
        if seccomp.default_action() == LinuxSeccompAction::ScmpActNotify {
            found.add("linux.seccomp.defaultAction", NOTIFY);
        }
        for (i, call) in seccomp.syscalls().iter().flatten().enumerate() {
            if call.action() == LinuxSeccompAction::ScmpActNotify {
                found.add(format!("linux.seccomp.syscalls[{i}].action"), NOTIFY);
            }
        }
    }
}

#[cfg(test)]
mod tests;
