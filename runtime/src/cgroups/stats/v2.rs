//! Stats from cgroup v2 files (runc libcontainer/cgroups/fs2/*.go stat functions).

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    cpu_list, kv, BlkioEntry, BlkioStats, CpuStats, CpusetStats, HugetlbStats, MemoryEntry,
    MemoryStats, PidsStats, Reader, Stats, Throttling,
};

pub(super) fn stats(r: &Reader, dir: Option<&Path>) -> Stats {
    Stats {
        cpu: cpu(r, dir),
        cpuset: CpusetStats {
            cpus: cpu_list(&r.text(dir, "cpuset.cpus.effective").unwrap_or_default()),
            mems: cpu_list(&r.text(dir, "cpuset.mems.effective").unwrap_or_default()),
            ..CpusetStats::default()
        },
        memory: memory(r, dir),
        pids: PidsStats {
            current: r.num(dir, "pids.current", 0),
            limit: r.num(dir, "pids.max", 0),
        },
        blkio: io(&r.text(dir, "io.stat").unwrap_or_default()),
        hugetlb: hugetlb(r, dir),
        ..Stats::default()
    }
}

/// cpu.stat counts microseconds; runc reports nanoseconds.
fn cpu(r: &Reader, dir: Option<&Path>) -> CpuStats {
    let st = kv(&r.text(dir, "cpu.stat").unwrap_or_default());
    let g = |k: &str| st.get(k).copied().unwrap_or(0);
    let mut s = CpuStats::default();
    s.usage.total = g("usage_usec") * 1000;
    s.usage.user = g("user_usec") * 1000;
    s.usage.kernel = g("system_usec") * 1000;
    s.throttling = Throttling {
        periods: g("nr_periods"),
        throttled_periods: g("nr_throttled"),
        throttled_time: g("throttled_usec") * 1000,
    };
    s
}

fn memory(r: &Reader, dir: Option<&Path>) -> MemoryStats {
    let raw = kv(&r.text(dir, "memory.stat").unwrap_or_default());
    let events = kv(&r.text(dir, "memory.events").unwrap_or_default());
    let usage = MemoryEntry {
        limit: r.num(dir, "memory.max", u64::MAX),
        usage: r.num(dir, "memory.current", 0),
        max: r.num(dir, "memory.peak", 0),
        failcnt: events.get("max").copied().unwrap_or(0),
    };
    // runc reports swap as memory+swap on v2 so numbers mean the same as v1's memsw.
    let swap_limit = r.num(dir, "memory.swap.max", u64::MAX);
    let swap = MemoryEntry {
        limit: if swap_limit == u64::MAX {
            swap_limit
        } else {
            swap_limit.saturating_add(usage.limit)
        },
        usage: r.num(dir, "memory.swap.current", 0) + usage.usage,
        max: 0,
        failcnt: 0,
    };
    MemoryStats {
        cache: raw.get("file").copied().unwrap_or(0),
        usage,
        swap,
        raw,
        ..MemoryStats::default()
    }
}

/// io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N …" per device.
pub(super) fn io(text: &str) -> BlkioStats {
    let mut s = BlkioStats::default();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else {
            continue;
        };
        for kvp in f {
            let Some((k, v)) = kvp.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse::<u64>() else {
                continue;
            };
            let (list, op) = match k {
                "rbytes" => (&mut s.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut s.io_service_bytes_recursive, "Write"),
                "rios" => (&mut s.io_serviced_recursive, "Read"),
                "wios" => (&mut s.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.into(),
                value,
            });
        }
    }
    s
}

fn hugetlb(r: &Reader, dir: Option<&Path>) -> BTreeMap<String, HugetlbStats> {
    let mut out = BTreeMap::new();
    for f in r.files(dir) {
        let Some(size) = f
            .strip_prefix("hugetlb.")
            .and_then(|s| s.strip_suffix(".current"))
        else {
            continue;
        };
        if size.contains('.') {
            continue; // hugetlb.2MB.rsvd.current
        }
        let events = kv(&r
            .text(dir, &format!("hugetlb.{size}.events"))
            .unwrap_or_default());
        out.insert(
            size.to_string(),
            HugetlbStats {
                usage: r.num(dir, &f, 0),
                max: 0,
                failcnt: events.get("max").copied().unwrap_or(0),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_io_stat() {
        let s = io("8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
        let bytes: Vec<_> = s
            .io_service_bytes_recursive
            .iter()
            .map(|e| (e.op.as_str(), e.value))
            .collect();
        assert_eq!(bytes, [("Read", 4096), ("Write", 0)]);
        assert_eq!(s.io_serviced_recursive.len(), 2);
    }
}
