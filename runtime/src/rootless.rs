//! Rootless mode: what `--rootless true|false|auto` and the caller's euid decide, and the
//! default state root for an unprivileged caller.
//!
//! runc 1.1.5 keeps two separate notions and so do we:
//! - *rootless euid* (`euid != 0`): the config must have a new user namespace
//!   (libcontainer/configs/validate/rootless.go: "rootless container requires user
//!   namespaces"), id maps are written as an unprivileged process may (or through
//!   newuidmap/newgidmap), and the state root defaults to `$XDG_RUNTIME_DIR`.
//! - *rootless cgroups* (`--rootless true`, or `auto` with euid != 0): the cgroup manager skips
//!   hierarchies it may not write and fails only when a limit needs one
//!   (runc's `shouldUseRootlessCgroupManager`).
//!
//! Not done: runc also treats "euid 0 inside a user namespace" as rootless for cgroups
//! (`userns.RunningInUserNS()`); ferrun looks at the euid only, so a root-in-userns caller
//! passes `--rootless true` explicitly.

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
    /// `flag` is the validated `--rootless` value (`true`, `false` or `auto`).
    pub fn decide(flag: &str, euid: u32) -> Rootless {
        let unprivileged = euid != 0;
        Rootless {
            euid: unprivileged,
            cgroups: match flag {
                "true" => true,
                "false" => false,
                _ => unprivileged,
            },
        }
    }
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

    #[rstest]
    #[case("auto", 0, false, false)]
    #[case("auto", 1000, true, true)]
    #[case("true", 0, false, true)]
    #[case("true", 1000, true, true)]
    #[case("false", 0, false, false)]
    #[case("false", 1000, true, false)]
    fn decide_follows_runc(
        #[case] flag: &str,
        #[case] euid: u32,
        #[case] want_euid: bool,
        #[case] want_cgroups: bool,
    ) {
        assert_eq!(
            Rootless::decide(flag, euid),
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
