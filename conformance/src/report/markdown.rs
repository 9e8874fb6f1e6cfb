//! report.md: a summary per runtime and a table of everything that did not pass.

use super::{one_line, Report, Status};
use std::fmt::Write;

pub fn render(r: &Report) -> String {
    let mut out = String::from("# oci-conform report\n\n| runtime | version | PASS | FAIL | ERROR | SKIP | UNSUPPORTED | XFAIL | XPASS |\n|---|---|---|---|---|---|---|---|---|\n");
    for rt in &r.runtimes {
        let s = r.summary.get(&rt.name);
        let n = |k: &str| s.and_then(|m| m.get(k)).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            rt.name,
            one_line(&rt.version),
            n("PASS"),
            n("FAIL"),
            n("ERROR"),
            n("SKIP"),
            n("UNSUPPORTED"),
            n("XFAIL"),
            n("XPASS")
        );
    }
    let notable: Vec<_> = r
        .results
        .iter()
        .filter(|x| x.status != Status::Pass)
        .collect();
    if !notable.is_empty() {
        out.push_str("\n| runtime | scenario | status | reason |\n|---|---|---|---|\n");
        for x in notable {
            let reason = one_line(x.reason.as_deref().unwrap_or("")).replace('|', "\\|");
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                x.runtime,
                x.id,
                x.status.as_str(),
                reason
            );
        }
    }
    out
}
