//! `matrix` and `gate`.

use super::{EXIT_OK, EXIT_USAGE};
use crate::cli::{GateArgs, MatrixArgs};
use oci_conform::report::judge::{Judge, EXIT_ERROR, EXIT_FAIL};
use oci_conform::report::{gate, html, matrix, Report};
use std::path::{Path, PathBuf};

pub fn matrix(a: &MatrixArgs) -> i32 {
    let mut sources = Vec::new();
    for arg in &a.reports {
        let loaded = matrix::parse_source_arg(arg)
            .map_err(|e| e.to_string())
            .and_then(|(label, path)| {
                let report = Report::load(std::path::Path::new(&path))?;
                Ok(matrix::Source {
                    label,
                    origin: path,
                    report,
                })
            });
        match loaded {
            Ok(s) => sources.push(s),
            Err(e) => {
                eprintln!("oci-conform: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let m = match matrix::build(&sources, a.only_diverging) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(page) = &a.html {
        if let Err(e) = write_html(&sources, a, page) {
            eprintln!("oci-conform: {}: {e}", page.display());
            return EXIT_ERROR;
        }
        eprintln!("wrote {}", page.display());
    }
    let md = matrix::markdown(&m);
    match &a.out {
        None if a.html.is_some() => {}
        None => out!("{md}"),
        Some(dir) => {
            let json = serde_json::to_string_pretty(&m).unwrap_or_default();
            let r = std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(dir.join("matrix.md"), &md))
                .and_then(|_| std::fs::write(dir.join("matrix.json"), json));
            if let Err(e) = r {
                eprintln!("oci-conform: {}: {e}", dir.display());
                return EXIT_ERROR;
            }
            eprintln!(
                "wrote {} and {}",
                dir.join("matrix.md").display(),
                dir.join("matrix.json").display()
            );
        }
    }
    EXIT_OK
}

/// The HTML page at `page`; its links start from `--link-base` or, by default, from the
/// current directory as seen from the page's directory.
fn write_html(sources: &[matrix::Source], a: &MatrixArgs, page: &Path) -> std::io::Result<()> {
    let dir = match page.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let link_base = match &a.link_base {
        Some(b) => b.clone(),
        None => html::relative_dir(&dir.canonicalize()?, &std::env::current_dir()?),
    };
    let opts = html::Options {
        link_base,
        only_diverging: a.only_diverging,
    };
    let text = html::render(sources, &opts).map_err(std::io::Error::other)?;
    std::fs::write(page, text)
}

pub fn gate(a: &GateArgs) -> i32 {
    let (base, now) = match (Report::load(&a.baseline), Report::load(&a.report)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("oci-conform: {e}");
            return EXIT_USAGE;
        }
    };
    let judge = Judge::new(&a.judge);
    let g = gate::compare(&base, &now, &judge);
    for f in &g.fixed {
        outln!("fixed: {f}");
    }
    for w in &g.warnings {
        outln!("warning: {w}");
    }
    for r in &g.informational {
        outln!("reference (not judged): {r}");
    }
    for r in &g.regressions {
        outln!("REGRESSION: {r}");
    }
    for rt in &g.judged_absent {
        outln!("MISSING: {rt}: judged, in the baseline, but not in this report");
    }
    for line in now.closing_lines(&judge) {
        outln!("{line}");
    }
    if !g.regressions.is_empty() {
        outln!(
            "gate: FAIL: {} regression(s) of judged runtimes",
            g.regressions.len()
        );
        EXIT_FAIL
    } else if g.compared == 0 || !g.judged_absent.is_empty() {
        outln!(
            "gate: FAIL: compared {} judged baseline PASS(es); a gate that compares nothing proves nothing",
            g.compared
        );
        EXIT_ERROR
    } else {
        outln!(
            "gate: ok ({} judged baseline PASS(es) compared)",
            g.compared
        );
        EXIT_OK
    }
}
