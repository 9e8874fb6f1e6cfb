//! The handle-target half of `RealMountSys::mount`: the new mount API (Linux 5.2+ for
//! open_tree/move_mount/fsopen/fsmount, 5.12+ for mount_setattr). A mount onto a resolved
//! O_PATH fd never goes back through a path string, so nothing can redirect it and no
//! `/proc` (the container's or the host's) is needed.

use super::{cpath, cstr, cvt, Handle, Loc, RealMountSys, MS_NOSYMFOLLOW};
use nix::mount::MsFlags;
use std::io;
use std::os::unix::ffi::OsStrExt;

/// Closes a temporary fd of the new mount API when it goes out of scope.
pub(super) struct TmpFd(pub(super) i32);
impl Drop for TmpFd {
    fn drop(&mut self) {
        // SAFETY: we own this fd and close it exactly once.
        unsafe { libc::close(self.0) };
    }
}

const EMPTY: &[u8] = b"\0";

fn empty() -> *const libc::c_char {
    EMPTY.as_ptr().cast()
}

/// Per-mount attributes (MOUNT_ATTR_*) for the classic per-mount flags in `flags`, with
/// mount(2)'s semantics for `MS_REMOUNT|MS_BIND`: every flag not given is cleared, and the
/// atime mode is always set, to relatime when no mode is named (do_mount gives a mount
/// MNT_RELATIME unless MS_NOATIME or MS_STRICTATIME is passed). runc's bind remounts go
/// through mount(2), so a `nodiratime` bind of a `noatime` source ends `nodiratime,relatime`
/// there, and here. Returns (attr_set, attr_clr).
/// Mount data read the way mount(2)'s own parser reads it (security_sb_eat_lsm_opts): options
/// split at commas outside double quotes, a quoted value passed without its quotes. runc
/// quotes an SELinux context (`context="system_u:object_r:t:s0:c1,c2"`): fsconfig(2) takes one
/// option at a time and would get the quotes, or half a label at the category's comma.
fn data_options(data: &str) -> Vec<(&str, Option<String>)> {
    let mut opts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in data.char_indices().chain([(data.len(), ',')]) {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                let opt = &data[start..i];
                start = i + 1;
                if opt.is_empty() {
                    continue;
                }
                opts.push(match opt.split_once('=') {
                    Some((k, v)) => (k, Some(v.replace('"', ""))),
                    None => (opt, None),
                });
            }
            _ => {}
        }
    }
    opts
}

