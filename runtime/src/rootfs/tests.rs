//! Order and arguments of the rootfs operations, through the recording fake.

use super::fake::FakeSys;
use super::*;
use crate::sys::mount::{FileKind, Loc, MountSys};
use oci_spec::runtime::Spec;
use serde_json::json;

mod devices_cgroups;
mod label;
mod resolver;
mod shared_ns_and_binds;

const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 22 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

const PROC_CGROUP: &str = "\
9:name=systemd:/ctr
4:memory:/ctr
2:cpu,cpuacct:/ctr
0::/ctr
";

fn spec(v: serde_json::Value) -> Spec {
    let mut base = json!({"ociVersion": "1.0.2", "root": {"path": "rootfs"}});
    if let (Some(b), Some(o)) = (base.as_object_mut(), v.as_object()) {
        b.extend(o.clone());
    }
    serde_json::from_value(base).expect("test spec is valid")
}

fn fake() -> FakeSys {
    let f = FakeSys::new();
    f.host_path("/bundle/rootfs", FileKind::Dir);
    f.host_files
        .borrow_mut()
        .insert("/proc/self/mountinfo".into(), MOUNTINFO.into());
    f.host_files
        .borrow_mut()
        .insert("/proc/self/cgroup".into(), PROC_CGROUP.into());
    f
}

struct Opts {
    no_pivot: bool,
    cgroup_ns: bool,
    in_user_ns: bool,
    shares_mount_ns: bool,
}

const DEFAULT: Opts = Opts {
    no_pivot: false,
    cgroup_ns: false,
    in_user_ns: false,
    shares_mount_ns: false,
};

fn ctx<'a>(spec: &'a Spec, o: &Opts) -> RootfsContext<'a> {
    RootfsContext {
        spec,
        rootfs: Path::new("/bundle/rootfs"),
        bundle: Path::new("/bundle"),
        no_pivot: o.no_pivot,
        cgroup_ns: o.cgroup_ns,
        in_user_ns: o.in_user_ns,
        shares_mount_ns: o.shares_mount_ns,
        bind_sources: &[],
        idmapped: &[],
    }
}

/// Runs prepare, pivot and finalize; returns the ops (and checks no handle leaked).
fn run_all(f: &FakeSys, spec: &Spec, o: &Opts) -> Result<Vec<String>, RootfsError> {
    let c = ctx(spec, o);
    let r = prepare(f, &c)
        .and_then(|_| pivot(f, &c))
        .and_then(|_| finalize(f, &c));
    assert_eq!(f.open_handles(), 0, "handles leaked: {:?}", f.ops());
    r.map(|_| f.ops())
}

fn run_prepare(f: &FakeSys, spec: &Spec, o: &Opts) -> Result<Vec<String>, RootfsError> {
    let r = prepare(f, &ctx(spec, o));
    assert_eq!(f.open_handles(), 0, "handles leaked: {:?}", f.ops());
    r.map(|_| f.ops())
}

/// The ops after prepare_root's (propagation, the rootfs bind onto itself).
fn after_root(ops: &[String]) -> &[String] {
    let bind = "mount /bundle/rootfs /bundle/rootfs - BIND|REC -";
    let i = ops.iter().position(|o| o == bind).expect("the rootfs bind");
    &ops[i + 1..]
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The runc default-like config: proc, /dev tmpfs, devpts, a ro bind, a tmpfs, masked and
/// readonly paths.
fn full_config(readonly_root: bool) -> Spec {
    spec(json!({
        "root": {"path": "rootfs", "readonly": readonly_root},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro", "nosuid", "rprivate"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}
        ],
        "linux": {"maskedPaths": ["/proc/kcore", "/proc/acpi", "/proc/missing"], "readonlyPaths": ["/proc/sys"]}
    }))
}

fn full_fake() -> FakeSys {
    let f = fake();
    f.host_path("/bundle/data", FileKind::Dir);
    f.host_path("/proc/kcore", FileKind::File);
    f.dir("/proc").dir("/dev").dir("/tmp");
    f.file("/proc/kcore").dir("/proc/acpi").dir("/proc/sys");
    f
}

