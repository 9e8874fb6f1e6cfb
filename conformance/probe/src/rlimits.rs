//! `rlimits`: every resource limit as `{"RLIMIT_NOFILE":{"soft":1024,"hard":1024},…}`.
//!
//! Keys use the OCI config's `process.rlimits[].type` spelling, and
//! RLIM_INFINITY prints as 18446744073709551615 (the u64 the config uses).

use crate::error::ProbeError;
use crate::json::Json;

/// (config name, resource number) in resource-number order.
pub const RESOURCES: [(&str, libc::__rlimit_resource_t); 16] = [
    ("RLIMIT_CPU", libc::RLIMIT_CPU),
    ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE),
    ("RLIMIT_DATA", libc::RLIMIT_DATA),
    ("RLIMIT_STACK", libc::RLIMIT_STACK),
    ("RLIMIT_CORE", libc::RLIMIT_CORE),
    ("RLIMIT_RSS", libc::RLIMIT_RSS),
    ("RLIMIT_NPROC", libc::RLIMIT_NPROC),
    ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE),
    ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK),
    ("RLIMIT_AS", libc::RLIMIT_AS),
    ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS),
    ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING),
    ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE),
    ("RLIMIT_NICE", libc::RLIMIT_NICE),
    ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO),
    ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME),
];

/// Renders (name, soft, hard) triples as the report object.
pub fn render(limits: &[(&str, u64, u64)]) -> Json {
    Json::object(
        limits
            .iter()
            .map(|(name, soft, hard)| {
                (
                    *name,
                    Json::object(vec![
                        ("soft", Json::UInt(*soft)),
                        ("hard", Json::UInt(*hard)),
                    ]),
                )
            })
            .collect(),
    )
}

/// Reads every limit of the calling process.
pub fn report() -> Result<Json, ProbeError> {
    let mut limits = Vec::with_capacity(RESOURCES.len());
    for (name, resource) in RESOURCES {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `lim` is a valid, writable rlimit for the duration of the call.
        if unsafe { libc::getrlimit(resource, &mut lim) } != 0 {
            return Err(ProbeError::last_os("getrlimit"));
        }
        limits.push((name, lim.rlim_cur, lim.rlim_max));
    }
    Ok(render(&limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_config_spelling_and_infinity_as_u64_max() {
        let json = render(&[
            ("RLIMIT_NOFILE", 512, 1024),
            ("RLIMIT_CORE", u64::MAX, u64::MAX),
        ]);
        assert_eq!(
            json.render(),
            r#"{"RLIMIT_NOFILE":{"soft":512,"hard":1024},"RLIMIT_CORE":{"soft":18446744073709551615,"hard":18446744073709551615}}"#
        );
    }

    #[test]
    fn reads_all_limits_of_this_process() {
        let text = report().unwrap().render();
        for (name, _) in RESOURCES {
            assert!(text.contains(&format!("\"{name}\"")), "{name} missing");
        }
    }
}
