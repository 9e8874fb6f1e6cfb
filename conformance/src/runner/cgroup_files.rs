//! `requires.cgroup_files`: interface files a scenario needs, looked for where the container's
//! cgroup will be, not in the root cgroup. The root tells little: on cgroup v2 it has none of
//! the controllers' interface files, on v1 some files are not shown there
//! (`blkio.bfq.weight` is CFTYPE_NOT_ON_ROOT), and on v2 a child has a controller's files only
//! when its parent enables the controller in cgroup.subtree_control.
//!
//! An entry `a|b` is satisfied by either file (`blkio.bfq.weight|blkio.weight`: whichever I/O
//! scheduler the kernel has). For each file the check looks at the deepest existing ancestor
//! of the container's cgroup parent in the file's hierarchy, then at the child cgroups below
//! it that have the controller. When only the root is there to look at, the I/O scheduler
//! files are judged by the scheduler's module being loaded or the schedulers the block devices
//! offer, other files on v1 by the root
//! (which shows them), and other files on v2 are assumed present: the scenario runs and shows
//! what happens.

use crate::host::{CgroupMode, HostFacts};
use std::path::{Path, PathBuf};

/// Enough cgroups to find one with the controller without walking a big host's whole tree.
const MAX_LOOKED_AT: usize = 256;

/// `None` when every entry holds, else the reason to skip.
pub fn unmet(host: &HostFacts, cgroup_parent: &str, wanted: &[String]) -> Option<String> {
    wanted.iter().find_map(|entry| {
        let alternatives: Vec<&str> = entry.split('|').map(str::trim).collect();
        let mut looked = Vec::new();
        for f in &alternatives {
            match present(host, cgroup_parent, f) {
                Ok(()) => return None,
                Err(where_) => looked.push(format!("{f} ({where_})")),
            }
        }
        Some(format!(
            "needs cgroup file {} where the container's cgroup goes; not there: {}",
            alternatives.join(" or "),
            looked.join("; ")
        ))
    })
}

/// `requires.block_devices`: the first `MAJOR:MINOR` the host does not have, as a reason.
pub fn missing_block_device(wanted: &[String]) -> Option<String> {
    let sys = Path::new("/sys/dev/block");
    wanted
        .iter()
        .find(|d| !sys.join(d.as_str()).exists())
        .map(|d| format!("needs block device {d} (not in /sys/dev/block on this host)"))
}

/// The controller a file belongs to: the part before the first dot.
fn controller(file: &str) -> &str {
    file.split('.').next().unwrap_or(file)
}

/// The mount point of the hierarchy that would hold `file`.
fn hierarchy(host: &HostFacts, file: &str) -> Option<(PathBuf, bool)> {
    let c = controller(file);
    let v1 = matches!(host.cgroup_mode, CgroupMode::V1 | CgroupMode::Hybrid);
    host.hierarchies
        .iter()
        .find(|h| !h.v2 && v1 && h.controllers.iter().any(|x| x == c))
        .or_else(|| {
            (host.cgroup_mode == CgroupMode::V2)
                .then(|| host.hierarchies.iter().find(|h| h.v2))
                .flatten()
        })
        .map(|h| (PathBuf::from(&h.mount), h.v2))
}

/// The deepest existing directory on the way from `mount` to `mount/parent`.
fn deepest_existing(mount: &Path, parent: &str) -> PathBuf {
    let mut dir = mount.to_path_buf();
    for part in parent.split('/').filter(|p| !p.is_empty()) {
        let next = dir.join(part);
        if !next.is_dir() {
            break;
        }
        dir = next;
    }
    dir
}

fn has_controller(dir: &Path, c: &str) -> bool {
    c == "cgroup"
        || std::fs::read_to_string(dir.join("cgroup.controllers"))
            .is_ok_and(|s| s.split_whitespace().any(|x| x == c))
}

/// Child cgroups (two levels) of `dir` that have the controller: on v2 those whose
/// cgroup.controllers lists it, on v1 all of them.
fn cgroups_below(dir: &Path, c: &str, v2: bool) -> Vec<PathBuf> {
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .take(MAX_LOOKED_AT)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = subdirs(dir);
    let second: Vec<PathBuf> = out.iter().flat_map(|d| subdirs(d)).collect();
    out.extend(second);
    out.truncate(MAX_LOOKED_AT);
    out.retain(|d| !v2 || has_controller(d, c));
    out
}

/// The I/O scheduler a weight file comes from, when it is one.
fn scheduler_of(file: &str) -> Option<&'static str> {
    if file.contains("bfq") {
        Some("bfq")
    } else if matches!(file, "blkio.weight" | "blkio.weight_device") {
        // CFQ's files; the kernel dropped CFQ in 5.0.
        Some("cfq")
    } else {
        None
    }
}

