//! The runner of the root tests: the runtime under test with a private `--root`, every
//! command under a watchdog, and cleanup of everything its containers made when dropped.

use std::cell::RefCell;
use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{cg_parent, cgroup_leaked, remove_cgroups_named, sh_bundle, unique_id, Bundle};

/// Longest any single runtime command may take before the watchdog kills it.
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// The ferrun binary cargo built for these tests.
pub fn ferrun_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferrun"))
}

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

/// The runtime under test: ferrun, or with `PROOF_RUNTIME=/usr/sbin/runc` the reference
/// runtime, to check that a test's expectation is what runc does (tests of ferrun's own
/// behaviour, such as error texts, use `Rt::ferrun()` and ignore the variable).
///
/// Dropping it force-deletes every container it created, removes the cgroups named after
/// them (the leaf and the `cg_parent` directory the runtime keeps, as runc does) and the
/// state root, also when the test panicked.
pub struct Rt {
    pub bin: PathBuf,
    /// The state root (`--root`); for `as_user`, the user's `$XDG_RUNTIME_DIR`.
    pub root: tempfile::TempDir,
    /// Run every command as this uid (and gid) instead of as root.
    user: Option<u32>,
    ids: RefCell<Vec<String>>,
}

impl Default for Rt {
    fn default() -> Self {
        Self::new()
    }
}

impl Rt {
    /// ferrun, or `$PROOF_RUNTIME` when set.
    pub fn new() -> Self {
        match std::env::var_os("PROOF_RUNTIME").filter(|v| !v.is_empty()) {
            Some(bin) => Self::with_bin(PathBuf::from(bin)),
            None => Self::ferrun(),
        }
    }

    /// Always ferrun: for checks of ferrun's own messages.
    pub fn ferrun() -> Self {
        Self::with_bin(ferrun_bin())
    }

    /// ferrun run by an unprivileged `uid` as a user meets it: no `--root`, so the state goes
    /// to the default `$XDG_RUNTIME_DIR/ferrun`, with `$XDG_RUNTIME_DIR` a tempdir of the user.
    pub fn as_user(uid: u32) -> Self {
        let mut rt = Self::ferrun();
        std::os::unix::fs::lchown(rt.root.path(), Some(uid), Some(uid)).expect("chown xdg dir");
        rt.user = Some(uid);
        rt
    }

    fn with_bin(bin: PathBuf) -> Self {
        let root = tempfile::Builder::new()
            .prefix("ferrun-test-root-")
            .tempdir()
            .expect("state root tempdir");
        Rt {
            bin,
            root,
            user: None,
            ids: RefCell::new(Vec::new()),
        }
    }

    pub fn is_ferrun(&self) -> bool {
        self.bin == ferrun_bin()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        match self.user {
            // std drops supplementary groups (setgroups(0)) when root sets a uid.
            Some(uid) => c.uid(uid).gid(uid).env("XDG_RUNTIME_DIR", self.root.path()),
            None => c.arg("--root").arg(self.root.path()),
        };
        c.stdin(Stdio::null());
        c
    }

    /// Remember an id so drop force-deletes it and removes its cgroups.
    pub fn track(&self, id: &str) {
        self.ids.borrow_mut().push(id.to_string());
    }

    /// Run `args` under the watchdog; `create`/`run` ids (the last argument) are tracked.
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

    /// Where the runtime keeps the state of `id`.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        match self.user {
            Some(_) => self.root.path().join("ferrun").join(id),
            None => self.root.path().join(id),
        }
    }

    pub fn state_dir_exists(&self, id: &str) -> bool {
        self.state_dir(id).exists()
    }

    /// `create` + `start` of a bundle, returning the container's pid.
    pub fn create_start(&self, bundle: &Bundle, id: &str) -> i32 {
        self.ok(&["create", "-b", bundle.path().to_str().expect("utf-8"), id]);
        let pid = self.pid(id);
        self.ok(&["start", id]);
        pid
    }
}

impl Rt {
    /// Force-delete every tracked container and remove its cgroups now (what drop does), for
    /// a test that must clean up before something else it set up goes away.
    pub fn cleanup(&self) {
        let ids: Vec<String> = self.ids.borrow_mut().drain(..).collect();
        for id in &ids {
            // A watchdog panic while already unwinding would abort the whole test binary.
            let delete = std::panic::AssertUnwindSafe(|| {
                run_watched(self.cmd().args(["delete", "--force", id]), WATCHDOG)
            });
            if let Err(e) = std::panic::catch_unwind(delete) {
                eprintln!("cleanup: delete --force {id} panicked: {e:?}");
            }
        }
        // Only once every container is gone: two of them may share one cgroup (and its
        // parent), which stays while either lives.
        for id in &ids {
            remove_cgroups_named(&[id.as_str(), &cg_parent(id)]);
        }
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        self.cleanup();
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
    let mut v = Vec::new();
    f.seek(std::io::SeekFrom::Start(0)).expect("seek");
    f.read_to_end(&mut v).expect("read");
    String::from_utf8_lossy(&v).into_owned()
}

/// `run` a shell script in a fresh container and return what it printed.
pub fn sh(rt: &Rt, tag: &str, script: &str, patch: Value) -> Done {
    let id = unique_id(tag);
    let b = sh_bundle(&id, script, patch);
    let done = rt.run(&["run", "-b", b.path().to_str().expect("utf-8"), &id]);
    assert!(cgroup_leaked(&id).is_empty(), "cgroup of {id} left behind");
    done
}

/// `sh` that must succeed; returns stdout.
pub fn sh_ok(rt: &Rt, tag: &str, script: &str, patch: Value) -> String {
    sh(rt, tag, script, patch).ok().out
}

/// Wait until the container's status is `want` (or panic after 10 s).
pub fn wait_status(rt: &Rt, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while rt.state(id)["status"] != want {
        assert!(Instant::now() < deadline, "{id} never became {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
