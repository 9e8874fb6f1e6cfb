//! `linux.cgroupsPath` under `--systemd-cgroup`: `slice:prefix:name` (runc 1.1 specconv
//! `CreateCgroupConfig`), the unit it names (`getUnitName`) and the cgroup directory systemd
//! gives that unit (`ExpandSlice`, `getSliceFull`, `initPath`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cgroups::error::CgroupError;

/// runc's default scope prefix when `linux.cgroupsPath` is empty (containerd, CRI-O and
/// podman always pass their own).
pub const DEFAULT_PREFIX: &str = "runc";
/// runc's default slice for the system instance of systemd.
pub const SYSTEM_SLICE: &str = "system.slice";
/// The default slice under the user's instance (rootless), as runc since 1.2 defaults it.
pub const USER_SLICE: &str = "user.slice";

/// What state.json keeps of the unit, so `delete` and `update` reach it again. The field names
/// are those of runc's state.json `config.cgroups` (`parent`, `scope_prefix`, `name`), plus the
/// unit name itself and which systemd instance owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRecord {
    /// The unit systemd knows: `<scope_prefix>-<name>.scope`, or `name` when it is a slice.
    pub unit: String,
    /// The slice the unit lives in (runc: `parent`).
    pub parent: String,
    pub scope_prefix: String,
    pub name: String,
    /// Started through the user's systemd instance (rootless) rather than the system one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub user: bool,
}

impl UnitRecord {
    /// Parse `linux.cgroupsPath` (absent or empty: runc's defaults, named after the container).
    pub fn parse(id: &str, cgroups_path: Option<&str>, user: bool) -> Result<Self, CgroupError> {
        let default_slice = if user { USER_SLICE } else { SYSTEM_SLICE };
        let (parent, prefix, name) = match cgroups_path.filter(|p| !p.is_empty()) {
            None => (default_slice, DEFAULT_PREFIX, id),
            Some(p) => {
                let parts: Vec<&str> = p.split(':').collect();
                let [slice, prefix, name] = parts[..] else {
                    return Err(CgroupError::SystemdPathFormat(p.to_string()));
                };
                // runc: an empty slice part means the default slice.
                let slice = if slice.is_empty() {
                    default_slice
                } else {
                    slice
                };
                (slice, prefix, name)
            }
        };
        if name.is_empty() {
            return Err(CgroupError::SystemdPathFormat(
                cgroups_path.unwrap_or_default().to_string(),
            ));
        }
        // Refused before anything is made (runc refuses it when it computes the path).
        expand_slice(parent)?;
        let unit = if name.ends_with(".slice") {
            // runc: a name that is a slice makes that slice instead of a scope.
            expand_slice(name)?;
            name.to_string()
        } else {
            format!("{prefix}-{name}.scope")
        };
        if unit.contains('/') {
            return Err(CgroupError::InvalidPath {
                path: cgroups_path.unwrap_or(id).to_string(),
                reason: format!("unit name {unit:?} contains a \"/\""),
            });
        }
        Ok(UnitRecord {
            unit,
            parent: parent.to_string(),
            scope_prefix: prefix.to_string(),
            name: name.to_string(),
            user,
        })
    }

    /// Whether the unit is a slice (`Wants=` its parent, no processes of its own, no
    /// delegation) rather than a scope.
    pub fn is_slice(&self) -> bool {
        self.unit.ends_with(".slice")
    }

    /// The unit's cgroup directory under the cgroup2 mount point `mount`. `manager_cgroup` is
    /// the cgroup of the systemd instance that owns the unit ("/" for the system instance,
    /// `/user.slice/user-UID.slice/user@UID.service` for a user's).
    pub fn cgroup_dir(&self, mount: &Path, manager_cgroup: &str) -> Result<PathBuf, CgroupError> {
        let slice = expand_slice(&self.parent)?;
        let rel = format!("{manager_cgroup}/{slice}/{}", self.unit);
        let mut dir = mount.to_path_buf();
        dir.extend(rel.split('/').filter(|c| !c.is_empty()));
        Ok(dir)
    }

    /// The cgroup of the unit relative to the cgroup2 root, as systemd reports it in the
    /// unit's `ControlGroup` property.
    pub fn control_group(&self, manager_cgroup: &str) -> Result<String, CgroupError> {
        let dir = self.cgroup_dir(Path::new("/"), manager_cgroup)?;
        Ok(dir.to_string_lossy().into_owned())
    }
}

