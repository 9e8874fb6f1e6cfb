//! Init phases from "wait for the parent" to "ready for start" (runc's standard_init order).

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::Path;

use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{chdir, getcwd, sethostname, setresgid, setresuid, Gid, Uid};

use super::{failure, InitContext, PhaseExt};
use crate::namespaces::clone_flag;
use crate::process::messages::{unexpected, ChildMsg, ParentMsg, Phase};
use crate::rootfs::{self, RootfsContext};
use crate::sys;

/// Everything the init needs after `Ready`, owned, so nothing borrows the context.
pub struct Prepared {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub start_hooks: Vec<oci_spec::runtime::Hook>,
    pub state_json: Vec<u8>,
    pub preserve_fds: u32,
    pub sigmask: nix::sys::signal::SigSet,
    /// With noNewPrivileges the seccomp filter is loaded after `start`, before the startContainer
    /// hooks and execve (see `super::after_start`).
    pub late_seccomp: Option<crate::security::seccomp::Filter>,
}

pub fn setup(ctx: &InitContext) -> Result<Prepared, super::InitFailure> {
    // Before anything else when the parent is root: a pid namespace joined by path holds
    // other processes from the clone on.
    if !ctx.unprivileged_parent {
        super::hide_from_ptrace()?;
    }
    close_inherited_fds(ctx)?;
    let state_json = wait_parent(ctx)?;
    // First, before anything the limits should cover and before the cgroup namespace.
    crate::process::birth::join_self(ctx.cgroup_tasks.take()).phase(Phase::JoinCgroup)?;
    // An unprivileged parent wrote our id maps and oom_score_adj through /proc/<pid>, which a
    // non-dumpable process's owner cannot open; that is done now.
    super::hide_from_ptrace()?;
    let bind_sources = open_bind_sources(ctx);
    enter_namespaces(ctx)?;
    set_uts(ctx)?;
    let sys = rootfs::real();
    let bind_sources = bind_sources.handles();
    let rctx = RootfsContext {
        spec: ctx.spec,
        rootfs: ctx.rootfs,
        bundle: ctx.bundle,
        no_pivot: ctx.no_pivot,
        cgroup_ns: ctx.plan.new_cgroup,
        in_user_ns: ctx.plan.new_user(),
        shares_mount_ns: ctx.plan.shares_mount_ns(),
        bind_sources: &bind_sources,
        idmapped: ctx.idmapped,
    };
    rootfs::prepare(&sys, &rctx).phase(Phase::Rootfs)?;
    runtime_hooks(ctx)?;
    let hooks = ctx.spec.hooks().clone().unwrap_or_default();
    super::hooks::create_container(
        hooks.create_container().as_deref().unwrap_or_default(),
        &state_json,
        ctx.rootfs,
        ctx.spec
            .process()
            .as_ref()
            .and_then(|p| p.env().as_deref())
            .unwrap_or_default(),
    )?;
    rootfs::pivot(&sys, &rctx).phase(Phase::Pivot)?;
    rootfs::reopen_dev_null(&rctx).phase(Phase::Pivot)?;
    make_cwd(ctx)?;
    crate::tty::new_session().phase(Phase::Console)?;
    setup_console(ctx, &sys)?;
    write_sysctls(ctx)?;
    rootfs::finalize(&sys, &rctx).phase(Phase::FinalizeRootfs)?;
    let process = ctx
        .spec
        .process()
        .as_ref()
        .ok_or_else(|| failure(Phase::Exec, 0, "config.json has no process"))?;
    change_dir(process.cwd())?;
    crate::tty::give_stdio_to(process.user().uid(), ctx.console.is_some()).phase(Phase::Console)?;
    // Before the seccomp filter, which may deny personality(2) to the container (runc's
    // personality.bats); without noNewPrivileges the filter is loaded by apply_process.
    set_personality(ctx)?;
    let seccomp = ctx.spec.linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let mut handoff = super::seccomp_handoff(&ctx.channel);
    let mut late_seccomp = crate::security::apply_process(process, seccomp, Some(&mut handoff))
        .phase(Phase::Security)?;
    super::hide_again_after_user_switch()?;
    let (path, argv, envp) = super::exec::resolve(process)?;
    // With noNewPrivileges, a filter with a listener is loaded now, where runc loads it (after
    // its LookPath, before it reports ready): its fd must reach this `create`, which exits at
    // Ready.
    if late_seccomp.as_ref().is_some_and(|f| f.has_listener()) {
        if let Some(filter) = late_seccomp.take() {
            filter.load(Some(&mut handoff)).phase(Phase::Security)?;
        }
    }
    Ok(Prepared {
        path,
        argv,
        envp,
        start_hooks: hooks.start_container().clone().unwrap_or_default(),
        state_json,
        preserve_fds: ctx.preserve_fds,
        sigmask: ctx.sigmask,
        late_seccomp,
    })
}

