//! Id-mapped bind mounts (runtime-spec 1.1 config.md#mounts: `uidMappings`/`gidMappings`,
//! and the `idmap`/`ridmap` options): files on the source show their owners through the
//! mapping, and files created through the mount are stored with the unmapped ids.
//!
//! mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the user namespace that owns the
//! source mount, the host's, which the init no longer has once it is in a user namespace of
//! its own. So, as runc 1.2 does, the parent makes each tree before the clone: a detached copy
//! of the source (open_tree), id-mapped through a user namespace that carries the mapping, and
//! the init only attaches it at the resolved destination (`bind::bind`). The rules below are
//! runc's (libcontainer/configs/validate checkIDMapMounts, specconv) and its wording.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Spec};

use super::mounts::Entry;
use super::options::IdmapScope;
use super::RootfsError;
use crate::sys::mount::Handle;

/// Where the mapping of one mount comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingSource {
    /// The mount's own mappings, or the container's when the mount names none.
    Maps {
        uid: Vec<LinuxIdMapping>,
        gid: Vec<LinuxIdMapping>,
    },
    /// The user namespace the container joins by path (`idmap` without mappings).
    Joined(PathBuf),
}

/// One id-mapped mount to prepare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Index in `mounts[]`.
    pub index: usize,
    /// Host path of the source, relative ones taken from the bundle.
    pub source: PathBuf,
    /// `rbind`: the source's whole mount tree is copied.
    pub tree: bool,
    pub scope: IdmapScope,
    pub mapping: MappingSource,
}

/// The id-mapped mounts of `spec`, checked. Pure: `config::validate` calls it before anything
/// exists, so a bad entry fails `create` naming its field.
pub fn requests(spec: &Spec, bundle: &Path) -> Result<Vec<Request>, RootfsError> {
    let mut out = Vec::new();
    for (index, m) in spec.mounts().iter().flatten().enumerate() {
        let e = Entry::from_config(index, m, Path::new("/"));
        let Some(scope) = e.opts.idmap else {
            continue;
        };
        let field = |f: &str| format!("mounts[{index}].{f}");
        if !e.is_bind() {
            return Err(RootfsError::config(
                field("options"),
                "id-mapped mounts are only supported for bind-mounts",
            ));
        }
        let own = (m.uid_mappings().as_ref(), m.gid_mappings().as_ref());
        let mapping = match own {
            (None, None) => container_mapping(spec).ok_or_else(|| {
                RootfsError::config(
                    field("uidMappings"),
                    "id-mapped mounts must have both uid and gid mappings specified (the mount names none and the container has no user namespace)",
                )
            })?,
            (Some(uid), Some(gid)) if !uid.is_empty() && !gid.is_empty() => MappingSource::Maps {
                uid: uid.clone(),
                gid: gid.clone(),
            },
            _ => {
                return Err(RootfsError::config(
                    field("uidMappings"),
                    "id-mapped mounts must have both uid and gid mappings specified",
                ))
            }
        };
        if let MappingSource::Maps { uid, gid } = &mapping {
            for (name, maps) in [("uidMappings", uid), ("gidMappings", gid)] {
                crate::container::checks::check_id_mappings(&field(name), maps)
                    .map_err(|reason| RootfsError::config(field(name), reason))?;
            }
        }
        let source = e
            .source
            .clone()
            .ok_or_else(|| RootfsError::config(field("source"), "a bind mount needs a source"))?;
        out.push(Request {
            index,
            source: bundle.join(source),
            tree: e.opts.flags.contains(nix::mount::MsFlags::MS_REC),
            scope,
            mapping,
        });
    }
    Ok(out)
}

/// runc's specconv: `idmap`/`ridmap` without mappings take the container's user namespace,
/// its path when it joins one, else its mappings.
fn container_mapping(spec: &Spec) -> Option<MappingSource> {
    let linux = spec.linux().as_ref()?;
    let user = linux
        .namespaces()
        .iter()
        .flatten()
        .find(|n| n.typ() == LinuxNamespaceType::User)?;
    if let Some(path) = user.path() {
        return Some(MappingSource::Joined(path.clone()));
    }
    Some(MappingSource::Maps {
        uid: linux.uid_mappings().clone().unwrap_or_default(),
        gid: linux.gid_mappings().clone().unwrap_or_default(),
    })
}