/// runc's `ExpandSlice`: systemd spells the slice hierarchy with `-`, so `a-b-c.slice` lives
/// at `/a.slice/a-b.slice/a-b-c.slice`; `-.slice` is the root slice.
pub fn expand_slice(slice: &str) -> Result<String, CgroupError> {
    let invalid = || CgroupError::InvalidSlice(slice.to_string());
    let Some(base) = slice.strip_suffix(".slice") else {
        return Err(invalid());
    };
    if slice.contains('/') {
        return Err(invalid());
    }
    if base == "-" {
        return Ok("/".to_string());
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for component in base.split('-') {
        // "a--b.slice", "-a.slice", "a-.slice" and ".slice" are all refused.
        if component.is_empty() {
            return Err(invalid());
        }
        path.push_str(&format!("/{prefix}{component}.slice"));
        prefix.push_str(&format!("{component}-"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    // runc's TestExpandSlice cases (libcontainer/cgroups/systemd/systemd_test.go).
    #[rstest]
    #[case::root("-.slice", "/")]
    #[case::plain("system.slice", "/system.slice")]
    #[case::nested("test-a.slice", "/test.slice/test-a.slice")]
    #[case::deep("test-a-b.slice", "/test.slice/test-a.slice/test-a-b.slice")]
    #[case::kubepods(
        "kubepods-burstable-pod123.slice",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice"
    )]
    fn expands_slices_like_runc(#[case] slice: &str, #[case] want: &str) {
        assert_eq!(expand_slice(slice).expect("valid"), want);
    }

    #[rstest]
    #[case::no_suffix("system")]
    #[case::only_suffix(".slice")]
    #[case::leading_dash("-test.slice")]
    #[case::trailing_dash("test-.slice")]
    #[case::double_dash("test--a.slice")]
    #[case::slash("a/b.slice")]
    #[case::scope("a.scope")]
    fn refuses_invalid_slices(#[case] slice: &str) {
        let err = expand_slice(slice).expect_err("invalid");
        assert_eq!(err.to_string(), format!("invalid slice name: {slice}"));
    }

    #[rstest]
    #[case::default(None, false, "system.slice", "runc-ctr.scope")]
    #[case::empty(Some(""), false, "system.slice", "runc-ctr.scope")]
    #[case::rootless_default(None, true, "user.slice", "runc-ctr.scope")]
    #[case::docker(
        Some("system.slice:docker:1234"),
        false,
        "system.slice",
        "docker-1234.scope"
    )]
    #[case::empty_slice_part(Some(":libpod:abc"), false, "system.slice", "libpod-abc.scope")]
    #[case::nested_slice(
        Some("machine-test.slice:ferrun:x"),
        false,
        "machine-test.slice",
        "ferrun-x.scope"
    )]
    #[case::slice_unit(
        Some("system.slice:runc:pod1.slice"),
        false,
        "system.slice",
        "pod1.slice"
    )]
    fn parses_slice_prefix_name(
        #[case] path: Option<&str>,
        #[case] user: bool,
        #[case] parent: &str,
        #[case] unit: &str,
    ) {
        let u = UnitRecord::parse("ctr", path, user).expect("valid");
        assert_eq!((u.parent.as_str(), u.unit.as_str()), (parent, unit));
        assert_eq!(u.user, user);
    }

    #[rstest]
    #[case::cgroupfs_path("/k8s.io/abc")]
    #[case::two_parts("system.slice:abc")]
    #[case::four_parts("a.slice:b:c:d")]
    #[case::no_name("system.slice:runc:")]
    fn refuses_other_shapes_with_runcs_words(#[case] path: &str) {
        let err = UnitRecord::parse("ctr", Some(path), false).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            format!(
                "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd \
                 cgroups, got {path:?} instead"
            )
        );
    }

    #[rstest]
    #[case::bad_parent("system:runc:x", "invalid slice name: system")]
    #[case::bad_slice_unit("system.slice:runc:a--b.slice", "invalid slice name: a--b.slice")]
    fn refuses_invalid_slice_parts(#[case] path: &str, #[case] want: &str) {
        let err = UnitRecord::parse("ctr", Some(path), false).expect_err("invalid");
        assert_eq!(err.to_string(), want);
    }

    #[rstest]
    #[case::system(
        "test-a.slice:ferrun:x",
        "/",
        "/sys/fs/cgroup/test.slice/test-a.slice/ferrun-x.scope"
    )]
    #[case::user(
        ":ferrun:x",
        "/user.slice/user-1000.slice/user@1000.service",
        "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/system.slice/ferrun-x.scope"
    )]
    #[case::root_slice("-.slice:ferrun:x", "/", "/sys/fs/cgroup/ferrun-x.scope")]
    fn finds_the_units_cgroup(#[case] path: &str, #[case] manager: &str, #[case] want: &str) {
        let u = UnitRecord::parse("ctr", Some(path), false).expect("valid");
        let dir = u
            .cgroup_dir(Path::new("/sys/fs/cgroup"), manager)
            .expect("dir");
        assert_eq!(dir, Path::new(want));
        assert_eq!(
            u.control_group(manager).expect("cg"),
            want.strip_prefix("/sys/fs/cgroup").expect("under mount")
        );
    }
}
