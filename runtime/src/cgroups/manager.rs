//! The cgroupfs manager: one implementation of [`CgroupManager`] for v1, v2 and hybrid hosts,
//! driven by a [`Layout`] (which directory in which hierarchy) over the [`CgroupFs`] seam.
//!
//! Lifecycle: `create` makes every missing directory level and remembers it, so `destroy` can
//! take back exactly what was made (also after a half-failed create); `destroy` on a manager
//! re-opened from state.json removes the container's own directories (and any child cgroups
//! inside them), like runc, leaving parents alone.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::devices::loader::DeviceFilterInstaller;
use super::error::CgroupError;
use super::fs::CgroupFs;
use super::host::Mode;
use super::layout::{HierDir, Layout};
use super::{Placed, SelfPlacement};

/// runc's RemovePath retries EBUSY 5 times starting at 10ms, doubling (tasks take a moment to
/// leave a cgroup after they are killed and reaped).
const RMDIR_RETRIES: u32 = 5;
const RMDIR_FIRST_DELAY: Duration = Duration::from_millis(10);

pub struct FsManager {
    pub(super) layout: Layout,
    encoded: String,
    pub(super) rootless: bool,
    pub(super) fs: Box<dyn CgroupFs>,
    pub(super) devices: Box<dyn DeviceFilterInstaller>,
    /// Directories made by `create`, in creation order (parents before children).
    created: RefCell<Vec<PathBuf>>,
    /// Rootless only: hierarchies whose directory could not be created (no permission).
    pub(super) unavailable: RefCell<Vec<PathBuf>>,
}

fn is_permission(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
    )
}

