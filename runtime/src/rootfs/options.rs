//! Mount option strings (config.md#mounts `options`) to mount(2) flags, propagation
//! changes and the filesystem data string, following runc's option table
//! (libcontainer/specconv parseMountOptions).

use super::RootfsError;
use crate::sys::mount::MS_NOSYMFOLLOW;
use nix::mount::MsFlags;
use std::path::Path;

/// The parsed `options` of one mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount(2) call (MS_BIND/MS_REC included for bind/rbind).
    pub flags: MsFlags,
    /// Propagation changes, applied in order after the mount (runc: PropagationFlags).
    pub propagation: Vec<MsFlags>,
    /// Everything mount(2) does not know, comma-joined, for the filesystem.
    pub data: String,
}

enum Opt {
    Set(MsFlags),
    Clear(MsFlags),
    Propagation(MsFlags),
    Reject(&'static str),
    Ignore,
}

fn lookup(option: &str) -> Option<Opt> {
    use MsFlags as F;
    let o = match option {
        "defaults" => Opt::Ignore,
        "ro" => Opt::Set(F::MS_RDONLY),
        "rw" => Opt::Clear(F::MS_RDONLY),
        "suid" => Opt::Clear(F::MS_NOSUID),
        "nosuid" => Opt::Set(F::MS_NOSUID),
        "dev" => Opt::Clear(F::MS_NODEV),
        "nodev" => Opt::Set(F::MS_NODEV),
        "exec" => Opt::Clear(F::MS_NOEXEC),
        "noexec" => Opt::Set(F::MS_NOEXEC),
        "sync" => Opt::Set(F::MS_SYNCHRONOUS),
        "async" => Opt::Clear(F::MS_SYNCHRONOUS),
        "dirsync" => Opt::Set(F::MS_DIRSYNC),
        "remount" => Opt::Set(F::MS_REMOUNT),
        "mand" => Opt::Set(F::MS_MANDLOCK),
        "nomand" => Opt::Clear(F::MS_MANDLOCK),
        "atime" => Opt::Clear(F::MS_NOATIME),
        "noatime" => Opt::Set(F::MS_NOATIME),
        "diratime" => Opt::Clear(F::MS_NODIRATIME),
        "nodiratime" => Opt::Set(F::MS_NODIRATIME),
        "relatime" => Opt::Set(F::MS_RELATIME),
        "norelatime" => Opt::Clear(F::MS_RELATIME),
        "strictatime" => Opt::Set(F::MS_STRICTATIME),
        "nostrictatime" => Opt::Clear(F::MS_STRICTATIME),
        "lazytime" => Opt::Set(F::MS_LAZYTIME),
        "nolazytime" => Opt::Clear(F::MS_LAZYTIME),
        "silent" => Opt::Set(F::MS_SILENT),
        "loud" => Opt::Clear(F::MS_SILENT),
        "iversion" => Opt::Set(F::MS_I_VERSION),
        "noiversion" => Opt::Clear(F::MS_I_VERSION),
        "acl" => Opt::Set(F::MS_POSIXACL),
        "noacl" => Opt::Clear(F::MS_POSIXACL),
        "nosymfollow" => Opt::Set(MS_NOSYMFOLLOW),
        "symfollow" => Opt::Clear(MS_NOSYMFOLLOW),
        "bind" => Opt::Set(F::MS_BIND),
        "rbind" => Opt::Set(F::MS_BIND | F::MS_REC),
        "private" => Opt::Propagation(F::MS_PRIVATE),
        "rprivate" => Opt::Propagation(F::MS_PRIVATE | F::MS_REC),
        "shared" => Opt::Propagation(F::MS_SHARED),
        "rshared" => Opt::Propagation(F::MS_SHARED | F::MS_REC),
        "slave" => Opt::Propagation(F::MS_SLAVE),
        "rslave" => Opt::Propagation(F::MS_SLAVE | F::MS_REC),
        "unbindable" => Opt::Propagation(F::MS_UNBINDABLE),
        "runbindable" => Opt::Propagation(F::MS_UNBINDABLE | F::MS_REC),
        "idmap" | "ridmap" => Opt::Reject("id-mapped mounts are not supported yet"),
        "tmpcopyup" => Opt::Reject("tmpcopyup is not supported yet"),
        "rro" | "rrw" | "rnosuid" | "rsuid" | "rnodev" | "rdev" | "rnoexec" | "rexec"
        | "rnodiratime" | "rdiratime" | "rrelatime" | "rnorelatime" | "rnoatime" | "ratime"
        | "rstrictatime" | "rnostrictatime" | "rnosymfollow" | "rsymfollow" => Opt::Reject(
            "recursive mount attributes (mount_setattr AT_RECURSIVE) are not supported yet",
        ),
        _ => return None,
    };
    Some(o)
}

/// Parses a mount's options. Later options win over earlier ones, as with mount(8).
pub fn parse_options(destination: &Path, options: &[String]) -> Result<MountOptions, RootfsError> {
    let mut out = MountOptions {
        flags: MsFlags::empty(),
        propagation: Vec::new(),
        data: String::new(),
    };
    let mut data = Vec::new();
    for option in options {
        match lookup(option) {
            Some(Opt::Set(f)) => out.flags.insert(f),
            Some(Opt::Clear(f)) => out.flags.remove(f),
            Some(Opt::Propagation(f)) => out.propagation.push(f),
            Some(Opt::Ignore) => {}
            Some(Opt::Reject(reason)) => {
                return Err(RootfsError::Option {
                    destination: destination.to_path_buf(),
                    option: option.clone(),
                    reason,
                })
            }
            None => data.push(option.as_str()),
        }
    }
    out.data = data.join(",");
    Ok(out)
}

/// `linux.rootfsPropagation` to flags (config-linux.md#rootfs-mount-propagation).
pub fn parse_rootfs_propagation(value: &str) -> Result<MsFlags, RootfsError> {
    match lookup(value) {
        Some(Opt::Propagation(f)) => Ok(f),
        _ => Err(RootfsError::config(
            "linux.rootfsPropagation",
            format!("{value:?} is not one of private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable"),
        )),
    }
}
