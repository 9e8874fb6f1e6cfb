//! What the security module implements, for `ferrun features` (runtime-spec features.md).
//! The lists come from the same code paths that enforce them, so they cannot drift:
//! actions and operators are the ones `seccomp::plan` accepts, flags are probed on a
//! real (unloaded) libseccomp filter, capabilities are the caps crate's list.

use libseccomp::{ScmpAction, ScmpFilterContext};
use oci_spec::runtime::{
    Apparmor, Arch, IntelRdt, LinuxSeccompAction, NetDevices, Seccomp, Selinux,
};

/// Every action ferrun's seccomp accepts in a rule (SCMP_ACT_NOTIFY, which needs
/// `listenerPath`, only there; runc lists it the same way).
pub const SECCOMP_ACTIONS: [LinuxSeccompAction; 9] = [
    LinuxSeccompAction::ScmpActAllow,
    LinuxSeccompAction::ScmpActErrno,
    LinuxSeccompAction::ScmpActKill,
    LinuxSeccompAction::ScmpActKillProcess,
    LinuxSeccompAction::ScmpActKillThread,
    LinuxSeccompAction::ScmpActLog,
    LinuxSeccompAction::ScmpActNotify,
    LinuxSeccompAction::ScmpActTrace,
    LinuxSeccompAction::ScmpActTrap,
];

pub const SECCOMP_OPERATORS: [&str; 7] = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_LE",
    "SCMP_CMP_LT",
    "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
];

