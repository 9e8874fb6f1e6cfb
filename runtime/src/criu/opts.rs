//! The options both verbs share, parsed and checked the way runc's checkpoint.go and
//! restore.go do (same words), and the `criu_opts` fields they fill in alike.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

use super::rpc::{Criu_cg_mode, Criu_opts};
use super::CriuError;

/// runc's default CRIU configuration file, used when `org.criu.config` is absent.
const DEFAULT_CONFIG: &str = "/etc/criu/runc.conf";
/// The annotation naming a container-specific CRIU configuration file.
pub const CONFIG_ANNOTATION: &str = "org.criu.config";

/// The flags of both commands, as values.
#[derive(Clone, Debug, Default)]
pub struct Common {
    pub criu: PathBuf,
    pub image_path: PathBuf,
    pub work_path: Option<PathBuf>,
    pub tcp_established: bool,
    pub ext_unix_sk: bool,
    pub shell_job: bool,
    pub file_locks: bool,
    pub lazy_pages: bool,
    pub auto_dedup: bool,
    pub manage_cgroups_mode: Option<Criu_cg_mode>,
    /// CLONE_NEW* bits of `--empty-ns`, plus CLONE_NEWNET always (runc: it does not manage
    /// network devices).
    pub empty_ns: u32,
}

/// `--manage-cgroups-mode`: runc's values and error.
pub fn cgroup_mode(value: Option<&str>) -> Result<Option<Criu_cg_mode>, CriuError> {
    Ok(match value {
        None | Some("") => None,
        Some("soft") => Some(Criu_cg_mode::SOFT),
        Some("full") => Some(Criu_cg_mode::FULL),
        Some("strict") => Some(Criu_cg_mode::STRICT),
        Some("ignore") => Some(Criu_cg_mode::IGNORE),
        Some(_) => return Err(CriuError::Other("Invalid manage-cgroups-mode value".into())),
    })
}

/// `--empty-ns`: only "network" (runc's error for anything else).
pub fn empty_ns(names: &[String]) -> Result<u32, CriuError> {
    let mut mask = libc::CLONE_NEWNET as u32;
    for name in names {
        match name.as_str() {
            "network" => mask |= libc::CLONE_NEWNET as u32,
            other => {
                return Err(CriuError::Other(format!(
                    "namespace {other:?} is not supported"
                )))
            }
        }
    }
    Ok(mask)
}

/// The image directory: `--image-path`, else ./checkpoint (runc's default). The verbs make
/// it (runc creates it for restore too).
pub fn image_path(flag: Option<&Path>) -> Result<PathBuf, CriuError> {
    Ok(match flag {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::env::current_dir()
            .map_err(|e| CriuError::Other(format!("current directory: {e}")))?
            .join("checkpoint"),
    })
}

pub fn mkdir(path: &Path) -> Result<(), CriuError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .create(path)
        .map_err(|e| CriuError::Other(format!("mkdir {}: {e}", path.display())))
}

pub fn open_dir(path: &Path) -> Result<OwnedFd, CriuError> {
    std::fs::File::open(path)
        .map(OwnedFd::from)
        .map_err(|e| CriuError::Other(format!("open {}: {e}", path.display())))
}

/// The directories CRIU works in, kept open while it runs, and where its log goes.
pub struct Dirs {
    pub images: OwnedFd,
    pub work: Option<OwnedFd>,
    pub log_dir: PathBuf,
}

impl Dirs {
    pub fn open(common: &Common) -> Result<Dirs, CriuError> {
        let images = open_dir(&common.image_path)?;
        let (work, log_dir) = match &common.work_path {
            Some(w) => {
                mkdir(w)?;
                (Some(open_dir(w)?), w.clone())
            }
            None => (None, common.image_path.clone()),
        };
        Ok(Dirs {
            images,
            work,
            log_dir,
        })
    }
}

/// The fields runc sets for both dump and restore.
pub fn base(common: &Common, dirs: &Dirs, log_file: &str, spec: &Spec) -> Criu_opts {
    let mut o = Criu_opts::new();
    o.set_images_dir_fd(dirs.images.as_raw_fd());
    if let Some(w) = &dirs.work {
        o.set_work_dir_fd(w.as_raw_fd());
    }
    o.set_log_level(4);
    o.set_log_file(log_file.to_string());
    o.set_manage_cgroups(true);
    if let Some(mode) = common.manage_cgroups_mode {
        o.set_manage_cgroups_mode(mode);
    }
    o.set_notify_scripts(true);
    o.set_shell_job(common.shell_job);
    o.set_tcp_established(common.tcp_established);
    o.set_ext_unix_sk(common.ext_unix_sk);
    o.set_file_locks(common.file_locks);
    o.set_empty_ns(common.empty_ns);
    o.set_orphan_pts_master(true);
    o.set_auto_dedup(common.auto_dedup);
    o.set_lazy_pages(common.lazy_pages);
    if let Some(file) = config_file(spec) {
        o.set_config_file(file);
    }
    o
}

/// runc's handleCriuConfigurationFile: the annotation's file when set and non-empty, none
/// when set but empty, else the runc default. CRIU ignores a file that does not exist.
fn config_file(spec: &Spec) -> Option<String> {
    match spec
        .annotations()
        .as_ref()
        .and_then(|a| a.get(CONFIG_ANNOTATION))
    {
        Some(f) if f.is_empty() => None,
        Some(f) => Some(f.clone()),
        None => Some(DEFAULT_CONFIG.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_modes_are_runcs() {
        assert_eq!(cgroup_mode(Some("full")).unwrap(), Some(Criu_cg_mode::FULL));
        assert_eq!(cgroup_mode(None).unwrap(), None);
        let e = cgroup_mode(Some("loose")).unwrap_err();
        assert_eq!(e.to_string(), "Invalid manage-cgroups-mode value");
    }

    #[test]
    fn empty_ns_takes_only_network_and_always_has_it() {
        let net = libc::CLONE_NEWNET as u32;
        assert_eq!(empty_ns(&[]).unwrap(), net);
        assert_eq!(empty_ns(&["network".into()]).unwrap(), net);
        let e = empty_ns(&["pid".into()]).unwrap_err();
        assert_eq!(e.to_string(), "namespace \"pid\" is not supported");
    }

    #[test]
    fn the_config_file_follows_the_annotation() {
        let spec = |a: &str| -> Spec {
            serde_json::from_str(&format!(r#"{{"ociVersion":"1.0.2","annotations":{a}}}"#)).unwrap()
        };
        assert_eq!(config_file(&spec("{}")).as_deref(), Some(DEFAULT_CONFIG));
        let custom = spec(r#"{"org.criu.config":"/etc/c.conf"}"#);
        assert_eq!(config_file(&custom).as_deref(), Some("/etc/c.conf"));
        assert_eq!(config_file(&spec(r#"{"org.criu.config":""}"#)), None);
    }
}
