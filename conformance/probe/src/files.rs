//! File system subcommands: cat, write, ls, stat, sysctl, fds.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use crate::error::ProbeError;
use crate::json::Json;

/// The bytes of `path`.
pub fn cat(path: &str) -> Result<Vec<u8>, ProbeError> {
    std::fs::read(path).map_err(|e| ProbeError::read(path, &e))
}

/// Writes `text` to `path` (created 0644 if missing, truncated otherwise;
/// O_TRUNC is ignored by proc/sys files, so this also sets sysctls).
pub fn write(path: &str, text: &str) -> Result<(), ProbeError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| ProbeError::write(path, &e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| ProbeError::write(path, &e))
}

/// The names in directory `path`, sorted, one per line.
pub fn ls(path: &str) -> Result<String, ProbeError> {
    let entries = std::fs::read_dir(path).map_err(|e| ProbeError::read(path, &e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ProbeError::read(path, &e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(lines(names))
}

fn lines(mut items: Vec<String>) -> String {
    items.sort();
    items.iter().map(|n| format!("{n}\n")).collect()
}

/// The type word the `stat` report uses.
fn type_word(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else {
        "file"
    }
}

/// `{"type":"char","mode":"0666","uid":0,"gid":0,"major":1,"minor":3,"size":0}` (lstat),
/// the fields config-linux.md#devices sets.
pub fn stat(path: &str) -> Result<Json, ProbeError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| ProbeError::read(path, &e))?;
    let rdev = meta.rdev();
    Ok(Json::object(vec![
        ("type", Json::str(type_word(meta.file_type()))),
        ("mode", Json::str(format!("{:04o}", meta.mode() & 0o7777))),
        ("uid", Json::UInt(meta.uid().into())),
        ("gid", Json::UInt(meta.gid().into())),
        ("major", Json::UInt(libc::major(rdev).into())),
        ("minor", Json::UInt(libc::minor(rdev).into())),
        ("size", Json::UInt(meta.size())),
    ]))
}

/// `/proc/sys/…` path of a dotted sysctl name (`net.ipv4.ip_forward`).
pub fn sysctl_path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

/// The open descriptors of this process, excluding the one used to list them.
pub fn fds() -> Result<String, ProbeError> {
    const DIR: &str = "/proc/self/fd";
    let entries = std::fs::read_dir(DIR).map_err(|e| ProbeError::read(DIR, &e))?;
    let mut fds = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ProbeError::read(DIR, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        // The directory handle read_dir holds points back at /proc/<pid>/fd.
        if target.to_string_lossy().ends_with("/fd") {
            continue;
        }
        if let Ok(n) = name.parse::<u32>() {
            fds.push(n);
        }
    }
    fds.sort_unstable();
    Ok(fds.iter().map(|n| format!("{n}\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward")]
    #[case("kernel.shmmax", "/proc/sys/kernel/shmmax")]
    fn sysctl_paths(#[case] name: &str, #[case] expected: &str) {
        assert_eq!(sysctl_path(name), expected);
    }

    #[test]
    fn ls_is_sorted_and_write_then_cat_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_string_lossy().into_owned();
        write(&format!("{dir}/b"), "two").unwrap();
        write(&format!("{dir}/a"), "one").unwrap();
        assert_eq!(ls(&dir).unwrap(), "a\nb\n");
        assert_eq!(cat(&format!("{dir}/b")).unwrap(), b"two");
    }

    #[test]
    fn missing_file_is_a_read_error_naming_enoent() {
        let err = cat("/nonexistent/oci-probe").unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_READ);
        assert!(err.to_string().contains("ENOENT"), "{err}");
    }

    #[test]
    fn stat_reports_char_device_numbers() {
        let text = stat("/dev/null").unwrap().render();
        assert!(text.contains(r#""type":"char""#), "{text}");
        assert!(text.contains(r#""major":1,"minor":3"#), "{text}");
    }

    #[test]
    fn fds_include_stdio_only_once() {
        let list = fds().unwrap();
        let nums: Vec<&str> = list.lines().collect();
        let mut dedup = nums.clone();
        dedup.dedup();
        assert_eq!(nums, dedup);
    }
}
