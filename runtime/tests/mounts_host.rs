//! The container's filesystem (config.md#root, #mounts, config-linux.md#rootfs-mount-
//! propagation, #masked-paths, #readonly-paths, #default-devices, #devices) and the uts/sysctl
//! settings, observed through the container's own /proc/self/mountinfo and shell.

mod support;

use std::path::Path;

use serde_json::json;
use support::{mount_fields, mountinfo_line, mounts_plus, sh, sh_bundle, sh_ok, Rt};

#[test]
#[ignore = "needs root and busybox-static"]
fn readonly_root_refuses_writes() {
    support::require_root();
    let rt = Rt::new();
    let out = sh(
        &rt,
        "rootro",
        "touch /x 2>&1; awk '$5==\"/\"' /proc/self/mountinfo",
        json!({}),
    )
    .ok()
    .out;
    assert!(out.contains("Read-only file system"), "{out}");
    let line = out.lines().last().unwrap();
    assert!(mount_fields(line).0.contains(&"ro".to_string()), "{line}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn writable_root_writes_through_to_the_bundle() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("rootrw");
    let b = sh_bundle(
        &id,
        "echo hi > /marker",
        json!({"root": {"readonly": false}}),
    );
    rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]).ok();
    let marker = std::fs::read_to_string(b.path().join("rootfs/marker")).unwrap();
    assert_eq!(marker, "hi\n");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn mounts_get_their_types_and_options() {
    support::require_root();
    let rt = Rt::new();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("f"), "host data\n").unwrap();
    let src = data.path().to_str().unwrap();
    let patch = json!({"mounts": mounts_plus(json!([
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
         "options": ["ro", "nosuid", "nodev", "noexec", "size=1m", "mode=700"]},
        {"destination": "/data", "type": "bind", "source": src, "options": ["bind", "ro", "noatime"]},
        {"destination": "/rdata", "type": "none", "source": src, "options": ["rbind", "rw"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]}
    ]))});
    let out = sh_ok(
        &rt,
        "mnts",
        "cat /data/f; echo w > /data/g 2>/dev/null || echo data-ro; echo w > /rdata/g && echo rdata-rw; \
         cat /proc/self/mountinfo",
        patch,
    );
    assert!(out.starts_with("host data\ndata-ro\nrdata-rw\n"), "{out}");
    assert_eq!(
        std::fs::read_to_string(data.path().join("g")).unwrap(),
        "w\n"
    );
    let field = |target: &str| {
        mount_fields(mountinfo_line(&out, target).unwrap_or_else(|| panic!("{target}: {out}")))
    };
    let (opts, _, fstype, sup) = field("/scratch");
    assert_eq!(fstype, "tmpfs");
    for o in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(
            opts.contains(&o.to_string()),
            "/scratch lacks {o}: {opts:?}"
        );
    }
    assert!(sup.contains(&"size=1024k".to_string()), "{sup:?}");
    assert!(sup.contains(&"mode=700".to_string()), "{sup:?}");
    let (opts, ..) = field("/data");
    assert!(
        opts.contains(&"ro".to_string()) && opts.contains(&"noatime".to_string()),
        "{opts:?}"
    );
    for (target, fs) in [
        ("/proc", "proc"),
        ("/sys", "sysfs"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
    ] {
        assert_eq!(field(target).2, fs, "{target}");
    }
    // A `cgroup` mount is a tmpfs of per-hierarchy cgroup mounts on a v1/hybrid host and a
    // cgroup2 mount on a pure v2 host (runc's behaviour), read-only either way.
    let v1 = Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
    let (top, leaf) = if v1 {
        ("tmpfs", ("/sys/fs/cgroup/memory", "cgroup"))
    } else {
        ("cgroup2", ("/sys/fs/cgroup", "cgroup2"))
    };
    assert_eq!(field("/sys/fs/cgroup").2, top);
    let (opts, _, fstype, _) = field(leaf.0);
    assert_eq!(fstype, leaf.1);
    assert!(opts.contains(&"ro".to_string()), "{opts:?}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn mount_propagation_flags_show_in_mountinfo() {
    support::require_root();
    let rt = Rt::new();
    let data = tempfile::tempdir().unwrap();
    let src = data.path().to_str().unwrap();
    let bind = |dst: &str, prop: &str| json!({"destination": dst, "type": "bind", "source": src, "options": ["rbind", prop]});
    let patch = json!({"mounts": mounts_plus(json!([
        bind("/shared", "rshared"), bind("/private", "rprivate"), bind("/unbindable", "runbindable")
    ]))});
    let out = sh_ok(&rt, "mprop", "cat /proc/self/mountinfo", patch);
    let optional = |t: &str| mount_fields(mountinfo_line(&out, t).expect(t)).1;
    assert!(
        optional("/shared").iter().any(|f| f.starts_with("shared:")),
        "{out}"
    );
    assert!(optional("/private").is_empty(), "{out}");
    assert_eq!(optional("/unbindable"), ["unbindable"], "{out}");
}

/// A host tmpfs made shared; unmounted on drop.
struct SharedMount(tempfile::TempDir);

impl SharedMount {
    fn new() -> Self {
        // Built first, so drop unmounts the tmpfs even if making it shared fails.
        let me = SharedMount(tempfile::tempdir().unwrap());
        let p = me.0.path().to_str().unwrap();
        let st = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("mount -t tmpfs proof {p} && mount --make-shared {p}"),
            ])
            .status()
            .unwrap();
        assert!(st.success(), "mount a shared tmpfs on {p}: {st}");
        me
    }
}

