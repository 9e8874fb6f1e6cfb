//! `linux.resources.devices` → one device policy, rendered for v1 files or a v2 eBPF program.
//!
//! The OCI rules are an ordered list where later rules win. Like runc (libcontainer/cgroups/
//! devices emulator) we first fold them into the state the v1 kernel would end up in: a default
//! (allow-all "blacklist" or deny-all "whitelist") plus exceptions. That one state is then
//!   - written to v1 as `a` to `devices.deny`/`devices.allow` followed by each exception, or
//!   - compiled to a `BPF_PROG_TYPE_CGROUP_DEVICE` program (program.rs) for v2,
//!
//! so both versions enforce exactly the same policy. runc's specconv appends its default allow
//! rules (mknod of anything; /dev/null, zero, full, tty, random, urandom; /dev/pts/*, /dev/ptmx;
//! /dev/net/tun) after the config's rules; [`effective_rules`] does the same.

pub mod loader;
pub mod program;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::error::CgroupError;

/// Access bits, numbered like `BPF_DEVCG_ACC_*` so the program can use them as is.
pub const ACC_MKNOD: u8 = 1;
pub const ACC_READ: u8 = 2;
pub const ACC_WRITE: u8 = 4;
pub const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevKind {
    All,
    Char,
    Block,
}

/// One normalized rule. `None` major/minor is the wildcard `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevRule {
    pub allow: bool,
    pub kind: DevKind,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub access: u8,
}

impl DevRule {
    const fn allow_char(major: Option<i64>, minor: Option<i64>, access: u8) -> Self {
        DevRule {
            allow: true,
            kind: DevKind::Char,
            major,
            minor,
            access,
        }
    }

    /// The v1 `devices.allow`/`devices.deny` line ("c 1:3 rwm", "a *:* rwm").
    pub fn v1_line(&self) -> String {
        let kind = match self.kind {
            DevKind::All => 'a',
            DevKind::Char => 'c',
            DevKind::Block => 'b',
        };
        let num = |n: Option<i64>| n.map_or("*".to_string(), |n| n.to_string());
        format!(
            "{kind} {}:{} {}",
            num(self.major),
            num(self.minor),
            access_string(self.access)
        )
    }
}