impl FsManager {
    pub fn new(
        layout: Layout,
        rootless: bool,
        fs: Box<dyn CgroupFs>,
        devices: Box<dyn DeviceFilterInstaller>,
    ) -> Self {
        FsManager {
            encoded: layout.encode(),
            layout,
            rootless,
            fs,
            devices,
            created: RefCell::new(Vec::new()),
            unavailable: RefCell::new(Vec::new()),
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub(super) fn usable(&self, dir: &Path) -> bool {
        !self.unavailable.borrow().iter().any(|d| d == dir)
    }

    pub fn path(&self) -> &str {
        &self.encoded
    }

    /// [`FsManager::path`] without the hierarchies `create` skipped (rootless); `None` when
    /// nothing is left.
    pub fn persisted_path(&self) -> Option<String> {
        if self.unavailable.borrow().is_empty() {
            return Some(self.encoded.clone());
        }
        let mut layout = self.layout.clone();
        layout.v1.retain(|h| self.usable(&h.dir));
        if layout
            .unified
            .as_ref()
            .is_some_and(|u| !self.usable(&u.dir))
        {
            layout.unified = None;
        }
        if layout.v1.is_empty() && layout.unified.is_none() {
            return None;
        }
        Some(layout.encode())
    }

    /// mkdir -p that records each level it made.
    fn make_dir(&self, dir: &Path) -> io::Result<()> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if self.fs.exists(d) {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            match self.fs.mkdir(&d) {
                Ok(()) => self.created.borrow_mut().push(d),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Delegate every controller `dir` has to its children (best effort).
    fn enable_subtree(&self, dir: &Path) {
        let Ok(avail) = self.fs.read(&dir.join("cgroup.controllers")) else {
            return;
        };
        let wanted: Vec<String> = avail.split_whitespace().map(|c| format!("+{c}")).collect();
        if wanted.is_empty() {
            return;
        }
        let stc = dir.join("cgroup.subtree_control");
        if self.fs.write(&stc, &wanted.join(" ")).is_err() {
            for w in &wanted {
                let _ = self.fs.write(&stc, w);
            }
        }
    }

    /// cgroup2 mkdir -p: a controller is only usable in a child if every ancestor lists it in
    /// cgroup.subtree_control. Like runc's fs2 CreateCgroupPath, walk from the mount point
    /// down, enabling everything available at each level before making the next; failures are
    /// left for `apply` to report per field (the controller will be missing from our
    /// cgroup.controllers).
    fn make_dir_v2(&self, h: &HierDir) -> io::Result<()> {
        let rel = h
            .mount
            .as_ref()
            .and_then(|m| Some((m, h.dir.strip_prefix(m).ok()?)));
        let Some((mount, rel)) = rel else {
            return self.make_dir(&h.dir);
        };
        let mut cur = mount.clone();
        for c in rel.components() {
            self.enable_subtree(&cur);
            cur.push(c);
            self.make_dir(&cur)?;
        }
        Ok(())
    }

    /// v1 cpuset: a new cgroup starts with empty cpuset.cpus/mems and refuses tasks, so copy
    /// the parent's values down every level that is still empty (runc cpuset `ensureParent`).
    fn fill_cpuset(&self, dir: &Path) -> Result<(), CgroupError> {
        let mut chain = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            let cpus = self.fs.read(&d.join("cpuset.cpus")).unwrap_or_default();
            if !cpus.trim().is_empty() {
                break;
            }
            chain.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in chain.into_iter().rev() {
            let Some(parent) = d.parent() else { continue };
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let mine = self.fs.read(&d.join(file)).unwrap_or_default();
                if !mine.trim().is_empty() {
                    continue;
                }
                let from = parent.join(file);
                let value = self
                    .fs
                    .read(&from)
                    .map_err(|e| CgroupError::io("read", &from, e))?;
                let to = d.join(file);
                self.fs
                    .write(&to, value.trim())
                    .map_err(|e| CgroupError::io("write", &to, e))?;
            }
        }
        Ok(())
    }

    fn create_one(&self, h: &HierDir) -> Result<(), CgroupError> {
        let made = if self.layout.mode == Mode::V2 {
            self.make_dir_v2(h)
        } else {
            self.make_dir(&h.dir)
        };
        match made {
            Ok(()) => {}
            Err(e) if self.rootless && is_permission(&e) => {
                // runc rootless: a hierarchy we may not write is skipped; limits that need it
                // fail in apply with a message naming the field.
                self.unavailable.borrow_mut().push(h.dir.clone());
                return Ok(());
            }
            Err(e) => return Err(CgroupError::io("mkdir", &h.dir, e)),
        }
        if self.layout.mode != Mode::V2 && h.controllers.iter().any(|c| c == "cpuset") {
            self.fill_cpuset(&h.dir)?;
        }
        Ok(())
    }

    /// Make the directories; on failure take back exactly the levels made so far (a caller
    /// that never got a manager it could `destroy` must not leak them), leaving anything that
    /// existed before alone. `destroy` afterwards is still safe.
    pub fn create(&self) -> Result<(), CgroupError> {
        for h in self.layout.all() {
            if let Err(e) = self.create_one(h) {
                self.undo_created();
                return Err(e);
            }
        }
        Ok(())
    }

    /// rmdir every level `create` made, deepest first; errors other than "gone" or "in use"
    /// are returned after trying them all.
    fn undo_created(&self) -> Option<CgroupError> {
        let created: Vec<PathBuf> = self.created.borrow_mut().drain(..).rev().collect();
        let mut first_err = None;
        for d in created {
            match self.rmdir_retry(&d) {
                Ok(()) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EBUSY)) => {}
                Err(e) => {
                    first_err.get_or_insert(CgroupError::io("rmdir", &d, e));
                }
            }
        }
        first_err
    }

    pub fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        self.add_task_rest(pid, Placed::default())
    }

    /// Every hierarchy's directory this manager may use: the cgroup2 one to be born in, the
    /// v1 ones to move into by the `tasks` file.
    pub fn self_placement(&self) -> SelfPlacement {
        let birth = (self.layout.unified.as_ref())
            .filter(|u| self.usable(&u.dir))
            .map(|u| u.dir.clone());
        let v1 = (self.layout.v1.iter())
            .filter(|h| self.usable(&h.dir))
            .map(|h| h.dir.clone())
            .collect();
        SelfPlacement { birth, v1 }
    }

