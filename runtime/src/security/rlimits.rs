//! `process.rlimits` (runtime-spec config.md#posix-process): one `setrlimit` per entry, on
//! the calling process. Raising a hard limit needs CAP_SYS_RESOURCE (this host's root lacks
//! it, so that fails with EPERM), and inside a user namespace the limits can only go down:
//! apply them before any user namespace is entered when they must go up.

use std::collections::HashSet;

use nix::errno::Errno;
use nix::sys::resource::Resource;
use oci_spec::runtime::{PosixRlimit, PosixRlimitType};

#[derive(Debug, thiserror::Error)]
pub enum RlimitError {
    #[error("setting {name} to soft={soft} hard={hard}: {errno}{hint}",
        hint = if *errno == Errno::EPERM {
            " (raising a hard limit needs CAP_SYS_RESOURCE)"
        } else if *errno == Errno::EINVAL && soft > hard {
            " (soft limit above hard limit)"
        } else { "" })]
    Set {
        name: &'static str,
        soft: u64,
        hard: u64,
        errno: Errno,
    },
    /// runtime-spec: "If rlimits contains duplicated entries with same type, the runtime
    /// MUST generate an error."
    #[error("process.rlimits: {name} is given more than once")]
    Duplicate { name: &'static str },
}

impl RlimitError {
    pub fn errno(&self) -> Errno {
        match self {
            Self::Set { errno, .. } => *errno,
            Self::Duplicate { .. } => Errno::EINVAL,
        }
    }
}

/// The one syscall this module makes, behind a seam so the loop is testable unprivileged.
pub trait RlimitSys {
    fn setrlimit(&mut self, resource: Resource, soft: u64, hard: u64) -> Result<(), Errno>;
}

/// The real `setrlimit(2)` on the calling process.
pub struct HostRlimits;

impl RlimitSys for HostRlimits {
    fn setrlimit(&mut self, resource: Resource, soft: u64, hard: u64) -> Result<(), Errno> {
        nix::sys::resource::setrlimit(resource, soft, hard)
    }
}

/// Apply every rlimit, in the order given, on the calling process.
pub fn apply(limits: &[PosixRlimit]) -> Result<(), RlimitError> {
    apply_with(&mut HostRlimits, limits)
}

/// [`apply`] through an explicit seam. Duplicates are refused before anything is set.
pub fn apply_with(sys: &mut dyn RlimitSys, limits: &[PosixRlimit]) -> Result<(), RlimitError> {
    check_duplicates(limits)?;
    for limit in limits {
        let (name, res) = resource(limit.typ());
        let (soft, hard) = (limit.soft(), limit.hard());
        sys.setrlimit(res, soft, hard)
            .map_err(|errno| RlimitError::Set {
                name,
                soft,
                hard,
                errno,
            })?;
    }
    Ok(())
}

/// Refuse a type given twice (runtime-spec MUST); pure, so `create` can call it early.
pub fn check_duplicates(limits: &[PosixRlimit]) -> Result<(), RlimitError> {
    let mut seen = HashSet::new();
    for limit in limits {
        let (name, _) = resource(limit.typ());
        if !seen.insert(name) {
            return Err(RlimitError::Duplicate { name });
        }
    }
    Ok(())
}

