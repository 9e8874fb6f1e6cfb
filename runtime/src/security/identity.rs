//! `process.user` (runtime-spec config.md#posix-process `user`): supplementary groups, gid,
//! uid and umask, in runc's order (`setupUser` + `finalizeNamespace`):
//!
//! 1. `PR_SET_KEEPCAPS` on, so the permitted set survives a switch away from uid 0; the
//!    capabilities module then sets the configured sets (the kernel empties the effective
//!    set on that switch anyway).
//! 2. `setgroups(additionalGids)`, even when empty: the host's supplementary groups must not
//!    leak into the container. Skipped only when `/proc/self/setgroups` says `deny` (a user
//!    namespace whose mapping forbade it) and there is nothing to set.
//! 3. `setresgid` before `setresuid`: changing gid needs CAP_SETGID, which a non-root uid
//!    no longer has in its effective set.
//! 4. `PR_SET_KEEPCAPS` off again (runc's ClearKeepCaps; execve clears it too).
//! 5. `umask(user.umask)`, or 0022 when unset, as runc does.

use nix::errno::Errno;
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::User;

/// The largest uid or gid runc accepts for a process. Above it lies (uid_t)-1, which
/// setresuid(2) and setresgid(2) read as "leave unchanged": a process asking for uid
/// 4294967295 would keep the runtime's uid 0.
pub const MAX_ID: u32 = i32::MAX as u32;

/// runc's umask when `process.user.umask` is not set.
const DEFAULT_UMASK: u32 = 0o022;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("prctl(PR_SET_KEEPCAPS, {on}): {errno}")]
    KeepCaps { on: bool, errno: Errno },
    #[error("setgroups({gids:?}): {errno}")]
    Setgroups { gids: Vec<u32>, errno: Errno },
    #[error("process.user.additionalGids {gids:?}: setgroups is denied in this user namespace (/proc/self/setgroups)")]
    SetgroupsDenied { gids: Vec<u32> },
    #[error("reading /proc/self/setgroups: {0}")]
    ReadSetgroups(#[source] std::io::Error),
    #[error("setresgid({gid}): {errno}")]
    Setresgid { gid: u32, errno: Errno },
    #[error("setresuid({uid}): {errno}")]
    Setresuid { uid: u32, errno: Errno },
    #[error("process.user.umask {umask:#o} is not a valid mode")]
    InvalidUmask { umask: u32 },
    /// runc's wording ("uids and gids must be in range 0-2147483647"), after the field.
    #[error("{field} {id}: uids and gids must be in range 0-{MAX_ID}")]
    IdOutOfRange { field: String, id: u32 },
}

impl IdentityError {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Self::KeepCaps { errno, .. }
            | Self::Setgroups { errno, .. }
            | Self::Setresgid { errno, .. }
            | Self::Setresuid { errno, .. } => Some(*errno),
            Self::SetgroupsDenied { .. } => Some(Errno::EPERM),
            Self::ReadSetgroups(e) => e.raw_os_error().map(Errno::from_raw),
            Self::InvalidUmask { .. } | Self::IdOutOfRange { .. } => Some(Errno::EINVAL),
        }
    }
}

/// The syscalls of the user switch, behind a seam so their order is unit-testable.
pub trait IdentitySys {
    /// False when `/proc/self/setgroups` reads `deny`.
    fn setgroups_allowed(&self) -> std::io::Result<bool>;
    fn set_keepcaps(&mut self, on: bool) -> Result<(), Errno>;
    fn setgroups(&mut self, gids: &[Gid]) -> Result<(), Errno>;
    fn setresgid(&mut self, gid: Gid) -> Result<(), Errno>;
    fn setresuid(&mut self, uid: Uid) -> Result<(), Errno>;
    fn umask(&mut self, mask: Mode);
}

/// The real syscalls on the calling process.
pub struct HostIdentity;

