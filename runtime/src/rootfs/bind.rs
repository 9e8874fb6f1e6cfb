//! Bind mounts (config.md#mounts with `bind`/`rbind`), and the sources the parent opens for
//! them when the container has a user namespace.
//!
//! In a new user namespace the init runs as the namespace's root, which is an unprivileged
//! uid on the host: a source only the host's root can reach (a 0700 directory) is out of its
//! reach. runc opens such sources before it enters the user namespace and hands the fds to
//! its init. ferrun's parent does the same before the clone: it makes a detached copy of
//! each source mount (`open_tree(OPEN_TREE_CLONE)`, as the host's root), the cloned init
//! inherits the fds ([`BindSources`]) and attaches each copy at its destination. A detached
//! copy, unlike an `O_PATH` fd, can be attached in another mount namespace.

use super::mounts::{check_proc_destination, propagate, recursive_attrs, remount, Entry};
use super::resolve::{resolve_in_root, Create};
use super::{Env, RootfsError};
use crate::sys::mount::{FileKind, Handle, Loc, MountSys, RealMountSys};
use nix::mount::MsFlags;
use oci_spec::runtime::Spec;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// Detached copies of bind sources, by index in `mounts[]`, opened by the parent.
#[derive(Debug, Default)]
pub struct BindSources {
    trees: Vec<(usize, OwnedFd)>,
}

impl BindSources {
    /// A detached copy of every bind source in `spec` that the parent can open. A source it
    /// cannot open is left to the init, whose error then names it as usual.
    pub fn open(sys: &RealMountSys, spec: &Spec, bundle: &Path, rootfs: &Path) -> Self {
        let mut trees = Vec::new();
        for (i, m) in spec.mounts().iter().flatten().enumerate() {
            let Ok(e) = Entry::from_config(i, m, rootfs) else {
                continue;
            };
            let Some(source) = e.is_bind().then(|| source_path(bundle, &e)).flatten() else {
                continue;
            };
            let recursive = e.opts.flags.contains(MsFlags::MS_REC);
            if let Ok(h) = sys.clone_tree(&source, recursive) {
                trees.push((i, crate::sys::fd::adopt(h.0)));
            }
        }
        BindSources { trees }
    }

    /// (mount index, handle) of each copy, for [`super::RootfsContext::bind_sources`].
    pub fn handles(&self) -> Vec<(usize, Handle)> {
        self.trees
            .iter()
            .map(|(i, fd)| (*i, Handle(fd.as_raw_fd())))
            .collect()
    }

    /// The fds the init must keep across its fd cleanup.
    pub fn fds(&self) -> Vec<RawFd> {
        self.trees.iter().map(|(_, fd)| fd.as_raw_fd()).collect()
    }
}

/// The host path of a bind source: relative sources are relative to the bundle.
fn source_path(bundle: &Path, e: &Entry) -> Option<PathBuf> {
    let source = e.source.as_ref()?;
    Some(if source.is_absolute() {
        source.clone()
    } else {
        bundle.join(source)
    })
}

/// Options a bind mount has no use for (a filesystem's `mode=`, `size=`): mount(2) ignores
/// the data string of a bind, so runc passes them by unnoticed and crun drops them with a
/// warning. One debug line per mount, for the parent to log before anything is created.
pub fn ignored_options(spec: &Spec, rootfs: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let Ok(e) = Entry::from_config(i, m, rootfs) else {
            continue;
        };
        if e.is_bind() && !e.opts.data.is_empty() {
            out.push(format!(
                "mounts[{i}] {}: options {:?} mean nothing to a bind mount; ignored",
                e.destination.display(),
                e.opts.data
            ));
        }
    }
    out
}

/// Performs one bind mount: the parent's detached copy when there is one, else the source
/// path; then the remount for its flags, recursive attributes and propagation.
pub fn bind(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    let tree = env
        .bind_sources
        .iter()
        .find(|(i, _)| *i == e.index)
        .map(|(_, h)| *h);
    let source = source_path(env.bundle, e).ok_or_else(|| {
        RootfsError::config(
            format!("mounts[{}].source", e.index),
            "a bind mount needs a source",
        )
    })?;
    let kind = match tree {
        Some(h) => env.sys.stat(h).map(|s| s.kind),
        None => source_kind(env.sys, &source),
    };
    let kind = kind.map_err(|err| RootfsError::sys("open bind source", &source, err))?;
    let create = if kind == FileKind::Dir {
        Create::Dir
    } else {
        Create::File
    };
    let fd = resolve_in_root(env.sys, env.root, &e.destination, create, false)?;
    check_proc_destination(env.sys, &fd, e)?;
    let done = match tree {
        Some(h) => env.sys.attach(h, fd.handle()),
        None => env.sys.mount(
            Some(Loc::Path(&source)),
            Loc::Handle(fd.handle()),
            None,
            e.opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            None,
        ),
    };
    done.map_err(|err| RootfsError::sys("bind mount", &e.destination, err))?;
    drop(fd);
    // A bind ignores every other flag: apply them with a remount (runc does the same).
    if !(e.opts.flags - (MsFlags::MS_REC | MsFlags::MS_REMOUNT | MsFlags::MS_BIND)).is_empty() {
        remount(env, &e.destination, e.opts.flags | MsFlags::MS_REMOUNT)?;
    }
    recursive_attrs(env, e)?;
    propagate(env, &e.destination, &e.opts.propagation)
}

fn source_kind(sys: &dyn MountSys, source: &Path) -> std::io::Result<FileKind> {
    let src = sys.open(source)?;
    let kind = sys.stat(src).map(|s| s.kind);
    sys.close(src);
    kind
}
