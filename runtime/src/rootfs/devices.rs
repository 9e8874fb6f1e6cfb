//! /dev contents (config-linux.md#devices, #default-devices): the default devices, the
//! config's `linux.devices`, runc's /dev symlinks and /dev/ptmx -> pts/ptmx. Nodes are made
//! with mknodat in a directory resolved in-root; in a user namespace mknod is not allowed, so
//! the host node is bind-mounted onto an empty file instead (runc bindMountDeviceNode).

use super::resolve::Create;
use super::{Env, RootfsError};
use crate::sys::mount::{FileKind, Loc, NodeKind};
use nix::mount::MsFlags;
use nix::sys::stat::fstat;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// A device node to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub path: PathBuf,
    pub kind: NodeKind,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// config-linux.md#default-devices.
const DEFAULT_DEVICES: &[(&str, u64, u64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

fn from_config(index: usize, d: &LinuxDevice) -> Result<Node, RootfsError> {
    let kind = match d.typ() {
        LinuxDeviceType::C | LinuxDeviceType::U => NodeKind::Char,
        LinuxDeviceType::B => NodeKind::Block,
        LinuxDeviceType::P => NodeKind::Fifo,
        LinuxDeviceType::A => {
            return Err(RootfsError::config(
                format!("linux.devices[{index}].type"),
                "\"a\" is only valid in linux.resources.devices, not for a device node",
            ))
        }
    };
    let num = |v: i64, field: &str| {
        u64::try_from(v).map_err(|_| {
            RootfsError::config(
                format!("linux.devices[{index}].{field}"),
                format!("{v} is negative"),
            )
        })
    };
    Ok(Node {
        path: super::clean(d.path()),
        kind,
        major: num(d.major(), "major")?,
        minor: num(d.minor(), "minor")?,
        mode: d.file_mode().unwrap_or(0o666) & 0o7777,
        uid: d.uid().unwrap_or(0),
        gid: d.gid().unwrap_or(0),
    })
}

/// Default devices followed by the config's; a config entry replaces a default of the same path.
pub fn device_list(devices: &[LinuxDevice]) -> Result<Vec<Node>, RootfsError> {
    let configured = devices
        .iter()
        .enumerate()
        .map(|(i, d)| from_config(i, d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out: Vec<Node> = DEFAULT_DEVICES
        .iter()
        .filter(|(p, _, _)| !configured.iter().any(|n| n.path == Path::new(p)))
        .map(|&(p, major, minor)| Node {
            path: p.into(),
            kind: NodeKind::Char,
            major,
            minor,
            mode: 0o666,
            uid: 0,
            gid: 0,
        })
        .collect();
    out.extend(configured);
    Ok(out)
}

fn create_node(env: &Env, n: &Node) -> Result<(), RootfsError> {
    let (dir, name) = env.paths.parent_and_name(&n.path)?;
    if env.in_user_ns {
        match env.sys.create_file_at(dir.handle(), &name, 0o666) {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
                return Err(RootfsError::sys("create", &n.path, e))
            }
            _ => {}
        }
        drop(dir);
        let fd = env.resolve(&n.path, Create::Nothing, true)?;
        return env
            .mount_on(Some(Loc::Path(&n.path)), &fd, None, MsFlags::MS_BIND, None)
            .map_err(|e| RootfsError::sys("bind device", &n.path, e));
    }
    match env
        .sys
        .mknod_at(dir.handle(), &name, n.kind, n.mode, n.major, n.minor)
    {
        // An existing node of the same type and number (a rootfs without a /dev tmpfs) is
        // kept; anything else there is an error (config-linux.md#devices: the runtime MUST
        // NOT silently replace a different file). runc 1.1 keeps whatever is there.
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => check_existing(env, n),
        Err(e) => Err(RootfsError::sys("mknod", &n.path, e)),
        Ok(()) => env
            .sys
            .chown_at(dir.handle(), &name, n.uid, n.gid)
            .map_err(|e| RootfsError::sys("chown", &n.path, e)),
    }
}

fn check_existing(env: &Env, n: &Node) -> Result<(), RootfsError> {
    let fd = env.resolve(&n.path, Create::Nothing, true)?;
    let st = env
        .sys
        .stat(fd.handle())
        .map_err(|e| RootfsError::sys("stat", &n.path, e))?;
    let want = match n.kind {
        NodeKind::Char => FileKind::CharDev,
        NodeKind::Block => FileKind::BlockDev,
        NodeKind::Fifo => FileKind::Fifo,
    };
    let same_number =
        n.kind == NodeKind::Fifo || (st.rdev_major, st.rdev_minor) == (n.major, n.minor);
    if st.kind == want && same_number {
        return Ok(());
    }
    Err(RootfsError::config(
        "linux.devices",
        format!(
            "{} already exists and is not the requested device ({} {}:{})",
            n.path.display(),
            n.kind,
            n.major,
            n.minor
        ),
    ))
}

/// Creates the device nodes, /dev/ptmx and the /dev symlinks (runc: createDevices,
/// setupPtmx, setupDevSymlinks). `with_proc` (a /proc mount, and a host with /proc/kcore)
/// adds /dev/core -> /proc/kcore.
pub fn setup_dev(env: &Env, devices: &[LinuxDevice], with_proc: bool) -> Result<(), RootfsError> {
    for n in device_list(devices)? {
        create_node(env, &n)?;
    }
    let dev = env.paths.dir(Path::new("/dev"), true)?;
    match env.sys.unlink_at(dev.handle(), "ptmx".as_ref()) {
        Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
            return Err(RootfsError::sys("unlink", "/dev/ptmx", e))
        }
        _ => {}
    }
    let mut links = vec![
        ("pts/ptmx", "ptmx"),
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if with_proc {
        links.push(("/proc/kcore", "core"));
    }
    for (target, name) in links {
        match env
            .sys
            .symlink_at(Path::new(target), dev.handle(), name.as_ref())
        {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => {
                return Err(RootfsError::sys("symlink", Path::new("/dev").join(name), e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// runc's reOpenDevNull, after the root has switched: stdio that is a /dev/null from outside
/// (conmon gives the runtime the host's for a detached container's stdin) is replaced by the
/// container's own /dev/null. No descriptor of the container then refers to a mount outside
/// it, which CRIU could not dump ("Can't lookup mount=N for fd=0 path=/dev/null").
pub fn reopen_dev_null() -> Result<(), RootfsError> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| RootfsError::sys("open", "/dev/null", e))?;
    let want = fstat(&null)
        .map_err(|e| RootfsError::sys("fstat", "/dev/null", e.into()))?
        .st_rdev;
    let (stdin, stdout, stderr) = (std::io::stdin(), std::io::stdout(), std::io::stderr());
    let stdio = [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()];
    for (n, fd) in stdio.into_iter().enumerate() {
        // A closed stdio number has nothing to replace.
        let Ok(st) = fstat(fd) else { continue };
        if st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == want {
            crate::sys::term::dup_onto(null.as_fd(), n as i32)
                .map_err(|e| RootfsError::sys("dup2", format!("/proc/self/fd/{n}"), e.into()))?;
        }
    }
    Ok(())
}