impl IdentitySys for HostIdentity {
    fn setgroups_allowed(&self) -> std::io::Result<bool> {
        match std::fs::read_to_string("/proc/self/setgroups") {
            Ok(s) => Ok(s.trim() != "deny"),
            // Kernels before 3.19 have no such file and always allow setgroups.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(e),
        }
    }
    fn set_keepcaps(&mut self, on: bool) -> Result<(), Errno> {
        nix::sys::prctl::set_keepcaps(on)
    }
    fn setgroups(&mut self, gids: &[Gid]) -> Result<(), Errno> {
        nix::unistd::setgroups(gids)
    }
    fn setresgid(&mut self, gid: Gid) -> Result<(), Errno> {
        nix::unistd::setresgid(gid, gid, gid)
    }
    fn setresuid(&mut self, uid: Uid) -> Result<(), Errno> {
        nix::unistd::setresuid(uid, uid, uid)
    }
    fn umask(&mut self, mask: Mode) {
        nix::sys::stat::umask(mask);
    }
}

/// The umask to set: `user.umask`, or runc's 0022; pure, so `create` can check it early.
pub fn umask_of(user: &User) -> Result<Mode, IdentityError> {
    let bits = user.umask().unwrap_or(DEFAULT_UMASK);
    Mode::from_bits(bits).ok_or(IdentityError::InvalidUmask { umask: bits })
}

/// `check_id("process.user.uid", 4294967295)` fails: see [`MAX_ID`].
pub fn check_id(field: &str, id: u32) -> Result<(), IdentityError> {
    if id > MAX_ID {
        return Err(IdentityError::IdOutOfRange {
            field: field.to_string(),
            id,
        });
    }
    Ok(())
}

/// process.user's uid, gid and additionalGids are all in range (see [`MAX_ID`]).
pub fn check_user_ids(user: &User) -> Result<(), IdentityError> {
    check_id("process.user.uid", user.uid())?;
    check_id("process.user.gid", user.gid())?;
    for (i, gid) in user.additional_gids().iter().flatten().enumerate() {
        check_id(&format!("process.user.additionalGids[{i}]"), *gid)?;
    }
    Ok(())
}

/// Become `user` (uid, gid, additionalGids, umask) keeping the permitted capabilities.
pub fn switch_user(user: &User) -> Result<(), IdentityError> {
    switch_user_with(&mut HostIdentity, user)
}

