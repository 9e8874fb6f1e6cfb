//! The state store: one directory per container under `--root`, written atomically and locked.
//!
//! `create` claims an id with `mkdir`, which is atomic, so two concurrent creates of one id
//! cannot both succeed. `create`, `start`, `pause`/`resume` and `delete` hold an exclusive
//! `flock` on `<dir>/lock` for their duration, so they serialize on one container; `kill` and
//! the readers take no lock.
//!
//! Crash consistency: a command killed at any point leaves a state a later command can roll
//! forward or back. `create` records the container (with its cgroup path) before it makes
//! anything outside this directory, so whatever it made can be found again; state.json is
//! replaced by rename, so it is never half written; the status is derived from the init and
//! the cgroup ([`StateStore::status`]), never trusted from the file; and a directory without
//! state.json (a create killed before its first save, a delete killed midway) holds nothing
//! outside itself, so `list` skips it and `delete` removes it, as runc does.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::id::{validate_id, IdError};
use super::state::ContainerState;
use super::status::{derive, process_alive, Observed, Status};
use crate::cgroups::manager_from_path;
use crate::process::start::init_waiting;

pub const STATE_FILE: &str = "state.json";
pub const LOCK_FILE: &str = "lock";
pub const EXEC_SOCK: &str = "exec.sock";
const TMP_FILE: &str = ".state.json.tmp";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Id(#[from] IdError),
    /// runc's words (libcontainer ErrExist), which callers match, then the id.
    #[error("container with given ID already exists: {0:?}")]
    Exists(String),
    #[error("container {0:?} does not exist")]
    NotFound(String),
    #[error("cannot create state root {path}: {source}")]
    Root { path: PathBuf, source: io::Error },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("container {id:?} is busy: another command has held its lock for {secs}s (a create, start or delete waiting for a hook?); try again, or end that command")]
    Busy { id: String, secs: u64 },
    #[error("state of container {id:?} is unreadable ({path}): {source}")]
    Corrupt {
        id: String,
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// How long a command waits for another one to release a container's lock: no command may
/// wait without a bound, and a create or delete that holds it longer is stuck in a hook.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Take the container's lock, polling with a growing nap, for at most `wait`.
fn lock_within(
    id: &str,
    f: &File,
    path: &Path,
    wait: std::time::Duration,
) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + wait;
    let mut nap = std::time::Duration::from_millis(1);
    loop {
        if crate::sys::proc::try_flock_exclusive(f.as_fd())
            .map_err(|e| io_err("flock", path)(e.into()))?
        {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(StoreError::Busy {
                id: id.to_string(),
                secs: wait.as_secs(),
            });
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(std::time::Duration::from_millis(50));
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Clone)]
pub struct StateStore {
    root: PathBuf,
}

/// A container's directory, locked for as long as this value lives.
#[derive(Debug)]
pub struct ContainerDir {
    pub id: String,
    pub path: PathBuf,
    /// Held, never read: dropping it closes the file and so releases the flock. A cloned
    /// child's copy is closed by the init's fd cleanup (`sys::fd::close_all_except`). `None`
    /// only for the remains of a create killed before it made its lock file.
    _lock: Option<File>,
}

impl StateStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn ensure_root(&self) -> Result<(), StoreError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(|source| StoreError::Root {
                path: self.root.clone(),
                source,
            })
    }

    /// Claim `id`: create its directory (failing if it exists) and lock it.
    pub fn create(&self, id: &str) -> Result<ContainerDir, StoreError> {
        validate_id(id)?;
        self.ensure_root()?;
        let path = self.root.join(id);
        match fs::DirBuilder::new().mode(0o711).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StoreError::Exists(id.to_string()))
            }
            Err(e) => return Err(io_err("mkdir", &path)(e)),
        }
        match ContainerDir::lock_new(id, &path) {
            Ok(dir) => Ok(dir),
            // The directory was removed (as a ghost, by `delete --force`) and made again by
            // another create between our mkdir and here: it is that create's, not ours.
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                Err(StoreError::Exists(id.to_string()))
            }
            // Removed (as a ghost) before we could lock it: nothing of ours is left to remove.
            Err(e @ StoreError::Io { .. }) if is_not_found(&e) => Err(e),
            Err(e) => {
                let _ = fs::remove_dir_all(&path);
                Err(e)
            }
        }
    }

    /// Open and lock an existing container's directory.
    pub fn open(&self, id: &str) -> Result<ContainerDir, StoreError> {
        self.open_while(id, |path| path.join(STATE_FILE).exists())
    }

    /// Open and lock whatever is left of `id` for `delete`: also a directory without
    /// state.json, which [`ContainerDir::load`] then reports as not found.
    pub fn open_remains(&self, id: &str) -> Result<ContainerDir, StoreError> {
        self.open_while(id, Path::is_dir)
    }

    /// Lock `id`'s directory if `present` holds for it before and after the lock: it may have
    /// been deleted while we waited.
    fn open_while(&self, id: &str, present: fn(&Path) -> bool) -> Result<ContainerDir, StoreError> {
        validate_id(id)?;
        let path = self.root.join(id);
        if !present(&path) {
            return Err(StoreError::NotFound(id.to_string()));
        }
        let dir = ContainerDir::lock_existing(id, &path)?;
        if !present(&path) {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(dir)
    }

    /// Read a container's state without locking (for `state` and `list`: read-only, and a
    /// reader must not wait behind a long `create`).
    pub fn peek(&self, id: &str) -> Result<ContainerState, StoreError> {
        validate_id(id)?;
        let path = self.root.join(id).join(STATE_FILE);
        read_state(id, &path)
    }

    /// The container's status now, from its init and cgroup (see [`derive`]).
    pub fn status(&self, state: &ContainerState) -> Status {
        self.status_with(state, || init_waiting(&self.root.join(&state.id)))
    }

    /// [`Self::status`] with the exec.sock probe's answer from the caller (`start`, whose
    /// own connection answers it).
    pub fn status_with(&self, state: &ContainerState, waiting: impl FnOnce() -> bool) -> Status {
        derive(state.status, state.pid, || {
            if !process_alive(state.pid, state.pid_start_time) {
                return Observed::default();
            }
            Observed {
                alive: true,
                frozen: state.cgroup_path.as_deref().is_some_and(cgroup_frozen),
                waiting_for_start: waiting(),
            }
        })
    }

    /// Every container with a readable state, sorted by id. Directories without state.json
    /// (a create in its first moments, or the remains of a killed one) are skipped, as runc's
    /// `list` skips them, and so is an unreadable state.json, with a warning: one broken
    /// entry must not hide every other container.
    pub fn list(&self) -> Result<Vec<ContainerState>, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read_dir", &self.root)(e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            match self.peek(&name) {
                Ok(state) => out.push(state),
                // Not a container (yet, or any more), or not ours to read.
                Err(StoreError::NotFound(_) | StoreError::Io { .. } | StoreError::Id(_)) => {}
                Err(e) => crate::logging::warn(&format!("list: skipping {name}: {e}")),
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

fn read_state(id: &str, path: &Path) -> Result<ContainerState, StoreError> {
    let text = fs::read(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            StoreError::NotFound(id.to_string())
        } else {
            io_err("read", path)(e)
        }
    })?;
    serde_json::from_slice(&text).map_err(|source| StoreError::Corrupt {
        id: id.to_string(),
        path: path.to_path_buf(),
        source,
    })
}

