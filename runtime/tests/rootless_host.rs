//! Rootless mode, end to end: the tests run as root but drop every ferrun command to an
//! unprivileged uid (as `setpriv --reuid`), with `$XDG_RUNTIME_DIR` set and no `--root`, so the
//! default-root rule, the user-namespace requirement, the unprivileged id-map write, the
//! skipped cgroups and the sealed-memfd re-exec are all exercised as a real user meets them.
//! Bundles come from `ferrun spec --rootless` run as that user (runc's rootless config).
//!
//! Cleanup: each `Rt::as_user` force-deletes the containers it made (as the user) when
//! dropped, also on panic; the tempdirs (state root, bundles) are removed by root afterwards.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{json, Value};
use support::{Need, Rt};

/// nobody: present on every Debian host, owns nothing we care about.
const UID: u32 = 65534;

/// What every test here needs: root (to act as the user) and a user who may unshare.
const NEEDS: [Need; 3] = [Need::Root, Need::Busybox, Need::UsernsFor(UID)];

/// chown -R to the unprivileged user (without following symlinks).
fn chown_tree(path: &Path) {
    std::os::unix::fs::lchown(path, Some(UID), Some(UID)).expect("lchown");
    if path.is_dir() && !path.is_symlink() {
        for e in std::fs::read_dir(path).expect("read_dir").flatten() {
            chown_tree(&e.path());
        }
    }
}

/// A bundle as the user makes it: `ferrun spec --rootless`, then `patch` merged in.
fn user_bundle(user: &Rt, args: &[&str], patch: Value) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ferrun-rootless-bundle-")
        .tempdir()
        .expect("bundle tempdir");
    support::busybox_rootfs(&dir.path().join("rootfs"));
    chown_tree(dir.path());
    let b = dir.path().to_str().expect("utf-8 path");
    user.ok(&["spec", "--rootless", "--bundle", b]);
    let path = dir.path().join("config.json");
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read config")).expect("json");
    support::merge(
        &mut cfg,
        &json!({"process": {"terminal": false, "args": args}}),
    );
    support::merge(&mut cfg, &patch);
    std::fs::write(&path, serde_json::to_vec_pretty(&cfg).expect("json")).expect("write");
    dir
}

/// Host processes whose command line mentions `id` (a leftover init still runs ferrun's argv).
fn procs_mentioning(id: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(id) {
            found.push(pid);
        }
    }
    found
}

fn words(s: &str) -> Vec<Vec<&str>> {
    s.lines().map(|l| l.split_whitespace().collect()).collect()
}

#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn run_maps_the_caller_to_root_inside() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-run");
    let script = "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map";
    let b = user_bundle(&user, &["sh", "-c", script], json!({}));
    let done = user
        .run(&["run", "-b", b.path().to_str().unwrap(), &id])
        .ok();
    let uid = UID.to_string();
    assert_eq!(
        words(&done.out),
        [
            vec!["0"],
            vec!["0"],
            vec!["0", uid.as_str(), "1"],
            vec!["0", uid.as_str(), "1"]
        ],
        "{done:#?}"
    );
    assert!(!user.state_dir(&id).exists(), "run removes its state");
    assert!(support::cgroup_leaked(&id).is_empty(), "no cgroup for {id}");
}

/// The init before `start` is still ferrun: it must run from a sealed memfd copy, since
/// open_tree (the read-only bind-mount protection) needs CAP_SYS_ADMIN (CVE-2019-5736).
fn assert_sealed_exe(pid: i32) {
    let link = std::fs::read_link(format!("/proc/{pid}/exe")).expect("readlink exe");
    assert!(
        link.to_string_lossy().starts_with("/memfd:"),
        "init runs from {link:?}, not a memfd copy"
    );
    let exe = std::fs::File::open(format!("/proc/{pid}/exe")).expect("open exe");
    let seals = nix::fcntl::fcntl(&exe, nix::fcntl::FcntlArg::F_GET_SEALS).expect("F_GET_SEALS");
    assert_ne!(seals & libc::F_SEAL_WRITE, 0, "seals {seals:#x}");
}

