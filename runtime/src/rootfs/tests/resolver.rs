//! The parent-directory cache of `resolve::Resolver` and the single mountinfo read, through
//! the recording fake (which panics on a handle used after a mount covered it).

use super::*;
use crate::rootfs::resolve::{open_root, Create};
use std::ffi::OsStr;

/// runc's `spec` default (proc, /dev and its submounts, sysfs, a cgroup mount, the masked
/// and readonly paths) on a rootfs that has /proc, /dev and /sys.
fn runc_default() -> Spec {
    spec(json!({
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/sys"]
        }
    }))
}

fn runc_default_fake() -> FakeSys {
    let f = fake();
    f.dir("/proc").dir("/dev").dir("/sys").dir("/sys/fs");
    f.dir("/proc/acpi").file("/proc/kcore").file("/proc/keys");
    f.dir("/proc/bus")
        .dir("/proc/fs")
        .dir("/proc/sys")
        .dir("/sys/firmware");
    f.host_path("/sys/fs/cgroup/cpu,cpuacct/ctr", FileKind::Dir)
        .host_path("/sys/fs/cgroup/memory/ctr", FileKind::Dir)
        .host_path("/sys/fs/cgroup/systemd/ctr", FileKind::Dir);
    f
}

fn mountinfo_reads(f: &FakeSys) -> usize {
    let reads = f.reads.borrow();
    reads
        .iter()
        .filter(|p| p.as_path() == Path::new("/proc/self/mountinfo"))
        .count()
}

#[test]
fn runc_default_config_resolves_each_parent_once() {
    let f = runc_default_fake();
    let s = runc_default();
    run_prepare(&f, &s, &DEFAULT).expect("prepared");
    // proc 1, /dev 1 (the mode lookup is reused for the mount), /dev/pts 3 (the parent,
    // ENOENT, after mkdir), /dev/shm 3 (the tmpfs mode lookup, ENOENT, after mkdir),
    // /dev/mqueue 2, /sys 1, the cgroup tmpfs 3 (/sys/fs, ENOENT, after mkdir), then per
    // hierarchy 3 (ENOENT, after mkdir, the remount after the bind) plus the parent once,
    // and the final read-only remount 1. The six device nodes and the /dev links reuse
    // /dev: no lookup.
    assert_eq!(
        f.resolves.get(),
        1 + 1 + 3 + 3 + 2 + 1 + 3 + (1 + 3 * 3) + 1
    );
    assert_eq!(mountinfo_reads(&f), 1, "{:?}", f.reads.borrow());
}

#[test]
fn after_pivot_each_path_is_one_lookup() {
    let f = runc_default_fake();
    let s = runc_default();
    let c = ctx(&s, &DEFAULT);
    prepare(&f, &c)
        .and_then(|_| pivot(&f, &c))
        .expect("prepared");
    let before = f.resolves.get();
    finalize(&f, &c).expect("finalized");
    // Three readonly paths twice (the bind, then the mount it made), four masked paths,
    // /dev/null for the file masks: one openat2 each, as a walk from the root would be.
    assert_eq!(f.resolves.get() - before, 3 * 2 + 4 + 1);
    assert_eq!(f.open_handles(), 0);
}

#[test]
fn a_mount_on_an_ancestor_drops_the_cached_parent() {
    let f = fake();
    f.dir("/a").dir("/a/b").dir("/a/b/c");
    let env = Env::new(
        &f,
        open_root(&f, Path::new("/bundle/rootfs")).expect("root"),
    );
    env.resolve(Path::new("/a/b/c"), Create::Dir, false)
        .expect("resolved");
    let a = env
        .resolve(Path::new("/a"), Create::Nothing, false)
        .expect("resolved");
    env.mount_on(None, &a, Some("tmpfs"), MsFlags::empty(), None)
        .expect("mounted");
    drop(a);
    let n = f.resolves.get();
    // The fake panics if /a/b from before the mount is used; it is resolved again.
    let d = env
        .resolve(Path::new("/a/b/d"), Create::Dir, false)
        .expect("resolved");
    assert_eq!(f.resolves.get() - n, 3, "parent, ENOENT, after mkdir");
    drop(d);
    // A mount below the parent keeps it: one lookup for the next name.
    let d = env
        .resolve(Path::new("/a/b/d"), Create::Nothing, false)
        .expect("resolved");
    env.mount_on(None, &d, Some("tmpfs"), MsFlags::empty(), None)
        .expect("mounted");
    drop(d);
    let n = f.resolves.get();
    env.resolve(Path::new("/a/b/c"), Create::Dir, false)
        .expect("resolved");
    assert_eq!(f.resolves.get() - n, 1);
}

