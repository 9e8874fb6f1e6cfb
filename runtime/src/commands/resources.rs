//! `update`: a running container's cgroup limits, changed.

use std::io::Read;

use oci_spec::runtime::LinuxResources;
use serde_json::{json, Map, Value};

use crate::cli::UpdateArgs;
use crate::container::{StateStore, Status};
use crate::error::Error;

fn cgroup_of(
    store: &StateStore,
    id: &str,
) -> Result<
    (
        crate::container::ContainerState,
        Box<dyn crate::cgroups::CgroupManager>,
    ),
    Error,
> {
    let state = store.peek(id)?;
    let path = state
        .cgroup_path
        .clone()
        .ok_or_else(|| Error::Usage(format!("container {id:?} has no cgroup")))?;
    let cg =
        crate::cgroups::reopen(&path, state.systemd.as_ref()).map_err(|source| Error::Cgroup {
            id: id.to_string(),
            source,
        })?;
    Ok((state, cg))
}

/// Bytes with an optional binary suffix (docker's RAMInBytes, which runc uses): 64m, 1G, -1.
pub fn parse_bytes(s: &str) -> Result<i64, Error> {
    let bad = || {
        Error::Usage(format!(
            "invalid size {s:?}: expected a number with optional k, m, g or t"
        ))
    };
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    if n < 0.0 {
        return if n == -1.0 { Ok(-1) } else { Err(bad()) };
    }
    Ok((n * mult as f64) as i64)
}

/// The flags as a linux.resources object (only what was given).
fn resources_from_flags(a: &UpdateArgs) -> Result<Value, Error> {
    let mut cpu = Map::new();
    let put = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    put(&mut cpu, "shares", a.cpu_share.map(Value::from));
    put(&mut cpu, "quota", a.cpu_quota.map(Value::from));
    put(&mut cpu, "period", a.cpu_period.map(Value::from));
    put(
        &mut cpu,
        "realtimeRuntime",
        a.cpu_rt_runtime.map(Value::from),
    );
    put(&mut cpu, "realtimePeriod", a.cpu_rt_period.map(Value::from));
    put(&mut cpu, "cpus", a.cpuset_cpus.clone().map(Value::from));
    put(&mut cpu, "mems", a.cpuset_mems.clone().map(Value::from));
    // Sizes accept runc's suffixes (`64m`, `1g`); a bad one fails the whole update.
    let bytes = |s: &Option<String>| -> Result<Option<Value>, Error> {
        Ok(s.as_deref().map(parse_bytes).transpose()?.map(Value::from))
    };
    let mut mem = Map::new();
    put(&mut mem, "limit", bytes(&a.memory)?);
    put(&mut mem, "reservation", bytes(&a.memory_reservation)?);
    put(&mut mem, "swap", bytes(&a.memory_swap)?);
    let mut res = Map::new();
    if !cpu.is_empty() {
        res.insert("cpu".into(), Value::Object(cpu));
    }
    if !mem.is_empty() {
        res.insert("memory".into(), Value::Object(mem));
    }
    if let Some(p) = a.pids_limit {
        res.insert("pids".into(), json!({ "limit": p }));
    }
    if let Some(w) = a.blkio_weight {
        res.insert("blockIO".into(), json!({ "weight": w }));
    }
    Ok(Value::Object(res))
}

pub fn update(store: &StateStore, a: &UpdateArgs) -> Result<(), Error> {
    let value = match &a.resources {
        Some(path) => {
            let mut text = String::new();
            let read = if path.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text).map(drop)
            } else {
                std::fs::read_to_string(path).map(|t| text = t)
            };
            read.map_err(|source| Error::Io {
                what: format!("read {}", path.display()),
                source,
            })?;
            serde_json::from_str(&text)
                .map_err(|e| Error::Usage(format!("--resources {}: {e}", path.display())))?
        }
        None => resources_from_flags(a)?,
    };
    let res: LinuxResources =
        serde_json::from_value(value).map_err(|e| Error::Usage(format!("resources: {e}")))?;
    let (state, cg) = cgroup_of(store, &a.id)?;
    // runc: "container not running" (a created or paused container can be updated).
    if store.status(&state) == Status::Stopped {
        return Err(Error::Usage(format!(
            "container {:?} is not running: it is stopped",
            a.id
        )));
    }
    cg.update(&res).map_err(|source| Error::Cgroup {
        id: a.id.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("1024", 1024)]
    #[case("64m", 64 << 20)]
    #[case("1G", 1 << 30)]
    #[case("2kb", 2048)]
    #[case("-1", -1)]
    fn sizes(#[case] s: &str, #[case] want: i64) {
        assert_eq!(parse_bytes(s).unwrap(), want);
    }

    #[test]
    fn bad_sizes() {
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("-5").is_err());
    }
}
