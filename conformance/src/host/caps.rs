//! The capabilities the runner (and so the runtimes it starts) can grant: the bounding set in
//! /proc/self/status. Root on the dev hosts lacks CAP_SYS_RESOURCE; root in the VMs has it, so
//! scenarios that need it (raising rlimits, lowering oom_score_adj) SKIP here and run there.

/// capability(7) names by bit number.
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

/// The names of the bits set in a `CapBnd:` hex mask.
pub fn names_of_mask(hex: &str) -> Vec<String> {
    let Ok(mask) = u64::from_str_radix(hex.trim(), 16) else {
        return Vec::new();
    };
    NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Our own bounding set.
pub fn bounding() -> Vec<String> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:").map(names_of_mask))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_hosts_mask_lacks_sys_resource() {
        let names = names_of_mask("000001fffeffffff");
        assert!(names.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(!names.contains(&"CAP_SYS_RESOURCE".to_string()));
        assert_eq!(names.len(), 40);
    }
}
