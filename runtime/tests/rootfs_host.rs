//! Root integration test of the real rootfs setup (runtime/src/rootfs + sys/mount.rs).
//!
//! A forked child unshares the mount and pid namespaces and forks again so the grandchild is
//! PID 1 of the new pid namespace, like the container's init. The grandchild runs prepare →
//! pivot → finalize on a busybox rootfs built in a tempdir, checks the result from inside
//! (its /proc/self/mountinfo, file types, writes that must fail), then execs busybox for a
//! last shell check. Exit codes tell the parent which step failed. Afterwards the parent
//! asserts the host mount table is unchanged and the escape attempt landed in the rootfs.

use ferrun::rootfs::{finalize, pivot, prepare, real, RootfsContext};
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use oci_spec::runtime::Spec;
use serde_json::json;
use std::ffi::CString;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

mod support;

/// Where the container mounts things, as host paths: a leak would show up at one of these.
const CONTAINER_TARGETS: &[&str] = &[
    "/",
    "/proc",
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/timer_list",
    "/proc/acpi",
    "/dev",
    "/dev/pts",
    "/dev/mqueue",
    "/dev/null",
    "/sys",
    "/sys/fs/cgroup",
    "/tmp",
    "/etc",
];

/// The host mounts (mount id, parent id, dev, root, mount point) that our test could have
/// created or changed: anything under the bundle or at one of the container's targets. Other
/// workers share this host, so the rest of the table may legitimately change meanwhile.
fn host_mounts(bundle: &Path) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").expect("read host mountinfo");
    let mut v: Vec<String> = text
        .lines()
        .map(|l| l.split(' ').take(5).collect::<Vec<_>>())
        .filter(|f| f.len() == 5)
        .filter(|f| Path::new(f[4]).starts_with(bundle) || CONTAINER_TARGETS.contains(&f[4]))
        .map(|f| f.join(" "))
        .collect();
    v.sort();
    v
}

fn config(data: &Path) -> Spec {
    let v = json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs", "readonly": true},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "size=1m"]},
            {"destination": "/data", "type": "bind", "source": data,
             "options": ["rbind", "ro", "nosuid"]},
            // rro: read-only all the way down the cgroup tree's submounts.
            {"destination": "/rtree", "type": "bind", "source": "/sys/fs/cgroup",
             "options": ["rbind", "rro"]},
            {"destination": "/opt", "type": "tmpfs", "source": "tmpfs",
             "options": ["tmpcopyup", "ro", "nosuid", "size=1m"]},
            // /escape -> /etc in the image: must mount on <rootfs>/etc, not the host's /etc.
            {"destination": "/escape", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]}
        ],
        "linux": {
            "maskedPaths": ["/proc/kcore", "/proc/timer_list", "/proc/acpi", "/proc/does-not-exist"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    serde_json::from_value(v).expect("valid config")
}

/// A mountinfo entry seen from inside: (mount point, per-mount options, fstype).
fn inside_mounts() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().position(|x| *x == "-")?;
            Some((
                f[4].to_string(),
                f[5].to_string(),
                f.get(sep + 1)?.to_string(),
            ))
        })
        .collect()
}

