//! Signal names as runc accepts them: `KILL`, `SIGKILL`, or a number.

use nix::sys::signal::Signal;
use std::str::FromStr;

/// The signal number for a name (with or without `SIG`, any case) or a decimal number.
pub fn parse(text: &str) -> Option<i32> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).ok().map(|s| s as i32)
}

/// `SIGKILL` for 9; `SIG<n>` for numbers nix does not name (real-time signals).
pub fn name(n: i32) -> String {
    Signal::try_from(n)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("SIG{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("KILL", Some(9))]
    #[case("SIGTERM", Some(15))]
    #[case("sigusr1", Some(10))]
    #[case("9", Some(9))]
    #[case("0", None)]
    #[case("NOPE", None)]
    fn parses(#[case] t: &str, #[case] want: Option<i32>) {
        assert_eq!(parse(t), want);
    }

    #[test]
    fn names() {
        assert_eq!(name(9), "SIGKILL");
    }
}
