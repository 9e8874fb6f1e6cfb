//! Bundles: a rootfs cloned from a cached base image, extra files, and the rendered
//! config.json (kept as an artifact).

pub mod config;
pub mod patch;
pub mod rootfs;

use crate::scenario::template::Vars;
use crate::scenario::{FileSpec, Privilege, Scenario};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Rootfs(#[from] rootfs::RootfsError),
    #[error(transparent)]
    Render(#[from] config::RenderError),
    #[error("files `{path}`: {message}")]
    File { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct Prepared {
    pub dir: PathBuf,
    pub rootfs: PathBuf,
    pub config: Value,
}

/// Writes `files` (paths relative to `base`, which they may not leave) under `base`:
/// the rootfs's `bundle.files`, or the host scratch directory's `scratch.files`.
pub fn write_files(
    base: &Path,
    files: &std::collections::BTreeMap<String, FileSpec>,
) -> Result<(), BundleError> {
    for (path, f) in files {
        let rel = path.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|c| c == "..") {
            return Err(file_error(path, "must be a path inside its directory"));
        }
        let dst = base.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        write_one(path, &dst, f)?;
        if let Some(owner) = &f.owner {
            let (uid, gid) = parse_owner(owner)
                .ok_or_else(|| file_error(path, &format!("owner `{owner}` is not UID:GID")))?;
            std::os::unix::fs::lchown(&dst, Some(uid), Some(gid)).map_err(|e| io_error(&dst, e))?;
        }
    }
    Ok(())
}

fn write_one(path: &str, dst: &Path, f: &FileSpec) -> Result<(), BundleError> {
    if f.directory {
        if !f.content.is_empty() || f.symlink.is_some() {
            return Err(file_error(
                path,
                "a directory has no content or symlink target",
            ));
        }
        std::fs::create_dir_all(dst).map_err(|e| io_error(dst, e))?;
        return set_mode(path, dst, f.mode.as_deref(), 0o755);
    }
    // Replace rather than write through: the file may be a hard link into the cache.
    let _ = std::fs::remove_file(dst);
    if let Some(target) = &f.symlink {
        if !f.content.is_empty() || f.mode.is_some() {
            return Err(file_error(path, "a symlink has no content or mode"));
        }
        return std::os::unix::fs::symlink(target, dst).map_err(|e| io_error(dst, e));
    }
    std::fs::write(dst, &f.content).map_err(|e| io_error(dst, e))?;
    set_mode(path, dst, f.mode.as_deref(), 0o644)
}

fn set_mode(path: &str, dst: &Path, mode: Option<&str>, default: u32) -> Result<(), BundleError> {
    let mode = match mode {
        Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8)
            .map_err(|_| file_error(path, &format!("bad octal mode `{m}`")))?,
        None => default,
    };
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_error(dst, e))
}

fn parse_owner(owner: &str) -> Option<(u32, u32)> {
    let (u, g) = owner.split_once(':')?;
    Some((u.parse().ok()?, g.parse().ok()?))
}