pub fn access_string(a: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
        if a & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// runc 1.1 specconv `AllowedDevices` (their rules; the device nodes are rootfs' business).
pub const DEFAULT_ALLOWED: &[DevRule] = &[
    DevRule::allow_char(None, None, ACC_MKNOD),
    DevRule {
        allow: true,
        kind: DevKind::Block,
        major: None,
        minor: None,
        access: ACC_MKNOD,
    },
    DevRule::allow_char(Some(1), Some(3), ACC_ALL), // /dev/null
    DevRule::allow_char(Some(1), Some(8), ACC_ALL), // /dev/random
    DevRule::allow_char(Some(1), Some(7), ACC_ALL), // /dev/full
    DevRule::allow_char(Some(5), Some(0), ACC_ALL), // /dev/tty
    DevRule::allow_char(Some(1), Some(5), ACC_ALL), // /dev/zero
    DevRule::allow_char(Some(1), Some(9), ACC_ALL), // /dev/urandom
    DevRule::allow_char(Some(136), None, ACC_ALL),  // /dev/pts/*
    DevRule::allow_char(Some(5), Some(2), ACC_ALL), // /dev/ptmx
    DevRule::allow_char(Some(10), Some(200), ACC_ALL), // /dev/net/tun
];

/// Access letters in any order and repeated ("mwr", "rrw"). Like runc, which keeps only the
/// letters it knows (its `Permissions.toSet`), unknown ones are dropped, with a warning here;
/// a rule left with no valid letter at all is refused, since it would mean nothing.
fn parse_access(s: &str, field: &str, reset: bool) -> Result<u8, CgroupError> {
    let mut a = 0;
    let mut unknown = String::new();
    for c in s.chars() {
        match c {
            'r' => a |= ACC_READ,
            'w' => a |= ACC_WRITE,
            'm' => a |= ACC_MKNOD,
            other => unknown.push(other),
        }
    }
    if unknown.is_empty() {
        return Ok(a);
    }
    if a == 0 && !reset {
        return Err(CgroupError::unsupported(
            format!("{field}.access"),
            format!("{s:?} has no valid access (want letters from r, w, m)"),
        ));
    }
    crate::logging::warn(&format!(
        "{field}.access: ignoring {unknown:?} in {s:?} (only r, w and m mean something)"
    ));
    Ok(a)
}

/// Convert one config rule. Missing type means "a", missing access means "rwm" (as crun and
/// runc's v1 kernel path effectively do); `u` is a character device; `p` cannot be controlled.
pub fn from_oci(r: &LinuxDeviceCgroup, index: usize) -> Result<DevRule, CgroupError> {
    let field = format!("linux.resources.devices[{index}]");
    let kind = match r.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => DevKind::All,
        LinuxDeviceType::C | LinuxDeviceType::U => DevKind::Char,
        LinuxDeviceType::B => DevKind::Block,
        LinuxDeviceType::P => {
            return Err(CgroupError::unsupported(
                format!("{field}.type"),
                "fifo (p) devices cannot be controlled by the devices cgroup",
            ))
        }
    };
    for (n, name) in [(r.major(), "major"), (r.minor(), "minor")] {
        if n.is_some_and(|n| !(0..=i64::from(u32::MAX)).contains(&n)) && n != Some(-1) {
            return Err(CgroupError::unsupported(
                format!("{field}.{name}"),
                "out of range",
            ));
        }
    }
    // The all-devices rule resets the whole list whatever its access says (the v1 kernel
    // ignores the rest of an "a" line).
    let reset = kind == DevKind::All && r.major().unwrap_or(-1) < 0 && r.minor().unwrap_or(-1) < 0;
    let access = match r.access().as_deref() {
        None | Some("") => ACC_ALL,
        Some(s) => parse_access(s, &field, reset)?,
    };
    Ok(DevRule {
        allow: r.allow(),
        kind,
        // -1 is how Go-based tools spell the wildcard.
        major: r.major().filter(|n| *n >= 0),
        minor: r.minor().filter(|n| *n >= 0),
        access,
    })
}

/// The config's rules followed by runc's default allow list.
pub fn effective_rules(config: Option<&[LinuxDeviceCgroup]>) -> Result<Vec<DevRule>, CgroupError> {
    let mut rules = config
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, r)| from_oci(r, i))
        .collect::<Result<Vec<_>, _>>()?;
    rules.extend_from_slice(DEFAULT_ALLOWED);
    Ok(rules)
}

/// The folded policy: a default verdict plus exceptions with the opposite verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub default_allow: bool,
    /// All exceptions have `allow == !default_allow`; kind is never `All`.
    pub exceptions: Vec<DevRule>,
}

impl Policy {
    /// A new cgroup starts deny-all (runc's emulator starts as a whitelist).
    pub fn fold(rules: &[DevRule]) -> Policy {
        let mut p = Policy {
            default_allow: false,
            exceptions: Vec::new(),
        };
        for r in rules {
            p.apply(*r);
        }
        p
    }