/// What preparing a tree needs from the system: the seam the unit tests replace.
pub trait IdmapSys {
    /// A user namespace carrying these maps.
    fn userns(&mut self, uid: &[LinuxIdMapping], gid: &[LinuxIdMapping]) -> io::Result<OwnedFd>;
    fn open_userns(&mut self, path: &Path) -> io::Result<OwnedFd>;
    fn clone_tree(&mut self, source: &Path, recursive: bool) -> io::Result<OwnedFd>;
    fn set_idmap(&mut self, tree: &OwnedFd, userns: &OwnedFd, recursive: bool) -> io::Result<()>;
}

/// Detached, id-mapped trees by index in `mounts[]`; the parent holds them across the clone
/// and the init attaches them.
#[derive(Debug, Default)]
pub struct IdmappedMounts {
    trees: Vec<(usize, OwnedFd)>,
}

#[derive(Debug, thiserror::Error)]
#[error("mounts[{index}]: cannot make the id-mapped mount of {}: {step}: {source}{hint}", path.display(),
    hint = if source.raw_os_error() == Some(libc::EINVAL) && *step == "mount_setattr" {
        " (the source's filesystem may not support id-mapped mounts on this kernel)"
    } else { "" })]
pub struct IdmapError {
    pub index: usize,
    pub path: PathBuf,
    pub step: &'static str,
    #[source]
    pub source: io::Error,
}

impl IdmappedMounts {
    /// Makes every tree `requests` lists. Mounts with the same mapping share one user
    /// namespace. Refused for a runtime without root: the mapping needs CAP_SYS_ADMIN in the
    /// host's user namespace (runc: "not supported for rootless containers").
    pub fn prepare(
        sys: &mut dyn IdmapSys,
        requests: &[Request],
        rootless: bool,
    ) -> Result<Self, RootfsError> {
        if let (Some(r), true) = (requests.first(), rootless) {
            return Err(RootfsError::config(
                format!("mounts[{}]", r.index),
                "id-mapped mounts are not supported for rootless containers",
            ));
        }
        // Few mounts, compared by value: a list is enough.
        let mut namespaces: Vec<(MappingSource, OwnedFd)> = Vec::new();
        let mut trees = Vec::new();
        for r in requests {
            let fail = |step, source| IdmapError {
                index: r.index,
                path: r.source.clone(),
                step,
                source,
            };
            let known = namespaces.iter().position(|(m, _)| *m == r.mapping);
            let at = match known {
                Some(at) => at,
                None => {
                    let ns = match &r.mapping {
                        MappingSource::Maps { uid, gid } => sys.userns(uid, gid),
                        MappingSource::Joined(path) => sys.open_userns(path),
                    }
                    .map_err(|e| fail("user namespace", e))?;
                    namespaces.push((r.mapping.clone(), ns));
                    namespaces.len() - 1
                }
            };
            let userns = &namespaces[at].1;
            let tree = sys
                .clone_tree(&r.source, r.tree)
                .map_err(|e| fail("open_tree", e))?;
            sys.set_idmap(&tree, userns, r.scope == IdmapScope::Recursive)
                .map_err(|e| fail("mount_setattr", e))?;
            trees.push((r.index, tree));
        }
        Ok(IdmappedMounts { trees })
    }

    /// (mount index, handle) of each tree, for [`super::RootfsContext::idmapped`].
    pub fn handles(&self) -> Vec<(usize, Handle)> {
        self.trees
            .iter()
            .map(|(i, fd)| (*i, Handle(fd.as_fd().as_raw_fd())))
            .collect()
    }
}

#[cfg(test)]
#[path = "idmapped_tests.rs"]
mod tests;
