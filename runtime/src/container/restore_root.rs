//! The rootfs as CRIU wants it for a restore (runc's Restore and prepareCriuRestoreMounts):
//! the root bind-mounted on a directory of its own (it must be a mount point whose parent
//! is not overmounted), and every mount point of the config present, with bind mounts
//! mounted only for as long as the mount points below them are made. The root bind is undone
//! when this value is dropped, since CRIU mounts the container's own tree itself.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use oci_spec::runtime::Spec;

use crate::criu::mounts::{container_path, is_bind};
use crate::rootfs::resolve::{open_root, resolve_in_root, Create};
use crate::sys::mount::Loc;

pub struct RestoreRoot {
    /// The bind of the rootfs CRIU restores into.
    pub root: PathBuf,
    binds: Vec<PathBuf>,
}

impl RestoreRoot {
    /// Unmounts the helper binds, deepest first.
    fn release_binds(&mut self) {
        for b in self.binds.drain(..).rev() {
            let _ = nix::mount::umount2(&b, MntFlags::MNT_DETACH);
        }
    }
}

impl Drop for RestoreRoot {
    fn drop(&mut self) {
        self.release_binds();
        let _ = nix::mount::umount2(&self.root, MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.root);
    }
}

/// Bind `rootfs` onto `<state dir>/criu-root`, then make the config's mount points.
pub fn prepare(
    state_dir: &Path,
    rootfs: &Path,
    bundle: &Path,
    spec: &Spec,
) -> Result<RestoreRoot, String> {
    let root = state_dir.join("criu-root");
    std::fs::create_dir(&root).map_err(|e| format!("mkdir {}: {e}", root.display()))?;
    let mut out = RestoreRoot {
        root: root.clone(),
        binds: Vec::new(),
    };
    nix::mount::mount(
        Some(rootfs),
        &root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("bind {} on {}: {e}", rootfs.display(), root.display()))?;
    mountpoints(&mut out, rootfs, bundle, spec)?;
    // The helper binds have done their job once the mount points inside them exist: CRIU
    // mounts the bind sources itself. They go now, before CRIU runs, not after: the restored
    // mounts are slaves of the host's peer group where the host's mounts are shared (systemd
    // makes / shared), so unmounting the helpers afterwards would propagate and unmount the
    // container's own bind mounts too.
    out.release_binds();
    Ok(out)
}

fn mountpoints(
    out: &mut RestoreRoot,
    rootfs: &Path,
    bundle: &Path,
    spec: &Spec,
) -> Result<(), String> {
    let mounts = spec.mounts().clone().unwrap_or_default();
    // CRIU restores a tmpfs with its content: nothing below one is made.
    let tmpfs: Vec<&Path> = mounts
        .iter()
        .filter(|m| m.typ().as_deref() == Some("tmpfs"))
        .map(|m| m.destination().as_path())
        .collect();
    let sys = crate::rootfs::real();
    // One root fd for every mount point: a walk from it crosses the binds made below.
    let root_fd = open_root(&sys, rootfs).map_err(|e| e.to_string())?;
    for m in &mounts {
        let dest = m.destination();
        if tmpfs.iter().any(|t| dest != *t && dest.starts_with(t)) {
            continue;
        }
        // cgroup: v1 mount points are in the dumped tmpfs, v2's appears with /sys.
        if m.typ().as_deref() == Some("cgroup") || m.typ().as_deref() == Some("cgroup2") {
            continue;
        }
        let bind = is_bind(m);
        let source = m.source().as_ref().map(|s| bundle.join(s));
        let file = bind && source.as_ref().is_some_and(|s| s.is_file());
        let create = if file { Create::File } else { Create::Dir };
        let target = resolve_in_root(&sys, root_fd.handle(), dest, create, false).map_err(|e| {
            format!(
                "create criu restore mountpoint for {} mount: {e}",
                dest.display()
            )
        })?;
        if !bind {
            continue;
        }
        let Some(source) = source else { continue };
        crate::sys::mount::MountSys::mount(
            &sys,
            Some(Loc::Path(&source)),
            Loc::Handle(target.handle()),
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )
        .map_err(|e| format!("bind {} on {}: {e}", source.display(), dest.display()))?;
        let inside = container_path(rootfs, dest);
        out.binds
            .push(rootfs.join(inside.strip_prefix("/").unwrap_or(&inside)));
    }
    Ok(())
}
