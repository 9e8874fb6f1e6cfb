//! `--pid-file` of create, run and exec: written atomically, as runc writes it.
//!
//! conmon and containerd poll the file and read it as soon as it exists, so it must never be
//! seen empty or half-written: the pid goes to a temporary file beside it, which is then
//! renamed over the path. A rename also replaces a file the path pointed at instead of writing
//! through it (a hard link or an old file another process still reads stays untouched).

use std::path::Path;

/// Write `pid` to `path` atomically.
pub fn write(path: &Path, pid: i32) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // runc's name for it: the file name with a leading dot, in the same directory (so the
    // rename stays on one filesystem).
    let tmp = dir.join(format!(".{}", name.to_string_lossy()));
    std::fs::write(&tmp, pid.to_string())?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_entry_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other");
        std::fs::write(&other, "keep").unwrap();
        let pid_file = dir.path().join("pid");
        std::fs::hard_link(&other, &pid_file).unwrap();
        write(&pid_file, 42).unwrap();
        assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), "42");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "a temporary file was left: {names:?}");
    }

    #[test]
    fn a_path_without_a_file_name_is_an_error() {
        assert!(write(Path::new("/"), 1).is_err());
    }
}
