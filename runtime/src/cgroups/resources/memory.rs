//! `linux.resources.memory`.
//!
//! OCI's `swap` is memory+swap (cgroup v1 `memory.memsw.limit_in_bytes` semantics). On v2 the
//! kernel limits swap alone, so runc converts with `ConvertMemorySwapToCgroupV2Value`:
//! swap.max = swap - limit, with -1 passing through as "max" and unlimited memory implying
//! unlimited swap. On v1 the two limits constrain each other (memsw >= memory), so runc orders
//! the writes by the current limit; we do the same.

use oci_spec::runtime::LinuxMemory;

use super::{v2_num, Probe, Version, Write};
use crate::cgroups::error::CgroupError;

const F: &str = "linux.resources.memory";

pub(super) fn memory(
    v: Version,
    m: &LinuxMemory,
    probe: &dyn Probe,
) -> Result<Vec<Write>, CgroupError> {
    if m.check_before_update() == Some(true) {
        return Err(CgroupError::unsupported(
            format!("{F}.checkBeforeUpdate"),
            "not supported",
        ));
    }
    match v {
        Version::V1 => v1(m, probe),
        Version::V2 => v2(m),
    }
}

fn w(file: &str, value: impl ToString, field: &str) -> Write {
    Write::new("memory", file, value.to_string(), format!("{F}.{field}"))
}

fn v1(m: &LinuxMemory, probe: &dyn Probe) -> Result<Vec<Write>, CgroupError> {
    let mut out = Vec::new();
    let limit = m.limit().unwrap_or(0);
    let mut swap = m.swap().unwrap_or(0);
    // runc: unlimited memory with swap unset means unlimited swap too (if swap accounting
    // exists at all).
    if limit == -1 && swap == 0 && probe.exists("memory", "memory.memsw.limit_in_bytes") {
        swap = -1;
    }
    let mem = |out: &mut Vec<Write>| {
        if limit != 0 {
            out.push(w("memory.limit_in_bytes", limit, "limit"));
        }
    };
    let sw = |out: &mut Vec<Write>| {
        if swap != 0 {
            out.push(w("memory.memsw.limit_in_bytes", swap, "swap"));
        }
    };
    let current = probe
        .read("memory", "memory.limit_in_bytes")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    // Raising: swap first so memsw >= memory holds at each step; lowering: memory first.
    let swap_first = limit != 0 && swap != 0 && (swap == -1 || current < swap as u64);
    if swap_first {
        sw(&mut out);
        mem(&mut out);
    } else {
        mem(&mut out);
        sw(&mut out);
    }
    if let Some(k) = m.kernel().filter(|k| *k != 0) {
        out.push(w("memory.kmem.limit_in_bytes", k, "kernel"));
    }
    if let Some(k) = m.kernel_tcp().filter(|k| *k != 0) {
        out.push(w("memory.kmem.tcp.limit_in_bytes", k, "kernelTCP"));
    }
    if let Some(r) = m.reservation().filter(|r| *r != 0) {
        out.push(w("memory.soft_limit_in_bytes", r, "reservation"));
    }
    if m.disable_oom_killer() == Some(true) {
        out.push(w("memory.oom_control", 1, "disableOOMKiller"));
    }
    if let Some(s) = m.swappiness() {
        if s > 100 {
            return Err(CgroupError::unsupported(
                format!("{F}.swappiness"),
                format!("invalid value {s}: valid range is 0-100"),
            ));
        }
        out.push(w("memory.swappiness", s, "swappiness"));
    }
    if let Some(h) = m.use_hierarchy() {
        out.push(w("memory.use_hierarchy", u8::from(h), "useHierarchy"));
    }
    Ok(out)
}

/// runc's `ConvertMemorySwapToCgroupV2Value`.
pub(crate) fn swap_v2(swap: i64, limit: i64) -> Result<i64, String> {
    if limit == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if limit == 0 || limit == -1 {
        return Err("unable to set swap limit without memory limit".into());
    }
    if limit < 0 {
        return Err(format!("invalid memory value: {limit}"));
    }
    if swap < limit {
        return Err("memory+swap limit should be >= memory limit".into());
    }
    Ok(swap - limit)
}

fn v2_only_v1(field: &str) -> CgroupError {
    CgroupError::unsupported(format!("{F}.{field}"), "not supported on cgroup v2")
}