/// The spec's name of the limit and nix's resource for it.
pub fn resource(typ: PosixRlimitType) -> (&'static str, Resource) {
    use PosixRlimitType as T;
    match typ {
        T::RlimitCpu => ("RLIMIT_CPU", Resource::RLIMIT_CPU),
        T::RlimitFsize => ("RLIMIT_FSIZE", Resource::RLIMIT_FSIZE),
        T::RlimitData => ("RLIMIT_DATA", Resource::RLIMIT_DATA),
        T::RlimitStack => ("RLIMIT_STACK", Resource::RLIMIT_STACK),
        T::RlimitCore => ("RLIMIT_CORE", Resource::RLIMIT_CORE),
        T::RlimitRss => ("RLIMIT_RSS", Resource::RLIMIT_RSS),
        T::RlimitNproc => ("RLIMIT_NPROC", Resource::RLIMIT_NPROC),
        T::RlimitNofile => ("RLIMIT_NOFILE", Resource::RLIMIT_NOFILE),
        T::RlimitMemlock => ("RLIMIT_MEMLOCK", Resource::RLIMIT_MEMLOCK),
        T::RlimitAs => ("RLIMIT_AS", Resource::RLIMIT_AS),
        T::RlimitLocks => ("RLIMIT_LOCKS", Resource::RLIMIT_LOCKS),
        T::RlimitSigpending => ("RLIMIT_SIGPENDING", Resource::RLIMIT_SIGPENDING),
        T::RlimitMsgqueue => ("RLIMIT_MSGQUEUE", Resource::RLIMIT_MSGQUEUE),
        T::RlimitNice => ("RLIMIT_NICE", Resource::RLIMIT_NICE),
        T::RlimitRtprio => ("RLIMIT_RTPRIO", Resource::RLIMIT_RTPRIO),
        T::RlimitRttime => ("RLIMIT_RTTIME", Resource::RLIMIT_RTTIME),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::PosixRlimitBuilder;
    use rstest::rstest;

    #[derive(Default)]
    struct Fake {
        calls: Vec<(Resource, u64, u64)>,
        fail_on: Option<(Resource, Errno)>,
    }

    impl RlimitSys for Fake {
        fn setrlimit(&mut self, r: Resource, soft: u64, hard: u64) -> Result<(), Errno> {
            self.calls.push((r, soft, hard));
            match self.fail_on {
                Some((fr, errno)) if fr == r => Err(errno),
                _ => Ok(()),
            }
        }
    }

    fn limit(typ: PosixRlimitType, soft: u64, hard: u64) -> PosixRlimit {
        PosixRlimitBuilder::default()
            .typ(typ)
            .soft(soft)
            .hard(hard)
            .build()
            .expect("valid rlimit")
    }

    #[test]
    fn applies_each_limit_in_order() {
        let mut fake = Fake::default();
        let limits = [
            limit(PosixRlimitType::RlimitNofile, 1024, 4096),
            limit(PosixRlimitType::RlimitCore, 0, u64::MAX),
        ];
        apply_with(&mut fake, &limits).expect("fake never fails");
        assert_eq!(
            fake.calls,
            vec![
                (Resource::RLIMIT_NOFILE, 1024, 4096),
                (Resource::RLIMIT_CORE, 0, u64::MAX)
            ]
        );
    }

    #[test]
    fn eperm_error_names_the_limit_and_errno() {
        let mut fake = Fake {
            fail_on: Some((Resource::RLIMIT_NPROC, Errno::EPERM)),
            ..Fake::default()
        };
        let limits = [
            limit(PosixRlimitType::RlimitNofile, 10, 10),
            limit(PosixRlimitType::RlimitNproc, 5, 1 << 40),
            limit(PosixRlimitType::RlimitCore, 0, 0),
        ];
        let err = apply_with(&mut fake, &limits).expect_err("nproc fails");
        let msg = err.to_string();
        assert!(msg.contains("RLIMIT_NPROC"), "{msg}");
        assert!(msg.contains("EPERM"), "{msg}");
        assert!(msg.contains("CAP_SYS_RESOURCE"), "{msg}");
        assert_eq!(err.errno(), Errno::EPERM);
        // Stops at the first failure: RLIMIT_CORE is never attempted.
        assert_eq!(fake.calls.len(), 2);
    }

    #[test]
    fn duplicates_are_refused_before_any_change() {
        let mut fake = Fake::default();
        let limits = [
            limit(PosixRlimitType::RlimitNofile, 10, 10),
            limit(PosixRlimitType::RlimitNofile, 20, 20),
        ];
        let err = apply_with(&mut fake, &limits).expect_err("duplicate");
        assert!(err
            .to_string()
            .contains("RLIMIT_NOFILE is given more than once"));
        assert!(fake.calls.is_empty());
    }

    #[rstest]
    #[case("RLIMIT_CPU")]
    #[case("RLIMIT_FSIZE")]
    #[case("RLIMIT_DATA")]
    #[case("RLIMIT_STACK")]
    #[case("RLIMIT_CORE")]
    #[case("RLIMIT_RSS")]
    #[case("RLIMIT_NPROC")]
    #[case("RLIMIT_NOFILE")]
    #[case("RLIMIT_MEMLOCK")]
    #[case("RLIMIT_AS")]
    #[case("RLIMIT_LOCKS")]
    #[case("RLIMIT_SIGPENDING")]
    #[case("RLIMIT_MSGQUEUE")]
    #[case("RLIMIT_NICE")]
    #[case("RLIMIT_RTPRIO")]
    #[case("RLIMIT_RTTIME")]
    fn every_spec_name_round_trips(#[case] name: &str) {
        let json = format!(r#"{{"type":"{name}","soft":1,"hard":2}}"#);
        let parsed: PosixRlimit = serde_json::from_str(&json).expect("spec rlimit name");
        let (ours, res) = resource(parsed.typ());
        assert_eq!(ours, name);
        assert_eq!(format!("{res:?}"), name);
    }
}
