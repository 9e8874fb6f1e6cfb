//! Test support: a cgroup tree laid out by hand in a tempdir, with managers over it.

use std::path::{Path, PathBuf};

use super::devices::loader::DeviceFilterInstaller;
use super::error::CgroupError;
use super::fs::testing::TempFs;
use super::host::Mode;
use super::layout::{HierDir, Layout};
use super::manager::FsManager;
use crate::sys::bpf::BpfInsn;

/// A device filter installer for tests that never reach the devices policy.
pub struct NoBpf;

impl DeviceFilterInstaller for NoBpf {
    fn install(&self, _: &Path, _: &[BpfInsn]) -> Result<(), CgroupError> {
        unreachable!("these tests never program devices")
    }
}

/// Hierarchies `freezer`, `pids`, `cpu` (v1) and `unified` (cgroup2) under a tempdir, each
/// directory its own mount point.
pub struct TreeHost {
    dir: tempfile::TempDir,
}

impl TreeHost {
    pub fn new() -> TreeHost {
        let dir = tempfile::tempdir().expect("tempdir");
        for m in ["freezer", "pids", "cpu", "unified"] {
            std::fs::create_dir_all(dir.path().join(m)).expect("mkdir");
        }
        TreeHost { dir }
    }

    pub fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Make `rel` (and its parents) with `file` holding `value`.
    pub fn put(&self, rel: &str, file: &str, value: &str) {
        let d = self.p(rel);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join(file), value).expect("write");
    }

    fn hier(&self, mount: &str, controllers: &[&str], inner: &str) -> HierDir {
        HierDir {
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
            dir: self.p(&format!("{mount}/{inner}")),
            mount: Some(self.p(mount)),
        }
    }

    /// A hybrid layout for the container cgroup `inner`: freezer, pids and cpu v1, plus cgroup2.
    pub fn hybrid(&self, inner: &str) -> FsManager {
        self.hybrid_fs(inner, TempFs::default())
    }

    /// [`TreeHost::hybrid`] over a given fake filesystem (to inject write failures).
    pub fn hybrid_fs(&self, inner: &str, fs: TempFs) -> FsManager {
        let layout = Layout {
            mode: Mode::Hybrid,
            v1: vec![
                self.hier("freezer", &["freezer"], inner),
                self.hier("pids", &["pids"], inner),
                self.hier("cpu", &["cpu"], inner),
            ],
            unified: Some(self.hier("unified", &[], inner)),
        };
        FsManager::new(layout, false, Box::new(fs), Box::new(NoBpf))
    }

    pub fn v2(&self, inner: &str) -> FsManager {
        let layout = Layout {
            mode: Mode::V2,
            v1: Vec::new(),
            unified: Some(self.hier("unified", &[], inner)),
        };
        FsManager::new(layout, false, Box::new(TempFs::default()), Box::new(NoBpf))
    }
}
