//! PLACEHOLDER until the pieces branch lands (same contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sig(pub i32);
#[derive(Debug, thiserror::Error)]
#[error("unknown signal {0:?}")]
pub struct SignalError(pub String);
pub fn parse_signal(s: &str) -> Result<Sig, SignalError> {
    let u = s.trim_start_matches("SIG");
    match u {
        "KILL" | "9" => Ok(Sig(9)),
        "TERM" | "15" => Ok(Sig(15)),
        "INT" | "2" => Ok(Sig(2)),
        "HUP" | "1" => Ok(Sig(1)),
        "USR1" | "10" => Ok(Sig(10)),
        _ => Err(SignalError(s.into())),
    }
}
