//! What the tests look at on the host: cgroup directories, /proc, mountinfo, open fds.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Directories under /sys/fs/cgroup, a few levels deep, whose name is one of `names`. The
/// tests' cgroups live near the top (absolute paths, or relative to the runner's cgroup).
fn cgroup_dirs_named(names: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from("/sys/fs/cgroup")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let p = e.path();
            if p.file_name()
                .is_some_and(|n| names.iter().any(|want| n == *want))
            {
                found.push(p.clone());
            }
            if p.components().count() < 12 {
                stack.push(p);
            }
        }
    }
    found
}

/// Every v1 or v2 cgroup directory with this leaf name that remains on the host.
pub fn cgroup_leaked(leaf: &str) -> Vec<PathBuf> {
    cgroup_dirs_named(&[leaf])
}

/// Remove the cgroup directories named `names` (unique test names, never a shared one),
/// deepest first; each must be empty by now. What cannot be removed is reported on stderr,
/// since this runs from `Drop` where a panic would abort.
pub fn remove_cgroups_named(names: &[&str]) {
    let mut dirs = cgroup_dirs_named(names);
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        if let Err(e) = std::fs::remove_dir(&d) {
            eprintln!("cleanup: cannot remove cgroup {}: {e}", d.display());
        }
    }
}

/// The test process's own cgroup directory in every hierarchy (v1 controllers, named v1
/// hierarchies and cgroup2), where the runtime makes relative and default cgroups.
pub fn own_cgroup_dirs() -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("/proc/self/cgroup");
    let root = Path::new("/sys/fs/cgroup");
    own.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
            let mount = if !ctrls.is_empty() {
                root.join(ctrls.trim_start_matches("name="))
            } else if root.join("unified").is_dir() {
                root.join("unified")
            } else {
                root.to_path_buf()
            };
            Some(mount.join(path.trim_start_matches('/')))
        })
        .collect()
}

/// A count a soak test takes from the environment (CI sets the full figure), or `default`.
pub fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Directories named `<tag>-*` in the test's own cgroup of every hierarchy: the default
/// cgroups of containers whose ids start with `<tag>-`, which delete must have removed.
pub fn own_cgroups_tagged(tag: &str) -> Vec<PathBuf> {
    let prefix = format!("{tag}-");
    own_cgroup_dirs()
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

/// The value of `Key:` in a /proc/<pid>/status text, whitespace-trimmed.
pub fn status_field(status: &str, key: &str) -> Option<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// capability(7) number of CAP_SYS_RESOURCE.
pub const CAP_SYS_RESOURCE: u32 = 24;

/// Whether this process holds `cap` (a capability number) in its effective set: root on
/// some hosts lacks CAP_SYS_RESOURCE, and what the kernel allows then differs.
pub fn has_effective_cap(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let eff = status_field(&status, "CapEff").expect("CapEff line");
    let bits = u64::from_str_radix(&eff, 16).expect("CapEff is hex");
    bits & (1 << cap) != 0
}

/// `readlink /proc/self/ns/<kind>` of the test process.
pub fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .expect("readlink ns")
        .to_string_lossy()
        .into_owned()
}

/// The line of a mountinfo text whose mount point is `target` (the topmost one).
pub fn mountinfo_line<'a>(mountinfo: &'a str, target: &str) -> Option<&'a str> {
    mountinfo
        .lines()
        .rfind(|l| l.split(' ').nth(4) == Some(target))
}

/// (per-mount options, optional fields, fstype, super options) of a mountinfo line.
pub fn mount_fields(line: &str) -> (Vec<String>, Vec<String>, String, Vec<String>) {
    let (left, right) = line.split_once(" - ").expect("mountinfo separator");
    let l: Vec<&str> = left.split(' ').collect();
    let r: Vec<&str> = right.split(' ').collect();
    let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
    (
        split(l[5]),
        l[6..].iter().map(|s| s.to_string()).collect(),
        r[0].to_string(),
        split(r.get(2).copied().unwrap_or("")),
    )
}

/// Give a child extra open fds (not close-on-exec): each `file` lands on its `target`.
pub fn give_fds(cmd: &mut Command, files: Vec<(std::fs::File, i32)>) {
    use std::os::fd::IntoRawFd;
    let raws: Vec<(i32, i32)> = files
        .into_iter()
        .map(|(f, target)| (f.into_raw_fd(), target))
        .collect();
    // SAFETY: fcntl and dup2 are async-signal-safe; the closure runs in the forked child
    // before exec. Every source is first copied above all targets, so a source that happens
    // to sit on another entry's target number is not clobbered by that entry's dup2.
    unsafe {
        cmd.pre_exec(move || {
            let mut high = Vec::with_capacity(raws.len());
            for &(raw, target) in &raws {
                let h = libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 500);
                if h < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                high.push((h, target));
            }
            for (h, target) in high {
                if libc::dup2(h, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// The open fds of a process, as numbers, seen from the host.
pub fn fds_of(pid: i32) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/<pid>/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort();
    v
}

/// Wait until `pid` has exec'd `comm` (after `start`, the init may still be in the runtime's
/// code for a moment).
pub fn wait_exec(pid: i32, comm: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if now.trim() == comm {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} never became {comm} ({now:?})"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every pid listed in a `cgroup.procs` of the cgroup directories named `leaf` (all
/// hierarchies), sorted and deduplicated.
pub fn cgroup_procs(leaf: &str) -> Vec<i32> {
    let mut pids: Vec<i32> = cgroup_dirs_named(&[leaf])
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|t| {
            t.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Whether `pid` exists and has not exited (a zombie has).
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next());
        !matches!(state, Some("Z" | "X") | None)
    })
}

/// Wait up to `limit` for `cond`; whether it became true.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
