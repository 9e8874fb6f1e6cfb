//! The process `exec` starts: config.json's process changed by the command line's flags, or a
//! `--process` file with runc's defaults for what it leaves out.

use std::collections::HashSet;
use std::path::Path;

use oci_spec::runtime::{Capability, LinuxCapabilities, Process, Spec};

use super::exec::{ExecError, ExecRequest};
use crate::security::identity::{check_id, IdentityError};

/// The container's process with the command line's changes, or a --process file.
pub fn build_process(spec: &Spec, req: &ExecRequest) -> Result<Process, ExecError> {
    if let Some(path) = &req.process_file {
        // runc takes a process file as it is: the other flags do not change it.
        return read_process_file(path, spec.process().as_ref());
    }
    if req.args.is_empty() {
        return Err(ExecError::Usage(
            "exec needs a command (or --process FILE)".into(),
        ));
    }
    let mut p = spec.process().clone().unwrap_or_default();
    p.set_args(Some(req.args.clone()));
    p.set_terminal(Some(req.tty));
    super::checks::check_env("--env", &req.env).map_err(ExecError::Usage)?;
    // Appended: the init keeps one entry per name, the last value winning (runc).
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(req.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(cwd) = &req.cwd {
        if !cwd.is_absolute() {
            return Err(ExecError::Usage(format!(
                "--cwd {}: must be an absolute path",
                cwd.display()
            )));
        }
        p.set_cwd(cwd.clone());
    }
    let mut user = p.user().clone();
    if let Some(u) = &req.user {
        let (uid, gid) = parse_user(u)?;
        user.set_uid(uid);
        user.set_gid(gid.unwrap_or(user.gid()));
    }
    for gid in &req.additional_gids {
        check_id("--additional-gids", *gid).map_err(|e| ExecError::Usage(e.to_string()))?;
    }
    if !req.additional_gids.is_empty() {
        user.set_additional_gids(Some(req.additional_gids.clone()));
    }
    p.set_user(user);
    if !req.caps.is_empty() {
        p.set_capabilities(Some(add_caps(
            p.capabilities().clone().unwrap_or_default(),
            &req.caps,
        )?));
    }
    if req.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if let Some(profile) = &req.apparmor {
        p.set_apparmor_profile(Some(profile.clone()));
    }
    if let Some(label) = &req.process_label {
        p.set_selinux_label(Some(label.clone()));
    }
    Ok(p)
}

/// A process.json as runc 1.1 reads it: what it leaves out takes Go's zero value (uid and gid
/// 0, no env, no rlimits, noNewPrivileges false), except the capabilities, which then come
/// from config.json's process; `args` and an absolute `cwd` are required.
fn read_process_file(path: &Path, config: Option<&Process>) -> Result<Process, ExecError> {
    let err = |msg: String| ExecError::ProcessFile {
        path: path.to_path_buf(),
        msg,
    };
    let text = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let mut value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| err(e.to_string()))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| err("expected a JSON object (a runtime-spec process)".into()))?;
    obj.entry("user").or_insert_with(|| serde_json::json!({}));
    match obj.get("cwd").and_then(|c| c.as_str()) {
        None | Some("") => return Err(err("cwd must not be empty".into())),
        Some(c) if !c.starts_with('/') => {
            return Err(err(format!("cwd {c:?} must be an absolute path")))
        }
        Some(_) => {}
    }
    let mut p: Process = serde_json::from_value(value).map_err(|e| err(e.to_string()))?;
    if p.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(err("args must not be empty".into()));
    }
    super::checks::check_env("process.env", p.env().iter().flatten()).map_err(err)?;
    if p.capabilities().is_none() {
        p.set_capabilities(config.and_then(|c| c.capabilities().clone()));
    }
    Ok(p)
}

/// `--user UID[:GID]`.
fn parse_user(s: &str) -> Result<(u32, Option<u32>), ExecError> {
    let bad = || ExecError::Usage(format!("--user {s:?}: expected UID[:GID] (numbers)"));
    let mut it = s.splitn(2, ':');
    let uid = it.next().unwrap_or_default().parse().map_err(|_| bad())?;
    let gid = it
        .next()
        .map(|g| g.parse().map_err(|_| bad()))
        .transpose()?;
    let range = |e: IdentityError| ExecError::Usage(e.to_string());
    check_id("--user uid", uid).map_err(range)?;
    gid.map(|g| check_id("--user gid", g))
        .transpose()
        .map_err(range)?;
    Ok((uid, gid))
}

/// runc's `--cap`: added to the bounding, effective and permitted sets, never to the
/// inheritable one (CVE-2022-29162). It goes into the ambient set too when config.json's
/// process has an inheritable set: the kernel only raises an ambient capability that is
/// inheritable, so it takes effect exactly when the config made it inheritable (runc's rule;
/// runc 1.1 adds it to ambient always, with the same result, since it skips the ones the
/// kernel refuses).
fn add_caps(mut caps: LinuxCapabilities, names: &[String]) -> Result<LinuxCapabilities, ExecError> {
    let with_ambient = caps.inheritable().is_some();
    for name in names {
        let cap: Capability = serde_json::from_value(serde_json::Value::String(name.clone()))
            .map_err(|_| ExecError::Usage(format!("--cap {name:?}: unknown capability")))?;
        let with = |set: &Option<HashSet<Capability>>| {
            let mut s = set.clone().unwrap_or_default();
            s.insert(cap);
            Some(s)
        };
        caps.set_bounding(with(caps.bounding()));
        caps.set_effective(with(caps.effective()));
        caps.set_permitted(with(caps.permitted()));
        if with_ambient {
            caps.set_ambient(with(caps.ambient()));
        }
    }
    Ok(caps)
}

#[cfg(test)]
#[path = "exec_process_tests.rs"]
mod tests;
