//! The filesystem seam under the managers: every cgroup file and directory operation goes
//! through [`CgroupFs`], so create/destroy/apply ordering can be tested on a tempdir.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub trait CgroupFs {
    fn read(&self, path: &Path) -> io::Result<String>;
    /// One write(2) of `value` to an existing file (cgroup files parse each write separately).
    fn write(&self, path: &Path, value: &str) -> io::Result<()>;
    /// Create exactly one directory level.
    fn mkdir(&self, path: &Path) -> io::Result<()>;
    /// Remove one (cgroup) directory.
    fn rmdir(&self, path: &Path) -> io::Result<()>;
    fn exists(&self, path: &Path) -> bool;
    /// Immediate sub-directories (child cgroups).
    fn subdirs(&self, path: &Path) -> io::Result<Vec<PathBuf>>;
    /// Names of the plain files in `path` (to discover e.g. hugetlb page sizes).
    fn files(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Pause between retries (EBUSY on rmdir, freezer transitions).
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The real cgroup filesystem.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl CgroupFs for RealFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        use std::io::Write;
        // No O_CREAT: a missing file means the controller or knob does not exist, which must
        // surface as an error instead of creating a regular file in cgroupfs.
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        let n = f.write(value.as_bytes())?;
        if n != value.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write ({n} of {} bytes)", value.len()),
            ));
        }
        Ok(())
    }

    fn mkdir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn rmdir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn subdirs(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(path)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                out.push(e.path());
            }
        }
        Ok(out)
    }

    fn files(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(path)? {
            let e = e?;
            if !e.file_type()?.is_dir() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A tempdir-backed fs: writes create files (cgroupfs would have them already), rmdir
    /// removes the directory with its plain files (cgroupfs pseudo-files do not block rmdir)
    /// but fails with ENOTEMPTY when a child directory remains, and sleep is a no-op.
    #[derive(Default)]
    pub struct TempFs {
        /// Every write made, in order, as (path, value).
        pub writes: std::rc::Rc<std::cell::RefCell<Vec<(PathBuf, String)>>>,
        /// Every directory listed for its child cgroups, in order.
        pub listed: std::rc::Rc<std::cell::RefCell<Vec<PathBuf>>>,
        /// Paths whose writes fail with EINVAL (to exercise error paths).
        pub fail_writes: Vec<PathBuf>,
        /// Paths whose first write fails with EINVAL (taken out of the list when it does).
        pub fail_first_write: std::cell::RefCell<Vec<PathBuf>>,
        /// Directories whose mkdir fails with EACCES (rootless without delegation).
        pub deny_mkdir: Vec<PathBuf>,
    }

    impl CgroupFs for TempFs {
        fn read(&self, path: &Path) -> io::Result<String> {
            std::fs::read_to_string(path)
        }
        fn write(&self, path: &Path, value: &str) -> io::Result<()> {
            let mut first = self.fail_first_write.borrow_mut();
            if let Some(i) = first.iter().position(|p| p == path) {
                first.remove(i);
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            if self.fail_writes.iter().any(|p| p == path) {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            if !path.parent().is_some_and(Path::is_dir) {
                return Err(io::Error::from_raw_os_error(libc::ENOENT));
            }
            self.writes
                .borrow_mut()
                .push((path.to_path_buf(), value.to_string()));
            std::fs::write(path, value)
        }
        fn mkdir(&self, path: &Path) -> io::Result<()> {
            if self.deny_mkdir.iter().any(|p| p == path) {
                return Err(io::Error::from_raw_os_error(libc::EACCES));
            }
            std::fs::create_dir(path)?;
            // Emulate cgroup2: a child's cgroup.controllers is what its parent delegates.
            if let Some(parent) = path.parent() {
                if let Ok(stc) = std::fs::read_to_string(parent.join("cgroup.subtree_control")) {
                    let ctrls: Vec<&str> = stc
                        .split_whitespace()
                        .map(|c| c.trim_start_matches('+'))
                        .collect();
                    std::fs::write(path.join("cgroup.controllers"), ctrls.join(" "))?;
                }
            }
            Ok(())
        }
        fn rmdir(&self, path: &Path) -> io::Result<()> {
            if !RealFs.subdirs(path)?.is_empty() {
                return Err(io::Error::from_raw_os_error(libc::ENOTEMPTY));
            }
            std::fs::remove_dir_all(path)
        }
        fn exists(&self, path: &Path) -> bool {
            path.exists()
        }
        fn subdirs(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
            self.listed.borrow_mut().push(path.to_path_buf());
            RealFs.subdirs(path)
        }
        fn files(&self, path: &Path) -> io::Result<Vec<String>> {
            RealFs.files(path)
        }
        fn sleep(&self, _d: Duration) {}
    }
}
