//! `--pid-file` of create and exec: the same atomic writer (temp file + rename, as runc),
//! so a poller never reads it half-written. Seen from outside through a hard link: a rename
//! replaces the path's entry, a plain write would go through it into the linked file.

mod support;

use std::path::{Path, PathBuf};

use support::{cg, unique_id, Bundle, Rt};

/// `dir/name` as a hard link to a file holding "keep"; returns (pid file, linked file).
fn linked_pid_file(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let other = dir.join(format!("{name}.other"));
    std::fs::write(&other, "keep").unwrap();
    let pid_file = dir.join(name);
    std::fs::hard_link(&other, &pid_file).unwrap();
    (pid_file, other)
}

fn assert_replaced(pid_file: &Path, other: &Path, pid: i32) {
    assert_eq!(std::fs::read_to_string(pid_file).unwrap(), pid.to_string());
    assert_eq!(
        std::fs::read_to_string(other).unwrap(),
        "keep",
        "{} was written through, not replaced",
        pid_file.display()
    );
}

#[test]
#[ignore = "needs root and busybox-static"]
fn create_and_exec_write_the_pid_file_atomically() {
    support::require_root();
    let rt = Rt::new();
    let dir = tempfile::tempdir().unwrap();
    let id = unique_id("pidfile");
    let b = Bundle::with_args(&["sleep", "60"], cg(&id));
    let (create_pid, create_other) = linked_pid_file(dir.path(), "create.pid");
    rt.ok(&[
        "create",
        "--pid-file",
        create_pid.to_str().unwrap(),
        "-b",
        b.path().to_str().unwrap(),
        &id,
    ]);
    assert_replaced(&create_pid, &create_other, rt.pid(&id));
    rt.ok(&["start", &id]);
    let (exec_pid, exec_other) = linked_pid_file(dir.path(), "exec.pid");
    rt.ok(&[
        "exec",
        "-d",
        "--pid-file",
        exec_pid.to_str().unwrap(),
        &id,
        "sleep",
        "60",
    ]);
    let pid: i32 = std::fs::read_to_string(&exec_pid).unwrap().parse().unwrap();
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "exec pid {pid} is not a live process"
    );
    assert_replaced(&exec_pid, &exec_other, pid);
    rt.ok(&["delete", "--force", &id]);
}
