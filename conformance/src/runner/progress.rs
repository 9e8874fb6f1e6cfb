//! Progress on stderr: on a terminal a status line that rewrites itself plus a line per
//! non-passing result; elsewhere (CI logs) one plain line per result.

use crate::report::{ScenarioResult, Status};
use std::io::Write;

pub struct Progress {
    tty: bool,
    total: usize,
    done: usize,
    passed: usize,
    failed: usize,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        Progress {
            tty,
            total,
            done: 0,
            passed: 0,
            failed: 0,
        }
    }

    pub fn result(&mut self, r: &ScenarioResult) {
        self.done += 1;
        match r.status {
            Status::Pass => self.passed += 1,
            s if s.is_failure() || s == Status::Error => self.failed += 1,
            _ => {}
        }
        let mut err = std::io::stderr().lock();
        let line = format!(
            "[{}/{}] {:<11} {}: {} ({} ms){}",
            self.done,
            self.total,
            r.status.as_str(),
            r.runtime,
            r.id,
            r.duration_ms,
            r.reason
                .as_deref()
                .map(|x| format!(" - {}", first_line(x)))
                .unwrap_or_default()
        );
        if self.tty {
            let _ = write!(err, "\r\x1b[K");
            if r.status != Status::Pass {
                let _ = writeln!(err, "{line}");
            }
            let _ = write!(
                err,
                "[{}/{}] {} passed, {} failed; last: {} {}",
                self.done, self.total, self.passed, self.failed, r.runtime, r.id
            );
        } else {
            let _ = writeln!(err, "{line}");
        }
    }

    pub fn finish(&self) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

fn first_line(s: &str) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.len() > 160 {
        let mut cut = 160;
        while !l.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &l[..cut])
    } else {
        l.to_string()
    }
}
