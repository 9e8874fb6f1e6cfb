//! Mount option strings (config.md#mounts `options`) to mount(2) flags, propagation
//! changes and the filesystem data string, following runc's option table
//! (libcontainer/specconv parseMountOptions).

use super::RootfsError;
use crate::sys::mount::MS_NOSYMFOLLOW;
use nix::mount::MsFlags;

/// The parsed `options` of one mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount(2) call (MS_BIND/MS_REC included for bind/rbind).
    pub flags: MsFlags,
    /// Propagation changes, applied in order after the mount (runc: PropagationFlags).
    pub propagation: Vec<MsFlags>,
    /// Everything mount(2) does not know, comma-joined, for the filesystem.
    pub data: String,
    /// `tmpcopyup`: fill a new tmpfs with what it covers (runc's EXT_COPYUP).
    pub copy_up: bool,
    /// Recursive attributes (`rro`, `rnosuid`, ...; runtime-spec 1.1) to set and to clear on
    /// the whole mount tree with mount_setattr(AT_RECURSIVE), after the mount.
    pub rec_set: MsFlags,
    pub rec_clear: MsFlags,
    /// `idmap` / `ridmap` (runtime-spec 1.1 config.md#mounts): an id-mapped bind mount, of the
    /// top mount only or of every mount of an `rbind` tree.
    pub idmap: Option<IdmapScope>,
}

/// Which mounts of a bind's tree get the id mapping (mount_setattr with or without
/// AT_RECURSIVE; runc's `IDMapping.Recursive`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdmapScope {
    /// `idmap`, or mappings without an option: the top mount only.
    Top,
    /// `ridmap`: every mount of the tree.
    Recursive,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            flags: MsFlags::empty(),
            propagation: Vec::new(),
            data: String::new(),
            copy_up: false,
            rec_set: MsFlags::empty(),
            rec_clear: MsFlags::empty(),
            idmap: None,
        }
    }
}

enum Opt {
    Set(MsFlags),
    Clear(MsFlags),
    Propagation(MsFlags),
    Idmap(IdmapScope),
    RecSet(MsFlags),
    RecClear(MsFlags),
    CopyUp,
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
        "idmap" => Opt::Idmap(IdmapScope::Top),
        "ridmap" => Opt::Idmap(IdmapScope::Recursive),
        "tmpcopyup" => Opt::CopyUp,
        "rro" => Opt::RecSet(F::MS_RDONLY),
        "rrw" => Opt::RecClear(F::MS_RDONLY),
        "rnosuid" => Opt::RecSet(F::MS_NOSUID),
        "rsuid" => Opt::RecClear(F::MS_NOSUID),
        "rnodev" => Opt::RecSet(F::MS_NODEV),
        "rdev" => Opt::RecClear(F::MS_NODEV),
        "rnoexec" => Opt::RecSet(F::MS_NOEXEC),
        "rexec" => Opt::RecClear(F::MS_NOEXEC),
        "rnodiratime" => Opt::RecSet(F::MS_NODIRATIME),
        "rdiratime" => Opt::RecClear(F::MS_NODIRATIME),
        "rrelatime" => Opt::RecSet(F::MS_RELATIME),
        "rnorelatime" => Opt::RecClear(F::MS_RELATIME),
        "rnoatime" => Opt::RecSet(F::MS_NOATIME),
        "ratime" => Opt::RecClear(F::MS_NOATIME),
        "rstrictatime" => Opt::RecSet(F::MS_STRICTATIME),
        "rnostrictatime" => Opt::RecClear(F::MS_STRICTATIME),
        "rnosymfollow" => Opt::RecSet(MS_NOSYMFOLLOW),
        "rsymfollow" => Opt::RecClear(MS_NOSYMFOLLOW),
        _ => return None,
    };
    Some(o)
}