fn is_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

/// Whether the container's cgroup is frozen; a cgroup that cannot be read is not.
fn cgroup_frozen(path: &str) -> bool {
    manager_from_path(path)
        .and_then(|cg| cg.frozen())
        .unwrap_or(false)
}

impl ContainerDir {
    /// Make and lock the lock file of a directory `create` just made. `create_new`: if the
    /// file exists, the directory is not the one we made.
    fn lock_new(id: &str, path: &Path) -> Result<Self, StoreError> {
        let lock_path = path.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(io_err("create", &lock_path))?;
        Self::locked(id, path, Some(lock))
    }

    /// Lock an existing container. Read-only: flock needs no write access, so `delete` and
    /// `start` still work on a read-only state root. A missing lock file means the remains of
    /// a create killed before it made one.
    fn lock_existing(id: &str, path: &Path) -> Result<Self, StoreError> {
        let lock_path = path.join(LOCK_FILE);
        let lock = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&lock_path)
        {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err("open", &lock_path)(e)),
        };
        Self::locked(id, path, lock)
    }

    fn locked(id: &str, path: &Path, lock: Option<File>) -> Result<Self, StoreError> {
        if let Some(f) = &lock {
            lock_within(id, f, &path.join(LOCK_FILE), LOCK_WAIT)?;
        }
        Ok(Self {
            id: id.to_string(),
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn load(&self) -> Result<ContainerState, StoreError> {
        read_state(&self.id, &self.path.join(STATE_FILE))
    }

    /// Write state.json atomically: a reader sees the old or the new state, never half. A
    /// failed write (a full state root) leaves the old state and no temporary file.
    pub fn save(&self, state: &ContainerState) -> Result<(), StoreError> {
        let tmp = self.path.join(TMP_FILE);
        let result = self.write_and_rename(state, &tmp);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn write_and_rename(&self, state: &ContainerState, tmp: &Path) -> Result<(), StoreError> {
        let data = serde_json::to_vec(state).map_err(|source| StoreError::Corrupt {
            id: self.id.clone(),
            path: tmp.to_path_buf(),
            source,
        })?;
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(tmp)
            .map_err(io_err("create", tmp))?;
        f.write_all(&data).map_err(io_err("write", tmp))?;
        let dst = self.path.join(STATE_FILE);
        fs::rename(tmp, &dst).map_err(io_err("rename", &dst))
    }

    pub fn exec_sock(&self) -> PathBuf {
        self.path.join(EXEC_SOCK)
    }

    /// Remove the directory; the lock goes with it. state.json goes first, so a remove
    /// killed midway leaves a directory without state, which `delete` removes again.
    pub fn remove(self) -> Result<(), StoreError> {
        let state = self.path.join(STATE_FILE);
        match fs::remove_file(&state) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove", &state)(e)),
        }
        fs::remove_dir_all(&self.path).map_err(io_err("remove", &self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::status::Status;

    #[test]
    fn a_lock_held_elsewhere_is_waited_for_with_a_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let holder = File::create(&path).unwrap();
        let waiter = File::open(&path).unwrap();
        let wait = std::time::Duration::from_millis(100);
        lock_within("c1", &holder, &path, wait).unwrap();
        let started = std::time::Instant::now();
        let err = lock_within("c1", &waiter, &path, wait).unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(holder);
        lock_within("c1", &waiter, &path, wait).unwrap();
    }

    fn state(id: &str) -> ContainerState {
        ContainerState {
            id: id.into(),
            pid: 0,
            pid_start_time: 0,
            status: Status::Creating,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "t".into(),
            owner: "root".into(),
            annotations: Default::default(),
            cgroup_path: None,
            systemd: None,
            hooks: None,
            own_pid_namespace: false,
            restored: false,
        }
    }

    #[test]
    fn create_save_list_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        let dir = store.create("c1").unwrap();
        dir.save(&state("c1")).unwrap();
        assert!(matches!(store.create("c1"), Err(StoreError::Exists(_))));
        assert_eq!(store.list().unwrap().len(), 1);
        assert_eq!(dir.load().unwrap().id, "c1");
        dir.remove().unwrap();
        assert!(store.list().unwrap().is_empty());
        assert!(matches!(store.open("c1"), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn remains_without_state_are_skipped_by_list_and_removable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        store.create("good").unwrap().save(&state("good")).unwrap();
        // A create killed during its first save; one killed before it made its lock; a
        // state.json that is not ferrun's.
        let ghost = store.create("ghost").unwrap();
        fs::write(ghost.path.join(TMP_FILE), "{\"id\":").unwrap();
        drop(ghost);
        fs::create_dir(tmp.path().join("root/bare")).unwrap();
        fs::create_dir(tmp.path().join("root/junk")).unwrap();
        fs::write(tmp.path().join("root/junk").join(STATE_FILE), "[]").unwrap();
        let ids: Vec<String> = store.list().unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["good"]);
        for id in ["ghost", "bare"] {
            let dir = store.open_remains(id).unwrap();
            assert!(matches!(dir.load(), Err(StoreError::NotFound(_))));
            dir.remove().unwrap();
            store.create(id).unwrap();
        }
    }

    #[test]
    fn a_failed_save_keeps_the_old_state() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        let dir = store.create("c1").unwrap();
        dir.save(&state("c1")).unwrap();
        // A directory where the temporary file goes makes the write fail.
        fs::create_dir(dir.path.join(TMP_FILE)).unwrap();
        fs::write(dir.path.join(TMP_FILE).join("x"), "").unwrap();
        let mut next = state("c1");
        next.status = Status::Created;
        assert!(dir.save(&next).is_err());
        assert_eq!(dir.load().unwrap().status, Status::Creating);
    }

    #[test]
    fn bad_ids_never_touch_the_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        assert!(matches!(store.create("../x"), Err(StoreError::Id(_))));
        assert!(!tmp.path().join("x").exists());
        assert!(!tmp.path().join("root").exists());
    }
}