/// [`switch_user`] through an explicit seam.
pub fn switch_user_with(sys: &mut dyn IdentitySys, user: &User) -> Result<(), IdentityError> {
    // Checked at load already; again here because an id of -1 would silently keep root.
    check_user_ids(user)?;
    let umask = umask_of(user)?;
    let gids: Vec<u32> = user.additional_gids().clone().unwrap_or_default();
    let allowed = sys
        .setgroups_allowed()
        .map_err(IdentityError::ReadSetgroups)?;
    if !allowed && !gids.is_empty() {
        return Err(IdentityError::SetgroupsDenied { gids });
    }
    sys.set_keepcaps(true)
        .map_err(|errno| IdentityError::KeepCaps { on: true, errno })?;
    if allowed {
        let list: Vec<Gid> = gids.iter().copied().map(Gid::from_raw).collect();
        sys.setgroups(&list)
            .map_err(|errno| IdentityError::Setgroups { gids, errno })?;
    }
    let (uid, gid) = (user.uid(), user.gid());
    sys.setresgid(Gid::from_raw(gid))
        .map_err(|errno| IdentityError::Setresgid { gid, errno })?;
    sys.setresuid(Uid::from_raw(uid))
        .map_err(|errno| IdentityError::Setresuid { uid, errno })?;
    sys.set_keepcaps(false)
        .map_err(|errno| IdentityError::KeepCaps { on: false, errno })?;
    sys.umask(umask);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Fake {
        deny_setgroups: bool,
        fail_setresuid: bool,
        log: Vec<String>,
    }

    impl IdentitySys for Fake {
        fn setgroups_allowed(&self) -> std::io::Result<bool> {
            Ok(!self.deny_setgroups)
        }
        fn set_keepcaps(&mut self, on: bool) -> Result<(), Errno> {
            self.log.push(format!("keepcaps={on}"));
            Ok(())
        }
        fn setgroups(&mut self, gids: &[Gid]) -> Result<(), Errno> {
            let raw: Vec<u32> = gids.iter().map(|g| g.as_raw()).collect();
            self.log.push(format!("setgroups={raw:?}"));
            Ok(())
        }
        fn setresgid(&mut self, gid: Gid) -> Result<(), Errno> {
            self.log.push(format!("setresgid={gid}"));
            Ok(())
        }
        fn setresuid(&mut self, uid: Uid) -> Result<(), Errno> {
            self.log.push(format!("setresuid={uid}"));
            if self.fail_setresuid {
                return Err(Errno::EPERM);
            }
            Ok(())
        }
        fn umask(&mut self, mask: Mode) {
            self.log.push(format!("umask={:o}", mask.bits()));
        }
    }

    fn user(json: &str) -> User {
        serde_json::from_str(json).expect("valid user")
    }

    #[test]
    fn order_is_keepcaps_groups_gid_uid_clear_umask() {
        let mut fake = Fake::default();
        let u = user(r#"{"uid":1000,"gid":100,"additionalGids":[5,6],"umask":63}"#);
        switch_user_with(&mut fake, &u).expect("fake never fails");
        assert_eq!(
            fake.log,
            [
                "keepcaps=true",
                "setgroups=[5, 6]",
                "setresgid=100",
                "setresuid=1000",
                "keepcaps=false",
                "umask=77"
            ]
        );
    }

    #[test]
    fn empty_groups_still_clear_host_groups_and_umask_defaults_to_022() {
        let mut fake = Fake::default();
        switch_user_with(&mut fake, &user(r#"{"uid":0,"gid":0}"#)).expect("ok");
        assert!(fake.log.contains(&"setgroups=[]".to_string()));
        assert_eq!(fake.log.last().map(String::as_str), Some("umask=22"));
    }

    #[test]
    fn denied_setgroups_is_skipped_when_nothing_to_set() {
        let mut fake = Fake {
            deny_setgroups: true,
            ..Fake::default()
        };
        switch_user_with(&mut fake, &user(r#"{"uid":1,"gid":1}"#)).expect("ok");
        assert!(!fake.log.iter().any(|l| l.starts_with("setgroups")));
    }

    #[test]
    fn denied_setgroups_with_groups_is_an_error_before_any_change() {
        let mut fake = Fake {
            deny_setgroups: true,
            ..Fake::default()
        };
        let err = switch_user_with(
            &mut fake,
            &user(r#"{"uid":1,"gid":1,"additionalGids":[7]}"#),
        )
        .expect_err("denied");
        assert!(err.to_string().contains("additionalGids [7]"), "{err}");
        assert!(fake.log.is_empty());
    }

    #[test]
    fn setresuid_failure_names_uid_and_errno() {
        let mut fake = Fake {
            fail_setresuid: true,
            ..Fake::default()
        };
        let err = switch_user_with(&mut fake, &user(r#"{"uid":4242,"gid":1}"#)).expect_err("fails");
        assert_eq!(
            err.to_string(),
            "setresuid(4242): EPERM: Operation not permitted"
        );
        assert_eq!(err.errno(), Some(Errno::EPERM));
    }

    #[test]
    fn ids_that_read_as_unchanged_are_refused_before_any_change() {
        for json in [
            r#"{"uid":4294967295,"gid":0}"#,
            r#"{"uid":0,"gid":4294967295}"#,
            r#"{"uid":0,"gid":0,"additionalGids":[1,2147483648]}"#,
        ] {
            let mut fake = Fake::default();
            let err = switch_user_with(&mut fake, &user(json)).expect_err(json);
            assert!(
                err.to_string()
                    .ends_with("uids and gids must be in range 0-2147483647"),
                "{err}"
            );
            assert!(fake.log.is_empty(), "{json}: {:?}", fake.log);
        }
        let err = check_user_ids(&user(
            r#"{"uid":0,"gid":0,"additionalGids":[1,4294967295]}"#,
        ))
        .expect_err("out of range");
        assert_eq!(
            err.to_string(),
            "process.user.additionalGids[1] 4294967295: uids and gids must be in range 0-2147483647"
        );
        check_user_ids(&user(r#"{"uid":2147483647,"gid":2147483647}"#)).expect("in range");
    }

    #[test]
    fn umask_with_bits_outside_a_mode_is_refused() {
        let mut fake = Fake::default();
        let err = switch_user_with(&mut fake, &user(r#"{"uid":0,"gid":0,"umask":4294967295}"#))
            .expect_err("bad umask");
        assert!(matches!(err, IdentityError::InvalidUmask { .. }));
        assert!(fake.log.is_empty());
    }
}
