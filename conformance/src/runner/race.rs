//! The `race` step (CVE-2021-30465): in the background, swap a directory of the rootfs with a
//! symlink as fast as the kernel allows, while later steps make the runtime mount onto it.
//! runc before 1.0.0-rc95 resolved a mount destination inside the rootfs and then mounted by
//! path, so a symlink swapped in between redirected the mount outside the container.
//!
//! The swap is one atomic `renameat2(RENAME_EXCHANGE)` of `path` and a symlink made beside it
//! (`<path>.race`, pointing at `target`), so `path` is always either the directory or the
//! symlink. It stops at its `for` deadline or at teardown, whichever comes first, and always
//! leaves the directory at `path`. The number of swaps goes to the artifact `race-<n>.txt`.

use super::context::{error, ScenarioRun, StepResult};
use nix::fcntl::{renameat2, RenameFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A swapping thread of the scenario.
pub struct Race {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<u64, String>>>,
    report: PathBuf,
}

/// Starts swapping `path` (an existing directory) with a symlink to `target` for `dur`.
pub fn start(run: &mut ScenarioRun, path: &str, target: &str, dur: Duration) -> StepResult {
    let path = PathBuf::from(run.vars.render(path).map_err(|e| error(e.to_string()))?);
    let target = run.vars.render(target).map_err(|e| error(e.to_string()))?;
    if !path.is_dir() || path.is_symlink() {
        return Err(error(format!(
            "race: {} must be an existing directory (make it with bundle.files)",
            path.display()
        )));
    }
    let link = race_link(&path);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&target, &link)
        .map_err(|e| error(format!("race: symlink {}: {e}", link.display())))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let deadline = Instant::now() + dur.min(run.time_left());
    let handle = std::thread::spawn(move || swap_until(&path, &link, deadline, &flag));
    let report = run.artifacts.join(format!("race-{}.txt", run.races.len()));
    run.races.push(Race {
        stop,
        handle: Some(handle),
        report,
    });
    Ok(())
}

fn race_link(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".race");
    PathBuf::from(s)
}

/// Swaps until the deadline or the stop flag; an even number of swaps leaves the directory in
/// place, so an odd count is swapped back once more.
fn swap_until(
    path: &Path,
    link: &Path,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<u64, String> {
    // Both names live in one directory: swap them relative to it.
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = std::fs::File::open(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let (a, b) = (path.file_name(), link.file_name());
    let (Some(a), Some(b)) = (a, b) else {
        return Err(format!("race: {} has no file name", path.display()));
    };
    let swap = || {
        renameat2(&dir, a, &dir, b, RenameFlags::RENAME_EXCHANGE)
            .map_err(|e| format!("renameat2 {} <-> {}: {e}", path.display(), link.display()))
    };
    let mut n = 0u64;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        swap()?;
        n += 1;
    }
    if n % 2 == 1 {
        swap()?;
        n += 1;
    }
    let _ = std::fs::remove_file(link);
    Ok(n)
}

/// Stops and joins every race of the scenario (teardown; the containers are gone), writing
/// each one's swap count or error.
pub fn teardown(run: &mut ScenarioRun) {
    for mut r in std::mem::take(&mut run.races) {
        r.stop.store(true, Ordering::Relaxed);
        let text = match r.handle.take().map(|h| h.join()) {
            Some(Ok(Ok(n))) => format!("{n} swaps\n"),
            Some(Ok(Err(e))) => format!("stopped by an error: {e}\n"),
            Some(Err(_)) | None => "the swapping thread panicked\n".to_string(),
        };
        let _ = std::fs::write(&r.report, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapping_always_ends_with_the_directory_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("x");
        std::fs::create_dir(&dir).unwrap();
        let link = race_link(&dir);
        std::os::unix::fs::symlink("/nowhere", &link).unwrap();
        let stop = AtomicBool::new(false);
        let n = swap_until(
            &dir,
            &link,
            Instant::now() + Duration::from_millis(50),
            &stop,
        )
        .unwrap();
        assert!(n > 0 && n % 2 == 0, "{n}");
        assert!(dir.is_dir() && !dir.is_symlink());
        assert!(!link.exists() && !link.is_symlink());
    }
}
