//! PLACEHOLDER until the cgroups branch lands (same contract, no resources).
use oci_spec::runtime::LinuxResources;
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("cgroup {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("systemd cgroup driver is not supported yet")]
    SystemdNotSupported,
}
pub struct CgroupSpec<'a> {
    pub id: &'a str,
    pub cgroups_path: Option<&'a str>,
    pub systemd: bool,
    pub rootless: bool,
}
pub trait CgroupManager {
    fn path(&self) -> &str;
    fn create(&self) -> Result<(), CgroupError>;
    fn add_task(&self, pid: i32) -> Result<(), CgroupError>;
    fn apply(&self, resources: &LinuxResources) -> Result<(), CgroupError>;
    fn freeze(&self, frozen: bool) -> Result<(), CgroupError>;
    fn pids(&self) -> Result<Vec<i32>, CgroupError>;
    fn destroy(&self) -> Result<(), CgroupError>;
}
struct Placeholder(String);
const CTRLS: [&str; 3] = ["pids", "memory", "cpu"];
impl CgroupManager for Placeholder {
    fn path(&self) -> &str {
        &self.0
    }
    fn create(&self) -> Result<(), CgroupError> {
        for c in CTRLS {
            let p = format!("/sys/fs/cgroup/{c}{}", self.0);
            std::fs::create_dir_all(&p).map_err(|source| CgroupError::Io { path: p, source })?;
        }
        Ok(())
    }
    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        for c in CTRLS {
            let p = format!("/sys/fs/cgroup/{c}{}/cgroup.procs", self.0);
            std::fs::write(&p, pid.to_string())
                .map_err(|source| CgroupError::Io { path: p, source })?;
        }
        Ok(())
    }
    fn apply(&self, _: &LinuxResources) -> Result<(), CgroupError> {
        Ok(())
    }
    fn freeze(&self, _: bool) -> Result<(), CgroupError> {
        Ok(())
    }
    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let p = format!("/sys/fs/cgroup/pids{}/cgroup.procs", self.0);
        let t =
            std::fs::read_to_string(&p).map_err(|source| CgroupError::Io { path: p, source })?;
        Ok(t.lines().filter_map(|l| l.parse().ok()).collect())
    }
    fn destroy(&self) -> Result<(), CgroupError> {
        for c in CTRLS {
            let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/{c}{}", self.0));
        }
        Ok(())
    }
}
pub fn manager(spec: &CgroupSpec) -> Result<Box<dyn CgroupManager>, CgroupError> {
    if spec.systemd {
        return Err(CgroupError::SystemdNotSupported);
    }
    let p = match spec.cgroups_path {
        Some(p) if p.starts_with('/') => p.to_string(),
        Some(p) => format!("/{p}"),
        None => format!("/ferrun/{}", spec.id),
    };
    Ok(Box::new(Placeholder(p)))
}
pub fn manager_from_path(path: &str) -> Result<Box<dyn CgroupManager>, CgroupError> {
    Ok(Box::new(Placeholder(path.to_string())))
}
