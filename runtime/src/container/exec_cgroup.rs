//! `exec --cgroup [CONTROLLER[,CONTROLLER...]:]PATH` (runc 1.1): the exec'd process joins an
//! existing sub-cgroup of the container's cgroup instead of the container's cgroup itself.
//!
//! runc's rules: a PATH without a controller is the only `--cgroup` allowed and applies to
//! every hierarchy (on cgroup v2, the only form that makes sense); with controllers, each
//! named controller's hierarchy uses PATH and the others keep the container's cgroup; a
//! controller the container's cgroup has no hierarchy for is refused. PATH is relative to the
//! container's cgroup even with a leading "/" ("/" is the container's cgroup itself), and a
//! PATH that ends up outside it is refused. Two differences from runc 1.1.5, after newer
//! runc: an empty or repeated controller is refused instead of being taken silently, and
//! "outside" is decided per path component, so `../<name>-sibling` cannot pass as a child
//! of `<name>`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::cgroups::layout::Layout;
use crate::cgroups::Mode;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubCgroupError {
    #[error("invalid --cgroup argument: {0}")]
    Invalid(String),
    #[error("bad sub cgroup path: {path} is not a sub cgroup path of {}", base.display())]
    Escapes { path: String, base: PathBuf },
    #[error("--cgroup {arg}: unknown controller {controller} (no hierarchy of the container's cgroup has it)")]
    UnknownController { arg: String, controller: String },
    #[error("--cgroup: the container has no cgroup of its own to take a sub-cgroup of")]
    NoCgroup,
}

/// The parsed `--cgroup` flags.
#[derive(Debug, PartialEq, Eq)]
pub enum SubCgroups {
    /// One PATH for every hierarchy.
    All(String),
    /// Controller → (PATH, the flag that named it).
    PerController(BTreeMap<String, (String, String)>),
}

/// Parse the `--cgroup` flags; `None` when there are none.
pub fn parse(args: &[String]) -> Result<Option<SubCgroups>, SubCgroupError> {
    let mut per = BTreeMap::new();
    for arg in args {
        let parts: Vec<&str> = arg.splitn(3, ':').collect();
        match parts[..] {
            [path] if args.len() == 1 => return Ok(Some(SubCgroups::All(path.to_string()))),
            [_] => {
                return Err(SubCgroupError::Invalid(format!(
                    "{arg} (missing <controller>: prefix)"
                )))
            }
            [controllers, path] => {
                for c in controllers.split(',') {
                    if c.is_empty() {
                        return Err(SubCgroupError::Invalid(format!(
                            "{arg} (empty <controller> prefix)"
                        )));
                    }
                    let given = (path.to_string(), arg.clone());
                    if per.insert(c.to_string(), given).is_some() {
                        return Err(SubCgroupError::Invalid(format!(
                            "controller {c} specified multiple times"
                        )));
                    }
                }
            }
            _ => return Err(SubCgroupError::Invalid(arg.clone())),
        }
    }
    Ok((!per.is_empty()).then_some(SubCgroups::PerController(per)))
}

/// The directories whose cgroup.procs the exec'd process is written to: the container's
/// cgroup in every hierarchy, changed by `sub`.
pub fn target_dirs(
    layout: Option<&Layout>,
    sub: Option<&SubCgroups>,
) -> Result<Vec<PathBuf>, SubCgroupError> {
    let Some(layout) = layout else {
        return match sub {
            None => Ok(Vec::new()),
            Some(_) => Err(SubCgroupError::NoCgroup),
        };
    };
    let own = layout.all().map(|h| (h.controllers.as_slice(), &h.dir));
    match sub {
        None => Ok(own.map(|(_, dir)| dir.clone()).collect()),
        Some(SubCgroups::All(path)) => own.map(|(_, dir)| join_sub(dir, path)).collect(),
        Some(SubCgroups::PerController(per)) => {
            for (controller, (_, arg)) in per {
                if !layout.v1.iter().any(|h| h.controllers.contains(controller)) {
                    return Err(SubCgroupError::UnknownController {
                        arg: arg.clone(),
                        controller: controller.clone(),
                    });
                }
            }
            own.map(|(controllers, dir)| {
                let mut given = controllers.iter().filter_map(|c| per.get(c));
                let Some((path, arg)) = given.next() else {
                    return Ok(dir.clone());
                };
                if let Some((other, other_arg)) = given.find(|(p, _)| p != path) {
                    return Err(SubCgroupError::Invalid(format!(
                        "{arg} and {other_arg} name one hierarchy ({}) with different paths \
                         ({path}, {other})",
                        controllers.join(",")
                    )));
                }
                join_sub(dir, path)
            })
            .collect()
        }
    }
}

/// runc's cgroup v2 fallback for [`init_cgroup_dir`], asked only when joining failed: on a v2
/// host, and not when `--cgroup` chose the place.
pub fn v2_fallback(
    layout: Option<&Layout>,
    sub: Option<&SubCgroups>,
    init_pid: i32,
) -> impl Fn() -> Option<PathBuf> {
    let dir = layout
        .filter(|l| l.mode == Mode::V2 && sub.is_none())
        .and_then(|l| l.unified.as_ref())
        .map(|u| u.dir.clone());
    move || {
        let dir = dir.as_ref()?;
        let file = std::fs::read_to_string(format!("/proc/{init_pid}/cgroup")).ok()?;
        init_cgroup_dir(dir, &file)
    }
}

/// cgroup v2 only, without `--cgroup`: where to put the process when the container's cgroup
/// refuses it. Once the container made a sub-cgroup of its own, moved its init there and
/// enabled a domain controller, its top cgroup may hold no processes (EBUSY, "no internal
/// processes"); runc then joins the cgroup the init is in now, which `/proc/<init>/cgroup`
/// (`cgroup_file`) names. `None` when that is not below the container's cgroup `dir`.
pub fn init_cgroup_dir(dir: &Path, cgroup_file: &str) -> Option<PathBuf> {
    let init = cgroup_file
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(Path::new)?;
    let within = init.strip_prefix("/").ok()?;
    let parts: Vec<Component> = within.components().collect();
    // The longest head of the init's path that `dir` ends with is the container's cgroup;
    // what `dir` has before it is the cgroup2 mount.
    for k in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..k].iter().collect();
        if dir.ends_with(&head) {
            let target = dir.ancestors().nth(k)?.join(within);
            return (target.starts_with(dir) && target != dir).then_some(target);
        }
    }
    None
}

/// `base` joined with `sub` taken as relative, cleaned lexically; refused unless it is
/// `base` or below it.
fn join_sub(base: &Path, sub: &str) -> Result<PathBuf, SubCgroupError> {
    let mut out = base.to_path_buf();
    for c in Path::new(sub).components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if out.starts_with(base) {
        Ok(out)
    } else {
        Err(SubCgroupError::Escapes {
            path: sub.to_string(),
            base: base.to_path_buf(),
        })
    }
}

#[cfg(test)]
#[path = "exec_cgroup_tests.rs"]
mod tests;
