//! Device nodes, cgroup mounts and the console through the recording fake.

use super::*;

#[test]
fn user_namespace_binds_host_device_nodes() {
    let f = fake();
    f.dir("/dev");
    let s = spec(json!({}));
    let o = Opts {
        in_user_ns: true,
        ..DEFAULT
    };
    let ops = run_prepare(&f, &s, &o).expect("set up");
    assert_eq!(
        after_root(&ops)[..2],
        [
            "create /dev/null 666",
            "mount /dev/null @/dev/null - BIND -"
        ]
    );
    assert!(!ops.iter().any(|o| o.starts_with("mknod")), "{ops:?}");
    assert!(
        !ops.iter().any(|o| o.contains("/dev/core")),
        "no proc mount, no /dev/core: {ops:?}"
    );
}

#[test]
fn configured_devices_override_defaults_with_mode_and_owner() {
    let f = fake();
    let s = spec(json!({"linux": {"devices": [
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0},
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 384, "uid": 1000, "gid": 100},
        {"path": "/dev/sub/loop9", "type": "b", "major": 7, "minor": 9},
        {"path": "/dev/fifo0", "type": "p"}
    ]}}));
    let ops = run_prepare(&f, &s, &DEFAULT).expect("set up");
    let nodes: Vec<_> = ops
        .iter()
        .filter(|o| o.starts_with("mknod") || o.starts_with("chown") || o.starts_with("mkdir"))
        .cloned()
        .collect();
    assert_eq!(
        nodes,
        lines(
            "
            mkdir /dev 755
            mknod /dev/zero Char 666 1:5
            chown /dev/zero 0:0
            mknod /dev/full Char 666 1:7
            chown /dev/full 0:0
            mknod /dev/random Char 666 1:8
            chown /dev/random 0:0
            mknod /dev/urandom Char 666 1:9
            chown /dev/urandom 0:0
            mknod /dev/tty Char 666 5:0
            chown /dev/tty 0:0
            mknod /dev/null Char 666 1:3
            chown /dev/null 0:0
            mknod /dev/fuse Char 600 10:229
            chown /dev/fuse 1000:100
            mkdir /dev/sub 755
            mknod /dev/sub/loop9 Block 666 7:9
            chown /dev/sub/loop9 0:0
            mknod /dev/fifo0 Fifo 666 0:0
            chown /dev/fifo0 0:0
        "
        )
    );
}

#[test]
fn device_type_a_is_rejected_with_its_field() {
    let f = fake();
    let s = spec(json!({"linux": {"devices": [{"path": "/dev/x", "type": "a"}]}}));
    let e = run_prepare(&f, &s, &DEFAULT).expect_err("rejected");
    assert!(e.to_string().starts_with("linux.devices[0].type"), "{e}");
}

#[test]
fn existing_device_nodes_are_kept() {
    let f = fake();
    f.dir("/dev")
        .node("/dev/null", FileKind::CharDev, 0o666, (1, 3));
    let ops = run_prepare(&f, &spec(json!({})), &DEFAULT).expect("set up");
    assert!(ops.contains(&"mknod /dev/null Char 666 1:3".to_string()));
    assert!(
        !ops.contains(&"chown /dev/null 0:0".to_string()),
        "EEXIST: leave it alone"
    );
}

