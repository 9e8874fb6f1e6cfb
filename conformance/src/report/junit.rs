//! JUnit XML: one <testsuite> per runtime, one <testcase> per scenario (classname =
//! `runtime.area`). FAIL/XPASS -> <failure>, ERROR -> <error>, SKIP/UNSUPPORTED/XFAIL ->
//! <skipped> (XFAIL is expected, so CI should not count it as broken).

use super::{Report, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Escapes text for XML 1.0 content and attributes. Characters XML 1.0 does not allow at all,
/// not even as character references (`&#x1b;` is as illegal as a raw ESC), become a visible
/// `\x1b`: runtime stderr often holds terminal escapes, and a CI server rejects the whole
/// file over one of them.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

pub fn render(r: &Report) -> String {
    let mut by_rt: BTreeMap<&str, Vec<&super::ScenarioResult>> = BTreeMap::new();
    for res in &r.results {
        by_rt.entry(&res.runtime).or_default().push(res);
    }
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"oci-conform\" time=\"{:.3}\">\n",
        r.duration_ms as f64 / 1000.0
    );
    for (rt, results) in by_rt {
        let count = |f: &dyn Fn(Status) -> bool| results.iter().filter(|x| f(x.status)).count();
        let failures = count(&|s| s.is_failure());
        let errors = count(&|s| s == Status::Error);
        let skipped = count(&|s| matches!(s, Status::Skip | Status::Unsupported | Status::Xfail));
        // The runtimes' scenarios run side by side on --jobs workers: the sum of their
        // durations overstates the time the suite took, so every suite reports the run's.
        let time = r.duration_ms;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            escape(rt),
            results.len(),
            time as f64 / 1000.0
        );
        for res in results {
            let area = res.area();
            let _ = write!(
                out,
                "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\"",
                escape(rt),
                escape(area),
                escape(&res.id),
                res.duration_ms as f64 / 1000.0
            );
            let reason = escape(res.reason.as_deref().unwrap_or(""));
            let detail = match res.failed_evidence() {
                Some(e) => format!("{reason}\n{}", escape(&super::evidence_text(e))),
                None => reason.clone(),
            };
            let body = match res.status {
                Status::Pass => None,
                Status::Fail | Status::Xpass => Some(format!(
                    "<failure message=\"{}: {reason}\">{detail}</failure>",
                    res.status.as_str()
                )),
                Status::Error => Some(format!("<error message=\"{reason}\">{detail}</error>")),
                Status::Skip | Status::Unsupported | Status::Xfail => Some(format!(
                    "<skipped message=\"{}: {reason}\"/>",
                    res.status.as_str()
                )),
            };
            match body {
                None => out.push_str("/>\n"),
                Some(b) => {
                    let _ = writeln!(out, ">\n      {b}\n    </testcase>");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_classifies() {
        assert_eq!(escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;\\x01");
        assert_eq!(
            escape("\u{1b}[31mred\tx\r\n\u{fffe}é"),
            "\\x1b[31mred\tx\r\n\\xfffeé"
        );
        let mut sample = crate::report::tap::tests::sample();
        sample.duration_ms = 1234;
        let x = render(&sample);
        assert!(
            x.contains("<testsuites name=\"oci-conform\" time=\"1.234\">"),
            "{x}"
        );
        assert!(x.contains("skipped=\"2\" time=\"1.234\">"), "{x}");
        assert!(
            x.contains(
                "<testsuite name=\"runc\" tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"2\""
            ),
            "{x}"
        );
        assert!(
            x.contains("<testcase classname=\"runc.a\" name=\"a.pass\" time=\"0.005\"/>"),
            "{x}"
        );
        assert!(x.contains("<skipped message=\"XFAIL: known\"/>"), "{x}");
        assert!(
            x.contains("stderr: boom &amp; &lt;bang&gt;</failure>"),
            "{x}"
        );
    }
}
