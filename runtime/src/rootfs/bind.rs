//! Bind mounts (config.md#mounts with `bind`/`rbind`), and their sources opened early when
//! the container has a user namespace.
//!
//! In a new user namespace the init becomes the namespace's root, an unprivileged uid on
//! the host: a source only the host's root can reach (in a 0700 root-owned directory) is out
//! of its reach from then on. runc opens such sources before its init enters the user
//! namespace and hands the fds over. ferrun's init opens them itself ([`BindSources`]) right
//! before it switches uid, still with the host's, and binds from those `O_PATH` fds later.

use super::mounts::{check_proc_destination, propagate, recursive_attrs, remount, Entry};
use super::resolve::Create;
use super::{Env, RootfsError};
use crate::sys::mount::{FileKind, Handle, Loc, MountSys, RealMountSys};
use nix::mount::MsFlags;
use oci_spec::runtime::Spec;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// `O_PATH` fds of bind sources, by index in `mounts[]`.
#[derive(Debug, Default)]
pub struct BindSources {
    fds: Vec<(usize, OwnedFd)>,
}

impl BindSources {
    /// An fd of every bind source in `spec` that can be opened now. A source that cannot is
    /// left to the mount itself, whose error then names it as usual.
    pub fn open(sys: &RealMountSys, spec: &Spec, bundle: &Path, rootfs: &Path) -> Self {
        let mut fds = Vec::new();
        for (i, m) in spec.mounts().iter().flatten().enumerate() {
            let e = Entry::from_config(i, m, rootfs);
            let Some(source) = e.is_bind().then(|| source_path(bundle, &e)).flatten() else {
                continue;
            };
            if let Ok(h) = sys.open(&source) {
                fds.push((i, crate::sys::fd::adopt(h.0)));
            }
        }
        BindSources { fds }
    }

    /// (mount index, handle) of each source, for [`super::RootfsContext::bind_sources`].
    pub fn handles(&self) -> Vec<(usize, Handle)> {
        self.fds
            .iter()
            .map(|(i, fd)| (*i, Handle(fd.as_raw_fd())))
            .collect()
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
        let e = Entry::from_config(i, m, rootfs);
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

/// Performs one bind mount: attaches the parent's id-mapped tree when there is one, else
/// binds from the source's early fd or its path; then the remount for its flags, recursive
/// attributes and propagation.
pub fn bind(env: &Env, e: &Entry) -> Result<(), RootfsError> {
    let by_index =
        |list: &[(usize, Handle)]| list.iter().find(|(i, _)| *i == e.index).map(|(_, h)| *h);
    let idmapped = by_index(env.idmapped);
    // Never fall back to a plain bind: the files would show their unmapped owners.
    if e.opts.idmap.is_some() && idmapped.is_none() {
        return Err(RootfsError::config(
            format!("mounts[{}]", e.index),
            "the id-mapped tree for this mount was not prepared by the parent",
        ));
    }
    let early = idmapped.or_else(|| by_index(env.bind_sources));
    let source = source_path(env.bundle, e).ok_or_else(|| {
        RootfsError::config(
            format!("mounts[{}].source", e.index),
            "a bind mount needs a source",
        )
    })?;
    let kind = match early {
        Some(h) => env.sys.stat(h).map(|s| s.kind),
        None => source_kind(env.sys, &source),
    };
    let kind = kind.map_err(|err| RootfsError::sys("open bind source", &source, err))?;
    let create = if kind == FileKind::Dir {
        Create::Dir
    } else {
        Create::File
    };
    let fd = env.resolve(&e.destination, create, false)?;
    check_proc_destination(env.sys, &fd, e)?;
    let attached = match idmapped {
        // The tree is already a copy of the source (of its submounts too with rbind).
        Some(tree) => env
            .attach_on(tree, &fd)
            .map_err(|err| RootfsError::sys("attach id-mapped mount", &e.destination, err)),
        None => env
            .mount_on(
                Some(early.map_or(Loc::Path(&source), Loc::Handle)),
                &fd,
                None,
                e.opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
                None,
            )
            .map_err(|err| RootfsError::sys("bind mount", &e.destination, err)),
    };
    attached?;
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
