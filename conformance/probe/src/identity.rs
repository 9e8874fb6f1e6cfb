//! Who and where the process is: ids, UTS names, namespaces, ttys, pid, umask.

use crate::error::ProbeError;
use crate::json::Json;
use crate::status;

/// `{"uid":…,"gid":…,"euid":…,"egid":…,"groups":[…]}` (config.md#user).
pub fn id() -> Result<Json, ProbeError> {
    // SAFETY: the id getters take no arguments and cannot fail.
    let (uid, gid, euid, egid) = unsafe {
        (
            libc::getuid(),
            libc::getgid(),
            libc::geteuid(),
            libc::getegid(),
        )
    };
    // SAFETY: with size 0 getgroups only returns the count and writes nothing.
    let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    if count < 0 {
        return Err(ProbeError::last_os("getgroups"));
    }
    let mut groups = vec![0 as libc::gid_t; count as usize];
    // SAFETY: `groups` has room for `count` entries, and getgroups writes at most that many.
    let got = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
    if got < 0 {
        return Err(ProbeError::last_os("getgroups"));
    }
    groups.truncate(got as usize);
    Ok(Json::object(vec![
        ("uid", Json::UInt(uid.into())),
        ("gid", Json::UInt(gid.into())),
        ("euid", Json::UInt(euid.into())),
        ("egid", Json::UInt(egid.into())),
        (
            "groups",
            Json::Array(groups.into_iter().map(|g| Json::UInt(g.into())).collect()),
        ),
    ]))
}

fn field_to_string(field: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// (nodename, domainname) from uname(2).
pub fn uts_names() -> Result<(String, String), ProbeError> {
    // SAFETY: utsname is plain old data; uname fills it completely on success.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname writes into the utsname we own and nothing else.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return Err(ProbeError::last_os("uname"));
    }
    Ok((
        field_to_string(&uts.nodename),
        field_to_string(&uts.domainname),
    ))
}

/// Namespace kinds as they appear under /proc/self/ns.
pub const NS_KINDS: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

/// `{"ipc":"ipc:[4026531839]",…}`; kinds the kernel lacks are omitted.
pub fn namespaces() -> Result<Json, ProbeError> {
    let mut pairs = Vec::new();
    for kind in NS_KINDS {
        let path = format!("/proc/self/ns/{kind}");
        match std::fs::read_link(&path) {
            Ok(target) => pairs.push((kind, Json::str(target.to_string_lossy()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(ProbeError::read(&path, &e)),
        }
    }
    Ok(Json::object(pairs))
}

/// `{"stdin":bool,"stdout":bool,"stderr":bool}` (config.md#process terminal).
pub fn ttys() -> Json {
    // SAFETY: isatty only inspects the descriptor.
    let tty = |fd| unsafe { libc::isatty(fd) == 1 };
    Json::object(vec![
        ("stdin", Json::Bool(tty(0))),
        ("stdout", Json::Bool(tty(1))),
        ("stderr", Json::Bool(tty(2))),
    ])
}

/// The umask as the kernel reports it (`Umask:` in status, 4 octal digits),
/// read rather than set-and-restored so probing has no side effect.
pub fn umask() -> Result<String, ProbeError> {
    let text = status::read_own()?;
    Ok(status::field(&text, "Umask")?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_field_stops_at_nul() {
        let raw: Vec<libc::c_char> = b"host\0junk".iter().map(|b| *b as libc::c_char).collect();
        assert_eq!(field_to_string(&raw), "host");
    }

    #[test]
    fn own_namespaces_include_mnt_and_pid() {
        let text = namespaces().unwrap().render();
        assert!(text.contains("\"mnt\":\"mnt:["), "{text}");
        assert!(text.contains("\"pid\":\"pid:["), "{text}");
    }

    #[test]
    fn id_reports_groups_array() {
        assert!(id().unwrap().render().contains("\"groups\":["));
    }

    #[test]
    fn umask_is_four_octal_digits() {
        let mask = umask().unwrap();
        assert_eq!(mask.len(), 4, "{mask}");
        assert!(mask.bytes().all(|b| (b'0'..=b'7').contains(&b)), "{mask}");
    }
}
