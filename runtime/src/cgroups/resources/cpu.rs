//! `linux.resources.cpu` (cpu and cpuset controllers).
//!
//! v2 has no shares: runc maps them onto `cpu.weight` with
//! `ConvertCPUSharesToCgroupV2Value` (shares 2..262144 → weight 1..10000, linear), and
//! quota/period become the single `cpu.max` file ("$QUOTA $PERIOD", "max" for no quota).
//!
//! Quota and period may each come alone (`update --cpu-period`): runc then keeps the other at
//! its current value. v1 keeps it by not writing the other file; v2 must write both into
//! cpu.max, so the current quota is read back when only a period is given.

use oci_spec::runtime::LinuxCpu;

use super::{Probe, Version, Write};
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

pub(super) fn cpu(v: Version, c: &LinuxCpu, probe: &dyn Probe) -> Result<Vec<Write>, CgroupError> {
    match v {
        Version::V1 => Ok(v1(c)),
        Version::V2 => v2(c, probe),
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
        out.push(w("cpu", "cpu.shares", s, "shares").verified("cpu-shares"));
    }
    let quota = c.quota().filter(|q| *q != 0);
    if let Some(p) = c.period().filter(|p| *p != 0) {
        let period = w("cpu", "cpu.cfs_period_us", p, "period");
        // The kernel checks quota/period against the parent's limit at each write, so in a
        // pod cgroup with a limit, a shorter period is refused (EINVAL) until the quota is
        // lowered too. runc retries the period once after the quota; only then, since alone
        // the period would be refused again.
        out.push(if quota.is_some() {
            period.retried_after_next()
        } else {
            period
        });
    }
    if let Some(q) = quota {
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

/// The quota part of the current cpu.max ("max" when it cannot be read).
fn current_quota(probe: &dyn Probe) -> String {
    probe
        .read("cpu", "cpu.max")
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "max".into())
}

fn v2(c: &LinuxCpu, probe: &dyn Probe) -> Result<Vec<Write>, CgroupError> {
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
        let mut max = match quota {
            q if q > 0 => q.to_string(),
            0 => current_quota(probe),
            _ => "max".to_string(),
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
    use super::super::testing::{render, MapProbe};
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
        let probe = MapProbe::default();
        assert_eq!(
            render(&cpu(Version::V2, &cpu_of(json), &probe).expect("plan")),
            want
        );
    }

    #[rstest]
    #[case::period_keeps_quota(r#"{"period":900000}"#, "cpu.max=500000 900000")]
    #[case::quota_alone_keeps_period_in_the_kernel(r#"{"quota":600000}"#, "cpu.max=600000")]
    #[case::unlimited_quota_keeps_period(r#"{"quota":-1}"#, "cpu.max=max")]
    fn v2_update_keeps_the_value_not_given(#[case] json: &str, #[case] want: &str) {
        let probe = MapProbe::with(&[("cpu/cpu.max", "500000 1000000\n")]);
        let w = cpu(Version::V2, &cpu_of(json), &probe).expect("plan");
        assert_eq!(render(&w), [want]);
    }

    #[rstest]
    #[case::shares(r#"{"shares":512}"#, &["cpu.shares=512"][..])]
    #[case::period_before_quota(r#"{"quota":50000,"period":100000}"#,
        &["cpu.cfs_period_us=100000", "cpu.cfs_quota_us=50000"][..])]
    #[case::rt_first(r#"{"shares":2,"realtimeRuntime":950000,"realtimePeriod":1000000}"#,
        &["cpu.rt_period_us=1000000", "cpu.rt_runtime_us=950000", "cpu.shares=2"][..])]
    #[case::quota_only(r#"{"quota":-1}"#, &["cpu.cfs_quota_us=-1"][..])]
    #[case::period_only(r#"{"period":50000}"#, &["cpu.cfs_period_us=50000"][..])]
    fn renders_v1(#[case] json: &str, #[case] want: &[&str]) {
        let probe = MapProbe::default();
        assert_eq!(
            render(&cpu(Version::V1, &cpu_of(json), &probe).expect("plan")),
            want
        );
    }

    #[rstest]
    #[case::with_quota(r#"{"quota":3000,"period":10000}"#, true)]
    #[case::alone(r#"{"period":10000}"#, false)]
    fn v1_period_is_retried_after_the_quota_only_when_one_follows(
        #[case] json: &str,
        #[case] retried: bool,
    ) {
        let w = cpu(Version::V1, &cpu_of(json), &MapProbe::default()).expect("plan");
        assert_eq!(w[0].file, "cpu.cfs_period_us");
        assert_eq!(w[0].retry_after_next, retried);
    }

    #[test]
    fn v2_refuses_realtime() {
        let probe = MapProbe::default();
        let err = cpu(Version::V2, &cpu_of(r#"{"realtimeRuntime":1}"#), &probe).expect_err("rt");
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
