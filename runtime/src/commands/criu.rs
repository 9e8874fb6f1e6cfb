//! `checkpoint` and `restore`: flags to options, and the foreground part of `restore` (wait
//! for the restored init as `run` waits for its container).

use crate::cli::{CheckpointArgs, CriuArgs, GlobalArgs, RestoreArgs};
use crate::container::checkpoint::{self, CheckpointOptions};
use crate::container::restore::{self, RestoreOptions};
use crate::container::{delete as del, StateStore};
use crate::criu::opts::{self, Common};
use crate::criu::{self as criu_mod, CriuError};
use crate::error::Error;
use crate::process::wait;

fn common(g: &GlobalArgs, a: &CriuArgs) -> Result<Common, CriuError> {
    Ok(Common {
        criu: criu_mod::binary(g.criu.as_deref()),
        image_path: opts::image_path(a.image_path.as_deref())?,
        work_path: a.work_path.clone().filter(|p| !p.as_os_str().is_empty()),
        tcp_established: a.tcp_established,
        ext_unix_sk: a.ext_unix_sk,
        shell_job: a.shell_job,
        file_locks: a.file_locks,
        lazy_pages: a.lazy_pages,
        auto_dedup: a.auto_dedup,
        manage_cgroups_mode: opts::cgroup_mode(a.manage_cgroups_mode.as_deref())?,
        empty_ns: opts::empty_ns(&a.empty_ns)?,
    })
}

/// runc warns, and goes on, when it is not root: CRIU needs privileges we cannot give.
fn warn_if_rootless(g: &GlobalArgs, what: &str) {
    if super::rootless(g).euid {
        crate::logging::warn(&format!(
            "ferrun {what} is untested with rootless containers"
        ));
    }
}

pub fn checkpoint(store: &StateStore, g: &GlobalArgs, a: &CheckpointArgs) -> Result<(), Error> {
    warn_if_rootless(g, "checkpoint");
    let o = CheckpointOptions {
        common: common(g, &a.criu).map_err(checkpoint::CheckpointError::from)?,
        parent_path: a.parent_path.clone().filter(|p| !p.as_os_str().is_empty()),
        leave_running: a.leave_running,
        pre_dump: a.pre_dump,
        page_server: a.page_server.clone().filter(|p| !p.is_empty()),
        status_fd: a.status_fd,
    };
    checkpoint::checkpoint(store, &a.id, &o)?;
    Ok(())
}

pub fn restore(store: &StateStore, g: &GlobalArgs, a: &RestoreArgs) -> Result<i32, Error> {
    warn_if_rootless(g, "restore");
    if !a.detach {
        // Blocked before CRIU forks the init, so an init that exits at once is not missed.
        super::lifecycle::block_forwarded_signals()?;
    }
    if !a.detach && !a.no_subreaper {
        // runc: the restoring runc reaps the processes reparented to it while it waits.
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::Usage(format!("set child subreaper: {e}")))?;
    }
    let o = RestoreOptions {
        common: common(g, &a.criu).map_err(restore::RestoreError::from)?,
        id: a.id.clone(),
        bundle: a.bundle.clone(),
        console_socket: a.console_socket.clone(),
        detach: a.detach,
        pid_file: a.pid_file.clone(),
        lsm_profile: a.lsm_profile.clone().filter(|p| !p.is_empty()),
        lsm_mount_context: a.lsm_mount_context.clone().filter(|p| !p.is_empty()),
        rootless: super::rootless(g),
        systemd_cgroup: g.systemd_cgroup,
    };
    let restored = restore::restore(store, &o)?;
    crate::debug!(
        "restore: container {:?} restored, init pid {}",
        a.id,
        restored.pid
    );
    if a.detach {
        return Ok(0);
    }
    super::lifecycle::forward_stop_signals_too()?;
    let code = wait::wait_for_exit(restored.pid, restored.master.as_ref())?;
    crate::debug!(
        "restore: the process of container {:?} ended, exit code {code}",
        a.id
    );
    del::delete(store, &a.id, true)?;
    Ok(code)
}
