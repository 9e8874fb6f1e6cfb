//! Bundles: a rootfs cloned from a cached base image, extra files, and the rendered
//! config.json (kept as an artifact).

pub mod config;
pub mod patch;
pub mod rootfs;

use crate::scenario::template::Vars;
use crate::scenario::{Privilege, Scenario};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Rootfs(#[from] rootfs::RootfsError),
    #[error(transparent)]
    Render(#[from] config::RenderError),
    #[error("bundle.files `{path}`: {message}")]
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

fn write_files(rootfs: &Path, s: &Scenario) -> Result<(), BundleError> {
    for (path, f) in &s.bundle.files {
        let rel = path.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|c| c == "..") {
            return Err(BundleError::File {
                path: path.clone(),
                message: "must be a path inside the rootfs".into(),
            });
        }
        let dst = rootfs.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|source| BundleError::Io {
                path: parent.into(),
                source,
            })?;
        }
        // Replace rather than write through: the file may be a hard link into the cache.
        let _ = std::fs::remove_file(&dst);
        if let Some(target) = &f.symlink {
            if !f.content.is_empty() || f.mode.is_some() {
                return Err(BundleError::File {
                    path: path.clone(),
                    message: "a symlink has no content or mode".into(),
                });
            }
            std::os::unix::fs::symlink(target, &dst).map_err(|source| BundleError::Io {
                path: dst.clone(),
                source,
            })?;
            continue;
        }
        std::fs::write(&dst, &f.content).map_err(|source| BundleError::Io {
            path: dst.clone(),
            source,
        })?;
        let mode = match &f.mode {
            Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8).map_err(|_| {
                BundleError::File {
                    path: path.clone(),
                    message: format!("bad octal mode `{m}`"),
                }
            })?,
            None => 0o644,
        };
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode)).map_err(
            |source| BundleError::Io {
                path: dst.clone(),
                source,
            },
        )?;
    }
    Ok(())
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
    write_files(&rootfs, s)?;
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
    fn files_can_be_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario("{/conf: {symlink: /real/conf}, /real/conf/x: {content: hi}}");
        write_files(dir.path(), &s).unwrap();
        let link = dir.path().join("conf");
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/real/conf"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("real/conf/x")).unwrap(),
            "hi"
        );
    }

    #[test]
    fn a_symlink_with_content_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario("{/conf: {symlink: /x, content: hi}}");
        let e = write_files(dir.path(), &s).unwrap_err().to_string();
        assert!(e.contains("a symlink has no content or mode"), "{e}");
    }
}
