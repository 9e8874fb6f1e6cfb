//! `linux.resources` → an ordered list of cgroup file writes.
//!
//! Planning is pure: each resource renders the writes runc 1.1 would make (file names, value
//! formats, conversions, ordering) for the host's cgroup version, or an error naming the config
//! field it cannot honour. The manager then checks every write's controller is available and
//! performs them in order. Anything that depends on the cgroup's current state (v1 memory
//! ordering, which blkio weight file exists) is asked through [`Probe`].
//!
//! Devices are not here: they compile to a rule set (see `devices/`).

pub(crate) mod blkio;
pub(crate) mod cpu;
pub(crate) mod memory;
mod misc;

use oci_spec::runtime::LinuxResources;

use super::error::CgroupError;
use super::host::Mode;

/// One write to a cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Controller that owns the file ("cgroup" for core cgroup2 files).
    pub controller: &'static str,
    pub file: String,
    pub value: String,
    /// The config field this write comes from (for error messages).
    pub field: String,
    /// Read the file back and fail if the kernel stored something else (it silently clamps
    /// some values, e.g. cpu.shares to 2..262144; runc reports that as an error). Holds the
    /// name runc's message gives the value ("the maximum allowed cpu-shares is 262144").
    pub verify: Option<&'static str>,
    /// If the kernel answers EINVAL, try this write once more right after the next one
    /// (v1 cpu.cfs_period_us before cpu.cfs_quota_us, see `cpu.rs`).
    pub retry_after_next: bool,
}

impl Write {
    fn new(
        controller: &'static str,
        file: impl Into<String>,
        value: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        Write {
            controller,
            file: file.into(),
            value: value.into(),
            field: field.into(),
            verify: None,
            retry_after_next: false,
        }
    }

    fn verified(self, name: &'static str) -> Self {
        Write {
            verify: Some(name),
            ..self
        }
    }

    fn retried_after_next(self) -> Self {
        Write {
            retry_after_next: true,
            ..self
        }
    }
}

/// Read access to the container's current cgroup files (by controller).
pub trait Probe {
    fn read(&self, controller: &str, file: &str) -> Option<String>;
    fn exists(&self, controller: &str, file: &str) -> bool {
        self.read(controller, file).is_some()
    }
}

/// The cgroup version whose file formats apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl From<Mode> for Version {
    fn from(m: Mode) -> Self {
        match m {
            Mode::V1 | Mode::Hybrid => Version::V1,
            Mode::V2 => Version::V2,
        }
    }
}

/// Render every resource in `r`. Order follows runc's subsystem order and puts `unified` last
/// so its raw values override the typed ones (runc fs2 `setUnified` runs last too).
pub fn plan(mode: Mode, r: &LinuxResources, probe: &dyn Probe) -> Result<Vec<Write>, CgroupError> {
    let v = Version::from(mode);
    let mut out = Vec::new();
    if let Some(c) = r.cpu() {
        out.extend(cpu::cpuset(c));
        out.extend(cpu::cpu(v, c, probe)?);
    }
    if let Some(m) = r.memory() {
        out.extend(memory::memory(v, m, probe)?);
    }
    if let Some(p) = r.pids() {
        out.extend(misc::pids(p));
    }
    if let Some(b) = r.block_io() {
        out.extend(blkio::blkio(v, b, probe)?);
    }
    if let Some(h) = r.hugepage_limits() {
        out.extend(misc::hugetlb(v, h)?);
    }
    if let Some(n) = r.network() {
        out.extend(misc::network(v, n)?);
    }
    if let Some(rdma) = r.rdma() {
        out.extend(misc::rdma(rdma));
    }
    if let Some(u) = r.unified() {
        out.extend(misc::unified(mode, u)?);
    }
    Ok(out)
}

/// runc's `numToStr` for cgroup2: 0 means "unset" (no write), -1 means "max".
fn v2_num(v: i64) -> Option<String> {
    match v {
        0 => None,
        -1 => Some("max".into()),
        n => Some(n.to_string()),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::collections::HashMap;

    use super::*;

    /// A Probe over a map of "controller/file" → content.
    #[derive(Default)]
    pub struct MapProbe(pub HashMap<String, String>);

    impl MapProbe {
        pub fn with(entries: &[(&str, &str)]) -> Self {
            MapProbe(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        }
    }

    impl Probe for MapProbe {
        fn read(&self, controller: &str, file: &str) -> Option<String> {
            self.0.get(&format!("{controller}/{file}")).cloned()
        }
    }

    pub fn resources(json: &str) -> LinuxResources {
        serde_json::from_str(json).expect("valid LinuxResources json")
    }

    /// Render writes as "file=value" for compact table assertions.
    pub fn render(writes: &[Write]) -> Vec<String> {
        writes
            .iter()
            .map(|w| format!("{}={}", w.file, w.value))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn unified_comes_last_and_empty_resources_write_nothing() {
        let probe = MapProbe::default();
        assert!(plan(Mode::V2, &resources("{}"), &probe)
            .expect("plan")
            .is_empty());
        let w = plan(
            Mode::V2,
            &resources(r#"{"unified":{"pids.max":"7"},"pids":{"limit":5}}"#),
            &probe,
        )
        .expect("plan");
        assert_eq!(render(&w), ["pids.max=5", "pids.max=7"]);
    }
}