    /// `add_task` minus what the process reached by itself.
    pub fn add_task_rest(&self, pid: i32, placed: Placed) -> Result<(), CgroupError> {
        let v1 = self.layout.v1.iter().filter(|_| !placed.self_joined);
        let unified = self.layout.unified.iter().filter(|_| !placed.born);
        for h in v1.chain(unified).filter(|h| self.usable(&h.dir)) {
            let procs = h.dir.join("cgroup.procs");
            self.fs
                .write(&procs, &pid.to_string())
                .map_err(|e| CgroupError::io("add task to", &procs, e))?;
        }
        Ok(())
    }

    /// The directory whose cgroup.procs lists the container's processes.
    pub(super) fn procs_dir(&self) -> Option<&Path> {
        if self.layout.mode == Mode::V2 {
            return self.layout.unified.as_ref().map(|u| u.dir.as_path());
        }
        ["pids", "devices", "freezer", "memory"]
            .iter()
            .filter_map(|c| self.layout.dir_for(c))
            .chain(self.layout.v1.iter().map(|h| h.dir.as_path()))
            .find(|d| self.usable(d))
    }

    fn collect_pids(&self, dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
        let procs = dir.join("cgroup.procs");
        let text = self
            .fs
            .read(&procs)
            .map_err(|e| CgroupError::io("read", &procs, e))?;
        out.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        let subdirs = self
            .fs
            .subdirs(dir)
            .map_err(|e| CgroupError::io("list", dir, e))?;
        for sub in subdirs {
            self.collect_pids(&sub, out)?;
        }
        Ok(())
    }

    /// Every process in the container's cgroup and its child cgroups (runc `GetAllPids`, what
    /// `kill --all` and `ps` need).
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let Some(dir) = self.procs_dir() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        self.collect_pids(dir, &mut out)?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    fn rmdir_retry(&self, dir: &Path) -> io::Result<()> {
        let mut delay = RMDIR_FIRST_DELAY;
        for attempt in 0..=RMDIR_RETRIES {
            match self.fs.rmdir(dir) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < RMDIR_RETRIES => {
                    self.fs.sleep(delay);
                    delay *= 2;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Remove `dir` and any child cgroups the container made inside it, deepest first.
    /// rmdir comes first: the common container has no child cgroup, and listing a cgroup
    /// directory reads its dozens of knob files. Only a busy directory (a child cgroup made
    /// by `exec --cgroup` or a nested runtime, or tasks still leaving) is listed; then the
    /// children go and the bounded retry waits for a dying cgroup as before.
    fn remove_tree(&self, dir: &Path) -> Result<(), CgroupError> {
        match self.fs.rmdir(dir) {
            Ok(()) => return Ok(()),
            // Nothing there (or a non-directory left by someone else): nothing of ours.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                return Ok(())
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::ENOTEMPTY)) => {}
            Err(e) => return Err(CgroupError::io("rmdir", dir, e)),
        }
        let subdirs = match self.fs.subdirs(dir) {
            Ok(s) => s,
            // Removed meanwhile (a dying cgroup finishing, another delete): gone is fine.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
            Err(e) => return Err(CgroupError::io("list", dir, e)),
        };
        for sub in subdirs {
            self.remove_tree(&sub)?;
        }
        self.rmdir_retry(dir)
            .map_err(|e| CgroupError::io("rmdir", dir, e))
    }

    pub fn destroy(&self) -> Result<(), CgroupError> {
        let mut first_err = None;
        for h in self.layout.all().filter(|h| self.usable(&h.dir)) {
            if let Err(e) = self.remove_tree(&h.dir) {
                first_err.get_or_insert(e);
            }
        }
        // Parents we made ourselves go too, if nothing else has moved in meanwhile.
        if let Some(e) = self.undo_created() {
            first_err.get_or_insert(e);
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