fn file_error(path: &str, message: &str) -> BundleError {
    BundleError::File {
        path: path.to_string(),
        message: message.to_string(),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> BundleError {
    BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The rootfs files with templates expanded in symlink targets: the escape scenarios point a
/// rootfs symlink at `{{scratch}}/...`, so a runtime that resolves it on the host instead of in
/// the container lands in the scenario's scratch directory, never elsewhere on the host.
fn with_symlinks_rendered(
    files: &std::collections::BTreeMap<String, FileSpec>,
    vars: &Vars,
) -> Result<std::collections::BTreeMap<String, FileSpec>, BundleError> {
    let mut out = files.clone();
    for (path, f) in out.iter_mut() {
        if let Some(target) = &f.symlink {
            let rendered = vars
                .render(target)
                .map_err(|e| file_error(path, &e.to_string()))?;
            f.symlink = Some(rendered);
        }
    }
    Ok(out)
}

/// Builds `<dir>/rootfs` and `<dir>/config.json` for a scenario.
pub fn prepare(
    s: &Scenario,
    dir: &Path,
    image: &Path,
    vars: &Vars,
    cgroups_path: &str,
) -> Result<Prepared, BundleError> {
    // A rootless scenario runs only when the runner is not root; its base is what that user
    // gets from `runc spec --rootless`, without a default cgroupsPath: runc's rootless cgroup
    // manager tolerates an unwritable cgroup only when no explicit path was asked for.
    let (base, cgroups_path) = if s.requires.privilege == Privilege::Rootless {
        let euid = nix::unistd::geteuid().as_raw();
        let egid = nix::unistd::getegid().as_raw();
        (config::rootless_config(euid, egid), None)
    } else {
        (config::base_config(), Some(cgroups_path))
    };
    let config = config::render_over(base, &s.bundle, vars, cgroups_path)?;
    // The image always goes to <bundle>/rootfs, whatever root.path says, so scenarios about
    // a missing or relocated root (`root.path: no-such-dir`, `"{{rootfs}}"`) stay expressible.
    let rootfs = dir.join("rootfs");
    let readonly = config
        .pointer("/root/readonly")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    rootfs::clone_tree(image, &rootfs, readonly)?;
    write_files(&rootfs, &with_symlinks_rendered(&s.bundle.files, vars)?)?;
    let cfg_path = dir.join("config.json");
    let text = serde_json::to_string_pretty(&config).unwrap_or_default();
    std::fs::write(&cfg_path, text).map_err(|source| BundleError::Io {
        path: cfg_path,
        source,
    })?;
    Ok(Prepared {
        dir: dir.to_path_buf(),
        rootfs,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(files: &str) -> Scenario {
        let text = format!(
            "schema: oci-conform/v1\nid: a.b\ntitle: t\nspec: [{{ref: runtime.md#create, level: MUST}}]\n\
             bundle: {{base: busybox, files: {files}}}\nsteps: [{{op: create}}]\n"
        );
        serde_yaml::from_str(&text).unwrap()
    }

    #[test]
    fn directories_and_owners() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
        let s = scenario(&format!(
            "{{d: {{directory: true, mode: '0700', owner: '{uid}:{gid}'}}, d/f: {{content: x, owner: '{uid}:{gid}'}}}}"
        ));
        write_files(dir.path(), &s.bundle.files).unwrap();
        let d = std::fs::metadata(dir.path().join("d")).unwrap();
        assert!(d.is_dir());
        assert_eq!(
            (d.mode() & 0o777, d.uid(), d.gid()),
            (0o700, uid.as_raw(), gid.as_raw())
        );
        let bad = scenario("{f: {owner: 'root'}}");
        let e = write_files(dir.path(), &bad.bundle.files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("owner `root` is not UID:GID"), "{e}");
        let both = scenario("{g: {directory: true, content: x}}");
        let e = write_files(dir.path(), &both.bundle.files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a directory has no content"), "{e}");
    }

    #[test]
    fn files_can_be_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario("{/conf: {symlink: /real/conf}, /real/conf/x: {content: hi}}");
        write_files(dir.path(), &s.bundle.files).unwrap();
        let link = dir.path().join("conf");
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/real/conf"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("real/conf/x")).unwrap(),
            "hi"
        );
    }

    #[test]
    fn symlink_targets_take_templates() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario(
            "{/dev/null: {symlink: '{{scratch}}/bait'}, /plain: {content: '{{scratch}}'}}",
        );
        let mut vars = Vars::default();
        vars.set("scratch", "/work/s");
        write_files(
            dir.path(),
            &with_symlinks_rendered(&s.bundle.files, &vars).unwrap(),
        )
        .unwrap();
        let link = std::fs::read_link(dir.path().join("dev/null")).unwrap();
        assert_eq!(link, Path::new("/work/s/bait"));
        // File content is written as it is.
        let plain = std::fs::read_to_string(dir.path().join("plain")).unwrap();
        assert_eq!(plain, "{{scratch}}");
        let bad = scenario("{/l: {symlink: '{{nope}}/x'}}");
        let e = with_symlinks_rendered(&bad.bundle.files, &vars).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }

    #[test]
    fn a_symlink_with_content_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario("{/conf: {symlink: /x, content: hi}}");
        let e = write_files(dir.path(), &s.bundle.files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a symlink has no content or mode"), "{e}");
    }
}
