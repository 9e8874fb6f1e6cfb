//! Stats from cgroup v1 files (runc libcontainer/cgroups/fs/*.go GetStats).

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    cpu_list, kv, BlkioEntry, BlkioStats, CpuStats, CpusetStats, HugetlbStats, MemoryEntry,
    MemoryStats, PidsStats, Reader, Stats, Throttling,
};
use crate::cgroups::layout::Layout;

/// cpuacct.stat counts USER_HZ ticks; the kernel ABI fixes USER_HZ at 100 on Linux.
const NS_PER_TICK: u64 = 1_000_000_000 / 100;

pub(super) fn stats(r: &Reader, layout: &Layout) -> Stats {
    Stats {
        cpu: cpu(r, layout.dir_for("cpuacct"), layout.dir_for("cpu")),
        cpuset: cpuset(r, layout.dir_for("cpuset")),
        memory: memory(r, layout.dir_for("memory")),
        pids: pids(r, layout.dir_for("pids")),
        blkio: blkio(r, layout.dir_for("blkio")),
        hugetlb: hugetlb(r, layout.dir_for("hugetlb")),
        ..Stats::default()
    }
}

fn numbers(text: &str) -> Vec<u64> {
    text.split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// cpuacct.usage_all: a "cpu user system" header, then one row per cpu.
fn usage_all(text: &str) -> (Vec<u64>, Vec<u64>) {
    let mut kernel = Vec::new();
    let mut user = Vec::new();
    for line in text.lines().skip(1) {
        let n = numbers(line);
        if n.len() == 3 {
            user.push(n[1]);
            kernel.push(n[2]);
        }
    }
    (kernel, user)
}

fn cpu(r: &Reader, acct: Option<&Path>, cpu: Option<&Path>) -> CpuStats {
    let mut s = CpuStats::default();
    s.usage.total = r.num(acct, "cpuacct.usage", 0);
    s.usage.percpu = r
        .text(acct, "cpuacct.usage_percpu")
        .map(|t| numbers(&t))
        .unwrap_or_default();
    if let Some(t) = r.text(acct, "cpuacct.usage_all") {
        (s.usage.percpu_kernel, s.usage.percpu_user) = usage_all(&t);
    }
    let ticks = kv(&r.text(acct, "cpuacct.stat").unwrap_or_default());
    s.usage.user = ticks.get("user").copied().unwrap_or(0) * NS_PER_TICK;
    s.usage.kernel = ticks.get("system").copied().unwrap_or(0) * NS_PER_TICK;
    let st = kv(&r.text(cpu, "cpu.stat").unwrap_or_default());
    s.throttling = Throttling {
        periods: st.get("nr_periods").copied().unwrap_or(0),
        throttled_periods: st.get("nr_throttled").copied().unwrap_or(0),
        throttled_time: st.get("throttled_time").copied().unwrap_or(0),
    };
    s
}

fn cpuset(r: &Reader, dir: Option<&Path>) -> CpusetStats {
    let n = |f: &str| r.num(dir, f, 0);
    CpusetStats {
        cpus: cpu_list(&r.text(dir, "cpuset.cpus").unwrap_or_default()),
        mems: cpu_list(&r.text(dir, "cpuset.mems").unwrap_or_default()),
        cpu_exclusive: n("cpuset.cpu_exclusive"),
        mem_hardwall: n("cpuset.mem_hardwall"),
        mem_exclusive: n("cpuset.mem_exclusive"),
        memory_migrate: n("cpuset.memory_migrate"),
        memory_spread_page: n("cpuset.memory_spread_page"),
        memory_spread_slab: n("cpuset.memory_spread_slab"),
        memory_pressure: n("cpuset.memory_pressure"),
        sched_load_balance: n("cpuset.sched_load_balance"),
        sched_relax_domain_level: r
            .text(dir, "cpuset.sched_relax_domain_level")
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0),
    }
}

fn memory_entry(r: &Reader, dir: Option<&Path>, prefix: &str) -> MemoryEntry {
    MemoryEntry {
        limit: r.num(dir, &format!("{prefix}.limit_in_bytes"), 0),
        usage: r.num(dir, &format!("{prefix}.usage_in_bytes"), 0),
        max: r.num(dir, &format!("{prefix}.max_usage_in_bytes"), 0),
        failcnt: r.num(dir, &format!("{prefix}.failcnt"), 0),
    }
}

fn memory(r: &Reader, dir: Option<&Path>) -> MemoryStats {
    let raw = kv(&r.text(dir, "memory.stat").unwrap_or_default());
    MemoryStats {
        cache: raw.get("cache").copied().unwrap_or(0),
        usage: memory_entry(r, dir, "memory"),
        swap: memory_entry(r, dir, "memory.memsw"),
        kernel: memory_entry(r, dir, "memory.kmem"),
        kernel_tcp: memory_entry(r, dir, "memory.kmem.tcp"),
        raw,
    }
}

fn pids(r: &Reader, dir: Option<&Path>) -> PidsStats {
    PidsStats {
        current: r.num(dir, "pids.current", 0),
        // "max" is reported as 0 (no limit), as runc does.
        limit: r.num(dir, "pids.max", 0),
    }
}

/// "MAJ:MIN Op VALUE" lines; the trailing "Total N" line has no device and is skipped.
pub(super) fn blkio_entries(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, op, value) = (f.next()?, f.next()?, f.next()?);
            let (major, minor) = dev.split_once(':')?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: op.to_string(),
                value: value.parse().ok()?,
            })
        })
        .collect()
}

fn blkio(r: &Reader, dir: Option<&Path>) -> BlkioStats {
    // Like runc: the CFQ/BFQ files when the scheduler provides them, else the throttle layer.
    let pick = |a: &str, b: &str| {
        r.text(dir, a)
            .filter(|t| !blkio_entries(t).is_empty())
            .or_else(|| r.text(dir, b))
            .map(|t| blkio_entries(&t))
            .unwrap_or_default()
    };
    BlkioStats {
        io_service_bytes_recursive: pick(
            "blkio.io_service_bytes_recursive",
            "blkio.throttle.io_service_bytes_recursive",
        ),
        io_serviced_recursive: pick(
            "blkio.io_serviced_recursive",
            "blkio.throttle.io_serviced_recursive",
        ),
    }
}

fn hugetlb(r: &Reader, dir: Option<&Path>) -> BTreeMap<String, HugetlbStats> {
    let mut out = BTreeMap::new();
    for f in r.files(dir) {
        let Some(size) = f
            .strip_prefix("hugetlb.")
            .and_then(|s| s.strip_suffix(".usage_in_bytes"))
        else {
            continue;
        };
        if size.contains('.') {
            continue; // hugetlb.2MB.rsvd.usage_in_bytes
        }
        let n = |k: &str| r.num(dir, &format!("hugetlb.{size}.{k}"), 0);
        out.insert(
            size.to_string(),
            HugetlbStats {
                usage: n("usage_in_bytes"),
                max: n("max_usage_in_bytes"),
                failcnt: n("failcnt"),
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_usage_all_rows() {
        let (kernel, user) = usage_all("cpu user system\n0 8000000 11972332\n1 0 8000000\n");
        assert_eq!(kernel, [11972332, 8000000]);
        assert_eq!(user, [8000000, 0]);
    }

    #[test]
    fn parses_blkio_lines_and_skips_total() {
        let e = blkio_entries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].major, e[0].minor, e[0].op.as_str(), e[0].value),
            (8, 0, "Read", 4096)
        );
    }
}