    fn apply(&mut self, r: DevRule) {
        if r.kind == DevKind::All {
            if r.major.is_none() && r.minor.is_none() {
                // "a" resets the whole list, exactly like writing "a" to devices.{allow,deny}.
                self.default_allow = r.allow;
                self.exceptions.clear();
            } else {
                for kind in [DevKind::Char, DevKind::Block] {
                    self.apply(DevRule { kind, ..r });
                }
            }
            return;
        }
        let same = |e: &DevRule| e.kind == r.kind && e.major == r.major && e.minor == r.minor;
        if r.allow == self.default_allow {
            // Agreeing with the default removes those access bits from a matching exception
            // (the v1 kernel's dev_exception_rm: exact match only, no hole punching).
            for e in self.exceptions.iter_mut().filter(|e| same(e)) {
                e.access &= !r.access;
            }
            self.exceptions.retain(|e| e.access != 0);
        } else if let Some(e) = self.exceptions.iter_mut().find(|e| same(e)) {
            e.access |= r.access;
        } else {
            self.exceptions.push(r);
        }
    }

    /// The v1 writes: (file, line) in order.
    pub fn v1_writes(&self) -> Vec<(&'static str, String)> {
        let (reset_file, exc_file) = if self.default_allow {
            ("devices.allow", "devices.deny")
        } else {
            ("devices.deny", "devices.allow")
        };
        let mut out = vec![(reset_file, "a".to_string())];
        out.extend(self.exceptions.iter().map(|e| (exc_file, e.v1_line())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn rules(json: &str) -> Vec<DevRule> {
        let v: Vec<LinuxDeviceCgroup> = serde_json::from_str(json).expect("devices json");
        v.iter()
            .enumerate()
            .map(|(i, r)| from_oci(r, i).expect("rule"))
            .collect()
    }

    #[rstest]
    #[case::char(
        r#"[{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}]"#,
        "c 1:3 rw"
    )]
    #[case::wildcards(r#"[{"allow":false,"type":"b","access":"m"}]"#, "b *:* m")]
    #[case::go_style_wildcard(
        r#"[{"allow":true,"type":"c","major":136,"minor":-1,"access":"rwm"}]"#,
        "c 136:* rwm"
    )]
    #[case::defaults(r#"[{"allow":false}]"#, "a *:* rwm")]
    #[case::unbuffered(
        r#"[{"allow":true,"type":"u","major":4,"minor":1,"access":"w"}]"#,
        "c 4:1 w"
    )]
    fn renders_v1_lines(#[case] json: &str, #[case] want: &str) {
        assert_eq!(rules(json)[0].v1_line(), want);
    }

    #[rstest]
    #[case::fifo(r#"[{"allow":true,"type":"p"}]"#, "linux.resources.devices[0].type")]
    #[case::no_valid_access(
        r#"[{"allow":true,"type":"c","access":"x"}]"#,
        "linux.resources.devices[0].access"
    )]
    #[case::uppercase(
        r#"[{"allow":true,"type":"c","major":1,"minor":11,"access":"RW"}]"#,
        "linux.resources.devices[0].access"
    )]
    fn rejects_bad_rules(#[case] json: &str, #[case] field: &str) {
        let v: Vec<LinuxDeviceCgroup> = serde_json::from_str(json).expect("json");
        let err = from_oci(&v[0], 0).expect_err("bad rule");
        assert!(err.to_string().starts_with(field), "{err}");
    }

    #[rstest]
    #[case::any_order("mwr", "c 1:11 rwm")]
    #[case::repeated("rrw", "c 1:11 rw")]
    #[case::mknod_only("m", "c 1:11 m")]
    #[case::unknown_letter_dropped_like_runc("rx", "c 1:11 r")]
    fn access_letters_in_any_order(#[case] access: &str, #[case] line: &str) {
        let json =
            format!(r#"[{{"allow":true,"type":"c","major":1,"minor":11,"access":"{access}"}}]"#);
        assert_eq!(rules(&json)[0].v1_line(), line);
    }

    #[rstest]
    #[case::junk_access(r#"[{"allow":false,"access":"rwx"}]"#)]
    #[case::only_junk(r#"[{"allow":false,"type":"a","access":"x"}]"#)]
    #[case::minus_one(r#"[{"allow":false,"type":"a","major":-1,"minor":-1,"access":"r"}]"#)]
    fn the_all_devices_rule_resets_whatever_its_access(#[case] json: &str) {
        let p = Policy::fold(&rules(
            r#"[{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]"#,
        ));
        assert_eq!(p.exceptions.len(), 1);
        let mut all = rules(r#"[{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]"#);
        all.extend(rules(json));
        let p = Policy::fold(&all);
        assert!(!p.default_allow);
        assert!(p.exceptions.is_empty(), "{p:?}");
    }

    #[test]
    fn deny_all_then_allow_some_and_allow_all_then_deny_some() {
        let white = Policy::fold(&rules(
            r#"[{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":7,"access":"m"},
                {"allow":true,"type":"c","major":-1,"minor":-1,"access":"r"}]"#,
        ));
        let lines: Vec<_> = white
            .v1_writes()
            .into_iter()
            .map(|(f, l)| format!("{f} {l}"))
            .collect();
        assert_eq!(
            lines,
            [
                "devices.deny a",
                "devices.allow b 7:* m",
                "devices.allow c *:* r"
            ]
        );
        let black = Policy::fold(&rules(
            r#"[{"allow":true,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":11,"access":"mw"}]"#,
        ));
        let lines: Vec<_> = black
            .v1_writes()
            .into_iter()
            .map(|(f, l)| format!("{f} {l}"))
            .collect();
        assert_eq!(lines, ["devices.allow a", "devices.deny c 1:11 wm"]);
    }

    #[test]
    fn runc_spec_default_folds_to_whitelist_of_defaults() {
        // `runc spec` puts a deny-all first; the defaults are appended after it.
        let cfg: Vec<LinuxDeviceCgroup> =
            serde_json::from_str(r#"[{"allow":false,"access":"rwm"}]"#).expect("json");
        let p = Policy::fold(&effective_rules(Some(&cfg)).expect("rules"));
        assert!(!p.default_allow);
        assert_eq!(p.exceptions, DEFAULT_ALLOWED);
        let w = p.v1_writes();
        assert_eq!(w[0], ("devices.deny", "a".to_string()));
        assert_eq!(w[1], ("devices.allow", "c *:* m".to_string()));
        assert_eq!(w[3], ("devices.allow", "c 1:3 rwm".to_string()));
        assert_eq!(w.len(), 1 + DEFAULT_ALLOWED.len());
    }

    #[test]
    fn allow_all_then_deny_becomes_blacklist() {
        let p = Policy::fold(&rules(
            r#"[{"allow":true},{"allow":false,"type":"c","major":10,"minor":229,"access":"rwm"}]"#,
        ));
        assert!(p.default_allow);
        let lines: Vec<_> = p.v1_writes();
        assert_eq!(
            lines,
            [
                ("devices.allow", "a".to_string()),
                ("devices.deny", "c 10:229 rwm".to_string())
            ]
        );
    }

    #[test]
    fn later_rules_win_and_merge_access() {
        let p = Policy::fold(&rules(
            r#"[{"allow":true,"type":"c","major":1,"minor":3,"access":"r"},
                {"allow":true,"type":"c","major":1,"minor":3,"access":"w"},
                {"allow":false,"type":"c","major":1,"minor":3,"access":"r"},
                {"allow":true,"type":"b","major":8,"minor":0,"access":"m"},
                {"allow":false,"type":"b","major":8,"minor":0,"access":"m"}]"#,
        ));
        assert_eq!(p.exceptions.len(), 1);
        assert_eq!(p.exceptions[0].v1_line(), "c 1:3 w");
    }

    #[test]
    fn type_a_with_numbers_applies_to_char_and_block() {
        let p = Policy::fold(&rules(
            r#"[{"allow":true,"type":"a","major":7,"access":"r"}]"#,
        ));
        let lines: Vec<_> = p.exceptions.iter().map(DevRule::v1_line).collect();
        assert_eq!(lines, ["c 7:* r", "b 7:* r"]);
    }
}
