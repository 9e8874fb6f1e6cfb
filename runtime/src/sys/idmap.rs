//! The seam for writing a child's user-namespace id maps: /proc files and the setuid
//! newuidmap/newgidmap helpers (shadow's uidmap package), found on PATH as runc finds them.

use std::path::{Path, PathBuf};
use std::process::Command;

pub trait IdMapSys {
    /// Write `text` to `path` in one write(2): the kernel takes a map in a single write.
    fn write_proc(&mut self, path: &str, text: &str) -> std::io::Result<()>;
    /// `name` resolved on PATH (an executable regular file), as runc's LookPath.
    fn find_helper(&self, name: &str) -> Option<PathBuf>;
    /// Run `helper args...`; Err carries its exit status and stderr.
    fn run_helper(&mut self, helper: &Path, args: &[String]) -> Result<(), String>;
}

#[derive(Debug, Default)]
pub struct RealIdMapSys;

impl IdMapSys for RealIdMapSys {
    fn write_proc(&mut self, path: &str, text: &str) -> std::io::Result<()> {
        std::fs::write(path, text)
    }

    fn find_helper(&self, name: &str) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| {
                std::fs::metadata(p)
                    .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                    .unwrap_or(false)
            })
    }

    fn run_helper(&mut self, helper: &Path, args: &[String]) -> Result<(), String> {
        let out = Command::new(helper)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
