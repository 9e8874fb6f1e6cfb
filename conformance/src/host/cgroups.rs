//! Cgroup mode and hierarchies from /proc/self/mountinfo: v1 (controller hierarchies only),
//! v2 (cgroup2 at /sys/fs/cgroup), hybrid (v1 controllers plus cgroup2 elsewhere, usually
//! /sys/fs/cgroup/unified, as on this Debian host).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupMode {
    V1,
    V2,
    Hybrid,
    None,
}

impl CgroupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupMode::V1 => "v1",
            CgroupMode::V2 => "v2",
            CgroupMode::Hybrid => "hybrid",
            CgroupMode::None => "none",
        }
    }
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hierarchy {
    pub mount: String,
    /// v1 controllers of this hierarchy (`name=systemd` included); empty for cgroup2.
    pub controllers: Vec<String>,
    pub v2: bool,
}

pub fn probe() -> (CgroupMode, Vec<Hierarchy>) {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let hierarchies = parse(&text);
    (mode_of(&hierarchies), hierarchies)
}

pub fn parse(mountinfo: &str) -> Vec<Hierarchy> {
    let mut out = Vec::new();
    for m in crate::normalize::mountinfo::parse(mountinfo) {
        match m.fstype.as_str() {
            "cgroup2" => out.push(Hierarchy {
                mount: m.target,
                controllers: vec![],
                v2: true,
            }),
            "cgroup" => {
                let known = [
                    "rw", "ro", "nosuid", "nodev", "noexec", "relatime", "noatime",
                ];
                let controllers = m
                    .super_options
                    .iter()
                    .filter(|o| !known.contains(&o.as_str()) && !o.starts_with("release_agent"))
                    .filter(|o| !o.contains('=') || o.starts_with("name="))
                    .cloned()
                    .collect();
                out.push(Hierarchy {
                    mount: m.target,
                    controllers,
                    v2: false,
                })
            }
            _ => {}
        }
    }
    out.dedup_by(|a, b| a.mount == b.mount);
    out
}

pub fn mode_of(h: &[Hierarchy]) -> CgroupMode {
    let v1 = h
        .iter()
        .any(|x| !x.v2 && x.controllers.iter().any(|c| !c.starts_with("name=")));
    let v2_root = h.iter().any(|x| x.v2 && x.mount == "/sys/fs/cgroup");
    match (v1, h.iter().any(|x| x.v2)) {
        (true, true) => CgroupMode::Hybrid,
        (true, false) => CgroupMode::V1,
        (false, true) if v2_root => CgroupMode::V2,
        (false, true) => CgroupMode::V2,
        (false, false) => CgroupMode::None,
    }
}

/// Controllers a container can use: the v1 ones on a v1/hybrid host, the root's
/// cgroup.controllers on a v2 host.
pub fn controllers(mode: CgroupMode, h: &[Hierarchy]) -> Vec<String> {
    let mut out: Vec<String> = match mode {
        CgroupMode::V1 | CgroupMode::Hybrid => h
            .iter()
            .filter(|x| !x.v2)
            .flat_map(|x| {
                x.controllers
                    .iter()
                    .filter(|c| !c.starts_with("name="))
                    .cloned()
            })
            .collect(),
        CgroupMode::V2 => h
            .iter()
            .find(|x| x.v2)
            .and_then(|x| std::fs::read_to_string(format!("{}/cgroup.controllers", x.mount)).ok())
            .map(|s| s.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
        CgroupMode::None => vec![],
    };
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct
";

    #[test]
    fn detects_hybrid_and_controllers() {
        let h = parse(HYBRID);
        assert_eq!(mode_of(&h), CgroupMode::Hybrid);
        assert_eq!(
            controllers(CgroupMode::Hybrid, &h),
            vec!["cpu", "cpuacct", "pids"]
        );
    }

    #[test]
    fn detects_pure_v2() {
        let h = parse("31 1 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        assert_eq!(mode_of(&h), CgroupMode::V2);
    }
}