/// Nothing the runtime had open may reach the container (CVE-2024-21626): keep stdio, the
/// `--preserve-fds` range and the fds this init still needs; close the rest now.
fn close_inherited_fds(ctx: &InitContext) -> Result<(), super::InitFailure> {
    let mut keep: Vec<i32> = (0..3 + ctx.preserve_fds as i32).collect();
    keep.push(ctx.channel.raw());
    keep.push(ctx.exec_listener.as_raw_fd());
    keep.extend(ctx.console.as_ref().map(|c| c.as_raw_fd()));
    keep.extend(ctx.plan.fds());
    keep.extend(ctx.idmapped.iter().map(|(_, h)| h.0));
    keep.extend(crate::process::birth::raw_fds(&ctx.cgroup_tasks.borrow()));
    sys::fd::close_all_except(&keep).phase(Phase::WaitParent)
}

/// In a new user namespace and mount namespace, the bind sources are opened now, while this
/// process still has the host's uid (setresuid into the namespace comes next): a source
/// only the host's root can reach, in a 0700 root-owned directory, stays reachable (runc
/// opens them before its init enters the user namespace). The fds refer to this namespace's
/// own copies of the mounts, so the flags the kernel locks on them stay locked.
fn open_bind_sources(ctx: &InitContext) -> rootfs::BindSources {
    if !ctx.plan.new_user() || !ctx.plan.clone_flags.contains(CloneFlags::CLONE_NEWNS) {
        return rootfs::BindSources::default();
    }
    rootfs::BindSources::open(&rootfs::real(), ctx.spec, ctx.bundle, ctx.rootfs)
}

/// Block until the parent wrote our id maps and put us into our cgroup; it sends the state
/// JSON the in-container hooks will read.
fn wait_parent(ctx: &InitContext) -> Result<Vec<u8>, super::InitFailure> {
    match ctx.channel.recv::<ParentMsg>().phase(Phase::WaitParent)? {
        Some(ParentMsg::Go { state_json }) => Ok(state_json.into_bytes()),
        other => Err(failure(Phase::WaitParent, 0, unexpected(&other))),
    }
}

fn enter_namespaces(ctx: &InitContext) -> Result<(), super::InitFailure> {
    if ctx.plan.new_user() {
        // Become root of the new user namespace (the mappings are written by now); runc does
        // the same so that what follows runs with the namespace's full capabilities.
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .phase(Phase::UserNamespace)?;
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .phase(Phase::UserNamespace)?;
    }
    for join in &ctx.plan.join {
        setns(&join.file, clone_flag(join.kind)).phase(Phase::JoinNamespaces)?;
    }
    if ctx.plan.new_cgroup {
        // After the parent moved us into the container's cgroup: that cgroup becomes the
        // namespace's root (config-linux.md#namespaces, runc's order).
        unshare(CloneFlags::CLONE_NEWCGROUP).phase(Phase::CgroupNamespace)?;
    }
    if !ctx.no_new_keyring {
        // The keycreate label first, so the keyring this join creates carries the process's
        // label (runc's standard_init: SetKeyLabel, then JoinSessionKeyring).
        let label = ctx
            .spec
            .process()
            .as_ref()
            .and_then(|p| p.selinux_label().as_deref());
        crate::security::selinux::join_labelled_keyring(
            label,
            crate::security::selinux::set_keycreate_label,
            || sys::misc::join_session_keyring(&format!("_ses.{}", ctx.id)).map_err(Keyring::Join),
        )
        .phase(Phase::JoinNamespaces)?;
    }
    Ok(())
}

/// What can fail while joining the session keyring.
#[derive(Debug, thiserror::Error)]
enum Keyring {
    #[error("{0}")]
    Label(#[from] crate::security::selinux::SelinuxError),
    #[error("{0}")]
    Join(#[source] nix::errno::Errno),
}

fn set_uts(ctx: &InitContext) -> Result<(), super::InitFailure> {
    if let Some(h) = ctx.spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        sethostname(h).phase(Phase::Hostname)?;
    }
    if let Some(d) = ctx.spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        sys::misc::set_domainname(d).phase(Phase::Hostname)?;
    }
    Ok(())
}

