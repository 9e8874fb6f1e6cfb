//! CRIU's own reason for a failure: the `Error` lines of its log (dump.log, restore.log in
//! the work directory), which runc quotes as warnings and we also put into the error itself.

use std::path::Path;

/// At most this many Error lines are quoted (the last ones: CRIU's final word comes last).
const QUOTED: usize = 3;

/// The last Error lines of `log`, joined with "; ", or None when the log has none.
pub fn reason(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    reason_in(&text)
}

fn reason_in(text: &str) -> Option<String> {
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Error"))
        .map(str::trim)
        .collect();
    if errors.is_empty() {
        return None;
    }
    let from = errors.len().saturating_sub(QUOTED);
    Some(errors[from..].join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_the_last_error_lines() {
        let log = "(00.001) Version: 3.17.1\n\
                   (00.010) Error (criu/vdso.c:627): vdso: Unexpected rt vDSO area bounds\n\
                   (00.011) Error (criu/cr-dump.c:1783): Dumping FAILED.\n";
        let r = reason_in(log).unwrap();
        assert!(
            r.starts_with("(00.010) Error (criu/vdso.c:627): vdso: Unexpected rt vDSO area bounds")
        );
        assert!(r.ends_with("Dumping FAILED."));
    }

    #[test]
    fn a_log_without_errors_has_no_reason() {
        assert_eq!(reason_in("(00.001) Version: 3.17.1\n"), None);
    }

    #[test]
    fn only_the_last_three_are_kept() {
        let log = (1..=5).map(|i| format!("Error {i}\n")).collect::<String>();
        assert_eq!(reason_in(&log).unwrap(), "Error 3; Error 4; Error 5");
    }
}
