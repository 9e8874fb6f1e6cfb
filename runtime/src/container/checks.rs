//! Load-time checks of single config fields that runc refuses only once its init runs:
//! environment entries and user-namespace id mappings. Refusing them here means a bad
//! config fails before any container exists, and names the field.

use oci_spec::runtime::LinuxIdMapping;

use crate::security::identity::check_id;

/// Check `entries` the way runc's init does before it sets them (`populateProcessEnvironment`):
/// each entry is `NAME=VALUE` with a non-empty NAME and no NUL byte. `field` names where the
/// entries came from (`process.env`, `--env`). runc's own wording follows the field, so
/// scripts that grep runc's message still match.
pub fn check_env<'a>(
    field: &str,
    entries: impl IntoIterator<Item = &'a String>,
) -> Result<(), String> {
    for entry in entries {
        let problem = match entry.split_once('=') {
            None => "invalid environment variable",
            Some(("", _)) => "environment variable name can't be empty",
            Some((name, _)) if name.contains('\0') => {
                "environment variable name can't contain null(\\x00)"
            }
            Some(_) if entry.contains('\0') => {
                "environment variable value can't contain null(\\x00)"
            }
            Some(_) => continue,
        };
        return Err(format!("{field}: {problem}: {entry:?}"));
    }
    Ok(())
}

/// linux.uidMappings / linux.gidMappings: both first ids in range ([`check_id`]), a size of at least
/// one, and a range that does not reach (u32)-1. The kernel refuses such lines too
/// (user_namespaces(7)), but only once the init exists, and without naming the entry.
pub fn check_id_mappings(field: &str, maps: &[LinuxIdMapping]) -> Result<(), String> {
    for (i, m) in maps.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        for (name, id) in [("containerID", m.container_id()), ("hostID", m.host_id())] {
            check_id(&at(name), id).map_err(|e| e.to_string())?;
        }
        if m.size() == 0 {
            return Err(format!(
                "{}: a mapping must cover at least one id",
                at("size")
            ));
        }
        let end = u64::from(m.container_id().max(m.host_id())) + u64::from(m.size());
        if end > u64::from(u32::MAX) {
            return Err(format!(
                "{} {}: the mapped range must end below 4294967295",
                at("size"),
                m.size()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(list: &[&str]) -> Result<(), String> {
        let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        check_env("process.env", &owned)
    }

    #[test]
    fn env_entries_need_a_name_and_an_equals_sign() {
        assert_eq!(env(&["PATH=/bin", "EMPTY=", "A==b"]), Ok(()));
        assert_eq!(
            env(&["PATH=/bin", "FOO"]).unwrap_err(),
            r#"process.env: invalid environment variable: "FOO""#
        );
        assert_eq!(
            env(&["=x"]).unwrap_err(),
            r#"process.env: environment variable name can't be empty: "=x""#
        );
        assert!(env(&[""])
            .unwrap_err()
            .contains("invalid environment variable"));
        assert!(env(&["A\0B=1"]).unwrap_err().contains("name can't contain"));
        assert!(env(&["A=1\0"]).unwrap_err().contains("value can't contain"));
    }

    fn map(c: u32, h: u32, size: u32) -> LinuxIdMapping {
        serde_json::from_value(serde_json::json!({"containerID": c, "hostID": h, "size": size}))
            .unwrap()
    }

    #[test]
    fn id_mappings_stay_below_the_unchanged_id() {
        let f = "linux.uidMappings";
        assert_eq!(check_id_mappings(f, &[map(0, 100000, 65536)]), Ok(()));
        // The usual "everything" mapping covers 0..=4294967294.
        assert_eq!(check_id_mappings(f, &[map(0, 0, u32::MAX)]), Ok(()));
        let e = check_id_mappings(f, &[map(0, 0, 1), map(u32::MAX, 1000, 1)]).unwrap_err();
        assert_eq!(
            e,
            "linux.uidMappings[1].containerID 4294967295: uids and gids must be in range 0-2147483647"
        );
        let e = check_id_mappings(f, &[map(0, 2147483648, 1)]).unwrap_err();
        assert!(
            e.starts_with("linux.uidMappings[0].hostID 2147483648"),
            "{e}"
        );
        assert!(check_id_mappings(f, &[map(0, 0, 0)])
            .unwrap_err()
            .contains("[0].size"));
        assert!(check_id_mappings(f, &[map(1, 0, u32::MAX)])
            .unwrap_err()
            .contains("[0].size"));
    }
}
