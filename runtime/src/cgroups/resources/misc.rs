//! The small resources: pids, hugetlb, network (v1 net_cls/net_prio), rdma and `unified`.

use std::collections::HashMap;

use oci_spec::runtime::{LinuxHugepageLimit, LinuxNetwork, LinuxPids, LinuxRdma};

use super::{Version, Write};
use crate::cgroups::error::CgroupError;
use crate::cgroups::host::Mode;

const F: &str = "linux.resources";

/// pids.max on both versions; a limit <= 0 means unlimited ("max"), as in runc.
pub(super) fn pids(p: &LinuxPids) -> Option<Write> {
    let limit = p.limit();
    if limit == 0 {
        return None;
    }
    let value = if limit > 0 {
        limit.to_string()
    } else {
        "max".into()
    };
    Some(Write::new(
        "pids",
        "pids.max",
        value,
        format!("{F}.pids.limit"),
    ))
}

/// A page size as the kernel names it in hugetlb file names ("2MB", "1GB", "64KB").
fn valid_page_size(s: &str) -> bool {
    let digits = s.trim_end_matches(['K', 'M', 'G', 'B']);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && matches!(&s[digits.len()..], "KB" | "MB" | "GB")
}

pub(super) fn hugetlb(
    v: Version,
    limits: &[LinuxHugepageLimit],
) -> Result<Vec<Write>, CgroupError> {
    let mut out = Vec::new();
    for (i, l) in limits.iter().enumerate() {
        let size = l.page_size();
        if !valid_page_size(size) {
            return Err(CgroupError::unsupported(
                format!("{F}.hugepageLimits[{i}].pageSize"),
                format!("invalid page size {size:?} (want e.g. 2MB or 1GB)"),
            ));
        }
        let file = match v {
            Version::V1 => format!("hugetlb.{size}.limit_in_bytes"),
            Version::V2 => format!("hugetlb.{size}.max"),
        };
        let field = format!("{F}.hugepageLimits[{i}]");
        out.push(Write::new("hugetlb", file, l.limit().to_string(), field));
    }
    Ok(out)
}

pub(super) fn network(v: Version, n: &LinuxNetwork) -> Result<Vec<Write>, CgroupError> {
    if v == Version::V2 {
        // cgroup2 has no net_cls/net_prio; runc ignores them there, we refuse.
        return Err(CgroupError::unsupported(
            format!("{F}.network"),
            "net_cls/net_prio do not exist on cgroup v2",
        ));
    }
    let mut out = Vec::new();
    if let Some(id) = n.class_id() {
        let f = format!("{F}.network.classID");
        out.push(Write::new("net_cls", "net_cls.classid", id.to_string(), f));
    }
    for (i, p) in n.priorities().iter().flatten().enumerate() {
        let value = format!("{} {}", p.name(), p.priority());
        let f = format!("{F}.network.priorities[{i}]");
        out.push(Write::new("net_prio", "net_prio.ifpriomap", value, f));
    }
    Ok(out)
}

/// rdma.max has one format on both versions: "DEV hca_handle=N hca_object=M".
pub(super) fn rdma(r: &HashMap<String, LinuxRdma>) -> Vec<Write> {
    let mut devs: Vec<_> = r.iter().collect();
    devs.sort_by(|a, b| a.0.cmp(b.0));
    devs.into_iter()
        .filter(|(_, l)| l.hca_handles().is_some() || l.hca_objects().is_some())
        .map(|(dev, l)| {
            let mut v = dev.clone();
            if let Some(h) = l.hca_handles() {
                v.push_str(&format!(" hca_handle={h}"));
            }
            if let Some(o) = l.hca_objects() {
                v.push_str(&format!(" hca_object={o}"));
            }
            Write::new("rdma", "rdma.max", v, format!("{F}.rdma.{dev}"))
        })
        .collect()
}

/// Files `unified` must not touch: they belong to the runtime's own management of the cgroup.
const RESERVED: &[&str] = &["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"];

/// `linux.resources.unified`: raw cgroup2 files. runc refuses them unless the host is in
/// unified mode ("invalid configuration: cannot use unified on cgroup v1"), hybrid included:
/// controllers are driven through v1 there.
pub(super) fn unified(mode: Mode, u: &HashMap<String, String>) -> Result<Vec<Write>, CgroupError> {
    if u.is_empty() {
        return Ok(Vec::new());
    }
    if mode != Mode::V2 {
        return Err(crate::cgroups::precheck::unified_needs_v2(mode));
    }
    let mut keys: Vec<_> = u.keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for k in keys {
        let field = format!("{F}.unified.{k}");
        let (ctrl, param) = k.split_once('.').unwrap_or((k.as_str(), ""));
        if k.contains('/') || ctrl.is_empty() || param.is_empty() {
            return Err(CgroupError::unsupported(
                field,
                "key must be a file name of the form CONTROLLER.PARAMETER",
            ));
        }
        if RESERVED.contains(&k.as_str()) {
            return Err(CgroupError::unsupported(field, "managed by the runtime"));
        }
        // Only cgroup2 controller names are accepted; the manager then checks the controller
        // is enabled for this cgroup before anything is written.
        let controller = known_controller(ctrl).ok_or_else(|| {
            CgroupError::unsupported(field.clone(), format!("unknown controller {ctrl:?}"))
        })?;
        out.push(Write::new(controller, k.clone(), u[k].clone(), field));
    }
    Ok(out)
}

