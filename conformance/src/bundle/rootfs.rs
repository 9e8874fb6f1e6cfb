//! Base rootfs images. `busybox`: the static /bin/busybox and its applet links, minimal /etc;
//! `probe`: that plus the static oci-probe helper at /probe. Built once per run into a cache
//! directory, then cloned per scenario with hard links (copies when the root is writable, so
//! no container can change the shared image).

use crate::scenario::Base;
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("busybox at {path} cannot list its applets: {message}")]
    Busybox { path: PathBuf, message: String },
    #[error("the `probe` base needs the static oci-probe helper: {0}")]
    ProbeMissing(String),
    #[error("{path} is dynamically linked; build it with RUSTFLAGS='-C target-feature=+crt-static' --target x86_64-unknown-linux-gnu")]
    NotStatic { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RootfsError + '_ {
    move |source| RootfsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub const BUSYBOX: &str = "/bin/busybox";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nconform:x:1000:1000:conform:/home/conform:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nconform:x:1000:\nnogroup:x:65534:\n";

/// True when the ELF file has no PT_INTERP program header (no dynamic loader needed).
pub fn is_static_elf(path: &Path) -> io::Result<bool> {
    let data = fs::read(path)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a 64-bit ELF file");
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 {
        return Err(bad());
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(data[0x20..0x28].try_into().map_err(|_| bad())?) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let off = phoff + i * phentsize;
        let Some(h) = data.get(off..off + 4) else {
            return Err(bad());
        };
        if u32::from_le_bytes([h[0], h[1], h[2], h[3]]) == 3 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Finds oci-probe: the explicit path, next to this executable, or in a target/ directory
/// above it or the working directory (static gnu-target builds first).
pub fn find_probe(explicit: Option<&Path>) -> Result<PathBuf, RootfsError> {
    let candidates = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => crate::host::built::candidates(
            "oci-probe",
            &[
                "x86_64-unknown-linux-gnu/release",
                "x86_64-unknown-linux-gnu/debug",
                "release",
                "debug",
            ],
        ),
    };
    let mut dynamic = None;
    for c in &candidates {
        if c.is_file() {
            match is_static_elf(c) {
                Ok(true) => return Ok(c.clone()),
                Ok(false) => dynamic = dynamic.or(Some(c.clone())),
                Err(_) => {}
            }
        }
    }
    if let Some(path) = dynamic {
        return Err(RootfsError::NotStatic { path });
    }
    Err(RootfsError::ProbeMissing(match explicit {
        Some(p) => format!("{} does not exist", p.display()),
        None => "not found next to oci-conform or under target/; pass --probe PATH".into(),
    }))
}

fn applets(busybox: &Path) -> Result<Vec<String>, RootfsError> {
    let out = Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| RootfsError::Busybox {
            path: busybox.into(),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(RootfsError::Busybox {
            path: busybox.into(),
            message: format!("{}", out.status),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect())
}

fn write(path: &Path, content: &str, mode: u32) -> Result<(), RootfsError> {
    fs::write(path, content).map_err(io_err(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err(path))
}

fn build_into(dir: &Path, base: Base, probe: Option<&Path>) -> Result<(), RootfsError> {
    for d in [
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "etc",
        "proc",
        "sys",
        "dev",
        "tmp",
        "root",
        "home/conform",
        "var",
        "run",
        "mnt",
    ] {
        fs::create_dir_all(dir.join(d)).map_err(io_err(&dir.join(d)))?;
    }
    fs::set_permissions(dir.join("tmp"), fs::Permissions::from_mode(0o1777))
        .map_err(io_err(&dir.join("tmp")))?;
    let bb = dir.join("bin/busybox");
    fs::copy(BUSYBOX, &bb).map_err(io_err(Path::new(BUSYBOX)))?;
    // Applets are hard links to /bin/busybox (it dispatches on argv[0]), not symlinks:
    // cloning ~270 symlinks per scenario costs ~100 ms on ext4, hard links ~2 ms.
    for applet in applets(Path::new(BUSYBOX))? {
        let target = dir.join(&applet);
        if applet == "bin/busybox" || target.exists() {
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        fs::hard_link(&bb, &target).map_err(io_err(&target))?;
    }
    write(&dir.join("etc/passwd"), PASSWD, 0o644)?;
    write(&dir.join("etc/group"), GROUP, 0o644)?;
    write(&dir.join("etc/hostname"), "conformance\n", 0o644)?;
    if base == Base::Probe {
        let src = probe
            .ok_or_else(|| RootfsError::ProbeMissing("no oci-probe path was resolved".into()))?;
        let dst = dir.join("probe");
        fs::copy(src, &dst).map_err(io_err(src))?;
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o755)).map_err(io_err(&dst))?;
    }
    Ok(())
}

/// Builds (once) the image for `base` under `cache`, returning its directory.
pub fn ensure_image(
    cache: &Path,
    base: Base,
    probe: Option<&Path>,
) -> Result<PathBuf, RootfsError> {
    let name = match base {
        Base::Busybox => "busybox",
        Base::Probe => "probe",
    };
    let done = cache.join(name);
    if done.is_dir() {
        return Ok(done);
    }
    let tmp = cache.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    build_into(&tmp, base, probe)?;
    fs::rename(&tmp, &done).map_err(io_err(&done))?;
    Ok(done)
}

/// Clones a tree: directories recreated, symlinks recreated, files hard-linked or copied.
/// A copy keeps the source's hard-link structure (one copy of busybox, not 270).
pub fn clone_tree(src: &Path, dst: &Path, hardlink: bool) -> Result<(), RootfsError> {
    clone_inner(src, dst, hardlink, &mut std::collections::HashMap::new())
}

fn clone_inner(
    src: &Path,
    dst: &Path,
    hardlink: bool,
    copied: &mut std::collections::HashMap<(u64, u64), PathBuf>,
) -> Result<(), RootfsError> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(src).map_err(io_err(src))?;
    fs::create_dir_all(dst).map_err(io_err(dst))?;
    fs::set_permissions(dst, meta.permissions()).map_err(io_err(dst))?;
    for entry in fs::read_dir(src).map_err(io_err(src))? {
        let entry = entry.map_err(io_err(src))?;
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let ft = entry.file_type().map_err(io_err(&from))?;
        if ft.is_dir() {
            clone_inner(&from, &to, hardlink, copied)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&from).map_err(io_err(&from))?;
            symlink(target, &to).map_err(io_err(&to))?;
        } else if !hardlink || fs::hard_link(&from, &to).is_err() {
            let m = fs::metadata(&from).map_err(io_err(&from))?;
            let key = (m.dev(), m.ino());
            match copied.get(&key) {
                Some(first) if m.nlink() > 1 => fs::hard_link(first, &to).map_err(io_err(&to))?,
                _ => {
                    fs::copy(&from, &to).map_err(io_err(&from))?;
                    copied.insert(key, to.clone());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs busybox-static"]
    fn busybox_image_has_applets_and_etc() {
        // Requested (--include-ignored): without busybox it would test nothing, so it fails.
        assert!(
            Path::new(BUSYBOX).exists(),
            "{BUSYBOX} is not installed (apt-get install busybox-static)"
        );
        let dir = tempfile::tempdir().unwrap();
        let img = ensure_image(dir.path(), Base::Busybox, None).unwrap();
        use std::os::unix::fs::MetadataExt;
        let ino = |p: &Path| fs::metadata(p).unwrap().ino();
        assert_eq!(ino(&img.join("bin/sh")), ino(&img.join("bin/busybox")));
        assert!(fs::read_to_string(img.join("etc/passwd"))
            .unwrap()
            .starts_with("root:x:0:0"));
        assert!(is_static_elf(&img.join("bin/busybox")).unwrap());
        let clone = dir.path().join("clone");
        clone_tree(&img, &clone, true).unwrap();
        assert!(clone.join("bin/busybox").is_file());
        assert_eq!(ino(&clone.join("bin/sh")), ino(&img.join("bin/busybox")));
        // A copy (writable root) shares one busybox among the applets, not one per applet.
        let copy = dir.path().join("copy");
        clone_tree(&img, &copy, false).unwrap();
        assert_ne!(ino(&copy.join("bin/sh")), ino(&img.join("bin/busybox")));
        assert_eq!(ino(&copy.join("bin/sh")), ino(&copy.join("bin/busybox")));
    }

    #[test]
    fn dynamic_binaries_are_detected() {
        assert!(!is_static_elf(Path::new("/bin/sh")).unwrap() || !Path::new("/bin/sh").exists());
        assert!(is_static_elf(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn probe_base_without_probe_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = find_probe(Some(&dir.path().join("nope"))).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }
}
