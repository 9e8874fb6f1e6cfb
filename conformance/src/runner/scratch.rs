//! The scenario's `scratch` section: tmpfs mounts and owned files in its host scratch
//! directory (`{{scratch}}`), made before the bundle and taken down at teardown. Only the
//! scenario's own scratch directory is touched: its path is unique per run and runtime.

use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::scenario::ScratchSpec;

/// Makes the directory a shared mount if asked, mounts each `tmpfs` entry, then writes
/// `files`.
pub fn prepare(dir: &Path, spec: &ScratchSpec) -> Result<(), String> {
    if spec.shared {
        // Released with the rest: `release` detaches the mount at `dir` itself too.
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .and_then(|()| {
                mount(
                    None::<&str>,
                    dir,
                    None::<&str>,
                    MsFlags::MS_SHARED,
                    None::<&str>,
                )
            })
            .map_err(|e| format!("scratch.shared: bind {} shared: {e}", dir.display()))?;
    }
    for rel in &spec.tmpfs {
        let rel = rel.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|c| c == "..") {
            return Err(format!(
                "scratch.tmpfs `{rel}`: must be a path inside the scratch directory"
            ));
        }
        let at = dir.join(rel);
        std::fs::create_dir_all(&at).map_err(|e| format!("{}: {e}", at.display()))?;
        mount(
            Some("tmpfs"),
            &at,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755,size=1m"),
        )
        .map_err(|e| format!("scratch.tmpfs: mount tmpfs on {}: {e}", at.display()))?;
    }
    crate::bundle::write_files(dir, &spec.files).map_err(|e| format!("scratch.{e}"))
}

/// Detaches every mount at or under `dir`, innermost first. Idempotent, so the setup failure
/// path and teardown may both call it.
pub fn release(dir: &Path) {
    detach(mounts_under(dir));
}

/// The mount points at or under `dir`, in mountinfo order (a mount after those it covers).
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().to_string();
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    crate::normalize::mountinfo::parse(&mi)
        .into_iter()
        .map(|m| m.target)
        .filter(|t| *t == prefix || t.starts_with(&format!("{prefix}/")))
        .collect()
}

/// Lazily unmounts `mounts` (from [`mounts_under`]), the last mounted first.
pub fn detach(mut mounts: Vec<String>) {
    mounts.reverse();
    for m in mounts {
        let _ = umount2(m.as_str(), MntFlags::MNT_DETACH);
    }
}