/// Parses a mount's options. Later options win over earlier ones, as with mount(8).
pub fn parse_options(options: &[String]) -> MountOptions {
    let mut out = MountOptions::default();
    let mut data = Vec::new();
    for option in options {
        match lookup(option) {
            Some(Opt::Set(f)) => out.flags.insert(f),
            Some(Opt::Clear(f)) => out.flags.remove(f),
            Some(Opt::Propagation(f)) => out.propagation.push(f),
            Some(Opt::CopyUp) => out.copy_up = true,
            Some(Opt::RecSet(f)) => {
                out.rec_set.insert(f);
                out.rec_clear.remove(f);
            }
            Some(Opt::RecClear(f)) => {
                out.rec_clear.insert(f);
                out.rec_set.remove(f);
            }
            Some(Opt::Ignore) => {}
            Some(Opt::Idmap(scope)) => out.idmap = Some(scope),
            None => data.push(option.as_str()),
        }
    }
    out.data = data.join(",");
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use MsFlags as F;

    fn parse(opts: &[&str]) -> MountOptions {
        let opts: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        parse_options(&opts)
    }

    #[rstest]
    #[case(&["ro"], F::MS_RDONLY, &[], "")]
    #[case(&["ro", "rw"], F::empty(), &[], "")]
    #[case(&["rw", "ro"], F::MS_RDONLY, &[], "")]
    #[case(&["defaults"], F::empty(), &[], "")]
    #[case(&["nosuid", "suid"], F::empty(), &[], "")]
    #[case(&["nodev", "noexec", "nosuid"], F::MS_NODEV | F::MS_NOEXEC | F::MS_NOSUID, &[], "")]
    #[case(&["nodev", "dev", "noexec", "exec"], F::empty(), &[], "")]
    #[case(&["sync"], F::MS_SYNCHRONOUS, &[], "")]
    #[case(&["sync", "async"], F::empty(), &[], "")]
    #[case(&["dirsync"], F::MS_DIRSYNC, &[], "")]
    #[case(&["remount"], F::MS_REMOUNT, &[], "")]
    #[case(&["mand", "nomand", "mand"], F::MS_MANDLOCK, &[], "")]
    #[case(&["noatime", "atime"], F::empty(), &[], "")]
    #[case(&["nodiratime"], F::MS_NODIRATIME, &[], "")]
    #[case(&["nodiratime", "diratime"], F::empty(), &[], "")]
    #[case(&["relatime"], F::MS_RELATIME, &[], "")]
    #[case(&["relatime", "norelatime"], F::empty(), &[], "")]
    #[case(&["strictatime"], F::MS_STRICTATIME, &[], "")]
    #[case(&["strictatime", "nostrictatime"], F::empty(), &[], "")]
    #[case(&["lazytime"], F::MS_LAZYTIME, &[], "")]
    #[case(&["lazytime", "nolazytime"], F::empty(), &[], "")]
    #[case(&["silent"], F::MS_SILENT, &[], "")]
    #[case(&["silent", "loud"], F::empty(), &[], "")]
    #[case(&["nosymfollow"], MS_NOSYMFOLLOW, &[], "")]
    #[case(&["bind"], F::MS_BIND, &[], "")]
    #[case(&["rbind"], F::MS_BIND | F::MS_REC, &[], "")]
    #[case(&["rbind", "rprivate"], F::MS_BIND | F::MS_REC, &[F::MS_PRIVATE | F::MS_REC], "")]
    #[case(&["bind", "shared", "slave"], F::MS_BIND, &[F::MS_SHARED, F::MS_SLAVE], "")]
    #[case(&["private", "rshared", "rslave"], F::empty(), &[F::MS_PRIVATE, F::MS_SHARED | F::MS_REC, F::MS_SLAVE | F::MS_REC], "")]
    #[case(&["unbindable", "runbindable"], F::empty(), &[F::MS_UNBINDABLE, F::MS_UNBINDABLE | F::MS_REC], "")]
    #[case(&["mode=755", "nosuid", "size=65536k"], F::MS_NOSUID, &[], "mode=755,size=65536k")]
    #[case(&["newinstance", "ptmxmode=0666", "mode=0620", "gid=5"], F::empty(), &[], "newinstance,ptmxmode=0666,mode=0620,gid=5")]
    fn option_table(
        #[case] opts: &[&str],
        #[case] flags: MsFlags,
        #[case] prop: &[MsFlags],
        #[case] data: &str,
    ) {
        let got = parse(opts);
        assert_eq!(
            got,
            MountOptions {
                flags,
                propagation: prop.to_vec(),
                data: data.into(),
                ..Default::default()
            }
        );
    }

    #[rstest]
    #[case(&["idmap"], Some(IdmapScope::Top))]
    #[case(&["ridmap"], Some(IdmapScope::Recursive))]
    #[case(&["ridmap", "idmap"], Some(IdmapScope::Top))]
    #[case(&["rbind"], None)]
    fn idmap_options_choose_the_scope(#[case] opts: &[&str], #[case] scope: Option<IdmapScope>) {
        let got = parse(opts);
        assert_eq!((got.idmap, got.data.as_str()), (scope, ""));
    }

    #[rstest]
    #[case(&["rro"], F::MS_RDONLY, F::empty())]
    #[case(&["rro", "rrw"], F::empty(), F::MS_RDONLY)]
    #[case(&["rnosuid", "rnodev", "rnoexec"], F::MS_NOSUID | F::MS_NODEV | F::MS_NOEXEC, F::empty())]
    #[case(&["rsuid", "rdev", "rexec", "rdiratime"], F::empty(), F::MS_NOSUID | F::MS_NODEV | F::MS_NOEXEC | F::MS_NODIRATIME)]
    #[case(&["rnodiratime", "rnoatime"], F::MS_NODIRATIME | F::MS_NOATIME, F::empty())]
    #[case(&["rrelatime", "rnostrictatime"], F::MS_RELATIME, F::MS_STRICTATIME)]
    #[case(&["rstrictatime", "ratime", "rnorelatime"], F::MS_STRICTATIME, F::MS_NOATIME | F::MS_RELATIME)]
    #[case(&["rnosymfollow"], MS_NOSYMFOLLOW, F::empty())]
    #[case(&["rnosymfollow", "rsymfollow"], F::empty(), MS_NOSYMFOLLOW)]
    fn recursive_attributes(#[case] opts: &[&str], #[case] set: MsFlags, #[case] clear: MsFlags) {
        let got = parse(opts);
        assert_eq!(
            (got.rec_set, got.rec_clear, got.flags),
            (set, clear, F::empty())
        );
    }

    #[rstest]
    #[case("private", F::MS_PRIVATE)]
    #[case("rprivate", F::MS_PRIVATE | F::MS_REC)]
    #[case("shared", F::MS_SHARED)]
    #[case("rshared", F::MS_SHARED | F::MS_REC)]
    #[case("slave", F::MS_SLAVE)]
    #[case("rslave", F::MS_SLAVE | F::MS_REC)]
    #[case("unbindable", F::MS_UNBINDABLE)]
    #[case("runbindable", F::MS_UNBINDABLE | F::MS_REC)]
    fn rootfs_propagation_values(#[case] value: &str, #[case] flags: MsFlags) {
        assert_eq!(parse_rootfs_propagation(value).expect("valid"), flags);
    }

    #[rstest]
    #[case("ro")]
    #[case("")]
    #[case("rbind")]
    fn rootfs_propagation_rejects_non_propagation(#[case] value: &str) {
        assert!(parse_rootfs_propagation(value).is_err());
    }
}