#[test]
fn cgroup_v1_without_cgroupns_binds_our_cgroup_dirs() {
    let f = fake();
    let s = spec(
        json!({"mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]}),
    );
    f.host_path("/sys/fs/cgroup/cpu,cpuacct/ctr", FileKind::Dir)
        .host_path("/sys/fs/cgroup/memory/ctr", FileKind::Dir)
        .host_path("/sys/fs/cgroup/systemd/ctr", FileKind::Dir);
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    let mounts: Vec<_> = after_root(&ops)
        .iter()
        .filter(|o| !o.starts_with("mknod") && !o.starts_with("chown"))
        .take(16)
        .cloned()
        .collect();
    assert_eq!(
        mounts,
        lines("
            mkdir /sys 755
            mkdir /sys/fs 755
            mkdir /sys/fs/cgroup 755
            mount tmpfs @/sys/fs/cgroup tmpfs NOSUID|NODEV|NOEXEC mode=755
            mkdir /sys/fs/cgroup/cpu,cpuacct 755
            mount /sys/fs/cgroup/cpu,cpuacct/ctr @/sys/fs/cgroup/cpu,cpuacct - BIND|REC -
            mount - @/sys/fs/cgroup/cpu,cpuacct - RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|REC|RELATIME -
            mkdir /sys/fs/cgroup/memory 755
            mount /sys/fs/cgroup/memory/ctr @/sys/fs/cgroup/memory - BIND|REC -
            mount - @/sys/fs/cgroup/memory - RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|REC|RELATIME -
            mkdir /sys/fs/cgroup/systemd 755
            mount /sys/fs/cgroup/systemd/ctr @/sys/fs/cgroup/systemd - BIND|REC -
            mount - @/sys/fs/cgroup/systemd - RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND|REC|RELATIME -
            symlink /sys/fs/cgroup/cpu -> cpu,cpuacct
            symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct
            mount - @/sys/fs/cgroup - RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND -
        ")
    );
}

#[test]
fn cgroup_v1_with_cgroupns_mounts_fresh_hierarchies() {
    let f = fake();
    let s = spec(
        json!({"mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}]}),
    );
    let o = Opts {
        cgroup_ns: true,
        ..DEFAULT
    };
    let ops = run_prepare(&f, &s, &o).expect("mounted");
    let mounts: Vec<_> = ops
        .iter()
        .filter(|o| o.starts_with("mount") && o.contains("cgroup"))
        .cloned()
        .collect();
    assert_eq!(
        mounts,
        lines(
            "
            mount tmpfs @/sys/fs/cgroup tmpfs NOSUID|NODEV|NOEXEC mode=755
            mount cgroup @/sys/fs/cgroup/cpu,cpuacct cgroup RDONLY|NOSUID|NODEV|NOEXEC cpu,cpuacct
            mount cgroup @/sys/fs/cgroup/memory cgroup RDONLY|NOSUID|NODEV|NOEXEC memory
            mount cgroup @/sys/fs/cgroup/systemd cgroup RDONLY|NOSUID|NODEV|NOEXEC name=systemd
            mount - @/sys/fs/cgroup - RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND -
        "
        )
    );
}

#[test]
fn cgroup2_falls_back_to_a_bind_when_the_kernel_refuses() {
    let f = fake();
    f.host_path("/sys/fs/cgroup/unified/ctr", FileKind::Dir);
    f.fail("mount cgroup2 @/sys/fs/cgroup cgroup2", libc::EPERM);
    let s = spec(
        json!({"mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup2", "options": ["nosuid"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    assert_eq!(
        after_root(&ops)[3..6],
        [
            "mount cgroup2 @/sys/fs/cgroup cgroup2 NOSUID -",
            "mount /sys/fs/cgroup/unified/ctr @/sys/fs/cgroup - BIND -",
            "mount - @/sys/fs/cgroup - NOSUID|REMOUNT|BIND -",
        ]
    );
}

#[test]
fn console_is_bound_onto_a_created_dev_console() {
    let f = fake();
    f.dir("/dev").host_path("/", FileKind::Dir);
    bind_console(&f, Path::new("/dev/pts/0")).expect("bound");
    assert_eq!(
        f.ops(),
        [
            "create /dev/console 755",
            "mount /dev/pts/0 @/dev/console - BIND -"
        ]
    );
    assert_eq!(f.open_handles(), 0);
}

#[test]
fn console_symlink_is_refused() {
    // CVE-2025-52565: /dev/console -> /proc/sys/kernel/core_pattern in the image.
    let f = fake();
    f.dir("/dev")
        .dir("/proc")
        .dir("/proc/sys")
        .dir("/proc/sys/kernel")
        .file("/proc/sys/kernel/core_pattern");
    f.link("/dev/console", "/proc/sys/kernel/core_pattern");
    let e = bind_console(&f, Path::new("/dev/pts/0")).expect_err("refused");
    assert_eq!(e.errno(), Some(libc::ELOOP), "{e}");
    assert!(
        !f.ops().iter().any(|o| o.starts_with("mount")),
        "{:?}",
        f.ops()
    );
}

#[test]
fn dev_tmpfs_read_only_is_deferred_to_finalize() {
    let f = fake();
    f.dir("/dev");
    let s = spec(
        json!({"mounts": [{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "nosuid", "mode=755"]}]}),
    );
    let ops = run_all(&f, &s, &DEFAULT).expect("set up");
    assert!(
        ops.contains(&"mount tmpfs @/dev tmpfs NOSUID mode=755".to_string()),
        "{ops:?}"
    );
    assert_eq!(
        ops.last().map(String::as_str),
        Some("mount - @/dev - RDONLY|NOSUID|REMOUNT|BIND -")
    );
}

#[test]
fn cgroup_mount_on_a_pure_v2_host_becomes_cgroup2() {
    let f = fake();
    let mi = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    f.host_files
        .borrow_mut()
        .insert("/proc/self/mountinfo".into(), mi.into());
    let s = spec(
        json!({"mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "ro"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    let mounts: Vec<_> = ops
        .iter()
        .filter(|o| o.contains("/sys/fs/cgroup") && o.starts_with("mount"))
        .cloned()
        .collect();
    assert_eq!(
        mounts,
        ["mount cgroup2 @/sys/fs/cgroup cgroup2 RDONLY|NOSUID -"]
    );
}
