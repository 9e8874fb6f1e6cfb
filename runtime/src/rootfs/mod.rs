//! The container's mount namespace: mounts, /dev, pivot_root, masked/readonly paths.
//!
//! Called by init (already in its new namespaces) in this order:
//!
//! ```text
//! prepare()       / rslave (or rootfsPropagation), rootfs bind-mounted on itself,
//!                 every mounts[] entry, default + linux.devices nodes, /dev symlinks
//!   (createContainer hooks run here: config.md#createcontainer-hooks)
//! pivot()         pivot_root(".", ".") + detach old root, or MS_MOVE + chroot (--no-pivot),
//!                 or only chroot when the container shares the runtime's mount namespace
//! bind_console()  pty slave onto /dev/console            (only with process.terminal)
//! finalize()      /dev ro, readonlyPaths, maskedPaths, root.readonly
//! ```
//!
//! `linux.mountLabel` becomes a `context=` option of the mounts that take one (`label`).
//!
//! Every container path is resolved in-root from an O_PATH fd (see `resolve`), and mounts
//! land on the resolved fd, never on a path string (CVE-2021-30465, CVE-2025-31133/52565/
//! 52881). All syscalls go through `sys::mount::MountSys`, so the order and arguments are
//! unit-tested with a recording fake (`fake.rs`).

pub mod bind;
pub mod cgroup;
pub mod devices;
mod error;
mod host;
pub mod idmapped;
pub mod label;
pub mod leftovers;
pub mod mounts;
pub mod options;
mod paths;
pub mod resolve;
mod root;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use bind::BindSources;
pub use error::RootfsError;
pub use idmapped::IdmappedMounts;

use crate::sys::mount::{Handle, Loc, MountSys, RealMountSys};
use host::HostMounts;
use mounts::{mount_entry, Entry};
use nix::mount::MsFlags;
use resolve::{open_root, Create, Fd, Resolver};
use std::path::{Component, Path, PathBuf};

/// What the rootfs setup needs to know besides the spec.
pub struct RootfsContext<'a> {
    pub spec: &'a oci_spec::runtime::Spec,
    /// Absolute, canonical host path of `root.path`.
    pub rootfs: &'a Path,
    /// Relative bind-mount sources resolve against it.
    pub bundle: &'a Path,
    /// --no-pivot: MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// A new cgroup namespace was created (cgroup v1 mounts become fresh mounts).
    pub cgroup_ns: bool,
    /// A new user namespace: devices become bind mounts of the host nodes.
    pub in_user_ns: bool,
    /// No mount namespace of its own: no propagation change and no rootfs bind in the
    /// shared namespace, and chroot instead of pivot_root (see `root::switch_root`).
    pub shares_mount_ns: bool,
    /// `O_PATH` fds of bind sources opened before the user switch (`BindSources::handles`).
    pub bind_sources: &'a [(usize, Handle)],
    /// Detached, already id-mapped trees the parent made (`IdmappedMounts::handles`).
    pub idmapped: &'a [(usize, Handle)],
}

/// The state shared by the steps: the seam, an O_PATH fd of the root being set up and the
/// directories resolved in it so far (`resolve::Resolver`).
pub struct Env<'a> {
    pub sys: &'a dyn MountSys,
    pub root: Handle,
    pub paths: Resolver<'a>,
    pub bundle: &'a Path,
    pub cgroup_ns: bool,
    pub in_user_ns: bool,
    pub bind_sources: &'a [(usize, Handle)],
    pub idmapped: &'a [(usize, Handle)],
    /// `linux.mountLabel`, for the mounts that take one (see `label`).
    pub mount_label: Option<&'a str>,
    /// The host's mount table, read at most once per setup (see `HostMounts`).
    pub host_mounts: HostMounts<'a>,
}

impl<'a> Env<'a> {
    fn new(sys: &'a dyn MountSys, root: Fd<'a>) -> Self {
        let paths = Resolver::new(sys, root);
        Env {
            sys,
            root: paths.root(),
            paths,
            bundle: Path::new("/"),
            cgroup_ns: false,
            in_user_ns: false,
            bind_sources: &[],
            idmapped: &[],
            mount_label: None,
            host_mounts: HostMounts::new(sys),
        }
    }

    /// A container path resolved in-root (`resolve::Resolver::resolve`).
    pub fn resolve(
        &self,
        path: &Path,
        create: Create,
        no_symlinks: bool,
    ) -> Result<Fd<'a>, RootfsError> {
        self.paths.resolve(path, create, no_symlinks)
    }

    /// mount(2) onto a resolved handle that adds a mount there (not a remount or a
    /// propagation change): the cached directories it covers are forgotten first.
    pub fn mount_on(
        &self,
        source: Option<Loc>,
        target: &Fd,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> std::io::Result<()> {
        self.paths.covered(target);
        self.sys
            .mount(source, Loc::Handle(target.handle()), fstype, flags, data)
    }

    /// Attaches a detached mount onto a resolved handle, forgetting what it covers.
    pub fn attach_on(&self, mount: Handle, target: &Fd) -> std::io::Result<()> {
        self.paths.covered(target);
        self.sys.attach(mount, target.handle())
    }
}

/// The real syscalls.
pub fn real() -> RealMountSys {
    RealMountSys
}

/// Lexically cleans a container path: absolute, no `.`/`..`/duplicate slashes (runc CleanPath).
pub fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

