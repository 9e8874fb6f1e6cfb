//! Signal names and numbers as `kill` accepts them: runc's rules (a number, or a name in any
//! case with or without `SIG`), plus the real-time forms `RTMIN+n` / `RTMAX-n`. The number 0
//! is kill(2)'s null signal: nothing is sent, the target is only checked (runc accepts it).

use std::str::FromStr;

/// A signal number; unlike nix's `Signal` it can hold real-time signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sig(pub i32);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignalError {
    #[error("unknown signal {0:?}")]
    Unknown(String),
}

fn rt_range() -> (i32, i32) {
    (libc::SIGRTMIN(), libc::SIGRTMAX())
}

pub fn parse_signal(s: &str) -> Result<Sig, SignalError> {
    let unknown = || SignalError::Unknown(s.to_string());
    let t = s.trim();
    let (rtmin, rtmax) = rt_range();
    if let Ok(n) = t.parse::<i32>() {
        return if (0..=rtmax).contains(&n) {
            Ok(Sig(n))
        } else {
            Err(unknown())
        };
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(rest) = name.strip_prefix("RTMIN") {
        let off = parse_offset(rest, '+').ok_or_else(unknown)?;
        return (rtmin + off <= rtmax)
            .then_some(Sig(rtmin + off))
            .ok_or_else(unknown);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        let off = parse_offset(rest, '-').ok_or_else(unknown)?;
        return (rtmax - off >= rtmin)
            .then_some(Sig(rtmax - off))
            .ok_or_else(unknown);
    }
    nix::sys::signal::Signal::from_str(&format!("SIG{name}"))
        .map(|sig| Sig(sig as i32))
        .map_err(|_| unknown())
}

/// "" is 0; otherwise `<sign><number>`.
fn parse_offset(rest: &str, sign: char) -> Option<i32> {
    if rest.is_empty() {
        return Some(0);
    }
    rest.strip_prefix(sign)?
        .parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("KILL", 9)]
    #[case("SIGKILL", 9)]
    #[case("kill", 9)]
    #[case("sigterm", 15)]
    #[case("9", 9)]
    #[case("HUP", 1)]
    #[case("SIGUSR1", 10)]
    #[case("WINCH", 28)]
    #[case("RTMIN", 34)]
    #[case("SIGRTMIN+3", 37)]
    #[case("RTMAX-1", 63)]
    #[case("64", 64)]
    #[case("0", 0)]
    fn known(#[case] input: &str, #[case] n: i32) {
        assert_eq!(parse_signal(input), Ok(Sig(n)));
    }

    #[rstest]
    #[case("FOO")]
    #[case("SIG")]
    #[case("SIG0")]
    #[case("65")]
    #[case("-9")]
    #[case("RTMIN+40")]
    #[case("RTMAX+1")]
    fn unknown(#[case] input: &str) {
        let e = parse_signal(input).unwrap_err();
        assert!(e.to_string().contains(input), "{e}");
    }
}
