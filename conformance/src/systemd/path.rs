//! `linux.cgroupsPath` in the systemd driver's `slice:prefix:name` form, read the way runc 1.1
//! reads it (libcontainer/specconv and cgroups/systemd): exactly three `:`-separated parts; an
//! empty slice is `system.slice` (rootful); the unit is `<prefix>-<name>.scope`, or `name`
//! itself when it ends in `.slice`; a slice `a-b.slice` lives under `a.slice`
//! (`/a.slice/a-b.slice`), and `-.slice` is the root.

/// A parsed systemd cgroupsPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemdPath {
    /// The parent slice unit, `system.slice` when the path left it empty.
    pub slice: String,
    /// The unit the container's processes go into: a scope, or a slice named by `name`.
    pub unit: String,
}

impl SystemdPath {
    /// `None` when the path is not in the systemd form: the runtime is expected to refuse it.
    pub fn parse(cgroups_path: &str) -> Option<SystemdPath> {
        let parts: Vec<&str> = cgroups_path.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return None;
        };
        if name.is_empty() {
            return None;
        }
        let slice = if slice.is_empty() {
            "system.slice"
        } else {
            slice
        };
        expand_slice(slice)?;
        let unit = if name.ends_with(".slice") {
            name.to_string()
        } else {
            format!("{prefix}-{name}.scope")
        };
        Some(SystemdPath {
            slice: slice.to_string(),
            unit,
        })
    }

    /// The container's cgroup relative to the cgroup v2 mount: `/<slice path>/<unit>` (for a
    /// `name.slice` unit, that slice's own expanded path).
    pub fn cgroup_rel(&self) -> String {
        let parent = expand_slice(&self.slice).unwrap_or_default();
        if self.unit.ends_with(".slice") {
            return expand_slice(&self.unit).unwrap_or(parent);
        }
        format!("{}/{}", parent.trim_end_matches('/'), self.unit)
    }
}

/// `a-b.slice` -> `/a.slice/a-b.slice`; `-.slice` -> `/`. `None` for a name systemd refuses:
/// no `.slice` suffix, a `/`, an empty component (`a--b.slice`, `-a.slice`).
pub fn expand_slice(slice: &str) -> Option<String> {
    let stem = slice.strip_suffix(".slice")?;
    if stem.is_empty() || slice.contains('/') {
        return None;
    }
    if stem == "-" {
        return Some("/".to_string());
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for component in stem.split('-') {
        if component.is_empty() {
            return None;
        }
        path.push_str(&format!("/{prefix}{component}.slice"));
        prefix.push_str(component);
        prefix.push('-');
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        "system.slice:oci-conform:c1",
        "system.slice",
        "oci-conform-c1.scope",
        "/system.slice/oci-conform-c1.scope"
    )]
    #[case(
        ":runc:c1",
        "system.slice",
        "runc-c1.scope",
        "/system.slice/runc-c1.scope"
    )]
    #[case(
        "a-b.slice:p:n",
        "a-b.slice",
        "p-n.scope",
        "/a.slice/a-b.slice/p-n.scope"
    )]
    #[case("-.slice:p:n", "-.slice", "p-n.scope", "/p-n.scope")]
    #[case("system.slice:p:box.slice", "system.slice", "box.slice", "/box.slice")]
    fn parses_runc_forms(
        #[case] path: &str,
        #[case] slice: &str,
        #[case] unit: &str,
        #[case] rel: &str,
    ) {
        let p = SystemdPath::parse(path).unwrap();
        assert_eq!((p.slice.as_str(), p.unit.as_str()), (slice, unit));
        assert_eq!(p.cgroup_rel(), rel);
    }

    #[rstest]
    #[case("/oci-conform-1/runc-x")]
    #[case("system.slice:runc")]
    #[case("a:b:c:d")]
    #[case("system.slice:p:")]
    #[case("notaslice:p:n")]
    #[case("a--b.slice:p:n")]
    #[case("a/b.slice:p:n")]
    fn not_in_the_systemd_form(#[case] path: &str) {
        assert_eq!(SystemdPath::parse(path), None, "{path}");
    }

    #[test]
    fn nested_slices_expand_from_the_root() {
        assert_eq!(
            expand_slice("a-b-c.slice").as_deref(),
            Some("/a.slice/a-b.slice/a-b-c.slice")
        );
        assert_eq!(expand_slice(".slice"), None);
        assert_eq!(expand_slice("-a.slice"), None);
    }
}