/// The checks made from inside; returns the number of the first failed check.
fn check_inside(bundle: &str, user_ns: bool) -> Result<(), (i32, String)> {
    let mounts = inside_mounts();
    let find = |mp: &str| mounts.iter().rev().find(|m| m.0 == mp).cloned();
    let has = |mp: &str, fstype: &str, opts: &[&str]| match find(mp) {
        Some((_, o, t)) => t == fstype && opts.iter().all(|x| o.split(',').any(|y| y == *x)),
        None => false,
    };
    let mut checks: Vec<(bool, String)> = vec![
        (
            find("/").is_some_and(|m| m.1.split(',').any(|o| o == "ro")),
            "/ is read-only".into(),
        ),
        (has("/proc", "proc", &["rw"]), "/proc is proc".into()),
        (has("/dev", "tmpfs", &["nosuid"]), "/dev tmpfs".into()),
        (
            has("/dev/pts", "devpts", &["nosuid", "noexec"]),
            "/dev/pts devpts".into(),
        ),
        (
            has("/dev/mqueue", "mqueue", &["nodev"]),
            "/dev/mqueue".into(),
        ),
        (
            has("/sys", "sysfs", &["ro", "nosuid"]),
            "/sys ro sysfs".into(),
        ),
        (
            has("/sys/fs/cgroup", "tmpfs", &["ro"]),
            "/sys/fs/cgroup ro tmpfs".into(),
        ),
        (
            has("/sys/fs/cgroup/memory", "cgroup", &["ro"]),
            "memory hierarchy bound ro".into(),
        ),
        (
            has("/rtree", "tmpfs", &["ro"]) && has("/rtree/memory", "cgroup", &["ro"]),
            "rro reaches submounts".into(),
        ),
        (
            has("/opt", "tmpfs", &["ro", "nosuid"]),
            "/opt tmpcopyup tmpfs".into(),
        ),
        (
            has("/tmp", "tmpfs", &["nosuid", "nodev", "rw"]),
            "/tmp tmpfs".into(),
        ),
        (
            find("/data").is_some_and(|m| {
                ["ro", "nosuid"]
                    .iter()
                    .all(|o| m.1.split(',').any(|x| x == *o))
            }),
            "/data bind ro,nosuid".into(),
        ),
        (
            has("/etc", "tmpfs", &[]),
            "symlinked destination landed on /etc inside".into(),
        ),
        (
            has("/proc/sys", "proc", &["ro", "nosuid", "nodev", "noexec"]),
            "/proc/sys read-only".into(),
        ),
        // A file is masked by a bind of /dev/null (on the /dev tmpfs, or the host's
        // devtmpfs in a user namespace); reading it empty is checked below.
        (
            find("/proc/timer_list").is_some(),
            "/proc/timer_list masked".into(),
        ),
        (
            has("/proc/acpi", "tmpfs", &["ro"]),
            "/proc/acpi masked by a ro tmpfs".into(),
        ),
        (
            !mounts.iter().any(|m| m.0.starts_with(bundle)),
            "old root detached".into(),
        ),
    ];
    // In a user namespace mknod is not allowed: the host nodes are bind-mounted instead.
    checks.push((
        find("/dev/null").is_some() == user_ns,
        "/dev/null bind iff user ns".into(),
    ));
    for (i, (ok, what)) in checks.into_iter().enumerate() {
        if !ok {
            return Err((20 + i as i32, format!("{what}; mounts: {mounts:#?}")));
        }
    }
    check_files()
}

/// /opt is a read-only tmpfs that got the image's /opt copied in (tmpcopyup).
fn check_copy_up() -> Result<(), (i32, String)> {
    let a = std::fs::metadata("/opt/a").map_err(|e| (60, format!("/opt/a: {e}")))?;
    if std::fs::read("/opt/a").ok().as_deref() != Some(&b"alpha"[..]) || a.mode() & 0o7777 != 0o640
    {
        return Err((
            61,
            format!("/opt/a content or mode {:o} not copied", a.mode()),
        ));
    }
    if std::fs::read("/opt/sub/b").ok().as_deref() != Some(&b"beta"[..]) {
        return Err((62, "/opt/sub/b not copied".into()));
    }
    if std::fs::read_link("/opt/link").ok().as_deref() != Some(Path::new("/etc/passwd")) {
        return Err((63, "/opt/link not copied as a symlink".into()));
    }
    match std::fs::write("/opt/new", b"x") {
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => Ok(()),
        other => Err((64, format!("write to ro tmpcopyup tmpfs: {other:?}"))),
    }
}

/// File-level checks from inside: device nodes, links, refused writes, masks, PID 1.
fn check_files() -> Result<(), (i32, String)> {
    check_copy_up()?;
    let null = std::fs::metadata("/dev/null").map_err(|e| (40, format!("/dev/null: {e}")))?;
    if !null.file_type().is_char_device() || null.rdev() != libc::makedev(1, 3) {
        return Err((41, "/dev/null is not 1:3".into()));
    }
    let ptmx = std::fs::read_link("/dev/ptmx").map_err(|e| (42, format!("/dev/ptmx: {e}")))?;
    if ptmx != Path::new("pts/ptmx") {
        return Err((43, format!("/dev/ptmx -> {}", ptmx.display())));
    }
    match std::fs::write("/data/nope", b"x") {
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => {}
        other => return Err((44, format!("write to ro bind: {other:?}"))),
    }
    if std::fs::read("/proc/timer_list")
        .map(|b| b.len())
        .unwrap_or(1)
        != 0
    {
        return Err((45, "/proc/timer_list is not masked by /dev/null".into()));
    }
    if !std::fs::read_to_string("/tmp/../proc/self/status").is_ok_and(|s| s.contains("\nPid:\t1\n"))
    {
        return Err((
            46,
            "not PID 1 of the new pid namespace, or /proc is not ours".into(),
        ));
    }
    Ok(())
}

