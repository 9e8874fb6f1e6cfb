//! Where oci-conform looks for its companion binaries (oci-probe, oci-seccomp-agent) when no
//! path is given: one search order for all of them.

use std::path::{Path, PathBuf};

/// The places to look for `name`, in order: next to this executable, then
/// `target/<subdir>/<name>` for each of `subdirs` in every directory above this executable,
/// then above the working directory.
pub fn candidates(name: &str, subdirs: &[&str]) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    let mut bases = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join(name));
        bases.extend(dir.ancestors().map(Path::to_path_buf));
    }
    if let Ok(cwd) = std::env::current_dir() {
        bases.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    for b in bases {
        for sub in subdirs {
            candidates.push(b.join("target").join(sub).join(name));
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_to_the_executable_first_then_each_target_subdir_above_it() {
        let c = candidates("tool", &["release", "debug"]);
        let exe_dir = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        assert_eq!(c[0], exe_dir.join("tool"));
        assert_eq!(c[1], exe_dir.join("target/release/tool"));
        assert_eq!(c[2], exe_dir.join("target/debug/tool"));
        let cwd = std::env::current_dir().unwrap();
        assert!(c.contains(&cwd.join("target/debug/tool")));
    }
}
