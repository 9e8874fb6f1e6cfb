//! Host facts, probed once per run, and the check of a scenario's `requires` against them.
//! An unmet requirement is a SKIP whose reason names the requirement and what the host has.

pub mod built;
mod caps;
mod cgroups;

pub use cgroups::{CgroupMode, Hierarchy};

use crate::scenario::{CgroupDriver, CgroupReq, Privilege, Requires, Scenario, SelinuxReq};
use serde::Serialize;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Serialize)]
pub struct HostFacts {
    pub euid: u32,
    pub kernel: String,
    pub cgroup_mode: CgroupMode,
    /// Controllers usable for containers (v1 hierarchies, or the v2 root's cgroup.controllers).
    pub controllers: Vec<String>,
    pub hierarchies: Vec<Hierarchy>,
    pub criu: bool,
    /// Why criu cannot checkpoint here: the last lines `criu check` printed, or why it could
    /// not be run. `None` when `criu` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criu_reason: Option<String>,
    pub seccomp: bool,
    pub apparmor: bool,
    pub selinux: bool,
    pub userns: bool,
    pub systemd: bool,
    /// systemd's system bus socket is there: what a runtime's systemd cgroup driver talks to.
    pub dbus: bool,
    /// The runner's bounding set (capability names).
    pub capabilities: Vec<String>,
}