/// Our open fd numbers, probed with fcntl(F_GETFD) so it works with or without a /proc.
fn open_fds() -> Vec<i32> {
    (0..1024)
        // SAFETY: F_GETFD only queries the descriptor table.
        .filter(|fd| unsafe { libc::fcntl(*fd, libc::F_GETFD) } >= 0)
        .collect()
}

type Step<'a> = dyn Fn() -> Result<(), ferrun::rootfs::RootfsError> + 'a;

/// Runs in the grandchild (PID 1 of the new pid namespace); never returns.
/// Which variant of the setup to run.
#[derive(Clone, Copy, Debug)]
struct Case {
    no_pivot: bool,
    user_ns: bool,
    cgroup_ns: bool,
}

fn container(spec: &Spec, rootfs: &Path, bundle: &Path, case: Case) -> ! {
    let ctx = RootfsContext {
        spec,
        rootfs,
        bundle,
        no_pivot: case.no_pivot,
        cgroup_ns: case.cgroup_ns,
        in_user_ns: case.user_ns,
        shares_mount_ns: false,
        bind_sources: &[],
        idmapped: &[],
    };
    let sys = real();
    let fds_before = open_fds();
    let steps: [(&str, &Step); 3] = [
        ("prepare", &|| prepare(&sys, &ctx)),
        ("pivot", &|| pivot(&sys, &ctx)),
        ("finalize", &|| finalize(&sys, &ctx)),
    ];
    for (i, (name, step)) in steps.iter().enumerate() {
        if let Err(e) = step() {
            eprintln!("rootfs_host: {name} failed: {e}");
            // SAFETY: _exit in a forked child.
            unsafe { libc::_exit(10 + i as i32) };
        }
    }
    // Every handle the setup opened must be closed again (no fd may reach the container).
    let fds_after = open_fds();
    if fds_after != fds_before {
        eprintln!("rootfs_host: fds before {fds_before:?}, after {fds_after:?}");
        unsafe { libc::_exit(47) };
    }
    if let Err((code, msg)) = check_inside(&bundle.to_string_lossy(), case.user_ns) {
        eprintln!("rootfs_host: check failed: {msg}");
        unsafe { libc::_exit(code) };
    }
    let script =
        "test -c /dev/null && test -L /dev/fd && ! touch /etc-root-ro 2>/dev/null && touch /tmp/ok";
    let args = ["busybox", "sh", "-c", script].map(|a| CString::new(a).expect("no NUL"));
    let e = nix::unistd::execv(&CString::new("/bin/busybox").expect("no NUL"), &args);
    eprintln!("rootfs_host: exec busybox failed: {e:?}");
    unsafe { libc::_exit(50) };
}

/// Runs in the child: new mount + pid namespaces, then the grandchild as PID 1.
/// A user namespace where we stay root (uid/gid 0 mapped to 0, the only mapping a process
/// may write for itself), so mknod is refused and host mounts carry locked flags.
fn enter_user_ns() -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare user: {e}"))?;
    for (file, text) in [
        ("setgroups", "deny"),
        ("uid_map", "0 0 1"),
        ("gid_map", "0 0 1"),
    ] {
        std::fs::write(format!("/proc/self/{file}"), text).map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(())
}

fn namespaces(spec: &Spec, rootfs: &Path, bundle: &Path, case: Case) -> ! {
    if case.user_ns {
        if let Err(e) = enter_user_ns() {
            eprintln!("rootfs_host: {e}");
            unsafe { libc::_exit(5) };
        }
    }
    // In a user namespace, sysfs and mqueue need a net and ipc namespace it owns.
    let mut flags = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWPID;
    if case.user_ns {
        flags |= CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWIPC;
    }
    if case.cgroup_ns {
        flags |= CloneFlags::CLONE_NEWCGROUP;
    }
    if let Err(e) = unshare(flags) {
        eprintln!("rootfs_host: unshare: {e}");
        unsafe { libc::_exit(2) };
    }
    // SAFETY: the child is single-threaded after fork; the grandchild only runs our code.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => container(spec, rootfs, bundle, case),
        Ok(ForkResult::Parent { child }) => {
            let code = match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, c)) => c,
                other => {
                    eprintln!("rootfs_host: grandchild {other:?}");
                    3
                }
            };
            unsafe { libc::_exit(code) }
        }
        Err(e) => {
            eprintln!("rootfs_host: fork: {e}");
            unsafe { libc::_exit(4) }
        }
    }
}

