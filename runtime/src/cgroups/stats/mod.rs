//! Resource usage for `ferrun events --stats`, in the JSON shape runc 1.1 prints as the `data`
//! of a `{"type":"stats","id":…,"data":…}` event (checked against `runc events --stats` on this
//! host). Field names and `omitempty` behaviour follow runc's types/events.go so tools that
//! parse runc's output (containerd shims, scripts) can read ours.
//!
//! Files that do not exist (a controller that is not mounted or enabled) leave their part at
//! its default, as runc does; reading stats never fails because one knob is missing.

mod v1;
mod v2;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::error::CgroupError;
use super::host::Mode;
use super::manager::FsManager;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub cpu: CpuStats,
    pub cpuset: CpusetStats,
    pub memory: MemoryStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
    pub hugetlb: BTreeMap<String, HugetlbStats>,
    pub intel_rdt: BTreeMap<String, u64>,
    /// Network statistics are not collected (runc needs the netns for that); `null` like
    /// runc prints when it has none.
    pub network_interfaces: Option<Vec<()>>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct CpuStats {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

/// All times in nanoseconds.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct CpuUsage {
    #[serde(skip_serializing_if = "is_zero")]
    pub total: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Throttling {
    #[serde(skip_serializing_if = "is_zero")]
    pub periods: u64,
    #[serde(rename = "throttledPeriods", skip_serializing_if = "is_zero")]
    pub throttled_periods: u64,
    #[serde(rename = "throttledTime", skip_serializing_if = "is_zero")]
    pub throttled_time: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct CpusetStats {
    pub cpus: Vec<u32>,
    pub cpu_exclusive: u64,
    pub mems: Vec<u32>,
    pub mem_hardwall: u64,
    pub mem_exclusive: u64,
    pub memory_migrate: u64,
    pub memory_spread_page: u64,
    pub memory_spread_slab: u64,
    pub memory_pressure: u64,
    pub sched_load_balance: u64,
    pub sched_relax_domain_level: i64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct MemoryStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct PidsStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub current: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// Every field `omitempty` in runc, so device 254:0 prints without `"minor"` and a zero
/// count without `"value"`.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct BlkioEntry {
    #[serde(skip_serializing_if = "is_zero")]
    pub major: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub minor: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub value: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct BlkioStats {
    #[serde(
        rename = "ioServiceBytesRecursive",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(rename = "ioServicedRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct HugetlbStats {
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

/// "key value" lines (memory.stat, cpu.stat, cpuacct.stat, *.events) into a map.
pub(crate) fn kv(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// A single number; "max" (cgroup2's unlimited) reads as `max_as`.
pub(crate) fn num(text: &str, max_as: u64) -> Option<u64> {
    match text.trim() {
        "max" => Some(max_as),
        t => t.parse().ok(),
    }
}

/// A cpuset list ("0-2,4") into its members.
pub(crate) fn cpu_list(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<u32>().ok()),
        }
    }
    out
}

/// Reads through the manager's fs seam; a missing file is `None`.
pub(crate) struct Reader<'a> {
    pub(crate) m: &'a FsManager,
}

impl Reader<'_> {
    pub(crate) fn text(&self, dir: Option<&Path>, file: &str) -> Option<String> {
        self.m.fs.read(&dir?.join(file)).ok()
    }
    pub(crate) fn num(&self, dir: Option<&Path>, file: &str, max_as: u64) -> u64 {
        self.text(dir, file)
            .and_then(|t| num(&t, max_as))
            .unwrap_or(0)
    }
    pub(crate) fn files(&self, dir: Option<&Path>) -> Vec<String> {
        dir.and_then(|d| self.m.fs.files(d).ok())
            .unwrap_or_default()
    }
}

impl FsManager {
    /// Current usage counters of the container's cgroup.
    pub fn stats(&self) -> Result<Stats, CgroupError> {
        let r = Reader { m: self };
        Ok(match self.layout.mode {
            Mode::V1 | Mode::Hybrid => v1::stats(&r, &self.layout),
            Mode::V2 => v2::stats(&r, self.layout.unified.as_ref().map(|u| u.dir.as_path())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::range("0-2,4", &[0, 1, 2, 4][..])]
    #[case::single("3\n", &[3][..])]
    #[case::empty("\n", &[][..])]
    fn parses_cpu_lists(#[case] text: &str, #[case] want: &[u32]) {
        assert_eq!(cpu_list(text), want);
    }

    #[test]
    fn omits_empty_fields_like_runc() {
        let json = serde_json::to_value(Stats::default()).expect("json");
        assert_eq!(
            json["cpu"],
            serde_json::json!({"usage": {"kernel": 0, "user": 0}, "throttling": {}})
        );
        assert_eq!(
            json["memory"]["kernelTCP"],
            serde_json::json!({"limit": 0, "failcnt": 0})
        );
        assert_eq!(json["pids"], serde_json::json!({}));
        assert_eq!(json["blkio"], serde_json::json!({}));
        assert_eq!(json["network_interfaces"], serde_json::Value::Null);
    }

    #[test]
    fn blkio_entries_omit_zero_fields_like_runc() {
        let e = BlkioEntry {
            major: 254,
            minor: 0,
            op: "Write".into(),
            value: 0,
        };
        assert_eq!(
            serde_json::to_string(&e).expect("json"),
            r#"{"major":254,"op":"Write"}"#
        );
    }
}