fn schedulers_offered() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir("/sys/block")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path().join("queue/scheduler")).ok())
                .flat_map(|s| {
                    s.split_whitespace()
                        .map(|x| x.trim_matches(|c| c == '[' || c == ']').to_string())
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// `Ok` when the file will exist for the container, else where it was looked for.
fn present(host: &HostFacts, cgroup_parent: &str, file: &str) -> Result<(), String> {
    let c = controller(file);
    let Some((mount, v2)) = hierarchy(host, file) else {
        return Err(format!("no mounted hierarchy has the {c} controller"));
    };
    let dir = deepest_existing(&mount, cgroup_parent);
    if dir.join(file).exists() {
        return Ok(());
    }
    if v2 && !has_controller(&dir, c) {
        return Err(format!(
            "{} does not offer the {c} controller",
            dir.display()
        ));
    }
    let below = cgroups_below(&dir, c, v2);
    if !below.is_empty() {
        return match below.iter().any(|d| d.join(file).exists()) {
            true => Ok(()),
            false => Err(format!(
                "neither in {} nor in its {} child cgroup(s) with {c}",
                dir.display(),
                below.len()
            )),
        };
    }
    if dir != mount {
        // v1: a non-root cgroup shows every file of its hierarchy's controllers.
        return Err(format!("not in {}", dir.display()));
    }
    // Only the root to look at, and it does not have the file.
    match scheduler_of(file) {
        // A loaded module registers its cgroup policy even with no device using it yet.
        Some(s) if Path::new("/sys/module").join(s).exists() => Ok(()),
        Some(s) if schedulers_offered().iter().any(|x| x == s) => Ok(()),
        Some(s) => Err(format!(
            "no block device offers the {s} I/O scheduler (offered: {})",
            schedulers_offered().join(" ")
        )),
        // v1 shows a file on the root unless it is root-less by design; v2's root has no
        // controller files at all, so there nothing can be told and the scenario runs.
        None if !v2 => Err(format!("not in {}", dir.display())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Hierarchy;

    fn host(mode: CgroupMode, mount: &Path, v2: bool) -> HostFacts {
        let mut h = HostFacts::probe();
        h.cgroup_mode = mode;
        h.hierarchies = vec![Hierarchy {
            mount: mount.display().to_string(),
            controllers: if v2 { vec![] } else { vec!["blkio".into()] },
            v2,
        }];
        h
    }

    #[test]
    fn v1_looks_below_the_root_for_files_not_on_root() {
        let t = tempfile::tempdir().unwrap();
        let child = t.path().join("system.slice");
        std::fs::create_dir(&child).unwrap();
        let h = host(CgroupMode::V1, t.path(), false);
        let want = vec!["blkio.bfq.weight|blkio.weight".to_string()];
        let why = unmet(&h, "/oci-conform-1", &want).unwrap();
        assert!(why.contains("blkio.bfq.weight or blkio.weight"), "{why}");
        std::fs::write(child.join("blkio.bfq.weight"), "default 100\n").unwrap();
        assert_eq!(unmet(&h, "/oci-conform-1", &want), None);
    }

    #[test]
    fn v1_looks_in_the_existing_parent() {
        let t = tempfile::tempdir().unwrap();
        let parent = t.path().join("oci-conform-1");
        std::fs::create_dir(&parent).unwrap();
        let h = host(CgroupMode::V1, t.path(), false);
        let want = vec!["blkio.weight".to_string()];
        assert!(unmet(&h, "/oci-conform-1", &want)
            .unwrap()
            .contains("oci-conform-1"));
        std::fs::write(parent.join("blkio.weight"), "500\n").unwrap();
        assert_eq!(unmet(&h, "/oci-conform-1", &want), None);
    }

    #[test]
    fn v2_needs_the_controller_offered_and_enabled_below() {
        let t = tempfile::tempdir().unwrap();
        let h = host(CgroupMode::V2, t.path(), true);
        let want = vec!["io.bfq.weight".to_string()];
        std::fs::write(t.path().join("cgroup.controllers"), "cpu memory\n").unwrap();
        assert!(unmet(&h, "/oci-conform-1", &want)
            .unwrap()
            .contains("does not offer the io controller"));
        std::fs::write(t.path().join("cgroup.controllers"), "cpu io memory\n").unwrap();
        let child = t.path().join("system.slice");
        std::fs::create_dir(&child).unwrap();
        std::fs::write(child.join("cgroup.controllers"), "io\n").unwrap();
        std::fs::write(child.join("io.weight"), "default 100\n").unwrap();
        assert!(unmet(&h, "/oci-conform-1", &want)
            .unwrap()
            .contains("1 child cgroup(s) with io"));
        std::fs::write(child.join("io.bfq.weight"), "default 100\n").unwrap();
        assert_eq!(unmet(&h, "/oci-conform-1", &want), None);
    }

    #[test]
    fn block_devices_are_looked_up_in_sysfs() {
        let why = missing_block_device(&["4095:1048575".into()]).unwrap();
        assert!(why.contains("4095:1048575"), "{why}");
        assert_eq!(missing_block_device(&[]), None);
    }

    #[test]
    fn a_missing_hierarchy_is_named() {
        let t = tempfile::tempdir().unwrap();
        let h = host(CgroupMode::V1, t.path(), false);
        let why = unmet(&h, "/x", &["cpu.rt_runtime_us".into()]).unwrap();
        assert!(
            why.contains("no mounted hierarchy has the cpu controller"),
            "{why}"
        );
    }
}