#[test]
fn a_mount_reached_through_a_symlink_drops_every_cached_parent() {
    let f = fake();
    f.dir("/run")
        .dir("/var")
        .link("/var/run", "/run")
        .dir("/dev");
    let env = Env::new(
        &f,
        open_root(&f, Path::new("/bundle/rootfs")).expect("root"),
    );
    env.resolve(Path::new("/dev/x"), Create::Dir, false)
        .expect("resolved");
    // Lands on /run/lock; its own path says nothing of where.
    let lock = env
        .resolve(Path::new("/var/run/lock"), Create::Dir, false)
        .expect("resolved through the symlink");
    assert!(f.files.borrow().contains_key(Path::new("/run/lock")));
    env.mount_on(None, &lock, Some("tmpfs"), MsFlags::empty(), None)
        .expect("mounted");
    drop(lock);
    let n = f.resolves.get();
    let missing = env.resolve(Path::new("/dev/y"), Create::Nothing, false);
    assert!(missing.is_err_and(|e| e.is_not_found()));
    assert_eq!(
        f.resolves.get() - n,
        1,
        "one walk from the root, /dev forgotten"
    );
}

#[test]
fn a_symlink_as_last_component_is_followed_in_root_or_refused() {
    let f = fake();
    f.dir("/dev")
        .dir("/run")
        .dir("/run/shm")
        .link("/dev/shm", "/run/shm");
    let env = Env::new(
        &f,
        open_root(&f, Path::new("/bundle/rootfs")).expect("root"),
    );
    env.paths.dir(Path::new("/dev"), false).expect("cached");
    let shm = env
        .resolve(Path::new("/dev/shm"), Create::Dir, false)
        .expect("followed");
    env.mount_on(None, &shm, Some("tmpfs"), MsFlags::empty(), None)
        .expect("mounted");
    assert_eq!(
        f.ops().last().map(String::as_str),
        Some("mount - @/run/shm tmpfs 0 -")
    );
    let refused = env.resolve(Path::new("/dev/shm"), Create::Dir, true);
    assert!(refused.is_err_and(|e| e.errno() == Some(libc::ELOOP)));
}

#[test]
#[should_panic(expected = "stale handle")]
fn the_fake_catches_a_handle_used_below_a_later_mount() {
    let f = fake();
    f.dir("/a").dir("/a/b");
    let root = f.open(Path::new("/bundle/rootfs")).expect("root");
    let b = f.resolve(root, Path::new("/a/b"), true).expect("b");
    let a = f.resolve(root, Path::new("/a"), true).expect("a");
    f.mount(None, Loc::Handle(a), Some("tmpfs"), MsFlags::empty(), None)
        .expect("mounted");
    let _ = f.resolve(b, Path::new(OsStr::new("c")), true);
}

#[test]
fn a_pure_v2_host_reads_no_mountinfo() {
    let f = fake();
    f.host_files
        .borrow_mut()
        .remove(Path::new("/proc/self/mountinfo"));
    f.host_path("/sys/fs/cgroup", FileKind::Dir);
    f.host_magic
        .borrow_mut()
        .insert("/sys/fs/cgroup".into(), 0x6367_7270);
    let s = spec(
        json!({"mounts": [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "ro"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    assert!(
        ops.contains(&"mount cgroup2 @/sys/fs/cgroup cgroup2 RDONLY|NOSUID -".to_string()),
        "{ops:?}"
    );
    assert_eq!(mountinfo_reads(&f), 0);
}

#[test]
fn shared_propagation_still_makes_the_rootfs_parent_private() {
    let f = fake();
    let s = spec(json!({"linux": {"rootfsPropagation": "rshared"}}));
    let ops = run_prepare(&f, &s, &DEFAULT).expect("prepared");
    // MOUNTINFO has `/` shared: pivot_root needs its parent mount private.
    assert_eq!(
        ops[..2],
        ["mount - / - REC|SHARED -", "mount - / - PRIVATE -"]
    );
    assert_eq!(mountinfo_reads(&f), 1);
}