impl Drop for SharedMount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(self.0.path(), nix::mount::MntFlags::MNT_DETACH);
    }
}

#[test]
#[ignore = "needs root and busybox-static"]
fn slave_mount_receives_host_mounts_made_after_start() {
    support::require_root();
    let rt = Rt::new();
    let shared = SharedMount::new();
    let src = shared.0.path();
    std::fs::create_dir(src.join("sub")).unwrap();
    let id = support::unique_id("mslave");
    let patch = json!({"mounts": mounts_plus(json!([
        {"destination": "/hostshare", "type": "bind", "source": src, "options": ["rbind", "rslave"]}
    ]))});
    let b = sh_bundle(&id, "sleep 60", patch);
    let pid = rt.create_start(&b, &id);
    let late = src.join("sub");
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "late"])
        .arg(&late)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::write(late.join("note"), "propagated\n").unwrap();
    let seen = std::fs::read_to_string(format!("/proc/{pid}/root/hostshare/sub/note"));
    let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let _ = nix::mount::umount2(&late, nix::mount::MntFlags::MNT_DETACH);
    rt.ok(&["delete", "--force", &id]);
    assert_eq!(seen.unwrap(), "propagated\n");
    let line = mountinfo_line(&mountinfo, "/hostshare").expect(&mountinfo);
    assert!(
        mount_fields(line)
            .1
            .iter()
            .any(|f| f.starts_with("master:")),
        "{line}"
    );
}

/// `shared` puts the container's root mount in a peer group and `private` keeps it out of
/// any (runc 1.1.5 leaves the root unshared even for `shared`: it never re-applies the flag
/// after pivot_root; the spec's "sets the rootfs's mount propagation" is what is checked).
#[test]
#[ignore = "needs root and busybox-static"]
fn rootfs_propagation_sets_the_root_mount() {
    support::require_root();
    let rt = Rt::new();
    for (prop, shared) in [("shared", true), ("private", false)] {
        let patch = json!({"linux": {"rootfsPropagation": prop}});
        let done = sh(&rt, "rprop", "awk '$5==\"/\"' /proc/self/mountinfo", patch);
        assert_eq!(done.code, Some(0), "rootfsPropagation {prop}: {done:?}");
        let optional = mount_fields(done.out.trim()).1;
        let in_group = optional.iter().any(|f| f.starts_with("shared:"));
        assert_eq!(in_group, shared, "{prop}: {}", done.out);
        assert!(
            optional.iter().all(|f| !f.starts_with("master:")),
            "{prop}: {}",
            done.out
        );
    }
}