const PREPARE: &str = "
    mount - / - REC|SLAVE -
    mount /bundle/rootfs /bundle/rootfs - BIND|REC -
    mount proc @/proc proc 0 -
    mount tmpfs @/dev tmpfs NOSUID|STRICTATIME mode=755,size=65536k
    mkdir /dev/pts 755
    mount devpts @/dev/pts devpts NOSUID|NOEXEC newinstance,ptmxmode=0666,mode=0620,gid=5
    mkdir /data 755
    mount /bundle/data @/data - BIND|REC -
    mount - @/data - RDONLY|NOSUID|REMOUNT|BIND|REC -
    mount - @/data - REC|PRIVATE -
    mount tmpfs @/tmp tmpfs NOSUID|NODEV mode=755
    mknod /dev/null Char 666 1:3
    chown /dev/null 0:0
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
    unlink /dev/ptmx
    symlink /dev/ptmx -> pts/ptmx
    symlink /dev/fd -> /proc/self/fd
    symlink /dev/stdin -> /proc/self/fd/0
    symlink /dev/stdout -> /proc/self/fd/1
    symlink /dev/stderr -> /proc/self/fd/2
    symlink /dev/core -> /proc/kcore
";

const PIVOT: &str = "
    fchdir @host:/bundle/rootfs
    pivot_root . .
    fchdir @host:/
    mount - . - REC|SLAVE -
    umount2 . MntFlags(MNT_DETACH)
    chdir /
";

const FINALIZE: &str = "
    mount @/proc/sys @/proc/sys - BIND|REC -
    mount - @/proc/sys - RDONLY|NOSUID|NODEV|NOEXEC|REMOUNT|BIND -
    mount @/dev/null @/proc/kcore - BIND -
    mount tmpfs @/proc/acpi tmpfs RDONLY -
";

#[test]
fn full_sequence_matches_runc_order() {
    let f = full_fake();
    let ops = run_all(&f, &full_config(false), &DEFAULT).expect("setup succeeds");
    let expected = [lines(PREPARE), lines(PIVOT), lines(FINALIZE)].concat();
    assert_eq!(ops, expected);
}

#[test]
fn no_dev_core_where_the_host_has_no_kcore() {
    let f = fake();
    f.host_path("/bundle/data", FileKind::Dir);
    f.dir("/proc").dir("/dev").dir("/tmp");
    f.dir("/proc/acpi").dir("/proc/sys");
    let ops = run_all(&f, &full_config(false), &DEFAULT).expect("setup succeeds");
    assert!(ops.iter().any(|o| o == "symlink /dev/fd -> /proc/self/fd"));
    assert!(!ops.iter().any(|o| o.contains("/dev/core")), "{ops:#?}");
}

#[test]
fn readonly_root_is_remounted_last() {
    let f = full_fake();
    let ops = run_all(&f, &full_config(true), &DEFAULT).expect("setup succeeds");
    let mut expected = [lines(PREPARE), lines(PIVOT), lines(FINALIZE)].concat();
    expected.push("mount - / - RDONLY|REMOUNT|BIND -".into());
    assert_eq!(ops, expected);
}

#[test]
fn readonly_root_keeps_locked_flags_on_eperm() {
    let f = full_fake();
    f.mount_flags.borrow_mut().insert(
        "/".into(),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_RELATIME,
    );
    f.fail("mount - / - RDONLY|REMOUNT|BIND -", libc::EPERM);
    let ops = run_all(&f, &full_config(true), &DEFAULT).expect("retry succeeds");
    assert_eq!(
        ops[ops.len() - 2..],
        [
            "mount - / - RDONLY|REMOUNT|BIND -",
            "mount - / - RDONLY|NOSUID|NODEV|REMOUNT|BIND|RELATIME -"
        ]
    );
}

#[test]
fn no_pivot_moves_the_rootfs_and_chroots() {
    let f = full_fake();
    let o = Opts {
        no_pivot: true,
        ..DEFAULT
    };
    let ops = run_all(&f, &full_config(false), &o).expect("setup succeeds");
    let move_root = "
        chdir /bundle/rootfs
        mount /bundle/rootfs / - MOVE -
        chroot .
        chdir /
    ";
    assert_eq!(
        ops,
        [lines(PREPARE), lines(move_root), lines(FINALIZE)].concat()
    );
}

