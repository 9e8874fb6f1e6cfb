//! On cgroup v2 the container's init and every exec'd process are cloned straight into their
//! cgroup (clone3 with CLONE_INTO_CGROUP, `process::birth`) instead of being moved there by a
//! cgroup.procs write. The test gives ferrun a pure cgroup v2 view in a private mount
//! namespace (the host's cgroup2 hierarchy mounted on /sys/fs/cgroup), so it runs on this
//! hybrid host as on a v2 one, and checks both where the processes are and that they got
//! there by birth (ferrun's `--debug` log says which).

mod support;

use std::time::Duration;

use support::{cg, cg_path, run_watched, unique_id, Bundle, Need, Rt};

/// Runs ferrun in a private mount namespace whose /sys/fs/cgroup is cgroup2 only; prints the
/// cgroup2 line of the exec'd process's /proc/self/cgroup, then the init's.
const SCRIPT: &str = r#"
set -e
F=$1 R=$2 B=$3 ID=$4 LOG=$5
mount --make-rprivate /
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
  umount -l /sys/fs/cgroup
  mount -t cgroup2 none /sys/fs/cgroup
fi
trap '"$F" --root "$R" delete --force "$ID" >/dev/null 2>&1 || true' EXIT
"$F" --root "$R" --debug --log "$LOG" run --detach -b "$B" "$ID"
"$F" --root "$R" --debug --log "$LOG" exec "$ID" grep '^0::' /proc/self/cgroup
PID=$("$F" --root "$R" state "$ID" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
grep '^0::' /proc/$PID/cgroup
"#;

#[test]
#[ignore = "needs root, busybox-static and util-linux unshare"]
fn on_cgroup_v2_the_init_and_exec_are_born_in_their_cgroup() {
    support::require(&[Need::Root, Need::Busybox]);
    let rt = Rt::ferrun();
    let id = unique_id("birth");
    // Tracked, so the runner deletes it and removes its cgroup even if the script fails.
    rt.track(&id);
    let b = Bundle::with_args(&["sleep", "60"], cg(&id));
    let log = rt.root.path().join("debug.log");
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-m", "sh", "-c", SCRIPT, "birth"])
        .arg(&rt.bin)
        .arg(rt.root.path())
        .arg(b.path())
        .arg(&id)
        .arg(&log);
    let done = run_watched(&mut cmd, Duration::from_secs(60)).ok();
    let log = std::fs::read_to_string(&log).expect("ferrun's debug log");
    assert!(
        log.lines()
            .any(|l| l.contains("init pid") && l.contains(": born in cgroup")),
        "init not born in it:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("exec pid") && l.contains("born in cgroup")),
        "exec'd process not born in it:\n{log}"
    );
    // Both in the configured cgroupsPath (the base config has no cgroup namespace).
    let want = format!("0::{}", cg_path(&id));
    let lines: Vec<&str> = done.out.lines().collect();
    assert_eq!(lines, [want.as_str(), want.as_str()], "{done:#?}");
}

/// On a host with cgroup v1 hierarchies the init moves itself into each through its `tasks`
/// file (and on a hybrid host is born in the cgroup2 one): every line of its /proc/PID/cgroup
/// names the configured cgroupsPath.
#[test]
#[ignore = "needs root, busybox-static and cgroup v1"]
fn on_cgroup_v1_the_init_moves_itself_into_every_hierarchy() {
    support::require(&[Need::Root, Need::Busybox, Need::CgroupV1]);
    let rt = Rt::ferrun();
    let id = unique_id("selfjoin");
    let b = Bundle::with_args(&["sleep", "60"], cg(&id));
    let log = rt.root.path().join("debug.log");
    let log_arg = log.to_str().expect("utf-8");
    rt.ok(&[
        "--debug",
        "--log",
        log_arg,
        "create",
        "-b",
        b.path().to_str().expect("utf-8"),
        &id,
    ]);
    let pid = rt.pid(&id);
    let log = std::fs::read_to_string(&log).expect("ferrun's debug log");
    assert!(log.contains("moving itself into"), "no self-join:\n{log}");
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("the init's cgroups");
    // Hierarchies this host mounts but the runtime does not join (none here) would keep "/".
    let want = cg_path(&id);
    for line in own.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or_default();
        assert_eq!(path, want, "{own}");
    }
}
