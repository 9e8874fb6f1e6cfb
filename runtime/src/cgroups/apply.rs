//! Applying `linux.resources` through a [`FsManager`]: plan, check every write's controller is
//! really available (so nothing is half-applied because of a missing controller), write, then
//! program the devices policy (v1 files or the v2 eBPF filter).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use super::devices::{effective_rules, program, Policy};
use super::error::CgroupError;
use super::host::Mode;
use super::manager::FsManager;
use super::resources::{plan, Probe, Write};

/// Reads the container's own cgroup files for planning decisions.
struct LayoutProbe<'a>(&'a FsManager);

impl Probe for LayoutProbe<'_> {
    fn read(&self, controller: &str, file: &str) -> Option<String> {
        let dir = self.0.layout.dir_for(controller)?;
        self.0.fs.read(&dir.join(file)).ok()
    }
}

impl FsManager {
    /// Controllers enabled for our cgroup2 directory (its cgroup.controllers).
    fn v2_controllers(&self, dir: &Path) -> Result<BTreeSet<String>, CgroupError> {
        let f = dir.join("cgroup.controllers");
        let text = self
            .fs
            .read(&f)
            .map_err(|e| CgroupError::io("read", &f, e))?;
        Ok(text.split_whitespace().map(str::to_string).collect())
    }

    /// Where each write goes, or the error naming its field when the controller is missing.
    fn targets(&self, writes: &[Write]) -> Result<Vec<PathBuf>, CgroupError> {
        let v2 = match (self.layout.mode, &self.layout.unified) {
            (Mode::V2, Some(u)) if self.usable(&u.dir) => Some(self.v2_controllers(&u.dir)?),
            _ => None,
        };
        let mut out = Vec::with_capacity(writes.len());
        for w in writes {
            let not_available = |why: &str| {
                CgroupError::unsupported(
                    w.field.clone(),
                    format!("{} controller not available{why}", w.controller),
                )
            };
            let dir = match self.layout.dir_for(w.controller) {
                None if self.layout.mode == Mode::Hybrid => {
                    return Err(not_available(
                        " (not mounted as cgroup v1; on a hybrid host controllers are only \
                         used through v1, like runc)",
                    ))
                }
                None => return Err(not_available(" (not mounted)")),
                Some(d) => d,
            };
            if !self.usable(dir) {
                return Err(CgroupError::unsupported(
                    w.field.clone(),
                    format!(
                        "cannot set {} limit: container could not join or create cgroup (rootless)",
                        w.controller
                    ),
                ));
            }
            if let Some(enabled) = &v2 {
                if w.controller != "cgroup" && !enabled.contains(w.controller) {
                    return Err(not_available(" (not enabled in cgroup.controllers)"));
                }
            }
            out.push(dir.join(&w.file));
        }
        Ok(out)
    }

    fn write_one(&self, w: &Write, path: &Path) -> Result<(), CgroupError> {
        self.fs
            .write(path, &w.value)
            .map_err(|source| CgroupError::Write {
                field: w.field.clone(),
                path: path.to_path_buf(),
                value: w.value.clone(),
                source,
            })?;
        let Some(name) = w.verify else {
            return Ok(());
        };
        let got = self
            .fs
            .read(path)
            .map_err(|e| CgroupError::io("read back", path, e))?;
        let got = got.trim();
        if got == w.value {
            return Ok(());
        }
        // runc's words (fs/cpu.go): the kernel clamped the value to its bound.
        let bound = match (w.value.parse::<i64>(), got.parse::<i64>()) {
            (Ok(want), Ok(set)) if want > set => "maximum",
            (Ok(_), Ok(_)) => "minimum",
            _ => "only",
        };
        Err(CgroupError::unsupported(
            w.field.clone(),
            format!(
                "the {bound} allowed {name} is {got} (asked for {}; the kernel set {} to {got})",
                w.value, w.file
            ),
        ))
    }

    /// Write in order. A write marked `retry_after_next` that the kernel refuses with EINVAL
    /// is tried once more right after the next write (runc's cpu quota/period dance).
    fn write_all(&self, writes: &[Write], paths: &[PathBuf]) -> Result<(), CgroupError> {
        let mut deferred: Option<(&Write, &PathBuf)> = None;
        for (w, path) in writes.iter().zip(paths) {
            match self.write_one(w, path) {
                Err(CgroupError::Write { source, .. })
                    if w.retry_after_next
                        && deferred.is_none()
                        && source.raw_os_error() == Some(libc::EINVAL) =>
                {
                    deferred = Some((w, path));
                    continue;
                }
                other => other?,
            }
            if let Some((w, path)) = deferred.take() {
                self.write_one(w, path)?;
            }
        }
        match deferred {
            Some((w, path)) => self.write_one(w, path),
            None => Ok(()),
        }
    }

    fn apply_devices(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        let policy = Policy::fold(&effective_rules(r.devices().as_deref())?);
        let result = match self.layout.mode {
            Mode::V1 | Mode::Hybrid => self.apply_devices_v1(&policy),
            Mode::V2 => match &self.layout.unified {
                Some(u) if self.usable(&u.dir) => {
                    self.devices.install(&u.dir, &program::compile(&policy))
                }
                _ => Err(CgroupError::unsupported(
                    "linux.resources.devices",
                    "container could not join or create its cgroup",
                )),
            },
        };
        match result {
            // runc: device errors are expected (and ignored) for rootless containers, which
            // cannot program the devices cgroup at all; the user namespace still confines them.
            Err(_) if self.rootless => Ok(()),
            other => other,
        }
    }

    fn apply_devices_v1(&self, policy: &Policy) -> Result<(), CgroupError> {
        let dir = self.layout.dir_for("devices").ok_or_else(|| {
            CgroupError::unsupported(
                "linux.resources.devices",
                "devices controller not available",
            )
        })?;
        for (file, line) in policy.v1_writes() {
            let path = dir.join(file);
            self.fs
                .write(&path, &line)
                .map_err(|source| CgroupError::Write {
                    field: "linux.resources.devices".into(),
                    path,
                    value: line.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Full application at create time: resources, then the device policy (config rules plus
    /// runc's default allow list; a config without rules still gets deny-all + defaults, as
    /// with runc).
    pub fn apply(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        self.update(r)?;
        self.apply_devices(r)
    }

    /// `ferrun update`: resources only. runc's update cannot change device rules either, and
    /// re-writing the v1 policy would briefly deny every device of a running container.
    pub fn update(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        let writes = plan(self.layout.mode, r, &LayoutProbe(self))?;
        let paths = self.targets(&writes)?;
        self.write_all(&writes, &paths)
    }
}

#[cfg(test)]
mod tests;
