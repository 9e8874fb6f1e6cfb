//! `linux.mountLabel` (config-linux.md#mount-label): the SELinux context of the container's
//! mounts, given to the kernel as the `context="..."` mount option on the mounts runc 1.1
//! gives it to (libcontainer/rootfs_linux.go, go-selinux's `label.FormatMountLabel`):
//!
//! - tmpfs (the /dev tmpfs, /dev/shm, any tmpfs of `mounts[]`, the cgroup-v1 tmpfs), devpts
//!   and any other new filesystem instance: yes;
//! - the read-only tmpfs over a masked directory: yes (runc's `maskPath`);
//! - proc and sysfs: no (the kernel labels them itself; runc passes no label);
//! - cgroup and cgroup2: no (runc passes the mount's own data);
//! - mqueue: no option, as in runc; runc then sets the label on the mount's root with
//!   setxattr, which ferrun does not do yet (the root keeps the policy's default label);
//! - bind mounts: no. mount(2) ignores the data of a bind, where runc adds the option to no
//!   effect. runc relabels a bind source only through libcontainer's `Relabel` field, which
//!   its conversion of config.json never sets (a `z` or `Z` option ends up in the mount's
//!   data), so neither runtime relabels sources: podman and CRI-O relabel them before they
//!   call the runtime.
//!
//! The label is quoted, as runc quotes it: an MCS label holds commas (`s0:c1,c2`), and the
//! kernel's option parser keeps a quoted value whole (so does ours for fsconfig(2), in
//! `sys::mount::new_api`). With SELinux disabled the kernel refuses
//! the option (EINVAL) and `create` fails at that mount, as runc 1.1.5's does: it adds the
//! option without asking whether SELinux is on.

use super::mounts::Entry;

/// Whether a new mount of filesystem `typ` gets the `context=` option.
pub fn takes_context(typ: &str) -> bool {
    !matches!(typ, "proc" | "sysfs" | "mqueue" | "cgroup" | "cgroup2")
}

/// `data` with `context="LABEL"` appended (runc's `FormatMountLabel`); unchanged without a
/// label.
pub fn with_context(data: &str, label: Option<&str>) -> String {
    match label.filter(|l| !l.is_empty()) {
        None => data.to_string(),
        Some(l) if data.is_empty() => format!("context=\"{l}\""),
        Some(l) => format!("{data},context=\"{l}\""),
    }
}

/// Adds the mount label to a `mounts[]` entry that takes one.
pub fn apply(e: &mut Entry, label: Option<&str>) {
    if !e.is_bind() && takes_context(&e.typ) {
        e.opts.data = with_context(&e.opts.data, label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: &str = "system_u:object_r:container_file_t:s0:c1,c2";

    #[test]
    fn the_label_is_appended_quoted() {
        assert_eq!(
            with_context("", Some(L)),
            r#"context="system_u:object_r:container_file_t:s0:c1,c2""#
        );
        assert_eq!(
            with_context("mode=755,size=65536k", Some(L)),
            r#"mode=755,size=65536k,context="system_u:object_r:container_file_t:s0:c1,c2""#
        );
        assert_eq!(with_context("mode=755", None), "mode=755");
        assert_eq!(
            with_context("mode=755", Some("")),
            "mode=755",
            "empty is none"
        );
    }

    #[test]
    fn which_filesystems_take_the_label() {
        for typ in ["tmpfs", "devpts", "shm", "hugetlbfs", "overlay"] {
            assert!(takes_context(typ), "{typ}");
        }
        for typ in ["proc", "sysfs", "mqueue", "cgroup", "cgroup2"] {
            assert!(!takes_context(typ), "{typ}");
        }
    }
}
