//! `linux.resources.cpu` (cpu and cpuset controllers).
//!
//! v2 has no shares: runc maps them onto `cpu.weight` with
//! `ConvertCPUSharesToCgroupV2Value` (shares 2..262144 → weight 1..10000, linear), and
//! quota/period become the single `cpu.max` file ("$QUOTA $PERIOD", "max" for no quota).

use oci_spec::runtime::LinuxCpu;

use super::{Version, Write};
use crate::cgroups::error::CgroupError;

const F: &str = "linux.resources.cpu";

fn w(ctrl: &'static str, file: &str, value: impl ToString, field: &str) -> Write {
    Write::new(ctrl, file, value.to_string(), format!("{F}.{field}"))
}

/// cpuset.cpus / cpuset.mems have the same names and formats on v1 and v2.
pub(super) fn cpuset(c: &LinuxCpu) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
        out.push(w("cpuset", "cpuset.cpus", cpus, "cpus"));
    }
    if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
        out.push(w("cpuset", "cpuset.mems", mems, "mems"));
    }
    out
}

pub(super) fn cpu(v: Version, c: &LinuxCpu) -> Result<Vec<Write>, CgroupError> {
    match v {
        Version::V1 => Ok(v1(c)),
        Version::V2 => v2(c),
    }
}

fn v1(c: &LinuxCpu) -> Vec<Write> {
    let mut out = Vec::new();
    // runc sets the realtime budget first: the kernel refuses to move an RT task into a group
    // without one.
    if let Some(p) = c.realtime_period().filter(|p| *p != 0) {
        out.push(w("cpu", "cpu.rt_period_us", p, "realtimePeriod"));
    }
    if let Some(r) = c.realtime_runtime().filter(|r| *r != 0) {
        out.push(w("cpu", "cpu.rt_runtime_us", r, "realtimeRuntime"));
    }
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        out.push(w("cpu", "cpu.shares", s, "shares").verified());
    }
    if let Some(p) = c.period().filter(|p| *p != 0) {
        out.push(w("cpu", "cpu.cfs_period_us", p, "period"));
    }
    if let Some(q) = c.quota().filter(|q| *q != 0) {
        out.push(w("cpu", "cpu.cfs_quota_us", q, "quota"));
    }
    if let Some(b) = c.burst() {
        out.push(w("cpu", "cpu.cfs_burst_us", b, "burst"));
    }
    if let Some(i) = c.idle() {
        out.push(w("cpu", "cpu.idle", i, "idle"));
    }
    out
}

/// runc's `ConvertCPUSharesToCgroupV2Value`: 0 stays 0 (unset).
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.saturating_sub(2) * 9999) / 262142
}

fn v2(c: &LinuxCpu) -> Result<Vec<Write>, CgroupError> {
    for (set, field) in [
        (
            c.realtime_period().is_some_and(|p| p != 0),
            "realtimePeriod",
        ),
        (
            c.realtime_runtime().is_some_and(|r| r != 0),
            "realtimeRuntime",
        ),
    ] {
        if set {
            return Err(CgroupError::unsupported(
                format!("{F}.{field}"),
                "realtime scheduling limits are not supported on cgroup v2",
            ));
        }
    }
    let mut out = Vec::new();
    if let Some(i) = c.idle() {
        out.push(w("cpu", "cpu.idle", i, "idle"));
    }
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        out.push(w("cpu", "cpu.weight", shares_to_weight(s), "shares"));
    }
    let quota = c.quota().unwrap_or(0);
    let period = c.period().unwrap_or(0);
    if quota != 0 || period != 0 {
        let mut max = if quota > 0 {
            quota.to_string()
        } else {
            "max".to_string()
        };
        if period != 0 {
            max = format!("{max} {period}");
        }
        let field = if quota != 0 { "quota" } else { "period" };
        out.push(w("cpu", "cpu.max", max, field));
    }
    if let Some(b) = c.burst() {
        out.push(w("cpu", "cpu.max.burst", b, "burst"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::render;
    use super::*;
    use rstest::rstest;

    fn cpu_of(json: &str) -> LinuxCpu {
        serde_json::from_str(json).expect("cpu json")
    }

    #[rstest]
    #[case::unset(0, 0)]
    #[case::min(2, 1)]
    #[case::default_1024(1024, 39)]
    #[case::max(262144, 10000)]
    #[case::below_min(1, 1)]
    fn converts_shares_to_weight(#[case] shares: u64, #[case] weight: u64) {
        assert_eq!(shares_to_weight(shares), weight);
    }

    #[rstest]
    #[case::shares(r#"{"shares":1024}"#, &["cpu.weight=39"][..])]
    #[case::quota_and_period(r#"{"quota":50000,"period":100000}"#, &["cpu.max=50000 100000"][..])]
    #[case::period_only(r#"{"period":100000}"#, &["cpu.max=max 100000"][..])]
    #[case::unlimited_quota(r#"{"quota":-1}"#, &["cpu.max=max"][..])]
    #[case::idle_burst(r#"{"idle":1,"burst":1000}"#, &["cpu.idle=1", "cpu.max.burst=1000"][..])]
    fn renders_v2(#[case] json: &str, #[case] want: &[&str]) {
        assert_eq!(
            render(&cpu(Version::V2, &cpu_of(json)).expect("plan")),
            want
        );
    }

    #[rstest]
    #[case::shares(r#"{"shares":512}"#, &["cpu.shares=512"][..])]
    #[case::period_before_quota(r#"{"quota":50000,"period":100000}"#,
        &["cpu.cfs_period_us=100000", "cpu.cfs_quota_us=50000"][..])]
    #[case::rt_first(r#"{"shares":2,"realtimeRuntime":950000,"realtimePeriod":1000000}"#,
        &["cpu.rt_period_us=1000000", "cpu.rt_runtime_us=950000", "cpu.shares=2"][..])]
    fn renders_v1(#[case] json: &str, #[case] want: &[&str]) {
        assert_eq!(
            render(&cpu(Version::V1, &cpu_of(json)).expect("plan")),
            want
        );
    }

    #[test]
    fn v2_refuses_realtime() {
        let err = cpu(Version::V2, &cpu_of(r#"{"realtimeRuntime":1}"#)).expect_err("rt");
        assert!(
            err.to_string()
                .starts_with("linux.resources.cpu.realtimeRuntime"),
            "{err}"
        );
    }

    #[test]
    fn cpuset_skips_empty_strings() {
        let c = cpu_of(r#"{"cpus":"0-1","mems":""}"#);
        assert_eq!(render(&cpuset(&c)), ["cpuset.cpus=0-1"]);
    }
}
