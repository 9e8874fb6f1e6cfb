//! The state store: one directory per container under `--root`, written atomically and locked.
//!
//! `create` claims an id with `mkdir`, which is atomic, so two concurrent creates of one id
//! cannot both succeed. Every command that changes a container holds an exclusive `flock` on
//! `<dir>/lock` for its duration, so `kill`, `start` and `delete` on one container serialize.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::id::{validate_id, IdError};
use super::state::ContainerState;

pub const STATE_FILE: &str = "state.json";
pub const LOCK_FILE: &str = "lock";
pub const EXEC_SOCK: &str = "exec.sock";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("container with id {0:?} already exists")]
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
    #[error("state of container {id:?} is unreadable ({path}): {source}")]
    Corrupt {
        id: String,
        path: PathBuf,
        source: serde_json::Error,
    },
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
    /// child's copy is closed by the init's fd cleanup (`sys::fd::close_all_except`).
    _lock: File,
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
        match ContainerDir::lock(id, &path) {
            Ok(dir) => Ok(dir),
            Err(e) => {
                let _ = fs::remove_dir_all(&path);
                Err(e)
            }
        }
    }

    /// Open and lock an existing container's directory.
    pub fn open(&self, id: &str) -> Result<ContainerDir, StoreError> {
        validate_id(id)?;
        let path = self.root.join(id);
        if !path.join(STATE_FILE).exists() {
            return Err(StoreError::NotFound(id.to_string()));
        }
        let dir = ContainerDir::lock(id, &path)?;
        // It may have been deleted while we waited for the lock.
        if !path.join(STATE_FILE).exists() {
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

    /// Every container with a readable state, sorted by id.
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
                // A directory still being created, or not ours: not a container yet.
                Err(StoreError::Io { .. }) | Err(StoreError::Id(_)) => {}
                Err(e) => return Err(e),
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

impl ContainerDir {
    fn lock(id: &str, path: &Path) -> Result<Self, StoreError> {
        let lock_path = path.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(io_err("open", &lock_path))?;
        crate::sys::proc::flock_exclusive(lock.as_fd())
            .map_err(|e| io_err("flock", &lock_path)(e.into()))?;
        Ok(Self {
            id: id.to_string(),
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn load(&self) -> Result<ContainerState, StoreError> {
        read_state(&self.id, &self.path.join(STATE_FILE))
    }

    /// Write state.json atomically: a reader sees the old or the new state, never half.
    pub fn save(&self, state: &ContainerState) -> Result<(), StoreError> {
        let tmp = self.path.join(".state.json.tmp");
        let data = serde_json::to_vec(state).map_err(|source| StoreError::Corrupt {
            id: self.id.clone(),
            path: tmp.clone(),
            source,
        })?;
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        f.write_all(&data).map_err(io_err("write", &tmp))?;
        let dst = self.path.join(STATE_FILE);
        fs::rename(&tmp, &dst).map_err(io_err("rename", &dst))
    }

    pub fn exec_sock(&self) -> PathBuf {
        self.path.join(EXEC_SOCK)
    }

    /// Remove the directory; the lock goes with it.
    pub fn remove(self) -> Result<(), StoreError> {
        fs::remove_dir_all(&self.path).map_err(io_err("remove", &self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::status::Status;

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
            hooks: None,
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
    fn bad_ids_never_touch_the_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        assert!(matches!(store.create("../x"), Err(StoreError::Id(_))));
        assert!(!tmp.path().join("x").exists());
        assert!(!tmp.path().join("root").exists());
    }
}
