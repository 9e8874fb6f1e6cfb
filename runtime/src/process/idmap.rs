//! Writing the init's uid_map and gid_map from the parent, root or not.
//!
//! user_namespaces(7), "Defining user and group ID mappings": a process without CAP_SETUID
//! (CAP_SETGID) in the parent namespace may write only a single line mapping its own effective
//! uid (gid), and for gid_map only after "deny" was written to /proc/<pid>/setgroups (since
//! Linux 3.19; otherwise an unprivileged user could drop groups used in negative ACLs).
//! Any other mapping needs the setuid helpers newuidmap/newgidmap, which check /etc/subuid and
//! /etc/subgid; runc 1.1.5 looks them up on PATH and uses them when it cannot write directly.
//! Without them the error names the config field.

use std::path::PathBuf;

use oci_spec::runtime::LinuxIdMapping;

use crate::namespaces::render_id_map;
use crate::sys::idmap::IdMapSys;

#[derive(Debug, thiserror::Error)]
pub enum IdMapError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{field} {maps:?}: an unprivileged user (id {own}) may only map its own id with size 1 by itself; other mappings need {helper}, which is not on PATH")]
    NoHelper {
        field: &'static str,
        helper: &'static str,
        own: u32,
        maps: String,
    },
    #[error("{field}: {} {} failed: {reason} (check /etc/subuid and /etc/subgid)", helper.display(), args.join(" "))]
    Helper {
        field: &'static str,
        helper: PathBuf,
        args: Vec<String>,
        reason: String,
    },
}

/// Which id map: the config field, the /proc file and the helper differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

impl IdKind {
    fn field(self) -> &'static str {
        match self {
            IdKind::Uid => "linux.uidMappings",
            IdKind::Gid => "linux.gidMappings",
        }
    }
    fn file(self) -> &'static str {
        match self {
            IdKind::Uid => "uid_map",
            IdKind::Gid => "gid_map",
        }
    }
    fn helper(self) -> &'static str {
        match self {
            IdKind::Uid => "newuidmap",
            IdKind::Gid => "newgidmap",
        }
    }
}

/// How one map gets written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapMethod {
    /// Straight into /proc/<pid>/{uid,gid}_map.
    Direct,
    /// Unprivileged single own-id mapping: for gid_map, setgroups must be denied first.
    DirectUnprivileged,
    /// Through newuidmap/newgidmap at this path.
    Helper(PathBuf),
}

/// The caller's identity as the kernel judges a map write.
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    /// Root in the initial user namespace (holds CAP_SETUID/CAP_SETGID there).
    pub privileged: bool,
    pub euid: u32,
    pub egid: u32,
}

/// Decide how to write `maps` (pure: the unit-tested part).
pub fn choose(
    kind: IdKind,
    maps: &[LinuxIdMapping],
    who: Writer,
    helper: impl FnOnce(&str) -> Option<PathBuf>,
) -> Result<MapMethod, IdMapError> {
    if who.privileged {
        return Ok(MapMethod::Direct);
    }
    let own = match kind {
        IdKind::Uid => who.euid,
        IdKind::Gid => who.egid,
    };
    if let [m] = maps {
        if m.host_id() == own && m.size() == 1 {
            return Ok(MapMethod::DirectUnprivileged);
        }
    }
    match helper(kind.helper()) {
        Some(path) => Ok(MapMethod::Helper(path)),
        None => Err(IdMapError::NoHelper {
            field: kind.field(),
            helper: kind.helper(),
            own,
            maps: render_id_map(maps).trim_end().replace('\n', ", "),
        }),
    }
}

/// Write uid_map then gid_map of `pid` (the order runc uses), each by its chosen method.
pub fn write_id_maps(
    sys: &mut dyn IdMapSys,
    pid: i32,
    uid_maps: &[LinuxIdMapping],
    gid_maps: &[LinuxIdMapping],
    who: Writer,
) -> Result<(), IdMapError> {
    for (kind, maps) in [(IdKind::Uid, uid_maps), (IdKind::Gid, gid_maps)] {
        let method = choose(kind, maps, who, |name| sys.find_helper(name))?;
        write_one(sys, pid, kind, maps, &method)?;
    }
    Ok(())
}

fn write_one(
    sys: &mut dyn IdMapSys,
    pid: i32,
    kind: IdKind,
    maps: &[LinuxIdMapping],
    method: &MapMethod,
) -> Result<(), IdMapError> {
    let write = |sys: &mut dyn IdMapSys, file: &str, text: &str| {
        let path = format!("/proc/{pid}/{file}");
        sys.write_proc(&path, text)
            .map_err(|source| IdMapError::Write { path, source })
    };
    match method {
        MapMethod::Direct => write(sys, kind.file(), &render_id_map(maps)),
        MapMethod::DirectUnprivileged => {
            if kind == IdKind::Gid {
                write(sys, "setgroups", "deny")?;
            }
            write(sys, kind.file(), &render_id_map(maps))
        }
        MapMethod::Helper(helper) => {
            // newuidmap PID ID LOWERID COUNT [ID LOWERID COUNT]... (newuidmap(1)).
            let mut args = vec![pid.to_string()];
            for m in maps {
                args.extend([
                    m.container_id().to_string(),
                    m.host_id().to_string(),
                    m.size().to_string(),
                ]);
            }
            sys.run_helper(helper, &args)
                .map_err(|reason| IdMapError::Helper {
                    field: kind.field(),
                    helper: helper.clone(),
                    args,
                    reason,
                })
        }
    }
}

#[cfg(test)]
#[path = "idmap_tests.rs"]
mod tests;
