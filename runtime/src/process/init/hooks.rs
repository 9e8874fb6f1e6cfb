//! The two hook kinds the init runs in the container's namespaces, and the state they read.
//!
//! The parent hands the init the state JSON with its own view of the pid (the host's). Hooks
//! in the container's namespaces get the pid "as seen by the container" instead
//! (runtime.md#state, `pid`), which is what `getpid` gives here: runc does the same.

use std::path::Path;

use oci_spec::runtime::Hook;

use super::{failure, PhaseExt};
use crate::hooks::{run_hooks_at, HookKind, HookSite};
use crate::process::messages::{InitFailure, Phase};

/// createContainer: after the mounts, before pivot_root, with the host path of the rootfs as
/// the working directory (runc changes there first), so a hook can write relative paths into
/// the rootfs. A hook without `env` gets process.env, which runc's init has already made its
/// own environment at this point (without the HOME it adds later).
pub fn create_container(
    hooks: &[Hook],
    state_json: &[u8],
    rootfs: &Path,
    process_env: &[String],
) -> Result<(), InitFailure> {
    if hooks.is_empty() {
        return Ok(());
    }
    let state = state_in_container(state_json, "creating", Phase::CreateContainerHooks)?;
    let site = HookSite {
        cwd: Some(rootfs),
        default_env: Some(process_env),
    };
    run_hooks_at(HookKind::CreateContainer, hooks, &state, site).phase(Phase::CreateContainerHooks)
}

/// startContainer: on `start`, from process.cwd (the init is already there), under the
/// container's seccomp filter. A hook without `env` gets the environment the program will get
/// (process.env with HOME filled in), as in runc. The state says `created`: the user program
/// has not been executed yet (runtime.md#state).
pub fn start_container(
    hooks: &[Hook],
    state_json: &[u8],
    env: &[String],
) -> Result<(), InitFailure> {
    if hooks.is_empty() {
        return Ok(());
    }
    let state = state_in_container(state_json, "created", Phase::StartContainerHooks)?;
    let site = HookSite {
        cwd: None,
        default_env: Some(env),
    };
    run_hooks_at(HookKind::StartContainer, hooks, &state, site).phase(Phase::StartContainerHooks)
}

/// The parent's state JSON with this process's pid and `status`.
fn state_in_container(
    state_json: &[u8],
    status: &str,
    phase: Phase,
) -> Result<Vec<u8>, InitFailure> {
    let mut state: serde_json::Value = serde_json::from_slice(state_json).map_err(|e| {
        failure(
            phase,
            libc::EINVAL,
            format!("the state for the hooks is not JSON: {e}"),
        )
    })?;
    state["pid"] = nix::unistd::getpid().as_raw().into();
    state["status"] = status.into();
    Ok(state.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_gets_the_pid_seen_here_and_the_status() {
        let parent = br#"{"id":"c","pid":4242,"status":"creating","bundle":"/b"}"#;
        let out = state_in_container(parent, "created", Phase::StartContainerHooks).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["pid"], std::process::id());
        assert_eq!(v["status"], "created");
        assert_eq!(v["bundle"], "/b");
    }

    #[test]
    fn a_garbled_state_is_a_failure_of_the_phase() {
        let f = state_in_container(b"{", "creating", Phase::CreateContainerHooks).unwrap_err();
        assert_eq!(f.phase, Phase::CreateContainerHooks);
    }
}
