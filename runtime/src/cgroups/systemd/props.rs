//! Unit properties: what StartTransientUnit and SetUnitProperties get. Pure, so every
//! translation is table-tested; the D-Bus side (dbus.rs) only encodes [`Value`]s.
//!
//! The resources follow runc 1.1's `genV2ResourcesProperties` and `unifiedResToSystemdProps`
//! (libcontainer/cgroups/systemd/v2.go) with the conversions of the cgroupfs planner (shares →
//! weight, swap, blkio weight → io weight), so systemd's view of a limit and the file ferrun
//! writes afterwards agree. Everything is still written as files too (runc's fs2 `Set` after
//! `setUnitProperties`): systemd does not know every knob, and rounds some it does know.

use std::collections::HashMap;

use oci_spec::runtime::LinuxResources;

use super::unit::UnitRecord;
use crate::cgroups::devices::{access_string, effective_rules, DevKind, Policy};
use crate::cgroups::error::CgroupError;
use crate::cgroups::resources::blkio::blkio_weight_to_io_weight;
use crate::cgroups::resources::cpu::shares_to_weight;
use crate::cgroups::resources::memory::swap_v2;

/// systemd's `USEC_INFINITY`/`CGROUP_LIMIT_MAX`: "no limit" for every u64 property here.
pub const INFINITY: u64 = u64::MAX;
/// The kernel's default CFS period (runc `defCPUQuotaPeriod`).
const DEFAULT_PERIOD: u64 = 100_000;

/// A property value in the D-Bus types systemd expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `b`
    Bool(bool),
    /// `t`
    U64(u64),
    /// `s`
    Str(String),
    /// `au` (PIDs)
    U32s(Vec<u32>),
    /// `ay` (AllowedCPUs, AllowedMemoryNodes: a little-endian bitmask)
    Bytes(Vec<u8>),
    /// `a(ss)` (DeviceAllow: path or group, permissions)
    Pairs(Vec<(String, String)>),
    /// `as` (Wants)
    Strs(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub value: Value,
}

fn prop(name: &'static str, value: Value) -> Property {
    Property { name, value }
}

/// What the translation depends on besides the resources.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// systemd's major version (Manager.Version), for properties newer than some hosts.
    pub version: u32,
    /// Device properties are sent (create). `update` leaves the device policy alone, as the
    /// cgroupfs driver's update does.
    pub devices: bool,
    /// The unit belongs to a user's systemd instance, which cannot program device access.
    pub user: bool,
}

/// The unit itself (runc v2.go `Apply`): description, where it lives, the init, delegation,
/// runc's accounting flags and no default dependencies (a container must not be ordered after
/// or stopped with basic.target and friends).
pub fn unit_properties(u: &UnitRecord, pid: i32) -> Vec<Property> {
    let mut out = vec![prop(
        "Description",
        Value::Str(format!("libcontainer container {}", u.name)),
    )];
    if u.is_slice() {
        // A slice's parent is given by Wants= (runc); a slice holds no processes of its own
        // and takes no Delegate=.
        out.push(prop("Wants", Value::Strs(vec![u.parent.clone()])));
    } else {
        out.push(prop("Slice", Value::Str(u.parent.clone())));
        out.push(prop("Delegate", Value::Bool(true)));
    }
    if pid > 0 {
        out.push(prop("PIDs", Value::U32s(vec![pid.unsigned_abs()])));
    }
    for flag in [
        "MemoryAccounting",
        "CPUAccounting",
        "IOAccounting",
        "TasksAccounting",
    ] {
        out.push(prop(flag, Value::Bool(true)));
    }
    out.push(prop("DefaultDependencies", Value::Bool(false)));
    out
}

