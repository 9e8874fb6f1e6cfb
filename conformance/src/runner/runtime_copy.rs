//! `runtime_copy: true`: the scenario drives a disposable copy of the runtime binary, made in
//! its scratch directory, never the installed one. CVE-2019-5736 let a container process
//! overwrite the runtime binary through `/proc/<runtime pid>/exe`; the escape scenarios attack
//! the copy, and the copy's sha256 before the first step and after teardown tells whether the
//! attack wrote to it. The digests come from the host's `sha256sum` (coreutils), bounded like
//! every other command of the runner.

use crate::driver::{run_command, RuntimeBin};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long `sha256sum` of a runtime binary (a few MB) may take.
const DIGEST_DEADLINE: Duration = Duration::from_secs(20);

/// The copy a scenario runs, and its digest before any step.
#[derive(Debug, Clone)]
pub struct RuntimeCopy {
    /// The runtime under the scenario's name, pointing at the copy.
    pub bin: RuntimeBin,
    before: String,
}

impl RuntimeCopy {
    /// Copies `orig`'s binary to `<scratch>/runtime-copy/<file name>` (mode 0755) and records
    /// its sha256 in `<artifacts>/runtime-copy.sha256`.
    pub fn make(orig: &RuntimeBin, scratch: &Path, artifacts: &Path) -> Result<Self, String> {
        let dir = scratch.join("runtime-copy");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = orig.path.file_name().unwrap_or(orig.name.as_ref());
        let path = dir.join(name);
        std::fs::copy(&orig.path, &path).map_err(|e| {
            format!(
                "runtime_copy: copy {} to {}: {e}",
                orig.path.display(),
                path.display()
            )
        })?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("runtime_copy: chmod {}: {e}", path.display()))?;
        let before = sha256(&path, &artifacts.join("runtime-copy-before"))?;
        let _ = std::fs::write(
            artifacts.join("runtime-copy.sha256"),
            format!("before {before} {}\n", path.display()),
        );
        Ok(RuntimeCopy {
            bin: RuntimeBin {
                name: orig.name.clone(),
                path,
            },
            before,
        })
    }

    pub fn path(&self) -> &PathBuf {
        &self.bin.path
    }

    /// After teardown: `Some(why)` when the copy is gone, unreadable or has another digest
    /// (the scenario then FAILs: a container process reached the runtime's binary).
    pub fn tampered(&self, artifacts: &Path) -> Option<String> {
        let after = match sha256(self.path(), &artifacts.join("runtime-copy-after")) {
            Ok(d) => d,
            Err(e) => {
                return Some(format!(
                    "the runtime copy cannot be hashed after teardown ({e}): was it replaced?"
                ))
            }
        };
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .open(artifacts.join("runtime-copy.sha256"))
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, format!("after  {after}\n").as_bytes())
            });
        (after != self.before).then(|| {
            format!(
                "CVE-2019-5736: the runtime binary the scenario ran ({}) was overwritten: sha256 {} before the steps, {after} after teardown",
                self.path().display(),
                self.before
            )
        })
    }
}

/// The sha256 of `path` as `sha256sum` prints it (64 hex digits).
fn sha256(path: &Path, io_prefix: &Path) -> Result<String, String> {
    let argv = vec![
        "sha256sum".to_string(),
        "--".to_string(),
        path.display().to_string(),
    ];
    let ev = run_command(&argv, DIGEST_DEADLINE, io_prefix)
        .map_err(|e| format!("sha256sum {}: {e}", path.display()))?;
    let digest = ev.stdout.split_whitespace().next().unwrap_or_default();
    if ev.status != Some(0) || digest.len() != 64 {
        return Err(format!(
            "sha256sum {} exited {:?}: {}",
            path.display(),
            ev.status,
            ev.stderr.trim()
        ));
    }
    Ok(digest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_that_is_written_to_is_reported_and_an_untouched_one_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let orig = tmp.path().join("fake-runtime");
        std::fs::write(&orig, "#!/bin/sh\nexit 0\n").unwrap();
        let (scratch, artifacts) = (tmp.path().join("s"), tmp.path().join("a"));
        std::fs::create_dir_all(&artifacts).unwrap();
        let rt = RuntimeBin {
            name: "fake".into(),
            path: orig.clone(),
        };
        let copy = RuntimeCopy::make(&rt, &scratch, &artifacts).unwrap();
        assert_eq!(copy.bin.name, "fake");
        assert_eq!(copy.path(), &scratch.join("runtime-copy/fake-runtime"));
        assert_eq!(copy.tampered(&artifacts), None);
        std::fs::write(copy.path(), "#!/bin/sh\necho pwned\n").unwrap();
        let why = copy.tampered(&artifacts).unwrap();
        assert!(
            why.starts_with("CVE-2019-5736: the runtime binary"),
            "{why}"
        );
        // The installed binary is never touched.
        assert_eq!(
            std::fs::read_to_string(&orig).unwrap(),
            "#!/bin/sh\nexit 0\n"
        );
        let log = std::fs::read_to_string(artifacts.join("runtime-copy.sha256")).unwrap();
        assert_eq!(log.lines().count(), 3, "{log}");
    }
}