/// Held while a test writes its busybox copy and while it forks: a child forked while another
/// test's copy is still open for writing would keep that fd and make its exec fail ETXTBSY.
static FORK_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fork_lock() -> std::sync::MutexGuard<'static, ()> {
    FORK_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds the bundle, runs the container side in a forked child and checks the host after.
fn run_case(case: Case) {
    let prefix = format!("ferrun-rootfs-{}-", std::process::id());
    let dir = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir()
        .expect("tempdir");
    let bundle = dir.path().canonicalize().expect("canonical bundle");
    let rootfs = bundle.join("rootfs");
    for d in ["bin", "proc", "dev", "sys", "tmp"] {
        std::fs::create_dir_all(rootfs.join(d)).expect("rootfs dirs");
    }
    {
        let _copying = fork_lock();
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("copy busybox");
    }
    symlink("busybox", rootfs.join("bin/sh")).expect("sh link");
    symlink("/etc", rootfs.join("escape")).expect("escape link");
    // Content a tmpcopyup tmpfs must carry over (the symlink copied, never followed).
    std::fs::create_dir_all(rootfs.join("opt/sub")).expect("opt dirs");
    std::fs::write(rootfs.join("opt/a"), b"alpha").expect("opt/a");
    std::fs::set_permissions(rootfs.join("opt/a"), std::fs::Permissions::from_mode(0o640))
        .expect("chmod");
    std::fs::write(rootfs.join("opt/sub/b"), b"beta").expect("opt/sub/b");
    symlink("/etc/passwd", rootfs.join("opt/link")).expect("opt/link");
    let data = bundle.join("data");
    std::fs::create_dir(&data).expect("data dir");
    std::fs::write(data.join("file"), b"hello").expect("data file");
    let spec = config(&data);

    let before = host_mounts(&bundle);
    let host_etc = std::fs::metadata("/etc").expect("host /etc").ino();
    let forking = fork_lock();
    // SAFETY: the child only runs namespaces(), which ends in _exit.
    let forked = unsafe { fork() }.expect("fork");
    if let ForkResult::Parent { .. } = forked {
        drop(forking);
    }
    let code = match forked {
        ForkResult::Child => namespaces(&spec, &rootfs, &bundle, case),
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, c) => c,
            other => panic!("child ended with {other:?}"),
        },
    };
    assert_eq!(
        code, 0,
        "container side failed for {case:?} (5: user ns, 10-12: prepare/pivot/finalize, \
         20+: mount checks, 40+: file checks, 1: busybox script); rerun with --nocapture"
    );
    assert_eq!(before, host_mounts(&bundle), "the host mount table changed");
    assert!(
        rootfs.join("etc").is_dir(),
        "the escape destination was created inside the rootfs"
    );
    assert_eq!(
        std::fs::metadata("/etc").expect("host /etc").ino(),
        host_etc,
        "host /etc untouched"
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn prepare_pivot_finalize_on_a_busybox_rootfs() {
    support::require_root();
    run_case(Case {
        no_pivot: false,
        user_ns: false,
        cgroup_ns: false,
    });
}

#[test]
#[ignore = "needs root and busybox-static"]
fn no_pivot_with_cgroupns_mounts_fresh_hierarchies() {
    support::require_root();
    run_case(Case {
        no_pivot: true,
        user_ns: false,
        cgroup_ns: true,
    });
}

#[test]
#[ignore = "needs root and busybox-static"]
fn user_namespace_binds_devices_and_keeps_locked_flags() {
    support::require_root();
    run_case(Case {
        no_pivot: false,
        user_ns: true,
        cgroup_ns: true,
    });
}

#[test]
#[ignore = "needs root and busybox-static"]
fn proc_on_a_symlink_is_refused_in_runcs_words() {
    support::require_root();
    let rt = support::Rt::new();
    let id = support::unique_id("procln");
    let b = support::sh_bundle(&id, "true", json!({}));
    let proc_dir = b.path().join("rootfs/proc");
    let _ = std::fs::remove_dir(&proc_dir);
    std::os::unix::fs::symlink("sys", &proc_dir).unwrap();
    let done = rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_ne!(done.code, Some(0));
    assert!(
        done.err
            .contains("filesystem \"proc\" must be mounted on ordinary directory"),
        "{}",
        done.err
    );
}