#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn create_start_exec_kill_delete_as_the_user() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-life");
    let b = user_bundle(&user, &["sleep", "300"], json!({}));
    user.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert!(user.state_dir(&id).join("state.json").exists());
    let state: Value = serde_json::from_str(&user.ok(&["state", &id])).expect("state");
    assert_eq!(state["status"], "created");
    let pid = state["pid"].as_i64().expect("pid") as i32;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let uid_line = format!("Uid:\t{UID}\t{UID}\t{UID}\t{UID}");
    assert!(status.contains(&uid_line), "init runs as {UID}: {status}");
    assert_sealed_exe(pid);

    user.ok(&["start", &id]);
    let exec = user.ok(&["exec", &id, "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    assert_eq!(
        words(&exec),
        [vec!["0"], vec!["0", &UID.to_string(), "1"]],
        "{exec}"
    );
    let list = user.ok(&["list", "-q"]);
    assert!(list.lines().any(|l| l == id), "{list}");
    // No cgroup was delegated: ps and pause must say so, not print an empty answer.
    for verb in [
        &["ps", &id][..],
        &["pause", &id],
        &["kill", "--all", &id, "KILL"],
    ] {
        let done = user.run(verb);
        assert_eq!(done.code, Some(1), "{verb:?}: {done:#?}");
        assert!(done.err.contains("no cgroup"), "{verb:?}: {}", done.err);
    }

    user.ok(&["kill", &id, "KILL"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let s: Value = serde_json::from_str(&user.ok(&["state", &id])).expect("state");
        if s["status"] == "stopped" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never stopped");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    user.ok(&["delete", &id]);
    assert!(!user.state_dir(&id).exists(), "delete removed the state");
    assert!(procs_mentioning(&id).is_empty(), "no process of {id} left");
}

/// The init stays non-dumpable until it runs the program, so its /proc/<pid>/ns files need
/// CAP_SYS_PTRACE, which the user lacks: exec before start is refused with the reason (crun
/// 1.8.1 refuses it too), and works once the program runs.
#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn exec_before_start_is_refused_with_the_reason_and_works_after() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-exec");
    let b = user_bundle(&user, &["sleep", "300"], json!({}));
    user.ok(&["create", "-b", b.path().to_str().unwrap(), &id]);
    let early = user.run(&["exec", &id, "cat", "/proc/1/environ"]);
    assert_eq!(early.code, Some(255), "{early:#?}");
    assert!(
        early.err.contains("before it is started") && early.err.contains("start it first"),
        "{}",
        early.err
    );
    user.ok(&["start", &id]);
    let late = user.ok(&["exec", &id, "cat", "/proc/self/uid_map"]);
    assert_eq!(words(&late), [vec!["0", &UID.to_string(), "1"]], "{late}");
}

#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn no_user_namespace_fails_naming_the_field_and_leaves_nothing() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-nouserns");
    let b = user_bundle(&user, &["true"], json!({}));
    let path = b.path().join("config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let linux = cfg["linux"].as_object_mut().expect("linux");
    linux.remove("uidMappings");
    linux.remove("gidMappings");
    linux["namespaces"]
        .as_array_mut()
        .expect("namespaces")
        .retain(|n| n["type"] != "user");
    std::fs::write(&path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    let done = user.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(done.err.contains("linux.namespaces"), "{}", done.err);
    assert!(done.err.contains("user namespace"), "{}", done.err);
    assert!(!user.state_dir(&id).exists(), "no state dir left");
    assert!(procs_mentioning(&id).is_empty(), "no process left");
    assert!(support::cgroup_leaked(&id).is_empty(), "no cgroup left");
}

#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn mapping_another_uid_needs_the_helper_and_names_the_field() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-map");
    // Host root inside: the kernel refuses it to an unprivileged writer, and newuidmap
    // (if installed) refuses it unless /etc/subuid grants uid 0, which it never does.
    let patch = json!({"linux": {"uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]}});
    let b = user_bundle(&user, &["true"], patch);
    let done = user.run(&["create", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(done.err.contains("linux.uidMappings"), "{}", done.err);
    assert!(done.err.contains("newuidmap"), "{}", done.err);
    assert!(!user.state_dir(&id).exists(), "no state dir left");
    assert!(procs_mentioning(&id).is_empty(), "no process left");
}

#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn limits_without_a_writable_cgroup_fail_naming_the_field() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-limit");
    let patch = json!({"linux": {"resources": {"memory": {"limit": 67108864}}}});
    let b = user_bundle(&user, &["true"], patch);
    let done = user.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(done.err.contains("linux.resources.memory"), "{}", done.err);
    assert!(!user.state_dir(&id).exists(), "no state dir left");
    assert!(procs_mentioning(&id).is_empty(), "no process left");
}

/// runc ignores an unwritable cgroup only when no linux.cgroupsPath was asked for.
#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn an_explicit_cgroups_path_that_cannot_be_made_is_an_error() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-cgpath");
    let patch = support::cg(&id);
    let b = user_bundle(&user, &["true"], patch);
    let done = user.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert_eq!(done.code, Some(1), "{done:#?}");
    assert!(done.err.contains("linux.cgroupsPath"), "{}", done.err);
    assert!(!user.state_dir(&id).exists(), "no state dir left");
    assert!(support::cgroup_leaked(&id).is_empty(), "no cgroup left");
}

#[test]
#[ignore = "needs root, busybox-static and unprivileged user namespaces"]
fn the_container_cannot_write_what_the_user_cannot() {
    support::require(&NEEDS);
    let user = Rt::as_user(UID);
    let id = support::unique_id("rl-bind");
    let host = tempfile::Builder::new()
        .prefix("ferrun-rootless-host-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(host.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root_file = host.path().join("root-file");
    let user_file = host.path().join("user-file");
    std::fs::write(&root_file, "host\n").unwrap();
    std::fs::write(&user_file, "").unwrap();
    std::os::unix::fs::lchown(&user_file, Some(UID), Some(UID)).unwrap();
    let script = "echo pwned >> /host/root-file; echo a=$?; echo mine >> /host/user-file; \
                  echo b=$?; touch /host/new; echo c=$?; chmod 666 /host/root-file; echo d=$?";
    let patch = json!({"mounts": [{"destination": "/host", "type": "bind",
        "source": host.path(), "options": ["rbind", "rw"]}]});
    let b = user_bundle(&user, &["sh", "-c", script], json!({}));
    // Appended to the spec's mounts (a merge patch would replace the array).
    append_mount(&b, &patch["mounts"][0]);
    let done = user
        .run(&["run", "-b", b.path().to_str().unwrap(), &id])
        .ok();
    let lines: Vec<&str> = done.out.lines().collect();
    assert_eq!(lines.len(), 4, "{done:#?}");
    assert_ne!(lines[0], "a=0", "wrote a root-owned host file: {done:#?}");
    assert_eq!(lines[1], "b=0", "the mount itself is writable: {done:#?}");
    assert_ne!(
        lines[2], "c=0",
        "created a file in a root-owned dir: {done:#?}"
    );
    assert_ne!(lines[3], "d=0", "chmod of a root-owned file: {done:#?}");
    assert_eq!(std::fs::read_to_string(&root_file).unwrap(), "host\n");
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), "mine\n");
    assert!(!host.path().join("new").exists());
    let mode = std::fs::metadata(&root_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
}

fn append_mount(bundle: &tempfile::TempDir, mount: &Value) {
    let path = bundle.path().join("config.json");
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    cfg["mounts"]
        .as_array_mut()
        .expect("mounts")
        .push(mount.clone());
    std::fs::write(&path, serde_json::to_vec(&cfg).unwrap()).unwrap();
}