/// prestart and createRuntime hooks run in the runtime namespace, i.e. in the parent, after
/// the environment is set up and before pivot_root (config.md#createruntime-hooks).
fn runtime_hooks(ctx: &InitContext) -> Result<(), super::InitFailure> {
    let hooks = ctx.spec.hooks().clone().unwrap_or_default();
    let any = hooks.prestart().as_ref().is_some_and(|h| !h.is_empty())
        || hooks
            .create_runtime()
            .as_ref()
            .is_some_and(|h| !h.is_empty());
    if !any {
        return Ok(());
    }
    ctx.channel
        .send(&ChildMsg::RunCreateHooks)
        .phase(Phase::CreateRuntimeHooks)?;
    match ctx
        .channel
        .recv::<ParentMsg>()
        .phase(Phase::CreateRuntimeHooks)?
    {
        Some(ParentMsg::HooksDone) => Ok(()),
        other => Err(failure(
            Phase::CreateRuntimeHooks,
            0,
            format!("waiting for the create hooks: {}", unexpected(&other)),
        )),
    }
}

fn setup_console(
    ctx: &InitContext,
    sys: &dyn crate::sys::mount::MountSys,
) -> Result<(), super::InitFailure> {
    let Some(console) = &ctx.console else {
        return Ok(());
    };
    let sock = console.try_clone().phase(Phase::Console)?;
    let size = ctx.spec.process().as_ref().and_then(|p| p.console_size());
    let slave = crate::tty::setup_console(sock, size).phase(Phase::Console)?;
    rootfs::bind_console(sys, &slave).phase(Phase::Console)
}

/// linux.sysctl: written through the container's /proc/sys after pivot_root and before
/// readonlyPaths makes /proc/sys read-only (runc's order).
fn write_sysctls(ctx: &InitContext) -> Result<(), super::InitFailure> {
    let Some(sysctl) = ctx.spec.linux().as_ref().and_then(|l| l.sysctl().clone()) else {
        return Ok(());
    };
    let mut keys: Vec<_> = sysctl.keys().collect();
    keys.sort();
    for key in keys {
        // Checked at load (crate::sysctl::check); the path is built by the same rules.
        let path = crate::sysctl::path_of(Path::new("/proc/sys"), key)
            .map_err(|msg| failure(Phase::Sysctl, libc::EINVAL, msg))?;
        std::fs::write(&path, &sysctl[key]).map_err(|e| {
            failure(
                Phase::Sysctl,
                e.raw_os_error().unwrap_or(0),
                format!("linux.sysctl {key}: write {}: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}

/// process.cwd, then make sure it really is inside the container's root: getcwd(2) reports a
/// directory outside the root as "(unreachable)" (CVE-2024-21626).
/// runc creates a missing process.cwd (mode 0755, as root) once the process is jailed in the
/// rootfs, so any `..` or symlink in it resolves inside; before root.readonly applies.
fn make_cwd(ctx: &InitContext) -> Result<(), super::InitFailure> {
    use std::os::unix::fs::DirBuilderExt;
    let Some(cwd) = ctx.spec.process().as_ref().map(|p| p.cwd()) else {
        return Ok(());
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(cwd)
        .map_err(|e| {
            failure(
                Phase::Cwd,
                e.raw_os_error().unwrap_or(0),
                format!("process.cwd {}: create it: {e}", cwd.display()),
            )
        })
}

pub(super) fn change_dir(cwd: &Path) -> Result<(), super::InitFailure> {
    chdir(cwd).map_err(|e| {
        failure(
            Phase::Cwd,
            e as i32,
            format!("process.cwd {}: chdir", cwd.display()),
        )
    })?;
    match getcwd() {
        Ok(p) if p.starts_with("/") => Ok(()),
        Ok(p) => Err(failure(
            Phase::Cwd,
            libc::EPERM,
            format!(
                "process.cwd {} resolves outside the container root ({})",
                cwd.display(),
                p.display()
            ),
        )),
        Err(e) => Err(failure(
            Phase::Cwd,
            e as i32,
            format!(
                "process.cwd {} resolves outside the container root",
                cwd.display()
            ),
        )),
    }
}

/// linux.personality (config-linux.md#personality): LINUX or LINUX32.
fn set_personality(ctx: &InitContext) -> Result<(), super::InitFailure> {
    apply_personality(
        ctx.spec
            .linux()
            .as_ref()
            .and_then(|l| l.personality().as_ref()),
    )
}

/// linux.personality's domain, for the init and for exec'd processes.
pub(super) fn apply_personality(
    p: Option<&oci_spec::runtime::LinuxPersonality>,
) -> Result<(), super::InitFailure> {
    use oci_spec::runtime::LinuxPersonalityDomain;
    let Some(p) = p else {
        return Ok(());
    };
    let persona = match p.domain() {
        LinuxPersonalityDomain::PerLinux => 0x0000,
        LinuxPersonalityDomain::PerLinux32 => 0x0008,
    };
    sys::misc::set_personality(persona).phase(Phase::Security)
}
