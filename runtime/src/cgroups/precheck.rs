//! What `create` checks about the container's cgroup before it makes anything (runc 1.1
//! libcontainer `Create`): a config the host's cgroup version cannot take, a cgroup that
//! already holds processes (a warning: runc 1.1 still allows sharing), and a frozen one (an
//! error: the init would join it, freeze before it could report back, and `create` would wait
//! forever).
//!
//! runc reads only the container's own freezer state, so a cgroup frozen through a frozen
//! ancestor passes its check and the create hangs; here the nearest existing level is read
//! (v1 `freezer.state` reports an ancestor's freeze too) and every ancestor's `cgroup.freeze`
//! on cgroup2, so both cases are refused.

use std::io;
use std::path::Path;

use oci_spec::runtime::LinuxResources;

use super::error::CgroupError;
use super::host::Mode;
use super::layout::HierDir;
use super::manager::FsManager;

/// What the pre-check found that the caller should report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Precheck {
    /// Processes already in the container's cgroup (runc warns and goes on).
    pub processes: usize,
}

/// Who froze the container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frozen {
    No,
    Itself,
    Ancestor,
}

fn not_there(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENODEV)
}

/// runc's validator (`cgroupsCheck`): `unified` holds cgroup2 file names, which a host not in
/// unified mode cannot take, hybrid included. runc copies the map only when it has entries,
/// so an empty one passes.
pub fn validate(mode: Mode, r: &LinuxResources) -> Result<(), CgroupError> {
    match r.unified() {
        Some(u) if !u.is_empty() && mode != Mode::V2 => Err(unified_needs_v2(mode)),
        _ => Ok(()),
    }
}

/// runc's `ErrV1NoUnified`, naming the field and saying why a hybrid host counts as v1.
pub(super) fn unified_needs_v2(mode: Mode) -> CgroupError {
    let host = if mode == Mode::Hybrid {
        "this host is hybrid: controllers are driven through cgroup v1"
    } else {
        "this host is cgroup v1"
    };
    CgroupError::InvalidConfig {
        field: "linux.resources.unified".into(),
        reason: format!("cannot use unified on cgroup v1 ({host})"),
    }
}

impl FsManager {
    /// Validate `r` for this host, refuse a frozen cgroup and count the processes already in
    /// it. Reads only: nothing is made, so a refusal leaves nothing behind.
    pub fn precheck(&self, r: Option<&LinuxResources>) -> Result<Precheck, CgroupError> {
        if let Some(r) = r {
            validate(self.layout.mode, r)?;
        }
        let processes = self.existing_processes()?;
        for h in self.freezable() {
            let frozen = self.frozen_state(h)?;
            if frozen != Frozen::No {
                return Err(CgroupError::AlreadyFrozen {
                    path: h.dir.clone(),
                    ancestor: frozen == Frozen::Ancestor,
                });
            }
        }
        Ok(Precheck { processes })
    }

    /// The hierarchies whose freezing stops the container's tasks: the v1 freezer, and
    /// cgroup2 (its freezer is a core feature, so a hybrid host's unified hierarchy can freeze
    /// tasks too, even though runc checks only v1 there).
    fn freezable(&self) -> impl Iterator<Item = &HierDir> {
        let v1 = match self.layout.mode {
            Mode::V2 => None,
            Mode::V1 | Mode::Hybrid => self
                .layout
                .v1
                .iter()
                .find(|h| h.controllers.iter().any(|c| c == "freezer")),
        };
        v1.into_iter().chain(self.layout.unified.iter())
    }

    fn existing_processes(&self) -> Result<usize, CgroupError> {
        let Some(dir) = self.procs_dir() else {
            return Ok(0);
        };
        if !self.fs.exists(dir) {
            return Ok(0);
        }
        match self.pids() {
            Ok(p) => Ok(p.len()),
            // Removed meanwhile (runc ignores ENOENT and ENODEV here too).
            Err(CgroupError::Io { source, .. }) if not_there(&source) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// The freezer state of `h.dir`, or of the nearest level above it that exists (a new
    /// cgroup inherits its parent's freeze).
    fn frozen_state(&self, h: &HierDir) -> Result<Frozen, CgroupError> {
        let stop = h.mount.as_deref();
        let mut cur = Some(h.dir.as_path());
        while let Some(d) = cur {
            if Some(d) != stop && !self.fs.exists(d) {
                cur = d.parent();
                continue;
            }
            let own = d == h.dir;
            return if h.controllers.is_empty() {
                self.v2_frozen(d, stop, own)
            } else {
                self.v1_frozen(d, own)
            };
        }
        Ok(Frozen::No)
    }

    /// v1: `freezer.state` is FROZEN (or FREEZING, on its way there) when this level or any
    /// ancestor is frozen; `freezer.self_freezing` says whether it was this level.
    fn v1_frozen(&self, dir: &Path, own: bool) -> Result<Frozen, CgroupError> {
        let Some(state) = self.read_opt(&dir.join("freezer.state"))? else {
            // The root cgroup has no freezer.state: it cannot be frozen.
            return Ok(Frozen::No);
        };
        if !matches!(state.trim(), "FROZEN" | "FREEZING") {
            return Ok(Frozen::No);
        }
        let by_self = self
            .read_opt(&dir.join("freezer.self_freezing"))?
            .is_some_and(|s| s.trim() == "1");
        Ok(if own && by_self {
            Frozen::Itself
        } else {
            Frozen::Ancestor
        })
    }

    /// cgroup2: `cgroup.freeze` is this level's own request; walk up to the mount point to
    /// find an ancestor's.
    fn v2_frozen(&self, dir: &Path, stop: Option<&Path>, own: bool) -> Result<Frozen, CgroupError> {
        let mut cur = Some(dir);
        let mut first = own;
        while let Some(d) = cur {
            let set = self
                .read_opt(&d.join("cgroup.freeze"))?
                .is_some_and(|s| s.trim() == "1");
            if set {
                return Ok(if first {
                    Frozen::Itself
                } else {
                    Frozen::Ancestor
                });
            }
            if Some(d) == stop || stop.is_none() && d.parent().is_none() {
                break;
            }
            cur = d.parent();
            first = false;
        }
        Ok(Frozen::No)
    }

    fn read_opt(&self, path: &Path) -> Result<Option<String>, CgroupError> {
        match self.fs.read(path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if not_there(&e) => Ok(None),
            Err(e) => Err(CgroupError::io("read", path, e)),
        }
    }
}

#[cfg(test)]
mod tests;
