//! Freezing and thawing (pause/resume).
//!
//! v1: write FROZEN/THAWED to freezer.state and poll it until the kernel leaves the transient
//! FREEZING state (runc rewrites FROZEN while waiting, since a task forking during the freeze
//! can make the first attempt fail). v2: write 1/0 to cgroup.freeze and wait for
//! `frozen 1`/`frozen 0` in cgroup.events. If freezing does not settle, thaw again so the
//! container is not left half-frozen, and report it.

use std::path::Path;
use std::time::Duration;

use super::error::CgroupError;
use super::host::Mode;
use super::manager::FsManager;

const POLL: Duration = Duration::from_millis(10);
const ATTEMPTS: u32 = 200; // ~2s

impl FsManager {
    fn freezer_dir(&self) -> Result<&Path, CgroupError> {
        let dir = match self.layout.mode {
            Mode::V2 => self.layout.unified.as_ref().map(|u| u.dir.as_path()),
            Mode::V1 | Mode::Hybrid => self.layout.dir_for("freezer"),
        };
        dir.filter(|d| self.usable(d))
            .ok_or_else(|| CgroupError::NotMounted {
                controller: "freezer".into(),
                hint: " (needed for pause/resume)",
            })
    }

    /// Write `value` to `file`, then poll until `settled(content of check)` holds.
    fn transition(
        &self,
        dir: &Path,
        file: &str,
        value: &str,
        check: &str,
        settled: &dyn Fn(&str) -> bool,
        wanted: &'static str,
    ) -> Result<(), CgroupError> {
        let path = dir.join(file);
        let check_path = dir.join(check);
        let mut seen = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt % 10 == 0 {
                self.fs
                    .write(&path, value)
                    .map_err(|source| CgroupError::Write {
                        field: "freezer".into(),
                        path: path.clone(),
                        value: value.into(),
                        source,
                    })?;
            }
            seen = self
                .fs
                .read(&check_path)
                .map_err(|e| CgroupError::io("read", &check_path, e))?;
            if settled(&seen) {
                return Ok(());
            }
            self.fs.sleep(POLL);
        }
        Err(CgroupError::FreezeTimeout {
            path: check_path,
            wanted,
            seen: seen.trim().to_string(),
        })
    }

    fn set_frozen(&self, dir: &Path, frozen: bool) -> Result<(), CgroupError> {
        match self.layout.mode {
            Mode::V2 => {
                let (value, line) = if frozen {
                    ("1", "frozen 1")
                } else {
                    ("0", "frozen 0")
                };
                let settled = |s: &str| s.lines().any(|l| l.trim() == line);
                let wanted = if frozen { "frozen" } else { "thawed" };
                self.transition(
                    dir,
                    "cgroup.freeze",
                    value,
                    "cgroup.events",
                    &settled,
                    wanted,
                )
            }
            Mode::V1 | Mode::Hybrid => {
                let state = if frozen { "FROZEN" } else { "THAWED" };
                let settled = |s: &str| s.trim() == state;
                self.transition(
                    dir,
                    "freezer.state",
                    state,
                    "freezer.state",
                    &settled,
                    state,
                )
            }
        }
    }

    /// Whether the cgroup is frozen, as runc's `isPaused` reads it: v1 `freezer.state` is
    /// FROZEN, v2 `cgroup.freeze` is 1. This, not a recorded status, makes a container
    /// `paused`.
    pub fn frozen(&self) -> Result<bool, CgroupError> {
        let dir = self.freezer_dir()?;
        let (file, want) = match self.layout.mode {
            Mode::V2 => ("cgroup.freeze", "1"),
            Mode::V1 | Mode::Hybrid => ("freezer.state", "FROZEN"),
        };
        let path = dir.join(file);
        let text = self
            .fs
            .read(&path)
            .map_err(|e| CgroupError::io("read", &path, e))?;
        Ok(text.trim() == want)
    }

    /// The freezer directory and whether it is cgroup v2 (see `CgroupManager::freezer`).
    pub fn freezer(&self) -> Option<(std::path::PathBuf, bool)> {
        let dir = self.freezer_dir().ok()?.to_path_buf();
        Some((dir, self.layout.mode == Mode::V2))
    }

    pub fn freeze(&self, frozen: bool) -> Result<(), CgroupError> {
        let dir = self.freezer_dir()?.to_path_buf();
        let result = self.set_frozen(&dir, frozen);
        if frozen && result.is_err() {
            // Best effort: the freeze error is what the user needs to see.
            let _ = self.set_frozen(&dir, false);
        }
        result
    }
}