/// The resources systemd owns, as properties.
pub fn resource_properties(r: &LinuxResources, ctx: Context) -> Result<Vec<Property>, CgroupError> {
    let mut out = Vec::new();
    if ctx.devices && !ctx.user {
        out.extend(device_properties(r, ctx.version)?);
    }
    if let Some(m) = r.memory() {
        let limit = m.limit().unwrap_or(0);
        if limit != 0 {
            out.push(prop("MemoryMax", Value::U64(limit_u64(limit))));
        }
        if let Some(low) = m.reservation().filter(|v| *v != 0) {
            out.push(prop("MemoryLow", Value::U64(limit_u64(low))));
        }
        let swap = swap_v2(m.swap().unwrap_or(0), limit)
            .map_err(|e| CgroupError::unsupported("linux.resources.memory.swap", e))?;
        if swap != 0 {
            out.push(prop("MemorySwapMax", Value::U64(limit_u64(swap))));
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            out.push(prop("CPUWeight", Value::U64(shares_to_weight(s))));
        }
        cpu_quota(
            &mut out,
            c.quota().unwrap_or(0),
            c.period().unwrap_or(0),
            ctx.version,
        );
        cpuset(
            &mut out,
            c.cpus().as_deref(),
            c.mems().as_deref(),
            ctx.version,
        )?;
    }
    if let Some(p) = r.pids() {
        if p.limit() > 0 || p.limit() == -1 {
            out.push(prop("TasksMax", Value::U64(limit_u64(p.limit()))));
        }
    }
    if let Some(w) = r.block_io().as_ref().and_then(|b| b.weight()) {
        if w != 0 {
            out.push(prop("IOWeight", Value::U64(blkio_weight_to_io_weight(w))));
        }
    }
    if let Some(u) = r.unified() {
        out.extend(unified(u, ctx.version)?);
    }
    Ok(out)
}

/// A limit where -1 (or any negative) means none.
fn limit_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(INFINITY)
}

/// runc `addCpuQuota`: systemd keeps the quota per second of CPU time, in whole percents, so
/// a fractional percent is rounded up to the next 10 ms (a child can then still get the
/// cpu.max it asks for). CPUQuotaPeriodUSec exists since systemd 242. One difference: a period
/// alone (`update --cpu-period`) leaves CPUQuotaPerSecUSec alone, where runc would lift the
/// unit's quota to infinity while its files keep the old quota.
fn cpu_quota(out: &mut Vec<Property>, quota: i64, period: u64, version: u32) {
    if period != 0 && version >= 242 {
        out.push(prop("CPUQuotaPeriodUSec", Value::U64(period)));
    }
    if quota == 0 {
        return;
    }
    let per_sec = match u64::try_from(quota) {
        Ok(q) => {
            let period = if period == 0 { DEFAULT_PERIOD } else { period };
            let us = q.saturating_mul(1_000_000) / period;
            us.div_ceil(10_000) * 10_000
        }
        Err(_) => INFINITY,
    };
    out.push(prop("CPUQuotaPerSecUSec", Value::U64(per_sec)));
}

/// AllowedCPUs/AllowedMemoryNodes exist since systemd 244 (older ones get the files only).
fn cpuset(
    out: &mut Vec<Property>,
    cpus: Option<&str>,
    mems: Option<&str>,
    version: u32,
) -> Result<(), CgroupError> {
    if version < 244 {
        return Ok(());
    }
    for (list, name, field) in [
        (cpus, "AllowedCPUs", "linux.resources.cpu.cpus"),
        (mems, "AllowedMemoryNodes", "linux.resources.cpu.mems"),
    ] {
        if let Some(list) = list.filter(|l| !l.trim().is_empty()) {
            let bits = range_to_bits(list).map_err(|e| CgroupError::unsupported(field, e))?;
            out.push(prop(name, Value::Bytes(bits)));
        }
    }
    Ok(())
}

/// runc `RangeToBits`: "0-3,8" → a bitmask, least significant byte first (CPU 0 is bit 0 of
/// byte 0), as systemd's `ay` properties take it.
pub fn range_to_bits(list: &str) -> Result<Vec<u8>, String> {
    let mut bits: Vec<u8> = Vec::new();
    for part in list.trim().split(',') {
        let part = part.trim();
        let num = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("{list:?}: {s:?} is not a number"))
        };
        let (start, end) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if start > end {
            return Err(format!("{list:?}: invalid range {part:?}"));
        }
        // Bounded like the kernel's NR_CPUS/MAX_NUMNODES range, so a typo cannot allocate.
        if end >= 1 << 16 {
            return Err(format!("{list:?}: {end} is out of range"));
        }
        if bits.len() <= end / 8 {
            bits.resize(end / 8 + 1, 0);
        }
        for i in start..=end {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    Ok(bits)
}

