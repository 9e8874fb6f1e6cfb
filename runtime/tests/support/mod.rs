//! Helpers for the "what a container gets" root tests (`*_host.rs` beside this directory).
//!
//! `Rt` is like `common::Ferrun` (own `--root`, force-delete on drop) with two additions:
//! every command runs under a watchdog, so a hung runtime fails the test instead of the whole
//! run, and the binary can be swapped with `PROOF_RUNTIME=/usr/sbin/runc` to check that a test's
//! expectation is what the reference runtime does (tests that check ferrun-only behaviour,
//! such as error texts, use `Rt::ferrun()` and ignore the variable).
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{self, Bundle};

/// Longest any single runtime command may take before the watchdog kills it.
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// The outcome of one runtime command.
#[derive(Debug)]
pub struct Done {
    pub code: Option<i32>,
    pub out: String,
    pub err: String,
}

impl Done {
    /// Panic with both streams unless the command exited 0.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "command failed: {self:#?}");
        self
    }
}

pub struct Rt {
    pub bin: PathBuf,
    pub root: tempfile::TempDir,
    ids: RefCell<Vec<String>>,
}

impl Rt {
    /// The runtime under test: ferrun, or `$PROOF_RUNTIME` when set.
    pub fn new() -> Self {
        match std::env::var_os("PROOF_RUNTIME").filter(|v| !v.is_empty()) {
            Some(bin) => Self::with_bin(PathBuf::from(bin)),
            None => Self::ferrun(),
        }
    }

    /// Always ferrun: for checks of ferrun's own messages.
    pub fn ferrun() -> Self {
        Self::with_bin(common::Ferrun::bin())
    }

    fn with_bin(bin: PathBuf) -> Self {
        let root = tempfile::Builder::new()
            .prefix("ferrun-proof-root-")
            .tempdir()
            .expect("state root tempdir");
        Rt {
            bin,
            root,
            ids: RefCell::new(Vec::new()),
        }
    }

    pub fn is_ferrun(&self) -> bool {
        self.bin == common::Ferrun::bin()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(self.root.path());
        c.stdin(Stdio::null());
        c
    }

    /// Remember an id so drop force-deletes it.
    pub fn track(&self, id: &str) {
        self.ids.borrow_mut().push(id.to_string());
    }

    /// Run `args` under the watchdog; `create`/`run` ids are tracked for cleanup.
    pub fn run(&self, args: &[&str]) -> Done {
        self.run_with(args, |_| {})
    }

    /// Like `run`, letting the caller adjust the command (extra fds, env) first.
    pub fn run_with(&self, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Done {
        if let Some(pos) = args.iter().position(|a| matches!(*a, "create" | "run")) {
            if let Some(id) = args.last().filter(|_| pos + 1 < args.len()) {
                self.track(id);
            }
        }
        let mut cmd = self.cmd();
        cmd.args(args);
        adjust(&mut cmd);
        run_watched(&mut cmd, WATCHDOG)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok().out
    }

    pub fn state(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["state", id])).expect("state JSON")
    }

    pub fn pid(&self, id: &str) -> i32 {
        self.state(id)["pid"].as_i64().expect("state.pid") as i32
    }

    pub fn state_dir_exists(&self, id: &str) -> bool {
        self.root.path().join(id).exists()
    }

    /// `create` + `start` of a bundle, returning the container's pid.
    pub fn create_start(&self, bundle: &Bundle, id: &str) -> i32 {
        self.ok(&["create", "-b", bundle.path().to_str().unwrap(), id]);
        let pid = self.pid(id);
        self.ok(&["start", id]);
        pid
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            let _ = run_watched(self.cmd().args(["delete", "--force", id]), WATCHDOG);
        }
    }
}

/// Run to completion with stdout/stderr in files (a created container keeps the runtime's
/// stdio open, so pipes would never reach EOF); kill it and panic after `limit`.
pub fn run_watched(cmd: &mut Command, limit: Duration) -> Done {
    let out = tempfile::tempfile().expect("stdout file");
    let err = tempfile::tempfile().expect("stderr file");
    let mut child = cmd
        .stdout(out.try_clone().expect("dup"))
        .stderr(err.try_clone().expect("dup"))
        .spawn()
        .expect("spawn runtime");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("watchdog: {cmd:?} took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Done {
        code: status.code(),
        out: read_all(out),
        err: read_all(err),
    }
}

fn read_all(mut f: std::fs::File) -> String {
    let mut s = String::new();
    f.seek(std::io::SeekFrom::Start(0)).expect("seek");
    f.read_to_string(&mut s).expect("read");
    s
}

/// A patch placing the container's cgroup at `/ferrun-test/<id>` (shared parent with the
/// other root tests, unique leaf).
pub fn cg(id: &str) -> Value {
    json!({"linux": {"cgroupsPath": format!("/ferrun-test/{id}")}})
}

/// A busybox bundle running `sh -c script` with `patch` merged over the base config (and
/// over the cgroup patch).
pub fn sh_bundle(id: &str, script: &str, patch: Value) -> Bundle {
    let mut cfg = common::base_config(&["sh", "-c", script]);
    common::merge(&mut cfg, &cg(id));
    common::merge(&mut cfg, &patch);
    Bundle::new(&cfg)
}

/// `run` a shell script in a fresh container and return what it printed.
pub fn sh(rt: &Rt, tag: &str, script: &str, patch: Value) -> Done {
    let id = common::unique_id(tag);
    let b = sh_bundle(&id, script, patch);
    let done = rt.run(&["run", "-b", b.path().to_str().unwrap(), &id]);
    assert!(
        common::cgroup_leaked(&id).is_empty(),
        "cgroup of {id} left behind"
    );
    done
}

/// `sh` that must succeed; returns stdout.
pub fn sh_ok(rt: &Rt, tag: &str, script: &str, patch: Value) -> String {
    sh(rt, tag, script, patch).ok().out
}

/// The value of `Key:` in a /proc/<pid>/status text, whitespace-trimmed.
pub fn status_field(status: &str, key: &str) -> Option<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// `readlink /proc/self/ns/<kind>` of the test process.
pub fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .expect("readlink ns")
        .to_string_lossy()
        .into_owned()
}

/// The base config's namespaces plus `extra`.
pub fn namespaces_plus(extra: Value) -> Value {
    let mut ns = common::base_config(&["true"])["linux"]["namespaces"].clone();
    for e in extra.as_array().expect("array") {
        ns.as_array_mut().expect("array").push(e.clone());
    }
    ns
}

/// The base config's mounts plus `extra`.
pub fn mounts_plus(extra: Value) -> Value {
    let mut m = common::base_config(&["true"])["mounts"].clone();
    for e in extra.as_array().expect("array") {
        m.as_array_mut().expect("array").push(e.clone());
    }
    m
}

/// Make a bundle traversable by other uids (tempdirs are 0700): needed when the container's
/// root is not host root (user namespaces) or the process runs as another user.
pub fn open_up(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Lines of a mountinfo text whose mount point is `target`.
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

/// Wait until the container's status is `want` (or panic after 10 s).
pub fn wait_status(rt: &Rt, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while rt.state(id)["status"] != want {
        assert!(Instant::now() < deadline, "{id} never became {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
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