fn entries(ctx: &RootfsContext) -> Vec<Entry> {
    let mounts = ctx.spec.mounts().as_deref().unwrap_or(&[]);
    let mount_label = mount_label(ctx.spec);
    mounts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut e = Entry::from_config(i, m, ctx.rootfs);
            label::apply(&mut e, mount_label);
            e
        })
        .collect()
}

fn mount_label(spec: &oci_spec::runtime::Spec) -> Option<&str> {
    spec.linux()
        .as_ref()
        .and_then(|l| l.mount_label().as_deref())
}

fn env<'a>(sys: &'a dyn MountSys, root: Fd<'a>, ctx: &RootfsContext<'a>) -> Env<'a> {
    Env {
        bundle: ctx.bundle,
        cgroup_ns: ctx.cgroup_ns,
        in_user_ns: ctx.in_user_ns,
        bind_sources: ctx.bind_sources,
        idmapped: ctx.idmapped,
        mount_label: mount_label(ctx.spec),
        ..Env::new(sys, root)
    }
}

/// Everything before pivot_root; see the module doc.
pub fn prepare(sys: &dyn MountSys, ctx: &RootfsContext) -> Result<(), RootfsError> {
    let linux = ctx.spec.linux().as_ref();
    let entries = entries(ctx);
    let host_mounts = HostMounts::new(sys);
    if !ctx.shares_mount_ns {
        root::prepare_root(sys, ctx, &host_mounts)?;
    }
    // Opened after the self-bind so mounts land on the mount pivot_root will use.
    let root = open_root(sys, ctx.rootfs)?;
    let env = Env {
        host_mounts,
        ..env(sys, root, ctx)
    };
    for e in &entries {
        mount_entry(&env, e)?;
    }
    if !dev_is_bind(&entries) {
        // runc (setupDevSymlinks) links /dev/core only where the host has /proc/kcore: a
        // kernel without CONFIG_PROC_KCORE gets no dangling link.
        let with_proc = entries
            .iter()
            .any(|e| e.typ == "proc" && e.destination == Path::new("/proc"))
            && host_has(sys, Path::new("/proc/kcore"));
        let devices = linux.and_then(|l| l.devices().as_deref()).unwrap_or(&[]);
        devices::setup_dev(&env, devices, with_proc)?;
    }
    Ok(())
}

/// Whether `path` exists on the host (before the pivot, the init still sees the host's /proc).
fn host_has(sys: &dyn MountSys, path: &Path) -> bool {
    match sys.open(path) {
        Ok(h) => {
            sys.close(h);
            true
        }
        Err(_) => false,
    }
}

/// pivot_root (or MS_MOVE + chroot with --no-pivot) into the prepared rootfs.
pub fn pivot(sys: &dyn MountSys, ctx: &RootfsContext) -> Result<(), RootfsError> {
    root::switch_root(sys, ctx)
}

/// After pivot, in the init only: stdio that is an outside /dev/null becomes the container's
/// own, where the runtime made /dev (runc does it under the same condition, needsSetupDev).
pub fn reopen_dev_null(ctx: &RootfsContext) -> Result<(), RootfsError> {
    if dev_is_bind(&entries(ctx)) {
        return Ok(());
    }
    devices::reopen_dev_null()
}

/// runc sets up /dev unless the config bind-mounts one (needsSetupDev).
fn dev_is_bind(entries: &[Entry]) -> bool {
    entries
        .iter()
        .any(|e| e.destination == Path::new("/dev") && e.opts.flags.contains(MsFlags::MS_BIND))
}

/// Binds the pty slave (a path in the container, e.g. /dev/pts/0) onto /dev/console.
pub fn bind_console(sys: &dyn MountSys, pty_slave: &Path) -> Result<(), RootfsError> {
    let env = Env::new(sys, open_root(sys, Path::new("/"))?);
    paths::bind_console(&env, pty_slave)
}

/// After pivot: /dev read-only if asked, readonlyPaths, maskedPaths, then root.readonly.
/// Sysctls must be written before this (readonlyPaths makes /proc/sys read-only).
pub fn finalize(sys: &dyn MountSys, ctx: &RootfsContext) -> Result<(), RootfsError> {
    let root = open_root(sys, Path::new("/"))?;
    let env = env(sys, root, ctx);
    let per_mount = MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC
        | MsFlags::MS_NOATIME
        | MsFlags::MS_NODIRATIME
        | MsFlags::MS_RELATIME
        | MsFlags::MS_STRICTATIME;
    for e in entries(ctx) {
        let dev = e.destination == Path::new("/dev") && !e.opts.flags.contains(MsFlags::MS_BIND);
        if dev && e.opts.flags.contains(MsFlags::MS_RDONLY) {
            let flags = MsFlags::MS_BIND
                | MsFlags::MS_REMOUNT
                | MsFlags::MS_RDONLY
                | (e.opts.flags & per_mount);
            mounts::remount(&env, &e.destination, flags)?;
        }
    }
    let linux = ctx.spec.linux().as_ref();
    paths::readonly_paths(
        &env,
        linux
            .and_then(|l| l.readonly_paths().as_deref())
            .unwrap_or(&[]),
    )?;
    paths::masked_paths(
        &env,
        linux
            .and_then(|l| l.masked_paths().as_deref())
            .unwrap_or(&[]),
    )?;
    if ctx
        .spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        paths::readonly_root(&env)?;
    }
    Ok(())
}
