//! Human durations in scenarios (`500ms`, `10s`, `2m`, or a bare number of seconds).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// A duration written as `<n>ms`, `<n>s`, `<n>m` or a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl Dur {
    pub fn parse(text: &str) -> Result<Dur, String> {
        let t = text.trim();
        let (num, mult_ms) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1u64)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1000)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 60_000)
        } else {
            (t, 1000)
        };
        let value: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("invalid duration `{text}` (use e.g. 500ms, 10s, 2m)"))?;
        if !(0.0..=86_400_000.0).contains(&value) {
            return Err(format!("duration `{text}` out of range"));
        }
        Ok(Dur(Duration::from_millis((value * mult_ms as f64) as u64)))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::String(s) => Dur::parse(&s).map_err(D::Error::custom),
            serde_json::Value::Number(n) => Dur::parse(&n.to_string()).map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a duration like 10s, got {other}"
            ))),
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", self.0.as_millis()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("500ms", 500)]
    #[case("10s", 10_000)]
    #[case("2m", 120_000)]
    #[case("1.5s", 1500)]
    #[case("3", 3000)]
    fn parses(#[case] text: &str, #[case] ms: u64) {
        assert_eq!(Dur::parse(text).unwrap().0, Duration::from_millis(ms));
    }

    #[rstest]
    #[case("ten seconds")]
    #[case("-1s")]
    #[case("")]
    fn rejects(#[case] text: &str) {
        assert!(Dur::parse(text).is_err());
    }
}
