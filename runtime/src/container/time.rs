//! RFC 3339 timestamps with nanoseconds in UTC (runc prints Go's RFC3339Nano).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn rfc3339_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Civil-from-days (Howard Hinnant's algorithm): no timezone database is needed for UTC.
pub fn format_rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{nanos:09}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0, 0, "1970-01-01T00:00:00.000000000Z")]
    #[case(951_782_400, 5, "2000-02-29T00:00:00.000000005Z")]
    #[case(1_798_761_599, 999_999_999, "2026-12-31T23:59:59.999999999Z")]
    fn formats(#[case] secs: i64, #[case] nanos: u32, #[case] want: &str) {
        assert_eq!(format_rfc3339(secs, nanos), want);
    }
}