/// rootfsPropagation "unbindable": the root mount inside is unbindable. (runc 1.1 fails
/// create with EINVAL here: it makes the tree unbindable before bind-mounting the rootfs onto
/// itself; ferrun starts rprivate and applies unbindable after pivot_root.)
#[test]
#[ignore = "needs root and busybox-static"]
fn unbindable_rootfs_propagation_applies_to_the_new_root() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {"rootfsPropagation": "unbindable"}});
    let done = sh(
        &rt,
        "runbind",
        "awk '$5==\"/\"' /proc/self/mountinfo",
        patch,
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    let optional = mount_fields(done.out.trim()).1;
    assert!(optional.iter().any(|f| f == "unbindable"), "{}", done.out);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn no_pivot_runs_in_the_rootfs_with_its_mounts() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("nopivot");
    let b = sh_bundle(
        &id,
        "cat /marker; hostname; grep -c . /proc/self/mountinfo >/dev/null && echo proc; \
         awk '$5==\"/\"' /proc/self/mountinfo",
        json!({}),
    );
    std::fs::write(b.path().join("rootfs/marker"), "in rootfs\n").unwrap();
    let out = rt
        .run(&["run", "--no-pivot", "-b", b.path().to_str().unwrap(), &id])
        .ok()
        .out;
    assert!(out.starts_with("in rootfs\nferrun-test\nproc\n"), "{out}");
    let root = out.lines().nth(3).unwrap();
    assert!(mount_fields(root).0.contains(&"ro".to_string()), "{root}");
}

#[test]
#[ignore = "needs root and busybox-static"]
fn dev_has_the_default_devices_and_links() {
    support::require_root();
    let rt = Rt::new();
    let out = sh_ok(
        &rt,
        "devdef",
        "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done; \
         for l in fd stdin stdout stderr ptmx; do echo $l=$(readlink /dev/$l); done; \
         echo x > /dev/null && head -c 3 /dev/zero | wc -c",
        json!({}),
    );
    let want = "/dev/null character special file 1:3 666\n\
                /dev/zero character special file 1:5 666\n\
                /dev/full character special file 1:7 666\n\
                /dev/random character special file 1:8 666\n\
                /dev/urandom character special file 1:9 666\n\
                /dev/tty character special file 5:0 666\n\
                fd=/proc/self/fd\nstdin=/proc/self/fd/0\nstdout=/proc/self/fd/1\n\
                stderr=/proc/self/fd/2\nptmx=pts/ptmx\n3\n";
    assert_eq!(out, want);
}

