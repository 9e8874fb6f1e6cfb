//! The one parser of `/proc/<pid>/mountinfo` (proc_pid_mountinfo(5)) in ferrun.
//!
//! Two callers need it: cgroup mode detection (`cgroups/host.rs`: which v1 hierarchies and
//! which cgroup2 mount the host has) and the rootfs code (`rootfs/cgroup.rs` and
//! `rootfs/root.rs`: the host's cgroup mounts to expose in the container, and the propagation
//! of the mount holding the rootfs). It takes text rather than a path, so each caller reads the
//! file through its own seam (a fake root, `MountSys::read_file`) and tests feed it lines.
//!
//! A line is
//! `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`:
//! mount id, parent id, major:minor, root, mount point, mount options, zero or more optional
//! fields, a lone `-`, filesystem type, source, super options. The kernel escapes space, tab,
//! newline and backslash in paths as three octal digits (`\040`, `\011`, `\012`, `\134`).
//!
//! Why not the `procfs` crate's `MountInfo`: it is a large crate (every /proc file, plus its own
//! dependency tree) for the eighty lines needed here, and ferrun is a small static binary with
//! a peak-RSS budget of 4 MiB; the parse is simple enough to own and test directly.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// The fields of one mountinfo line that ferrun uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// The path within the filesystem that is mounted here (field 4): `/` unless this is a
    /// bind mount of a subdirectory or a cgroup mount made inside a cgroup namespace.
    pub root: PathBuf,
    /// Where it is mounted (field 5), unescaped.
    pub mount_point: PathBuf,
    /// Optional fields (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`).
    pub optional: Vec<String>,
    /// Filesystem type after the separator (`cgroup`, `cgroup2`, `ext4`, …).
    pub fstype: String,
    /// Per-superblock options; for a v1 cgroup mount these name its controllers.
    pub super_opts: Vec<String>,
}

/// A line that does not have the shape proc_pid_mountinfo(5) describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} is malformed ({reason}): {text:?}")]
pub struct MountinfoError {
    /// 1-based line number.
    pub line: usize,
    pub reason: &'static str,
    pub text: String,
}

/// Parse the whole text of a mountinfo file; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<MountInfo>, MountinfoError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            parse_line(l).map_err(|reason| MountinfoError {
                line: i + 1,
                reason,
                text: l.to_string(),
            })
        })
        .collect()
}

fn parse_line(line: &str) -> Result<MountInfo, &'static str> {
    let fields: Vec<&str> = line.split(' ').collect();
    if fields.len() < 6 {
        return Err("fewer than six fields before the separator");
    }
    // Optional fields start at index 6; the first lone `-` from there ends them (mount points
    // and roots are absolute paths, so they can never be `-`).
    let sep = fields[6..]
        .iter()
        .position(|f| *f == "-")
        .map(|p| p + 6)
        .ok_or("no ' - ' separator")?;
    // Fields a later kernel might append after the super options are ignored, as the optional
    // fields are.
    let &[fstype, _source, super_opts, ..] = &fields[sep + 1..] else {
        return Err("fewer than type, source and super options after the separator");
    };
    Ok(MountInfo {
        root: unescape(fields[3]),
        mount_point: unescape(fields[4]),
        optional: fields[6..sep].iter().map(|s| s.to_string()).collect(),
        fstype: fstype.to_string(),
        super_opts: super_opts.split(',').map(str::to_string).collect(),
    })
}

/// Undo the kernel's `\ooo` escapes. Paths are bytes, not UTF-8, so the result is built as an
/// OsString; a backslash not followed by a valid octal byte value is kept as it is.
fn unescape(s: &str) -> PathBuf {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(v) = octal_escape(&b[i..]) {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// `\ooo` at the start of `b`, when the digits make a byte (at most `\377`).
fn octal_escape(b: &[u8]) -> Option<u8> {
    match b {
        [b'\\', d0 @ b'0'..=b'3', d1 @ b'0'..=b'7', d2 @ b'0'..=b'7', ..] => {
            Some((d0 - b'0') * 64 + (d1 - b'0') * 8 + (d2 - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::path::Path;

    #[test]
    fn fields_optional_fields_and_escapes() {
        let text = "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n\
                    \n\
                    22 1 8:1 / / rw - ext4 /dev/sda1 rw\n";
        let m = parse(text).expect("parses");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].root, Path::new("/mnt1"));
        assert_eq!(m[0].mount_point, Path::new("/mnt two"));
        assert_eq!(m[0].optional, ["master:1", "shared:7"]);
        assert_eq!(m[0].fstype, "ext3");
        assert_eq!(m[0].super_opts, ["rw", "errors=continue"]);
        assert!(m[1].optional.is_empty());
        assert_eq!(m[1].mount_point, Path::new("/"));
    }

    #[test]
    fn this_kernels_mountinfo_parses() {
        let text = std::fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
        let m = parse(&text).expect("the running kernel's mountinfo parses");
        assert!(m.iter().any(|m| m.mount_point == Path::new("/")), "{m:?}");
    }

    #[test]
    fn fields_after_the_super_options_are_ignored() {
        let m = parse("1 2 0:1 / /x rw - ext4 /dev/a rw,noatime later\n").expect("parses");
        assert_eq!(m[0].super_opts, ["rw", "noatime"]);
    }

    #[rstest]
    #[case::space_at_end(r"/a\040", "/a ")]
    #[case::tab_newline_backslash(r"/a\011b\012c\134d", "/a\tb\nc\\d")]
    #[case::not_octal(r"/a\08x", r"/a\08x")]
    #[case::too_large_for_a_byte(r"/a\777", r"/a\777")]
    #[case::truncated(r"/a\04", r"/a\04")]
    fn unescapes_octal_and_keeps_the_rest(#[case] raw: &str, #[case] want: &str) {
        assert_eq!(unescape(raw), Path::new(want));
    }

    #[test]
    fn non_utf8_bytes_survive() {
        let p = unescape(r"/caf\351");
        assert_eq!(p.as_os_str().as_encoded_bytes(), b"/caf\xe9");
    }

    #[rstest]
    #[case::too_short("1 2 3\n", 1, "fewer than six")]
    #[case::no_separator("1 2 0:1 / /x rw shared:1 ext4 /dev/a rw\n", 1, "separator")]
    #[case::missing_super_opts("1 2 0:1 / /x rw - ext4 /dev/a\n", 1, "after the separator")]
    #[case::second_line(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n1 2 0:1 / /x rw - ext4\n",
        2,
        "after the separator"
    )]
    fn malformed_lines_are_errors_naming_the_line(
        #[case] text: &str,
        #[case] line: usize,
        #[case] reason: &str,
    ) {
        let err = parse(text).expect_err("malformed");
        assert_eq!(err.line, line);
        assert!(err.to_string().contains(reason), "{err}");
        assert!(err.to_string().contains(&format!("line {line}")), "{err}");
    }
}
