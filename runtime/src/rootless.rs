//! Rootless mode: what `--rootless true|false|auto` and the caller's euid decide, and the
//! default state root for an unprivileged caller.
//!
//! runc 1.1.5 keeps two separate notions and so do we:
//! - *rootless euid* (`euid != 0`): the config must have a new user namespace
//!   (libcontainer/configs/validate/rootless.go: "rootless container requires user
//!   namespaces"), id maps are written as an unprivileged process may (or through
//!   newuidmap/newgidmap), and the state root defaults to `$XDG_RUNTIME_DIR`.
//! - *rootless cgroups* (`--rootless true`, or `auto` with euid != 0 or when running inside a
//!   user namespace, e.g. root in a rootless podman or a nested container): the cgroup
//!   manager skips hierarchies it may not write and fails only when a limit needs one
//!   (runc's `shouldUseRootlessCgroupManager` and `userns.RunningInUserNS`).

use std::ffi::OsString;
use std::path::PathBuf;

/// The two rootless decisions (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rootless {
    /// The caller is not root: user namespace required, unprivileged id maps.
    pub euid: bool,
    /// Cgroup hierarchies the caller may not write are skipped.
    pub cgroups: bool,
}

impl Rootless {
    /// `flag` is the validated `--rootless` value (`true`, `false` or `auto`); `in_userns`
    /// says whether the caller runs inside a user namespace ([`in_user_namespace`]); it is
    /// asked only for `auto` with euid 0, the one case it decides.
    pub fn decide(flag: &str, euid: u32, in_userns: impl FnOnce() -> bool) -> Rootless {
        let unprivileged = euid != 0;
        Rootless {
            euid: unprivileged,
            cgroups: match flag {
                "true" => true,
                "false" => false,
                _ => unprivileged || in_userns(),
            },
        }
    }
}

/// Whether a `/proc/self/uid_map` text belongs to a process inside a user namespace: the
/// initial namespace maps the whole id range onto itself (`0 0 4294967295`), every other one
/// maps less (runc's `userns.RunningInUserNS`). An unreadable map counts as the initial one.
pub fn in_user_namespace(uid_map: Option<&str>) -> bool {
    let Some(text) = uid_map else {
        return false;
    };
    let fields: Vec<&str> = text.split_whitespace().collect();
    fields != ["0", "0", "4294967295"]
}

/// The default `--root`: runc uses `$XDG_RUNTIME_DIR/runc` for a non-root caller when the
/// variable is set and non-empty, else `/run/runc` (which an unprivileged caller then fails to
/// create, with a permission error naming the path). Root ignores XDG_RUNTIME_DIR
/// (e.g. /run/user/0), for compatibility with older runc.
pub fn default_root(euid: u32, xdg_runtime_dir: Option<OsString>) -> PathBuf {
    match xdg_runtime_dir {
        Some(dir) if euid != 0 && !dir.is_empty() => PathBuf::from(dir).join("ferrun"),
        _ => PathBuf::from("/run/ferrun"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn uid_map_is_read_only_when_it_decides() {
        let never = || -> bool { panic!("uid_map read although the answer was known") };
        assert!(Rootless::decide("true", 0, never).cgroups);
        assert!(!Rootless::decide("false", 0, never).cgroups);
        assert!(Rootless::decide("auto", 1000, never).cgroups);
    }

    #[rstest]
    #[case(Some("         0          0 4294967295\n"), false)]
    #[case(Some("         0       1000          1\n"), true)]
    #[case(Some("         0     100000      65536\n"), true)]
    #[case(Some(""), true)]
    #[case(None, false)]
    fn user_namespace_from_uid_map(#[case] map: Option<&str>, #[case] inside: bool) {
        assert_eq!(in_user_namespace(map), inside);
    }

    #[rstest]
    #[case("auto", 0, false, false, false)]
    #[case("auto", 0, true, false, true)]
    #[case("auto", 1000, false, true, true)]
    #[case("true", 0, false, false, true)]
    #[case("true", 1000, false, true, true)]
    #[case("false", 0, true, false, false)]
    #[case("false", 1000, false, true, false)]
    fn decide_follows_runc(
        #[case] flag: &str,
        #[case] euid: u32,
        #[case] in_userns: bool,
        #[case] want_euid: bool,
        #[case] want_cgroups: bool,
    ) {
        assert_eq!(
            Rootless::decide(flag, euid, || in_userns),
            Rootless {
                euid: want_euid,
                cgroups: want_cgroups
            }
        );
    }

    #[rstest]
    #[case(0, Some("/run/user/0"), "/run/ferrun")]
    #[case(0, None, "/run/ferrun")]
    #[case(1000, Some("/run/user/1000"), "/run/user/1000/ferrun")]
    #[case(1000, Some(""), "/run/ferrun")]
    #[case(1000, None, "/run/ferrun")]
    fn default_root_follows_runc(#[case] euid: u32, #[case] xdg: Option<&str>, #[case] want: &str) {
        assert_eq!(
            default_root(euid, xdg.map(OsString::from)),
            PathBuf::from(want)
        );
    }
}