/// `"6.18.0-1-amd64"` or `"5.6"` -> (major, minor).
pub fn parse_kernel(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn read_trim(p: &str) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// SELinux labels can be applied: selinuxfs is mounted and a policy is loaded. Without a
/// policy every task is labelled `kernel` (what go-selinux, and so runc, check): Debian's
/// kernel with `apparmor=0` makes SELinux the major LSM, and systemd mounts selinuxfs, yet
/// there is nothing to label with. SELinux ends the label with a NUL byte.
fn selinux_usable(selinuxfs: bool, current_label: Option<&str>) -> bool {
    let label = current_label.map(|l| l.trim_end_matches('\0'));
    selinuxfs && !matches!(label, None | Some("") | Some("kernel"))
}

/// `criu check` is the tool's own verdict on whether this kernel can checkpoint; when it
/// fails, its last error lines say why (on a too-new kernel: the vDSO it cannot parse).
fn criu_check() -> Result<(), String> {
    let out = Command::new("criu")
        .arg("check")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("criu cannot be run: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Err(criu_reason(&text, out.status.code()))
}

/// The last few non-empty lines of criu's output, joined: criu logs the root cause first and
/// then how it propagated, so three lines hold both without flooding a report.
fn criu_reason(output: &str, code: Option<i32>) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return match code {
            Some(c) => format!("`criu check` exited with {c} and printed nothing"),
            None => "`criu check` was killed by a signal".to_string(),
        };
    }
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// The D-Bus system bus (dbus-daemon or dbus-broker), which runtimes use to ask systemd for
/// transient units.
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";

impl HostFacts {
    /// `None` when the host meets the scenario's cgroup driver and `requires` (the files and
    /// block devices are the runner's to check), else the reason to skip. The driver comes
    /// first: on a host without systemd that is the reason that matters.
    pub fn unmet_scenario(&self, s: &Scenario) -> Option<String> {
        self.unmet_cgroup_driver(s.cgroup_driver)
            .or_else(|| self.unmet(&s.requires))
    }

    /// `None` when the host can run a scenario with this cgroup driver, else the reason to skip:
    /// the systemd driver needs systemd as PID 1 and its system bus.
    pub fn unmet_cgroup_driver(&self, driver: CgroupDriver) -> Option<String> {
        if driver != CgroupDriver::Systemd {
            return None;
        }
        if !self.systemd {
            return Some(
                "cgroup_driver: systemd needs systemd as PID 1 (/run/systemd/system is missing)"
                    .into(),
            );
        }
        if !self.dbus {
            return Some(format!(
                "cgroup_driver: systemd needs the D-Bus system bus ({SYSTEM_BUS} is missing)"
            ));
        }
        None
    }

    pub fn probe() -> HostFacts {
        let kernel = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().to_string())
            .unwrap_or_default();
        let (mode, hierarchies) = cgroups::probe();
        let controllers = cgroups::controllers(mode, &hierarchies);
        let criu = criu_check();
        HostFacts {
            euid: nix::unistd::geteuid().as_raw(),
            kernel,
            cgroup_mode: mode,
            controllers,
            hierarchies,
            criu: criu.is_ok(),
            criu_reason: criu.err(),
            seccomp: Path::new("/proc/sys/kernel/seccomp/actions_avail").exists(),
            apparmor: read_trim("/sys/module/apparmor/parameters/enabled").as_deref() == Some("Y"),
            selinux: selinux_usable(
                Path::new("/sys/fs/selinux/enforce").exists(),
                read_trim("/proc/self/attr/current").as_deref(),
            ),
            userns: read_trim("/proc/sys/user/max_user_namespaces")
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|n| n > 0),
            // sd_booted(3)'s own test for "systemd is PID 1".
            systemd: Path::new("/run/systemd/system").is_dir(),
            dbus: Path::new(SYSTEM_BUS).exists(),
            capabilities: caps::bounding(),
        }
    }

    /// `None` when every requirement holds, else the reason to skip.
    pub fn unmet(&self, r: &Requires) -> Option<String> {
        match r.privilege {
            Privilege::Root if self.euid != 0 => {
                return Some(format!("needs root (euid is {})", self.euid))
            }
            Privilege::Rootless if self.euid == 0 => {
                return Some("needs a non-root user (running as root)".into())
            }
            _ => {}
        }
        let mode_ok = match r.cgroup {
            CgroupReq::Any => true,
            CgroupReq::V1 => matches!(self.cgroup_mode, CgroupMode::V1 | CgroupMode::Hybrid),
            CgroupReq::V2 => self.cgroup_mode == CgroupMode::V2,
            CgroupReq::Hybrid => self.cgroup_mode == CgroupMode::Hybrid,
        };
        if !mode_ok {
            return Some(
                format!(
                    "needs cgroup {:?}, host is {}",
                    r.cgroup,
                    self.cgroup_mode.as_str()
                )
                .to_lowercase(),
            );
        }
        let missing: Vec<&String> = r
            .cgroup_controllers
            .iter()
            .filter(|c| !self.controllers.contains(c))
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "needs cgroup controller(s) {} (host has {})",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                self.controllers.join(",")
            ));
        }
        // cgroup_files are checked where the container's cgroup goes (runner::cgroup_files).
        if let Some(want) = r.kernel.as_deref().and_then(parse_kernel) {
            let have = parse_kernel(&self.kernel).unwrap_or((0, 0));
            if have < want {
                return Some(format!(
                    "needs kernel >= {}.{} (host has {})",
                    want.0, want.1, self.kernel
                ));
            }
        }
        if let Some(c) = r
            .capabilities
            .iter()
            .find(|c| !self.capabilities.contains(c))
        {
            return Some(format!(
                "needs {c} in the runner's bounding set (this host lacks it)"
            ));
        }
        if let Some(c) = r
            .without_capabilities
            .iter()
            .find(|c| self.capabilities.contains(c))
        {
            return Some(format!(
                "needs a host without {c} (the scenario is about an ungrantable capability)"
            ));
        }
        if r.criu && !self.criu {
            let why = self.criu_reason.as_deref().unwrap_or("no reason recorded");
            return Some(format!(
                "needs a working criu: `criu check` fails here: {why}"
            ));
        }
        match (r.selinux, self.selinux) {
            (SelinuxReq::Enabled, false) => {
                return Some("needs SELinux (selinuxfs not mounted, or no policy loaded)".into())
            }
            (SelinuxReq::Disabled, true) => {
                return Some("needs a host without SELinux (a policy is loaded here)".into())
            }
            _ => {}
        }
        let flags = [
            (r.seccomp, self.seccomp, "seccomp"),
            (r.apparmor, self.apparmor, "AppArmor (not enabled)"),
            (r.userns, self.userns, "user namespaces"),
            (r.systemd, self.systemd, "systemd as init"),
        ];
        flags
            .iter()
            .find(|(wanted, have, _)| *wanted && !*have)
            .map(|(_, _, what)| format!("needs {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            euid: 0,
            kernel: "6.18.0-1-amd64".into(),
            cgroup_mode: CgroupMode::Hybrid,
            controllers: vec!["pids".into(), "memory".into()],
            hierarchies: vec![],
            criu: false,
            criu_reason: Some(
                "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable".into(),
            ),
            seccomp: true,
            apparmor: false,
            selinux: false,
            userns: true,
            systemd: false,
            dbus: false,
            capabilities: vec!["CAP_SYS_ADMIN".into()],
        }
    }

    #[test]
    fn selinux_needs_a_policy_not_just_selinuxfs() {
        assert!(!selinux_usable(
            false,
            Some("system_u:system_r:unconfined_t:s0")
        ));
        assert!(!selinux_usable(true, Some("kernel")), "no policy loaded");
        assert!(!selinux_usable(true, Some("kernel\0")), "as /proc shows it");
        assert!(
            !selinux_usable(true, None),
            "attr/current unreadable: LSM not active"
        );
        assert!(selinux_usable(
            true,
            Some("system_u:system_r:unconfined_t:s0")
        ));
    }

    #[test]
    fn criu_reason_is_the_last_lines_criu_printed() {
        let out = "Warn: x\n\nError (criu/vdso.c:613): vdso: bad\nError (criu/kerndat.c:1615): kerndat failed\nError (criu/crtools.c:260): Could not initialize\n";
        assert_eq!(
            criu_reason(out, Some(1)),
            "Error (criu/vdso.c:613): vdso: bad / Error (criu/kerndat.c:1615): kerndat failed / Error (criu/crtools.c:260): Could not initialize"
        );
        assert_eq!(criu_reason("one\n", Some(1)), "one");
        assert!(criu_reason("", Some(1)).contains("exited with 1"));
    }

    #[test]
    fn the_systemd_driver_needs_systemd_and_its_bus() {
        let mut f = facts();
        assert_eq!(f.unmet_cgroup_driver(CgroupDriver::Cgroupfs), None);
        let why = f.unmet_cgroup_driver(CgroupDriver::Systemd).unwrap();
        assert!(why.contains("systemd as PID 1"), "{why}");
        f.systemd = true;
        let why = f.unmet_cgroup_driver(CgroupDriver::Systemd).unwrap();
        assert!(why.contains("D-Bus system bus"), "{why}");
        f.dbus = true;
        assert_eq!(f.unmet_cgroup_driver(CgroupDriver::Systemd), None);
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(parse_kernel("5.6"), Some((5, 6)));
        assert_eq!(parse_kernel("x"), None);
    }

    #[test]
    fn unmet_requirements_give_reasons() {
        let f = facts();
        assert_eq!(f.unmet(&Requires::default()), None);
        let r = Requires {
            cgroup: CgroupReq::V2,
            ..Default::default()
        };
        assert!(f.unmet(&r).unwrap().contains("v2"));
        let r = Requires {
            cgroup_controllers: vec!["rdma".into()],
            ..Default::default()
        };
        assert!(f.unmet(&r).unwrap().contains("rdma"));
        let r = Requires {
            kernel: Some("7.0".into()),
            ..Default::default()
        };
        assert!(f.unmet(&r).unwrap().contains(">= 7.0"));
        let r = Requires {
            criu: true,
            ..Default::default()
        };
        let why = f.unmet(&r).unwrap();
        assert!(why.contains("`criu check` fails here"), "{why}");
        assert!(
            why.contains("vdso: Failed to fill self vdso symtable"),
            "criu's own reason: {why}"
        );
        let r = Requires {
            privilege: Privilege::Rootless,
            ..Default::default()
        };
        assert!(f.unmet(&r).is_some());
        let r = Requires {
            cgroup: CgroupReq::V1,
            cgroup_controllers: vec!["pids".into()],
            ..Default::default()
        };
        assert_eq!(f.unmet(&r), None);
    }

    #[test]
    fn selinux_can_be_required_on_or_off() {
        let on = |selinux| Requires {
            selinux,
            ..Default::default()
        };
        let mut f = facts();
        assert!(f
            .unmet(&on(SelinuxReq::Enabled))
            .unwrap()
            .contains("needs SELinux"));
        assert_eq!(f.unmet(&on(SelinuxReq::Disabled)), None);
        f.selinux = true;
        assert_eq!(f.unmet(&on(SelinuxReq::Enabled)), None);
        assert!(f
            .unmet(&on(SelinuxReq::Disabled))
            .unwrap()
            .contains("a host without SELinux"));
        assert_eq!(f.unmet(&on(SelinuxReq::Any)), None);
    }

    #[test]
    fn the_selinux_requirement_parses_words_and_flags() {
        let parse = |y: &str| serde_yaml::from_str::<Requires>(y).map(|r| r.selinux);
        assert_eq!(parse("selinux: enabled").unwrap(), SelinuxReq::Enabled);
        assert_eq!(parse("selinux: true").unwrap(), SelinuxReq::Enabled);
        assert_eq!(parse("selinux: disabled").unwrap(), SelinuxReq::Disabled);
        assert_eq!(parse("selinux: false").unwrap(), SelinuxReq::Any);
        assert_eq!(parse("privilege: root").unwrap(), SelinuxReq::Any);
        assert!(parse("selinux: maybe").is_err());
    }
}
