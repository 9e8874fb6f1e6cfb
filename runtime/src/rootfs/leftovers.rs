//! A container without a mount namespace of its own makes its mounts (proc, /dev, binds,
//! ...) under the rootfs in the runtime's namespace, where they outlive it. runc leaves them
//! there (its host-mntns test unmounts them itself); `delete` removes what `create` made
//! (runtime.md#delete), so ferrun detaches them.

use super::RootfsError;
use crate::sys::mount::MountSys;
use nix::mount::MntFlags;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::path::{Path, PathBuf};

/// Whether a container of this config shares the runtime's mount namespace.
pub fn shares_mount_ns(spec: &Spec) -> bool {
    !spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::Mount))
}

/// The mounts strictly below `rootfs` in `mountinfo`, deepest (latest) first.
fn below(mountinfo: &str, rootfs: &Path) -> Result<Vec<PathBuf>, RootfsError> {
    let mut found: Vec<PathBuf> = crate::mountinfo::parse(mountinfo)?
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|p| p.starts_with(rootfs) && p != rootfs)
        .collect();
    found.reverse();
    found.dedup();
    Ok(found)
}

/// Detaches every mount below `rootfs` when the bundle's config shares the runtime's mount
/// namespace; returns how many. A config that can no longer be read leaves them alone.
pub fn unmount_leftovers(
    sys: &dyn MountSys,
    bundle: &Path,
    rootfs: &Path,
) -> Result<usize, RootfsError> {
    let Ok(spec) = Spec::load(bundle.join("config.json")) else {
        return Ok(0);
    };
    if !shares_mount_ns(&spec) {
        return Ok(0);
    }
    unmount_below(sys, rootfs)
}

/// Detaches every mount below `rootfs` in this process's mount namespace, deepest first;
/// returns how many. For a container that shared the namespace: after `delete`, and after a
/// `create` that failed.
pub fn unmount_below(sys: &dyn MountSys, rootfs: &Path) -> Result<usize, RootfsError> {
    let path = Path::new("/proc/self/mountinfo");
    let mountinfo = sys
        .read_file(path)
        .map_err(|e| RootfsError::sys("read", path, e))?;
    let mounts = below(&mountinfo, rootfs)?;
    for m in &mounts {
        match sys.umount2(m, MntFlags::MNT_DETACH) {
            // Gone with a parent detached before it.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) => {}
            r => r.map_err(|e| RootfsError::sys("umount", m, e))?,
        }
    }
    Ok(mounts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mounts_strictly_below_the_rootfs_deepest_first() {
        let mi = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n\
                  30 22 8:1 / /b/rootfs rw - overlay overlay rw\n\
                  31 30 0:5 / /b/rootfs/proc rw - proc proc rw\n\
                  32 30 0:6 / /b/rootfs/dev rw - tmpfs tmpfs rw\n\
                  33 32 0:7 / /b/rootfs/dev/pts rw - devpts devpts rw\n\
                  34 22 0:8 / /b/rootfsX rw - tmpfs tmpfs rw\n";
        let got = below(mi, Path::new("/b/rootfs")).expect("parses");
        let want: Vec<PathBuf> = ["/b/rootfs/dev/pts", "/b/rootfs/dev", "/b/rootfs/proc"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }
}