#[test]
fn rootfs_propagation_replaces_rslave_and_is_reapplied_after_pivot() {
    let f = fake();
    let s = spec(
        json!({"linux": {"rootfsPropagation": "rshared"}, "mounts": [{"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind"]}]}),
    );
    f.host_path("/dev", FileKind::Dir).dir("/dev");
    let ops = run_all(&f, &s, &DEFAULT).expect("setup succeeds");
    assert_eq!(
        ops.first().map(String::as_str),
        Some("mount - / - REC|SHARED -")
    );
    assert_eq!(
        ops.last().map(String::as_str),
        Some("mount - / - REC|SHARED -")
    );
    assert!(
        !ops.iter().any(|o| o.starts_with("mknod")),
        "a /dev bind mount skips device setup: {ops:?}"
    );
}

#[test]
fn invalid_rootfs_propagation_names_the_field() {
    let f = fake();
    let s = spec(json!({"linux": {"rootfsPropagation": "sideways"}}));
    let e = run_prepare(&f, &s, &DEFAULT).expect_err("rejected");
    assert!(e.to_string().starts_with("linux.rootfsPropagation"), "{e}");
    assert!(f.ops().is_empty(), "nothing may be mounted: {:?}", f.ops());
}

#[test]
fn absolute_symlink_destination_stays_inside_the_rootfs() {
    // /escape -> /etc in the image: the mount must land on <rootfs>/etc/..., never the host's.
    let f = fake();
    f.host_path("/bundle/src", FileKind::File);
    f.link("/escape", "/etc");
    let s = spec(
        json!({"mounts": [{"destination": "/escape/target", "type": "bind", "source": "/bundle/src", "options": ["bind"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    let tail = &after_root(&ops)[..3];
    assert_eq!(
        tail,
        [
            "mkdir /etc 755",
            "create /etc/target 755",
            "mount /bundle/src @/etc/target - BIND -"
        ]
    );
}

#[test]
fn dangling_relative_symlink_is_created_inside_the_rootfs() {
    let f = fake();
    f.dir("/etc")
        .link("/etc/resolv.conf", "../../../run/resolv.conf");
    f.host_path("/bundle/resolv.conf", FileKind::File);
    let s = spec(
        json!({"mounts": [{"destination": "/etc/resolv.conf", "type": "bind", "source": "resolv.conf", "options": ["rbind", "ro"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    assert_eq!(
        after_root(&ops)[..4],
        [
            "mkdir /run 755",
            "create /run/resolv.conf 755",
            "mount /bundle/resolv.conf @/run/resolv.conf - BIND|REC -",
            "mount - @/run/resolv.conf - RDONLY|REMOUNT|BIND|REC -",
        ]
    );
}

#[test]
fn symlink_loop_is_an_error() {
    let f = fake();
    f.link("/a", "/b").link("/b", "/a");
    let s = spec(json!({"mounts": [{"destination": "/a/x", "type": "tmpfs", "source": "tmpfs"}]}));
    let e = run_prepare(&f, &s, &DEFAULT).expect_err("loop");
    assert_eq!(e.errno(), Some(libc::ELOOP), "{e}");
}

#[test]
fn proc_on_a_symlink_is_refused() {
    let f = fake();
    f.dir("/elsewhere").link("/proc", "/elsewhere");
    let s = spec(json!({"mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}]}));
    let e = run_prepare(&f, &s, &DEFAULT).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "mount /proc: filesystem \"proc\" must be mounted on ordinary directory"
    );
}

#[test]
fn mounts_inside_proc_are_refused_except_lxcfs_files() {
    let f = fake();
    f.dir("/proc")
        .dir("/proc/sys")
        .file("/proc/cpuinfo")
        .host_path("/bundle/x", FileKind::File);
    let bad = spec(
        json!({"mounts": [{"destination": "/proc/sys", "type": "bind", "source": "/bundle", "options": ["bind"]}]}),
    );
    f.host_path("/bundle", FileKind::Dir);
    let e = run_prepare(&f, &bad, &DEFAULT).expect_err("refused");
    assert!(matches!(e, RootfsError::UnsafeDestination { .. }), "{e}");
    let f2 = fake();
    f2.dir("/proc")
        .file("/proc/cpuinfo")
        .host_path("/bundle/x", FileKind::File);
    let ok = spec(
        json!({"mounts": [{"destination": "/proc/cpuinfo", "type": "bind", "source": "x", "options": ["bind"]}]}),
    );
    let ops = run_prepare(&f2, &ok, &DEFAULT).expect("allowed");
    assert!(
        ops.contains(&"mount /bundle/x @/proc/cpuinfo - BIND -".to_string()),
        "{ops:?}"
    );
}

#[test]
fn masking_refuses_a_fake_dev_null() {
    // CVE-2025-31133: /dev/null replaced by something else must not be bound over paths.
    let f = fake();
    f.file("/proc")
        .file("/proc/kcore")
        .dir("/dev")
        .file("/dev/null");
    let s = spec(
        json!({"mounts": [{"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind"]}], "linux": {"maskedPaths": ["/proc/kcore"]}}),
    );
    f.host_path("/dev", FileKind::Dir);
    let e = run_all(&f, &s, &DEFAULT).expect_err("refused");
    assert!(matches!(e, RootfsError::BadDevNull { .. }), "{e}");
    assert!(
        !f.ops().iter().any(|o| o.contains("@/proc/kcore")),
        "{:?}",
        f.ops()
    );
}

#[test]
fn masking_refuses_a_dev_null_symlink() {
    let f = fake();
    f.dir("/proc")
        .file("/proc/kcore")
        .dir("/dev")
        .file("/etc-shadow")
        .link("/dev/null", "/etc-shadow");
    let s = spec(
        json!({"mounts": [{"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind"]}], "linux": {"maskedPaths": ["/proc/kcore"]}}),
    );
    f.host_path("/dev", FileKind::Dir);
    let e = run_all(&f, &s, &DEFAULT).expect_err("refused");
    assert_eq!(e.errno(), Some(libc::ELOOP), "{e}");
}

#[rstest::rstest]
#[case::missing_type(json!({"destination": "/x", "source": "x"}), "mounts[0].type")]
#[case::idmap_unprepared(json!({"destination": "/x", "type": "bind", "source": "/", "options": ["bind", "idmap"]}), "mounts[0]: the id-mapped tree")]
#[case::tmpcopyup_on_bind(json!({"destination": "/x", "type": "bind", "source": "/", "options": ["bind", "tmpcopyup"]}), "mount /x: option \"tmpcopyup\"")]
#[case::remount_fresh(json!({"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["remount"]}), "mount /x: option \"remount\"")]
#[case::missing_bind_source(json!({"destination": "/x", "type": "bind", "source": "/nonexistent", "options": ["bind"]}), "open bind source /nonexistent")]
fn bad_mounts_fail_with_context(#[case] mount: serde_json::Value, #[case] prefix: &str) {
    let f = fake();
    let s = spec(json!({"mounts": [mount]}));
    let e = run_prepare(&f, &s, &DEFAULT).expect_err("rejected");
    assert!(e.to_string().starts_with(prefix), "{e}");
}

#[test]
fn tmpcopyup_fills_a_detached_tmpfs_then_attaches_it() {
    let f = fake();
    f.dir("/run").node("/run", FileKind::Dir, 0o1777, (0, 0));
    let s = spec(
        json!({"mounts": [{"destination": "/run", "type": "tmpfs", "source": "tmpfs",
        "options": ["tmpcopyup", "ro", "nosuid", "rprivate"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    assert_eq!(
        after_root(&ops)[..5],
        [
            "mount_detached tmpfs tmpfs NOSUID mode=1777",
            "copy_tree @/run @detached:tmpfs",
            "mount - @detached:tmpfs - RDONLY|NOSUID|REMOUNT|BIND -",
            "attach @detached:tmpfs @/run",
            "mount - @/run - REC|PRIVATE -",
        ]
    );
}

#[test]
fn recursive_attributes_follow_the_remount() {
    let f = fake();
    f.host_path("/srv/tree", FileKind::Dir);
    let s = spec(
        json!({"mounts": [{"destination": "/tree", "type": "bind", "source": "/srv/tree",
        "options": ["rbind", "nosuid", "rro", "rnoexec", "rslave"]}]}),
    );
    let ops = run_prepare(&f, &s, &DEFAULT).expect("mounted");
    assert_eq!(
        after_root(&ops)[..5],
        [
            "mkdir /tree 755",
            "mount /srv/tree @/tree - BIND|REC -",
            "mount - @/tree - NOSUID|REMOUNT|BIND|REC -",
            "setattr_rec @/tree +RDONLY|NOEXEC -0",
            "mount - @/tree - REC|SLAVE -",
        ]
    );
}

#[test]
fn clean_normalises_destinations() {
    assert_eq!(clean(Path::new("dev//pts/../shm/")), Path::new("/dev/shm"));
    assert_eq!(clean(Path::new("/../..")), Path::new("/"));
}