fn mount_attrs(flags: MsFlags) -> (u64, u64) {
    let table = [
        (MsFlags::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, libc::MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
        (MsFlags::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
        (MS_NOSYMFOLLOW, libc::MOUNT_ATTR_NOSYMFOLLOW),
    ];
    let (mut set, mut clr) = (0, libc::MOUNT_ATTR__ATIME);
    for (f, a) in table {
        if flags.contains(f) {
            set |= a;
        } else {
            clr |= a;
        }
    }
    if flags.contains(MsFlags::MS_NOATIME) {
        set |= libc::MOUNT_ATTR_NOATIME;
    } else if flags.contains(MsFlags::MS_STRICTATIME) {
        set |= libc::MOUNT_ATTR_STRICTATIME;
    }
    (set, clr)
}

/// MOUNT_ATTR_* bits for per-mount MS_* flags (atime modes: see `atime_attr`).
fn attr_bits(flags: MsFlags) -> u64 {
    let table = [
        (MsFlags::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, libc::MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
        (MsFlags::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
        (MsFlags::MS_NOATIME, libc::MOUNT_ATTR_NOATIME),
        (MsFlags::MS_STRICTATIME, libc::MOUNT_ATTR_STRICTATIME),
        (MS_NOSYMFOLLOW, libc::MOUNT_ATTR_NOSYMFOLLOW),
    ];
    table
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .fold(0, |acc, (_, a)| acc | a)
}

/// (attr_set, attr_clr) for recursive attributes; setting an atime mode must also clear
/// MOUNT_ATTR__ATIME (mount_setattr(2)), and relatime is the all-zero mode.
fn recursive_attr(set: MsFlags, clear: MsFlags) -> (u64, u64) {
    let atime = MsFlags::MS_NOATIME | MsFlags::MS_STRICTATIME | MsFlags::MS_RELATIME;
    let mut clr = attr_bits(clear);
    if set.intersects(atime) {
        clr |= libc::MOUNT_ATTR__ATIME;
    }
    (attr_bits(set), clr)
}

impl RealMountSys {
    pub(super) fn recursive_attrs(
        &self,
        target: Handle,
        set: MsFlags,
        clear: MsFlags,
    ) -> io::Result<()> {
        let (attr_set, attr_clr) = recursive_attr(set, clear);
        // SAFETY: mount_attr is plain old data; all-zero is a valid value.
        let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
        attr.attr_set = attr_set;
        attr.attr_clr = attr_clr;
        self.mount_setattr(target, true, &attr)
    }

    fn mount_setattr(&self, h: Handle, recursive: bool, attr: &libc::mount_attr) -> io::Result<()> {
        let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
        // SAFETY: valid fd, NUL-terminated empty path and a correctly sized mount_attr.
        cvt(unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                h.0,
                empty(),
                flags,
                attr as *const libc::mount_attr,
                std::mem::size_of::<libc::mount_attr>(),
            )
        })
        .map(drop)
    }

    pub(super) fn move_onto(&self, from: &TmpFd, to: Handle) -> io::Result<()> {
        let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
        // SAFETY: both fds are valid; empty paths with the EMPTY_PATH flags.
        cvt(unsafe { libc::syscall(libc::SYS_move_mount, from.0, empty(), to.0, empty(), flags) })
            .map(drop)
    }

    /// Bind: `open_tree(OPEN_TREE_CLONE)` of the source, then `move_mount` onto the handle.
    fn bind_onto(&self, source: Loc, target: Handle, recursive: bool) -> io::Result<()> {
        let mut flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
        if recursive {
            flags |= libc::AT_RECURSIVE as libc::c_uint;
        }
        let tree = match source {
            Loc::Path(p) => {
                let c = cpath(p)?;
                // SAFETY: NUL-terminated path, AT_FDCWD.
                cvt(unsafe {
                    libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags)
                })?
            }
            Loc::Handle(h) => {
                let flags = flags | libc::AT_EMPTY_PATH as libc::c_uint;
                // SAFETY: valid fd with AT_EMPTY_PATH.
                cvt(unsafe { libc::syscall(libc::SYS_open_tree, h.0, empty(), flags) })?
            }
        };
        let tree = TmpFd(tree as i32);
        self.move_onto(&tree, target)
    }

    fn fsconfig(
        &self,
        fs: &TmpFd,
        cmd: libc::c_uint,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> io::Result<()> {
        let key = key.map(cstr).transpose()?;
        let value = value.map(cstr).transpose()?;
        let kp = key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr());
        let vp = value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
        // SAFETY: valid fs context fd; key/value are NUL-terminated or NULL as the command requires.
        cvt(unsafe { libc::syscall(libc::SYS_fsconfig, fs.0, cmd, kp, vp, 0) }).map(drop)
    }

    /// fsopen, one fsconfig per data option, fsmount with the per-mount flags: a new
    /// filesystem instance not attached anywhere yet.
    pub(super) fn new_fs(
        &self,
        source: Option<Loc>,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<TmpFd> {
        let ty = cstr(fstype.as_bytes())?;
        // SAFETY: NUL-terminated fs type name.
        let fs = TmpFd(cvt(unsafe {
            libc::syscall(libc::SYS_fsopen, ty.as_ptr(), libc::FSOPEN_CLOEXEC)
        })? as i32);
        if let Some(Loc::Path(src)) = source {
            self.fsconfig(
                &fs,
                libc::FSCONFIG_SET_STRING,
                Some(b"source"),
                Some(src.as_os_str().as_bytes()),
            )?;
        }
        // Superblock flags the VFS parses itself (fs/fs_context.c common_set_sb_flag).
        let sb = [
            (MsFlags::MS_RDONLY, &b"ro"[..]),
            (MsFlags::MS_SYNCHRONOUS, b"sync"),
            (MsFlags::MS_DIRSYNC, b"dirsync"),
            (MsFlags::MS_LAZYTIME, b"lazytime"),
            (MsFlags::MS_MANDLOCK, b"mand"),
        ];
        for (f, name) in sb {
            if flags.contains(f) {
                self.fsconfig(&fs, libc::FSCONFIG_SET_FLAG, Some(name), None)?;
            }
        }
        for (key, value) in data_options(data.unwrap_or("")) {
            match value {
                Some(v) => self.fsconfig(
                    &fs,
                    libc::FSCONFIG_SET_STRING,
                    Some(key.as_bytes()),
                    Some(v.as_bytes()),
                )?,
                None => self.fsconfig(&fs, libc::FSCONFIG_SET_FLAG, Some(key.as_bytes()), None)?,
            }
        }
        self.fsconfig(&fs, libc::FSCONFIG_CMD_CREATE, None, None)?;
        let (attr, _) = mount_attrs(flags);
        // SAFETY: valid fs context fd.
        let mnt =
            cvt(unsafe { libc::syscall(libc::SYS_fsmount, fs.0, libc::FSMOUNT_CLOEXEC, attr) })?;
        Ok(TmpFd(mnt as i32))
    }

    pub(super) fn mount_on_handle(
        &self,
        source: Option<Loc>,
        target: Handle,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()> {
        let propagation =
            MsFlags::MS_SHARED | MsFlags::MS_PRIVATE | MsFlags::MS_SLAVE | MsFlags::MS_UNBINDABLE;
        let recursive = flags.contains(MsFlags::MS_REC);
        if flags.intersects(propagation) {
            // SAFETY: mount_attr is plain old data; all-zero is a valid value.
            let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
            attr.propagation = (flags & propagation).bits();
            return self.mount_setattr(target, recursive, &attr);
        }
        if flags.contains(MsFlags::MS_REMOUNT | MsFlags::MS_BIND) {
            // A bind remount changes only per-mount flags: exactly what mount_setattr does.
            let (set, clr) = mount_attrs(flags);
            // SAFETY: as above.
            let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
            attr.attr_set = set;
            attr.attr_clr = clr;
            return self.mount_setattr(target, false, &attr);
        }
        if flags.contains(MsFlags::MS_REMOUNT) || flags.contains(MsFlags::MS_MOVE) {
            // Superblock reconfiguration and moves are never issued on handles by rootfs/.
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        if flags.contains(MsFlags::MS_BIND) {
            let source = source.ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
            return self.bind_onto(source, target, recursive);
        }
        let fstype = fstype.ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mnt = self.new_fs(source, fstype, flags, data)?;
        self.move_onto(&mnt, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_splits_outside_quotes_and_drops_them() {
        let got =
            data_options(r#"mode=755,size=65536k,,newinstance,context="u:object_r:t:s0:c1,c2""#);
        assert_eq!(
            got,
            [
                ("mode", Some("755".to_string())),
                ("size", Some("65536k".to_string())),
                ("newinstance", None),
                ("context", Some("u:object_r:t:s0:c1,c2".to_string())),
            ]
        );
        assert!(data_options("").is_empty());
    }

    #[test]
    fn bind_remount_attrs_set_requested_and_clear_the_rest() {
        let (set, clr) = mount_attrs(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID);
        assert_eq!(set, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID);
        assert_eq!(clr & libc::MOUNT_ATTR_NODEV, libc::MOUNT_ATTR_NODEV);
        assert_eq!(
            (set & libc::MOUNT_ATTR__ATIME, clr & libc::MOUNT_ATTR__ATIME),
            (0, libc::MOUNT_ATTR__ATIME),
            "no atime mode named: relatime, as mount(2) does"
        );
        let (set, clr) = mount_attrs(MsFlags::MS_NODIRATIME);
        assert_eq!(
            set,
            libc::MOUNT_ATTR_NODIRATIME,
            "relatime is the all-zero mode"
        );
        assert_eq!(clr & libc::MOUNT_ATTR__ATIME, libc::MOUNT_ATTR__ATIME);
        let (set, _) = mount_attrs(MsFlags::MS_STRICTATIME);
        assert_eq!(set, libc::MOUNT_ATTR_STRICTATIME);
        let (set, clr) = mount_attrs(MsFlags::MS_NOATIME);
        assert_eq!(set, libc::MOUNT_ATTR_NOATIME);
        assert_eq!(clr & libc::MOUNT_ATTR__ATIME, libc::MOUNT_ATTR__ATIME);
    }

    #[test]
    fn recursive_atime_mode_clears_the_atime_field() {
        let (set, clr) = recursive_attr(
            MsFlags::MS_RDONLY | MsFlags::MS_RELATIME,
            MsFlags::MS_NOSUID,
        );
        assert_eq!(set, libc::MOUNT_ATTR_RDONLY);
        assert_eq!(clr, libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR__ATIME);
        let (set, clr) = recursive_attr(MsFlags::empty(), MsFlags::MS_RDONLY);
        assert_eq!((set, clr), (0, libc::MOUNT_ATTR_RDONLY));
    }
}