pub const SECCOMP_FLAGS: [&str; 4] = [
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

const ARCHS: [Arch; 24] = [
    Arch::ScmpArchNative,
    Arch::ScmpArchX86,
    Arch::ScmpArchX86_64,
    Arch::ScmpArchX32,
    Arch::ScmpArchArm,
    Arch::ScmpArchAarch64,
    Arch::ScmpArchMips,
    Arch::ScmpArchMips64,
    Arch::ScmpArchMips64n32,
    Arch::ScmpArchMipsel,
    Arch::ScmpArchMipsel64,
    Arch::ScmpArchMipsel64n32,
    Arch::ScmpArchPpc,
    Arch::ScmpArchPpc64,
    Arch::ScmpArchPpc64le,
    Arch::ScmpArchS390,
    Arch::ScmpArchS390x,
    Arch::ScmpArchParisc,
    Arch::ScmpArchParisc64,
    Arch::ScmpArchRiscv64,
    Arch::ScmpArchLoongarch64,
    Arch::ScmpArchM68k,
    Arch::ScmpArchSh,
    Arch::ScmpArchSheb,
];

/// The `linux.seccomp` features object. `supportedFlags` is what this libseccomp and
/// kernel accept right now; WAIT_KILLABLE_RECV, which ferrun passes to the kernel itself for
/// a filter with a listener, is asked of the kernel (Linux >= 5.19).
pub fn seccomp() -> Seccomp {
    let mut s = Seccomp::default();
    s.set_enabled(Some(true));
    s.set_actions(Some(SECCOMP_ACTIONS.to_vec()));
    s.set_operators(Some(SECCOMP_OPERATORS.map(String::from).to_vec()));
    s.set_archs(Some(ARCHS.to_vec()));
    s.set_known_flags(Some(SECCOMP_FLAGS.map(String::from).to_vec()));
    s.set_supported_flags(Some(supported_flags()));
    s
}

fn supported_flags() -> Vec<String> {
    let Ok(mut ctx) = ScmpFilterContext::new(ScmpAction::Allow) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut probe = |name: &str, ok: bool| {
        if ok {
            out.push(name.to_string());
        }
    };
    probe(SECCOMP_FLAGS[0], ctx.set_ctl_log(true).is_ok());
    probe(SECCOMP_FLAGS[1], ctx.set_ctl_ssb(true).is_ok());
    probe(SECCOMP_FLAGS[2], ctx.set_ctl_tsync(true).is_ok());
    probe(
        SECCOMP_FLAGS[3],
        crate::sys::seccomp::filter_flags_supported(
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER | crate::sys::seccomp::FLAG_WAIT_KILLABLE_RECV,
        ),
    );
    out
}

/// Capability names ferrun can apply on this kernel, in kernel order.
pub fn capabilities() -> Vec<String> {
    let mut caps: Vec<::caps::Capability> = ::caps::runtime::thread_all_supported()
        .into_iter()
        .collect();
    caps.sort_by_key(|c| c.index());
    caps.iter().map(ToString::to_string).collect()
}

/// `process.apparmorProfile` is applied (security/apparmor.rs). As with runc, this says what
/// ferrun supports, not whether this host has AppArmor on.
pub fn apparmor() -> Apparmor {
    let mut a = Apparmor::default();
    a.set_enabled(Some(true));
    a
}

/// `process.selinuxLabel` and `linux.mountLabel` are applied (security/selinux.rs,
/// rootfs/label.rs). As with runc, this says what ferrun supports, not whether this host has
/// SELinux on.
pub fn selinux() -> Selinux {
    let mut s = Selinux::default();
    s.set_enabled(Some(true));
    s
}

/// `linux.intelRdt` is refused by `check_supported`.
pub fn intel_rdt() -> IntelRdt {
    let mut r = IntelRdt::default();
    r.set_enabled(Some(false));
    r
}

/// `linux.netDevices` is ignored, with a warning, by `check_supported`.
pub fn net_devices() -> NetDevices {
    let mut n = NetDevices::default();
    n.set_enabled(Some(false));
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxSeccomp;
    use serde_json::json;

    #[test]
    fn every_advertised_action_and_operator_is_accepted_by_compile() {
        for action in SECCOMP_ACTIONS {
            for op in SECCOMP_OPERATORS {
                let cfg: LinuxSeccomp = serde_json::from_value(json!({
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "listenerPath": "/run/agent.sock",
                    "syscalls": [{"names": ["getcwd"], "action": action,
                                  "args": [{"index": 0, "op": op, "value": 1}]}]
                }))
                .expect("parses");
                if let Err(e) = super::super::seccomp::compile(&cfg) {
                    panic!("{action} with {op}: {e}");
                }
            }
        }
    }

    #[test]
    fn little_endian_archs_add_and_failures_name_the_arch() {
        // libseccomp refuses to mix byte orders in one filter (EDOM), and 2.5 lacks the
        // newest arches: those fail, as with runc, but the error must say which arch.
        let must_work = [
            "SCMP_ARCH_X86",
            "SCMP_ARCH_X86_64",
            "SCMP_ARCH_X32",
            "SCMP_ARCH_ARM",
            "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_RISCV64",
            "SCMP_ARCH_PPC64LE",
            "SCMP_ARCH_MIPSEL",
        ];
        for arch in ARCHS {
            let name = serde_json::to_value(arch).expect("serialises");
            let cfg: LinuxSeccomp = serde_json::from_value(json!({
                "defaultAction": "SCMP_ACT_ALLOW", "architectures": [name]
            }))
            .expect("parses");
            match super::super::seccomp::compile(&cfg) {
                Ok(filter) => assert!(filter.skipped().is_empty()),
                Err(e) => {
                    let label = name.as_str().unwrap_or_default();
                    assert!(!must_work.contains(&label), "{label}: {e}");
                    assert!(
                        e.to_string()
                            .starts_with("linux.seccomp.architectures[0]: adding "),
                        "{e}"
                    );
                }
            }
        }
    }

    #[test]
    fn supported_flags_are_known_flags_and_include_log() {
        let s = seccomp();
        let known = s.known_flags().clone().unwrap_or_default();
        let supported = s.supported_flags().clone().unwrap_or_default();
        assert!(supported.iter().all(|f| known.contains(f)));
        assert!(supported.contains(&"SECCOMP_FILTER_FLAG_LOG".to_string()));
        let json = serde_json::to_value(&s).expect("serialises");
        assert_eq!(json["actions"].as_array().map(Vec::len), Some(9));
        assert!(json["actions"].to_string().contains("SCMP_ACT_NOTIFY"));
    }

    #[test]
    fn capabilities_are_spec_names_starting_with_chown() {
        let caps = capabilities();
        assert_eq!(caps.first().map(String::as_str), Some("CAP_CHOWN"));
        assert!(caps.iter().all(|c| c.starts_with("CAP_")));
    }
}