fn known_controller(c: &str) -> Option<&'static str> {
    const V2: &[&str] = &[
        "cgroup", "cpu", "cpuset", "io", "memory", "hugetlb", "pids", "rdma", "misc",
    ];
    V2.iter().copied().find(|k| *k == c)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::limit(32, Some("pids.max=32"))]
    #[case::unlimited(-1, Some("pids.max=max"))]
    #[case::unset(0, None)]
    fn renders_pids(#[case] limit: i64, #[case] want: Option<&str>) {
        let p: LinuxPids = serde_json::from_str(&format!(r#"{{"limit":{limit}}}"#)).expect("json");
        assert_eq!(
            pids(&p)
                .map(|w| format!("{}={}", w.file, w.value))
                .as_deref(),
            want
        );
    }

    #[rstest]
    #[case::v1(Version::V1, "hugetlb.2MB.limit_in_bytes=4194304")]
    #[case::v2(Version::V2, "hugetlb.2MB.max=4194304")]
    fn renders_hugetlb(#[case] v: Version, #[case] want: &str) {
        let r = resources(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#);
        let w = hugetlb(v, r.hugepage_limits().as_deref().unwrap_or_default()).expect("plan");
        assert_eq!(render(&w), [want]);
    }

    #[rstest]
    #[case::no_unit("2")]
    #[case::path_injection("2MB/../x")]
    #[case::lower("2mb")]
    fn rejects_bad_page_sizes(#[case] size: &str) {
        let r = resources(&format!(
            r#"{{"hugepageLimits":[{{"pageSize":"{size}","limit":1}}]}}"#
        ));
        let err = hugetlb(
            Version::V2,
            r.hugepage_limits().as_deref().unwrap_or_default(),
        )
        .expect_err("bad size");
        assert!(err.to_string().contains("pageSize"), "{err}");
    }

    #[test]
    fn renders_network_on_v1_and_refuses_it_on_v2() {
        let r = resources(
            r#"{"network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]}}"#,
        );
        let n = r.network().as_ref().expect("network");
        assert_eq!(
            render(&network(Version::V1, n).expect("v1")),
            ["net_cls.classid=1048577", "net_prio.ifpriomap=eth0 5"]
        );
        assert!(network(Version::V2, n).is_err());
    }

    #[test]
    fn renders_rdma() {
        let r = resources(
            r#"{"rdma":{"mlx5_1":{"hcaHandles":3},"mlx4_0":{"hcaHandles":2,"hcaObjects":2000}}}"#,
        );
        let w = rdma(r.rdma().as_ref().expect("rdma"));
        assert_eq!(
            render(&w),
            [
                "rdma.max=mlx4_0 hca_handle=2 hca_object=2000",
                "rdma.max=mlx5_1 hca_handle=3"
            ]
        );
    }

    #[rstest]
    #[case::v1_host(Mode::V1, r#"{"memory.high":"1"}"#, "cannot use unified on cgroup v1")]
    #[case::hybrid_host(Mode::Hybrid, r#"{"memory.high":"1"}"#, "this host is hybrid")]
    #[case::slash(Mode::V2, r#"{"../memory.high":"1"}"#, "CONTROLLER.PARAMETER")]
    #[case::no_param(Mode::V2, r#"{"memory":"1"}"#, "CONTROLLER.PARAMETER")]
    #[case::reserved(Mode::V2, r#"{"cgroup.procs":"1"}"#, "managed by the runtime")]
    #[case::unknown(Mode::V2, r#"{"bogus.file":"1"}"#, "unknown controller")]
    fn refuses_bad_unified(#[case] mode: Mode, #[case] json: &str, #[case] msg: &str) {
        let u: HashMap<String, String> = serde_json::from_str(json).expect("json");
        let err = unified(mode, &u).expect_err("refused");
        let s = err.to_string();
        let s = s.strip_prefix("invalid configuration: ").unwrap_or(&s);
        assert!(
            s.starts_with("linux.resources.unified") && s.contains(msg),
            "{s}"
        );
    }

    #[test]
    fn renders_unified_sorted_by_key() {
        let u: HashMap<String, String> =
            serde_json::from_str(r#"{"memory.high":"5","cgroup.freeze":"0","cpu.weight":"7"}"#)
                .expect("json");
        let w = unified(Mode::V2, &u).expect("plan");
        assert_eq!(
            render(&w),
            ["cgroup.freeze=0", "cpu.weight=7", "memory.high=5"]
        );
        assert_eq!(w[1].controller, "cpu");
    }
}