#[test]
#[ignore = "needs root and busybox-static"]
fn linux_devices_are_created_and_the_device_cgroup_guards_them() {
    support::require_root();
    let rt = Rt::new();
    let patch = json!({"linux": {
        "devices": [
            {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 0, "gid": 0},
            {"path": "/dev/myloop", "type": "b", "major": 7, "minor": 0}
        ],
        "resources": {"devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}
        ]}
    }});
    let out = sh_ok(
        &rt,
        "devs",
        "stat -c '%n %F %t:%T %a' /dev/mynull /dev/myloop; echo x > /dev/mynull && echo wrote; \
         head -c1 /dev/myloop >/dev/null 2>&1 || echo loop-denied",
        patch,
    );
    assert_eq!(
        out,
        "/dev/mynull character special file 1:3 640\n/dev/myloop block special file 7:0 666\n\
         wrote\nloop-denied\n"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn masked_and_readonly_paths() {
    support::require_root();
    let rt = Rt::new();
    let id = support::unique_id("mask");
    let patch = json!({"root": {"readonly": false}, "linux": {
        "maskedPaths": ["/proc/timer_list", "/sys/firmware", "/secret.txt", "/secretdir", "/nonexistent"],
        "readonlyPaths": ["/proc/sys", "/rodir"]
    }});
    let b = sh_bundle(
        &id,
        "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; wc -c < /secret.txt; ls /secretdir | wc -l; \
         echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro; \
         touch /rodir/x 2>/dev/null || echo rodir-ro; touch /rw && echo root-rw; \
         cat /proc/self/mountinfo",
        patch,
    );
    let rootfs = b.path().join("rootfs");
    std::fs::write(rootfs.join("secret.txt"), "secret\n").unwrap();
    std::fs::create_dir(rootfs.join("secretdir")).unwrap();
    std::fs::write(rootfs.join("secretdir/a"), "a").unwrap();
    std::fs::create_dir(rootfs.join("rodir")).unwrap();
    let out = rt
        .run(&["run", "-b", b.path().to_str().unwrap(), &id])
        .ok()
        .out;
    let head: Vec<&str> = out.lines().take(7).map(str::trim).collect();
    assert_eq!(
        head,
        ["0", "0", "0", "0", "sys-ro", "rodir-ro", "root-rw"],
        "{out}"
    );
    let ro = |t: &str| {
        mount_fields(mountinfo_line(&out, t).expect(t))
            .0
            .contains(&"ro".into())
    };
    assert!(ro("/proc/sys") && ro("/rodir"), "{out}");
    assert!(
        Path::new(&rootfs.join("secretdir/a")).exists(),
        "masking must not delete"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn hostname_domainname_and_sysctl() {
    support::require_root();
    let rt = Rt::new();
    let host_fwd = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let host_msgmax = std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap();
    let patch = json!({"hostname": "box1", "domainname": "example.test", "linux": {
        "sysctl": {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4321"}
    }});
    let out = sh_ok(
        &rt,
        "uts",
        "hostname; cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax",
        patch,
    );
    assert_eq!(out, "box1\nexample.test\n1\n4321\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_fwd
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/msgmax").unwrap(),
        host_msgmax
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn user_namespace_binds_a_source_only_host_root_can_reach() {
    support::require_root();
    let rt = Rt::new();
    // tempdir() is 0700 and root's: the container's root (host uid 200000) cannot traverse
    // it; the init opens the source before it takes that uid (runc's mountFds). The source
    // is a read-only host mount: even with CAP_SYS_ADMIN in its namespace the container must
    // not make it writable (the kernel locks inherited flags on its namespace's copy).
    let secret = tempfile::tempdir().unwrap();
    let src = secret.path().join("inner");
    std::fs::create_dir(&src).unwrap();
    let sh_host = |cmd: String| std::process::Command::new("sh").args(["-c", &cmd]).status();
    let s = src.to_str().unwrap();
    let made = sh_host(format!(
        "mount -t tmpfs tmpfs {s} && echo secret > {s}/f && mount -o remount,ro {s}"
    ));
    let caps = [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_ADMIN",
    ];
    let id = support::unique_id("usbind");
    let patch = json!({
        "process": {"capabilities": {"bounding": caps, "effective": caps, "permitted": caps}},
        "mounts": mounts_plus(json!([
            {"destination": "/s", "type": "bind", "source": src, "options": ["rbind"]}
        ])),
        "linux": {
            "namespaces": support::namespaces_plus(json!([{"type": "user"}])),
            "uidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]
        }
    });
    let b = sh_bundle(
        &id,
        "cat /s/f; grep ' /s ' /proc/self/mountinfo; mount -o remount,bind,rw /s && echo RW",
        patch,
    );
    support::open_up(b.path());
    // The rootfs is host root's too: the mount point must be there already.
    std::fs::create_dir(b.path().join("rootfs/s")).unwrap();
    let done = rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    let _ = nix::mount::umount2(src.as_path(), nix::mount::MntFlags::MNT_DETACH);
    assert!(made.is_ok_and(|st| st.success()));
    let out = done.out;
    assert!(out.starts_with("secret\n"), "{out}");
    let line = out.lines().nth(1).unwrap();
    assert!(mount_fields(line).0.contains(&"ro".to_string()), "{line}");
    assert!(
        !out.contains("RW"),
        "the host's ro mount became writable: {out}"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn bind_atime_options_replace_a_noatime_sources() {
    support::require_root();
    let rt = Rt::new();
    let src = tempfile::tempdir().unwrap();
    let dir = src.path().to_str().unwrap().to_string();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "noatime", "tmpfs", &dir])
        .status()
        .unwrap();
    assert!(mounted.success());
    // runc's remount is mount(2): an atime mode not named becomes relatime.
    let cases = [
        ("nodiratime", "nodiratime,relatime"),
        ("relatime", "relatime"),
        ("strictatime", ""),
    ];
    let binds: Vec<_> = cases
        .iter()
        .map(|(o, _)| json!({"destination": format!("/{o}"), "type": "bind", "source": dir, "options": ["bind", o]}))
        .collect();
    let done = sh(
        &rt,
        "atime",
        "awk '$5 ~ /time$/ {print $5, $6}' /proc/self/mountinfo",
        json!({"mounts": mounts_plus(json!(binds))}),
    );
    let _ = nix::mount::umount2(src.path(), nix::mount::MntFlags::MNT_DETACH);
    let out = done.ok().out;
    for (o, want) in cases {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("/{o} ")))
            .unwrap();
        let atime: Vec<&str> = line
            .split(' ')
            .nth(1)
            .unwrap()
            .split(',')
            .filter(|f| f.contains("time"))
            .collect();
        assert_eq!(atime.join(","), want, "{o}: {line}");
    }
}
