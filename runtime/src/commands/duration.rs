//! Durations as runc's command line spells them: Go's `time.ParseDuration` syntax.
//!
//! A sequence of decimal numbers, each with an optional fraction and a required unit (`ns`,
//! `us`/`µs`, `ms`, `s`, `m`, `h`), such as `5s`, `1m30s`, `1.5h` or `100ms`, an optional
//! leading sign, or a bare `0`. As in Go, the total must fit in an i64 of nanoseconds (about
//! 292 years); anything longer is an error, never an overflow.

use std::time::Duration;

const UNITS: [(&str, u128); 9] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("", 0),
];

/// Go's bound: the largest `time.Duration`.
const MAX_NANOS: u128 = i64::MAX as u128;

/// Why a duration did not parse, worded as Go words it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {0:?}")]
    Invalid(String),
    #[error("missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("unknown unit {unit:?} in duration {text:?}")]
    UnknownUnit { unit: String, text: String },
    #[error("duration {0:?} is longer than the longest allowed (about 292 years)")]
    TooLong(String),
}

/// A parsed duration: its sign and magnitude (Go allows negative durations; callers decide).
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub negative: bool,
    pub magnitude: Duration,
}

pub fn parse(text: &str) -> Result<Parsed, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(Parsed {
            negative,
            magnitude: Duration::ZERO,
        });
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (nanos, tail) = term(rest, text)?;
        total = total
            .checked_add(nanos)
            .filter(|&t| t <= MAX_NANOS)
            .ok_or_else(|| DurationError::TooLong(text.to_string()))?;
        rest = tail;
    }
    Ok(Parsed {
        negative,
        magnitude: Duration::from_nanos(total as u64),
    })
}

/// One `<number>[.<fraction>]<unit>` from the front of `s`: its nanoseconds and the rest.
fn term<'a>(s: &'a str, text: &str) -> Result<(u128, &'a str), DurationError> {
    let too_long = || DurationError::TooLong(text.to_string());
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    let (int, after) = s.split_at(int_len);
    let (frac, after) = match after.strip_prefix('.') {
        Some(a) => a.split_at(a.bytes().take_while(u8::is_ascii_digit).count()),
        None => ("", after),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(DurationError::Invalid(text.to_string()));
    }
    let unit_len = after
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(after.len());
    let (unit, rest) = after.split_at(unit_len);
    let scale = match UNITS.iter().find(|(u, _)| *u == unit) {
        Some((_, 0)) => return Err(DurationError::MissingUnit(text.to_string())),
        Some((_, n)) => *n,
        None => {
            return Err(DurationError::UnknownUnit {
                unit: unit.to_string(),
                text: text.to_string(),
            })
        }
    };
    // Digits beyond what fits are an overflow: no valid duration has that many.
    let int = int.trim_start_matches('0');
    let whole: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_long())?
    };
    let mut nanos = whole.checked_mul(scale).ok_or_else(too_long)?;
    // The fraction, truncated to what a nanosecond can hold (Go truncates too).
    let mut place = scale;
    for d in frac.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        nanos += u128::from(d - b'0') * place;
    }
    Ok((nanos, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("5s", 5_000_000_000)]
    #[case("1m30s", 90_000_000_000)]
    #[case("100ms", 100_000_000)]
    #[case("1.5h", 5_400_000_000_000)]
    #[case(".5s", 500_000_000)]
    #[case("1.s", 1_000_000_000)]
    #[case("2us", 2_000)]
    #[case("2µs", 2_000)]
    #[case("7ns", 7)]
    #[case("0", 0)]
    #[case("000000000000000000000000000000000000000001s", 1_000_000_000)]
    #[case("+3m", 180_000_000_000)]
    #[case("2562047h47m16.854775807s", i64::MAX as u64)]
    fn go_durations(#[case] text: &str, #[case] nanos: u64) {
        let p = parse(text).unwrap();
        assert_eq!(p.magnitude, Duration::from_nanos(nanos), "{text}");
        assert!(!p.negative);
    }

    #[test]
    fn a_negative_duration_parses_with_its_sign() {
        let p = parse("-1s").unwrap();
        assert!(p.negative);
        assert_eq!(p.magnitude, Duration::from_secs(1));
    }

    #[rstest]
    #[case("", "invalid duration \"\"")]
    #[case("-", "invalid duration \"-\"")]
    #[case("s", "invalid duration \"s\"")]
    #[case(".s", "invalid duration \".s\"")]
    #[case("5", "missing unit in duration \"5\"")]
    #[case("1s5", "missing unit in duration \"1s5\"")]
    #[case("5x", "unknown unit \"x\" in duration \"5x\"")]
    #[case("3 s", "unknown unit \" s\" in duration \"3 s\"")]
    #[case("99999999999999999999s", "is longer than the longest allowed")]
    #[case("2562047h47m16.854775808s", "is longer than the longest allowed")]
    #[case("9223372036854775807h", "is longer than the longest allowed")]
    fn bad_durations_say_why(#[case] text: &str, #[case] want: &str) {
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}
