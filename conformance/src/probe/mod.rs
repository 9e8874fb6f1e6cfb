//! Host-side observations of a container process: /proc/<pid>/mountinfo, the files of its
//! cgroups, and /proc/<pid>/<file>. Reads only; paths come from the kernel's own view
//! (/proc/<pid>/cgroup) so the same code works for any runtime.

use crate::host::{CgroupMode, Hierarchy};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn read(path: PathBuf) -> Result<String, ProbeError> {
    std::fs::read_to_string(&path).map_err(|source| ProbeError::Read { path, source })
}

pub fn mountinfo(pid: i32) -> Result<String, ProbeError> {
    read(PathBuf::from(format!("/proc/{pid}/mountinfo")))
}

pub fn proc_file(pid: i32, file: &str) -> Result<String, ProbeError> {
    read(PathBuf::from(format!("/proc/{pid}/{file}")))
}

/// `Key:\tvalue` lines (as in /proc/<pid>/status) -> map with trimmed values.
pub fn fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// One line of /proc/<pid>/cgroup: `id:controllers:path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub controllers: Vec<String>,
    pub path: String,
}

pub fn parse_proc_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            let ctrls = parts.next()?;
            let path = parts.next()?;
            Some(Membership {
                controllers: ctrls
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect(),
                path: path.to_string(),
            })
        })
        .collect()
}

/// The host directory holding cgroup file `file` (e.g. `pids.max`) for a process.
/// v1 hierarchies are tried first (by the controller prefix of the file name), then cgroup2.
pub fn cgroup_dir(file: &str, member: &[Membership], hier: &[Hierarchy]) -> Option<PathBuf> {
    let controller = file.split('.').next().unwrap_or(file);
    let v1 = hier.iter().filter(|h| !h.v2).find(|h| {
        h.controllers.iter().any(|c| c == controller)
            || (controller == "cgroup"
                && h.controllers.iter().any(|c| c == "pids" || c == "memory"))
    });
    if let Some(h) = v1 {
        let m = member
            .iter()
            .find(|m| m.controllers.iter().any(|c| h.controllers.contains(c)))?;
        return Some(PathBuf::from(format!("{}{}", h.mount, m.path)));
    }
    let v2 = hier.iter().find(|h| h.v2)?;
    let m = member.iter().find(|m| m.controllers.is_empty())?;
    Some(PathBuf::from(format!("{}{}", v2.mount, m.path)))
}

/// Reads the named cgroup files of `pid`: `{"path", "mode", "files": {name: text|null}}`.
pub fn cgroup_files(
    pid: i32,
    names: &[String],
    mode: CgroupMode,
    hier: &[Hierarchy],
) -> Result<Value, ProbeError> {
    let member = parse_proc_cgroup(&proc_file(pid, "cgroup")?);
    let mut files = Map::new();
    for n in names {
        let v = cgroup_dir(n, &member, hier)
            .and_then(|d| std::fs::read_to_string(d.join(n)).ok())
            .map(|t| Value::String(t.trim_end().to_string()))
            .unwrap_or(Value::Null);
        files.insert(n.clone(), v);
    }
    let path = member
        .iter()
        .find(|m| {
            m.controllers.iter().any(|c| c == "pids" || c == "memory") || m.controllers.is_empty()
        })
        .map(|m| m.path.clone())
        .unwrap_or_default();
    let mut obs = Map::new();
    obs.insert("path".into(), Value::String(path));
    obs.insert("mode".into(), Value::String(mode.as_str().into()));
    obs.insert("files".into(), Value::Object(files));
    Ok(Value::Object(obs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hier() -> Vec<Hierarchy> {
        vec![
            Hierarchy {
                mount: "/sys/fs/cgroup/unified".into(),
                controllers: vec![],
                v2: true,
            },
            Hierarchy {
                mount: "/sys/fs/cgroup/pids".into(),
                controllers: vec!["pids".into()],
                v2: false,
            },
            Hierarchy {
                mount: "/sys/fs/cgroup/cpu,cpuacct".into(),
                controllers: vec!["cpu".into(), "cpuacct".into()],
                v2: false,
            },
        ]
    }

    const PROC: &str =
        "12:pids:/oci-conform-1/x\n4:cpu,cpuacct:/oci-conform-1/x\n0::/oci-conform-1/x\n";

    #[test]
    fn resolves_v1_then_v2() {
        let m = parse_proc_cgroup(PROC);
        assert_eq!(
            cgroup_dir("pids.max", &m, &hier()).unwrap(),
            PathBuf::from("/sys/fs/cgroup/pids/oci-conform-1/x")
        );
        assert_eq!(
            cgroup_dir("cpu.shares", &m, &hier()).unwrap(),
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/oci-conform-1/x")
        );
        assert_eq!(
            cgroup_dir("hugetlb.2MB.max", &m, &hier()).unwrap(),
            PathBuf::from("/sys/fs/cgroup/unified/oci-conform-1/x")
        );
    }

    #[test]
    fn parses_status_fields() {
        let f = fields("Name:\tsleep\nNoNewPrivs:\t1\nCapEff:\t00000000a80425fb\n");
        assert_eq!(f["NoNewPrivs"], "1");
        assert_eq!(f["CapEff"], "00000000a80425fb");
    }
}
