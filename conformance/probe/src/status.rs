//! Parsing of `/proc/self/status` (capabilities, seccomp mode, no_new_privs).
//!
//! The kernel prints `Key:\tvalue` lines (proc(5)); we look fields up by
//! name and never by position, because the set of lines changes between
//! kernel versions.

use crate::error::ProbeError;

/// Path the probe reads its own status from.
pub const STATUS_PATH: &str = "/proc/self/status";

/// The value of field `key` in status text, trimmed.
pub fn field<'a>(text: &'a str, key: &str) -> Result<&'a str, ProbeError> {
    text.lines()
        .find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k == key).then(|| v.trim())
        })
        .ok_or_else(|| ProbeError::Parse {
            file: STATUS_PATH.to_string(),
            what: format!("no field {key}"),
        })
}

/// A hexadecimal capability mask field (`CapEff` and friends).
pub fn cap_mask(text: &str, key: &str) -> Result<u64, ProbeError> {
    let raw = field(text, key)?;
    u64::from_str_radix(raw, 16).map_err(|_| ProbeError::Parse {
        file: STATUS_PATH.to_string(),
        what: format!("{key} is not hex: {raw:?}"),
    })
}

/// A decimal field (`Seccomp`, `NoNewPrivs`).
pub fn number(text: &str, key: &str) -> Result<i64, ProbeError> {
    let raw = field(text, key)?;
    raw.parse().map_err(|_| ProbeError::Parse {
        file: STATUS_PATH.to_string(),
        what: format!("{key} is not a number: {raw:?}"),
    })
}

/// Reads the probe's own status file.
pub fn read_own() -> Result<String, ProbeError> {
    std::fs::read_to_string(STATUS_PATH).map_err(|e| ProbeError::read(STATUS_PATH, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const SAMPLE: &str = "Name:\tprobe\nUmask:\t0022\nState:\tR (running)\n\
        CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n\
        CapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n\
        Seccomp:\t2\nSeccomp_filters:\t1\n";

    #[rstest]
    #[case("CapInh", 0)]
    #[case("CapEff", 0xa80425fb)]
    #[case("CapBnd", 0x1fffeffffff)]
    fn cap_masks(#[case] key: &str, #[case] expected: u64) {
        assert_eq!(cap_mask(SAMPLE, key), Ok(expected));
    }

    #[rstest]
    #[case("Seccomp", 2)]
    #[case("Seccomp_filters", 1)]
    #[case("NoNewPrivs", 1)]
    fn numbers(#[case] key: &str, #[case] expected: i64) {
        assert_eq!(number(SAMPLE, key), Ok(expected));
    }

    #[test]
    fn prefix_of_a_key_does_not_match() {
        // "Seccomp" must not pick up "Seccomp_filters" or vice versa.
        let text = "Seccomp_filters:\t3\nSeccomp:\t0\n";
        assert_eq!(number(text, "Seccomp"), Ok(0));
    }

    #[test]
    fn missing_field_names_it() {
        let err = number(SAMPLE, "Nope").unwrap_err();
        assert_eq!(err.to_string(), "parse /proc/self/status: no field Nope");
    }

    #[test]
    fn garbage_hex_is_a_parse_error() {
        let err = cap_mask("CapEff:\tzz\n", "CapEff").unwrap_err();
        assert!(matches!(err, ProbeError::Parse { .. }));
    }
}
