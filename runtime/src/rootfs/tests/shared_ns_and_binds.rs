//! A container sharing the runtime's mount namespace, --no-pivot's host procfs, bind mounts
//! from the early source fds, and the destination and option rules runc follows.

use super::*;
use crate::rootfs::mounts::with_locked_flags;

#[test]
fn a_shared_mount_namespace_gets_no_rootfs_bind_and_a_chroot() {
    let f = fake();
    f.dir("/tmp");
    let s = spec(json!({"mounts": [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]}));
    let o = Opts {
        shares_mount_ns: true,
        ..DEFAULT
    };
    let ops = run_all(&f, &s, &o).expect("setup succeeds");
    assert!(
        !ops.iter()
            .any(|op| op.contains("SLAVE") || op.contains("bundle/rootfs /bundle/rootfs")),
        "the shared namespace's propagation and root are left alone: {ops:?}"
    );
    let tail = lines(
        "
        chdir /bundle/rootfs
        chroot .
        chdir /
    ",
    );
    let at = ops
        .iter()
        .position(|o| o == "chdir /bundle/rootfs")
        .expect("chroot");
    assert_eq!(ops[at..at + 3], tail[..]);
    assert!(!ops
        .iter()
        .any(|o| o.starts_with("pivot_root") || o.contains("MOVE")));
}

const HOST_PROC: &str = "\
22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,relatime - proc proc rw
24 22 0:22 / /sys rw,relatime - sysfs sysfs rw
25 23 0:40 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw
26 22 0:21 /sys /mnt/partial rw,relatime - proc proc rw
27 22 8:1 /bundle/rootfs /bundle/rootfs rw,relatime - ext4 /dev/sda1 rw
28 27 0:50 / /bundle/rootfs/proc rw,relatime - proc proc rw
";

#[test]
fn no_pivot_detaches_the_hosts_whole_proc_and_sysfs_first() {
    let f = fake();
    f.host_files
        .borrow_mut()
        .insert("/proc/self/mountinfo".into(), HOST_PROC.into());
    f.fail("umount2 /sys", libc::EPERM);
    let s = spec(json!({}));
    let c = ctx(
        &s,
        &Opts {
            no_pivot: true,
            ..DEFAULT
        },
    );
    pivot(&f, &c).expect("moved");
    let expected = lines(
        "
        mount - /proc - REC|SLAVE -
        umount2 /proc MntFlags(MNT_DETACH)
        mount - /sys - REC|SLAVE -
        umount2 /sys MntFlags(MNT_DETACH)
        mount tmpfs /sys tmpfs 0 -
        chdir /bundle/rootfs
        mount /bundle/rootfs / - MOVE -
    ",
    );
    assert_eq!(f.ops()[..expected.len()], expected[..]);
}

#[test]
fn an_early_source_fd_is_bound_instead_of_the_path() {
    let f = fake();
    f.dir("/data");
    f.host_path("/secret", FileKind::Dir);
    let s = spec(json!({"mounts": [
        {"destination": "/data", "type": "bind", "source": "/secret", "options": ["rbind", "ro"]}
    ]}));
    let early = f.open(Path::new("/secret")).expect("opened");
    let sources = [(0, early)];
    let mut c = ctx(&s, &DEFAULT);
    c.bind_sources = &sources;
    prepare(&f, &c).expect("set up");
    f.close(early);
    let ops = f.ops();
    let at = ops
        .iter()
        .position(|o| o.starts_with("mount @host:/secret"))
        .expect("bound from the fd");
    assert_eq!(
        ops[at..at + 2],
        [
            "mount @host:/secret @/data - BIND|REC -",
            "mount - @/data - RDONLY|REMOUNT|BIND|REC -"
        ]
    );
    assert!(
        !ops.iter().any(|o| o.starts_with("mount /secret")),
        "{ops:?}"
    );
}

#[test]
fn a_destination_under_the_rootfs_host_path_is_taken_inside_it() {
    let f = fake();
    f.dir("/x");
    let s = spec(json!({"mounts": [
        {"destination": "/bundle/rootfs/x", "type": "tmpfs", "source": "tmpfs"}
    ]}));
    let ops = run_prepare(&f, &s, &DEFAULT).expect("set up");
    assert!(
        ops.iter().any(|o| o.starts_with("mount tmpfs @/x tmpfs")),
        "{ops:?}"
    );
    assert!(
        !ops.iter().any(|o| o.contains("/bundle/rootfs/x")),
        "{ops:?}"
    );
}

#[test]
fn filesystem_options_on_a_bind_are_ignored_with_a_note() {
    let f = fake();
    f.dir("/m");
    f.host_path("/src", FileKind::Dir);
    let s = spec(json!({"mounts": [
        {"destination": "/m", "type": "bind", "source": "/src", "options": ["rbind", "mode=755", "size=1k"]}
    ]}));
    let ops = run_prepare(&f, &s, &DEFAULT).expect("options ignored");
    assert!(
        ops.contains(&"mount /src @/m - BIND|REC -".to_string()),
        "{ops:?}"
    );
    let notes = crate::rootfs::bind::ignored_options(&s, Path::new("/bundle/rootfs"));
    assert_eq!(
        notes,
        ["mounts[0] /m: options \"mode=755,size=1k\" mean nothing to a bind mount; ignored"]
    );
}

#[test]
fn a_locked_retry_keeps_the_mounts_own_atime_and_lockable_flags() {
    use MsFlags as F;
    let current = F::MS_NOSUID | F::MS_NOATIME | F::MS_NODIRATIME | F::MS_SYNCHRONOUS;
    let ro = F::MS_BIND | F::MS_REMOUNT | F::MS_RDONLY;
    assert_eq!(
        with_locked_flags(ro, current),
        Some(ro | F::MS_NOSUID | F::MS_NOATIME | F::MS_NODIRATIME)
    );
    let same_mode = ro | F::MS_NOATIME;
    assert_eq!(
        with_locked_flags(same_mode, current),
        Some(same_mode | F::MS_NOSUID | F::MS_NODIRATIME)
    );
    assert_eq!(
        with_locked_flags(ro | F::MS_RELATIME, current),
        None,
        "a locked noatime cannot become relatime"
    );
}

#[test]
fn an_idmapped_tree_is_attached_instead_of_bound() {
    let f = fake();
    f.dir("/data");
    f.host_path("/srv", FileKind::Dir);
    let s = spec(json!({"mounts": [
        {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro", "ridmap"]}
    ]}));
    // The fake cannot make a detached tree: an opened host path stands in for it.
    let tree = f.open(Path::new("/srv")).expect("opened");
    let trees = [(0, tree)];
    let mut c = ctx(&s, &DEFAULT);
    c.idmapped = &trees;
    prepare(&f, &c).expect("set up");
    f.close(tree);
    let ops = f.ops();
    let at = ops
        .iter()
        .position(|o| o.starts_with("attach @host:/srv"))
        .expect("attached");
    assert_eq!(
        ops[at..at + 2],
        [
            "attach @host:/srv @/data",
            "mount - @/data - RDONLY|REMOUNT|BIND|REC -"
        ]
    );
    assert!(
        !ops.iter()
            .any(|o| o.contains("BIND|REC -") && o.starts_with("mount /srv")),
        "{ops:?}"
    );
}