/// The device policy (runc's systemd `systemdProperties`): a deny-all list becomes
/// `DevicePolicy=strict` plus the allowed devices (`DeviceAllow=` emptied first, then filled);
/// allow-all becomes `DevicePolicy=auto` with no list. Where systemd cannot say the policy
/// (a deny list with exceptions, `*:N` rules, `N:*` before systemd 240) runc leaves a
/// deny-all list in place and lets its eBPF program add the rest, which cannot work on
/// cgroup v2 (every attached program must allow an access); here systemd is told to allow
/// everything instead, and ferrun's own eBPF program (installed by `apply` on the same
/// cgroup) enforces the exact policy alone.
fn device_properties(r: &LinuxResources, version: u32) -> Result<Vec<Property>, CgroupError> {
    let policy = Policy::fold(&effective_rules(r.devices().as_deref())?);
    let allow_all = vec![
        prop("DevicePolicy", Value::Str("auto".into())),
        prop("DeviceAllow", Value::Pairs(Vec::new())),
    ];
    if policy.default_allow {
        return Ok(allow_all);
    }
    let mut allowed = Vec::new();
    for rule in &policy.exceptions {
        let group = match rule.kind {
            DevKind::Char => "char",
            DevKind::Block => "block",
            DevKind::All => return Ok(allow_all),
        };
        let path = match (rule.major, rule.minor) {
            (None, None) => format!("{group}-*"),
            (Some(major), None) if version >= 240 => format!("{group}-{major}"),
            (Some(major), Some(minor)) => format!("/dev/{group}/{major}:{minor}"),
            _ => return Ok(allow_all),
        };
        allowed.push((path, access_string(rule.access)));
    }
    Ok(vec![
        prop("DevicePolicy", Value::Str("strict".into())),
        prop("DeviceAllow", Value::Pairs(Vec::new())),
        prop("DeviceAllow", Value::Pairs(allowed)),
    ])
}

/// runc `unifiedResToSystemdProps`: the `linux.resources.unified` keys systemd has a property
/// for; the others are files only. Keys are sorted so the properties come in a stable order.
fn unified(u: &HashMap<String, String>, version: u32) -> Result<Vec<Property>, CgroupError> {
    let mut out = Vec::new();
    let mut keys: Vec<&String> = u.keys().collect();
    keys.sort();
    for key in keys {
        let v = u[key].trim();
        let field = format!("linux.resources.unified.{key:?}");
        let bad = |why: &str| CgroupError::unsupported(field.clone(), format!("{v:?}: {why}"));
        let number = |s: &str| s.parse::<u64>().map_err(|_| bad("not a number"));
        let limit = |s: &str| if s == "max" { Ok(INFINITY) } else { number(s) };
        match key.as_str() {
            "cpu.max" => {
                let mut it = v.split_whitespace();
                let quota = match it.next() {
                    Some("max") => -1,
                    Some(q) => i64::try_from(number(q)?).map_err(|_| bad("out of range"))?,
                    None => return Err(bad("empty")),
                };
                let period = it.next().map(number).transpose()?.unwrap_or(DEFAULT_PERIOD);
                if it.next().is_some() {
                    return Err(bad("want \"QUOTA [PERIOD]\""));
                }
                cpu_quota(&mut out, quota, period, version);
            }
            "cpu.weight" => out.push(prop("CPUWeight", Value::U64(number(v)?))),
            "cpuset.cpus" => cpuset(&mut out, Some(v), None, version)?,
            "cpuset.mems" => cpuset(&mut out, None, Some(v), version)?,
            "memory.high" => out.push(prop("MemoryHigh", Value::U64(limit(v)?))),
            "memory.low" => out.push(prop("MemoryLow", Value::U64(limit(v)?))),
            "memory.min" => out.push(prop("MemoryMin", Value::U64(limit(v)?))),
            "memory.max" => out.push(prop("MemoryMax", Value::U64(limit(v)?))),
            "memory.swap.max" => out.push(prop("MemorySwapMax", Value::U64(limit(v)?))),
            "pids.max" => out.push(prop("TasksMax", Value::U64(limit(v)?))),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