fn v2(m: &LinuxMemory) -> Result<Vec<Write>, CgroupError> {
    // Fields with no cgroup2 equivalent are refused rather than dropped as runc does.
    if m.kernel().is_some_and(|k| k != 0) {
        return Err(v2_only_v1("kernel"));
    }
    if m.kernel_tcp().is_some_and(|k| k != 0) {
        return Err(v2_only_v1("kernelTCP"));
    }
    if m.swappiness().is_some() {
        return Err(v2_only_v1("swappiness"));
    }
    if m.disable_oom_killer() == Some(true) {
        return Err(v2_only_v1("disableOOMKiller"));
    }
    if m.use_hierarchy() == Some(false) {
        return Err(CgroupError::unsupported(
            format!("{F}.useHierarchy"),
            "cgroup v2 is always hierarchical",
        ));
    }
    let limit = m.limit().unwrap_or(0);
    let requested_swap = m.swap().unwrap_or(0);
    let swap = swap_v2(requested_swap, limit)
        .map_err(|e| CgroupError::unsupported(format!("{F}.swap"), e))?;
    let mut out = Vec::new();
    // swap == limit converts to 0, which must be written ("no swap"), not skipped as "unset".
    match v2_num(swap) {
        Some(s) => out.push(w("memory.swap.max", s, "swap")),
        None if requested_swap > 0 => out.push(w("memory.swap.max", 0, "swap")),
        None => {}
    }
    if let Some(l) = v2_num(limit) {
        out.push(w("memory.max", l, "limit"));
    }
    if let Some(r) = m.reservation().and_then(v2_num) {
        out.push(w("memory.low", r, "reservation"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use rstest::rstest;

    fn mem(json: &str) -> LinuxMemory {
        serde_json::from_str(json).expect("memory json")
    }

    #[rstest]
    #[case::unset(0, 100, Ok(0))]
    #[case::unlimited_memory_implies_unlimited_swap(0, -1, Ok(-1))]
    #[case::unlimited_swap(-1, 100, Ok(-1))]
    #[case::swap_is_total(300, 100, Ok(200))]
    #[case::equal_means_no_swap(100, 100, Ok(0))]
    #[case::swap_below_memory(50, 100, Err(()))]
    #[case::swap_without_limit(300, 0, Err(()))]
    fn converts_swap_to_v2(#[case] swap: i64, #[case] limit: i64, #[case] want: Result<i64, ()>) {
        assert_eq!(swap_v2(swap, limit).map_err(|_| ()), want);
    }

    #[rstest]
    #[case::limit_only(r#"{"limit":1048576}"#, &["memory.max=1048576"][..])]
    #[case::unlimited(r#"{"limit":-1}"#, &["memory.swap.max=max", "memory.max=max"][..])]
    #[case::with_swap(r#"{"limit":100,"swap":300}"#, &["memory.swap.max=200", "memory.max=100"][..])]
    #[case::no_swap(r#"{"limit":100,"swap":100}"#, &["memory.swap.max=0", "memory.max=100"][..])]
    #[case::reservation(r#"{"reservation":50}"#, &["memory.low=50"][..])]
    fn renders_v2(#[case] json: &str, #[case] want: &[&str]) {
        let w = memory(Version::V2, &mem(json), &MapProbe::default()).expect("plan");
        assert_eq!(render(&w), want);
    }

    #[rstest]
    #[case::swappiness(r#"{"swappiness":10}"#, "linux.resources.memory.swappiness")]
    #[case::kernel(r#"{"kernel":1000}"#, "linux.resources.memory.kernel")]
    #[case::oom(
        r#"{"disableOOMKiller":true}"#,
        "linux.resources.memory.disableOOMKiller"
    )]
    #[case::bad_swap(r#"{"limit":100,"swap":50}"#, "linux.resources.memory.swap")]
    fn v2_refuses_what_it_cannot_do(#[case] json: &str, #[case] field: &str) {
        let err = memory(Version::V2, &mem(json), &MapProbe::default()).expect_err("refused");
        assert!(err.to_string().starts_with(field), "{err}");
    }

    #[rstest]
    #[case::fresh_cgroup_sets_memory_first(r#"{"limit":100,"swap":300}"#, "9223372036854771712",
        &["memory.limit_in_bytes=100", "memory.memsw.limit_in_bytes=300"][..])]
    #[case::raising_above_current_sets_swap_first(r#"{"limit":100,"swap":300}"#, "50",
        &["memory.memsw.limit_in_bytes=300", "memory.limit_in_bytes=100"][..])]
    #[case::unlimited_implies_swap(r#"{"limit":-1}"#, "1000",
        &["memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1"][..])]
    #[case::others(r#"{"reservation":5,"swappiness":60,"disableOOMKiller":true}"#, "1",
        &["memory.soft_limit_in_bytes=5", "memory.oom_control=1", "memory.swappiness=60"][..])]
    fn renders_v1(#[case] json: &str, #[case] current: &str, #[case] want: &[&str]) {
        let probe = MapProbe::with(&[
            ("memory/memory.limit_in_bytes", current),
            ("memory/memory.memsw.limit_in_bytes", current),
        ]);
        let w = memory(Version::V1, &mem(json), &probe).expect("plan");
        assert_eq!(render(&w), want);
    }

    #[test]
    fn v1_rejects_out_of_range_swappiness() {
        let err = memory(
            Version::V1,
            &mem(r#"{"swappiness":101}"#),
            &MapProbe::default(),
        )
        .expect_err("range");
        assert!(err.to_string().contains("swappiness"), "{err}");
    }
}
