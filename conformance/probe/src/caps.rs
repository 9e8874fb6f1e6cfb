//! Capability masks as names (capabilities(7)), and the `caps` report.
//!
//! The report carries both the raw hex mask and the names so a scenario can
//! match `{ effective: { names: [...] } }` exactly or with `subset`, and a
//! human can still see bits newer than this table (`CAP_<n>`).

use crate::json::Json;
use crate::status;

/// Capability names indexed by their number (linux/capability.h).
const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The names of the bits set in `mask`, lowest bit first.
pub fn names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| match NAMES.get(bit) {
            Some(name) => (*name).to_string(),
            None => format!("CAP_{bit}"),
        })
        .collect()
}

/// The five sets, in the order the OCI config lists them, with their
/// `/proc/self/status` field names.
pub const SETS: [(&str, &str); 5] = [
    ("bounding", "CapBnd"),
    ("effective", "CapEff"),
    ("inheritable", "CapInh"),
    ("permitted", "CapPrm"),
    ("ambient", "CapAmb"),
];

/// `{"bounding":{"hex":"…","names":[…]},…}` from status text.
pub fn report(status_text: &str) -> Result<Json, crate::error::ProbeError> {
    let mut sets = Vec::with_capacity(SETS.len());
    for (set, field) in SETS {
        let mask = status::cap_mask(status_text, field)?;
        sets.push((
            set,
            Json::object(vec![
                ("hex", Json::str(format!("{mask:016x}"))),
                ("names", Json::strings(&names(mask))),
            ]),
        ));
    }
    Ok(Json::object(sets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0, &[])]
    #[case(1, &["CAP_CHOWN"])]
    #[case(0x20000420, &["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"])]
    #[case(1 << 40, &["CAP_CHECKPOINT_RESTORE"])]
    #[case(1 << 41, &["CAP_41"])]
    fn mask_to_names(#[case] mask: u64, #[case] expected: &[&str]) {
        assert_eq!(names(mask), expected);
    }

    #[test]
    fn table_matches_kernel_numbering() {
        assert_eq!(NAMES[21], "CAP_SYS_ADMIN");
        assert_eq!(NAMES[24], "CAP_SYS_RESOURCE");
        assert_eq!(NAMES[37], "CAP_AUDIT_READ");
    }

    #[test]
    fn report_has_all_five_sets() {
        let text = "CapInh:\t0\nCapPrm:\t20000420\nCapEff:\t20000420\n\
            CapBnd:\t20000420\nCapAmb:\t0\n";
        let json = report(text).unwrap().render();
        assert_eq!(
            json,
            r#"{"bounding":{"hex":"0000000020000420","names":["CAP_KILL","CAP_NET_BIND_SERVICE","CAP_AUDIT_WRITE"]},"effective":{"hex":"0000000020000420","names":["CAP_KILL","CAP_NET_BIND_SERVICE","CAP_AUDIT_WRITE"]},"inheritable":{"hex":"0000000000000000","names":[]},"permitted":{"hex":"0000000020000420","names":["CAP_KILL","CAP_NET_BIND_SERVICE","CAP_AUDIT_WRITE"]},"ambient":{"hex":"0000000000000000","names":[]}}"#
        );
    }
}
