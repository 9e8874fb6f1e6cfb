//! The runtime matrix as one self-contained HTML page (`oci-conform matrix --html`): inline
//! CSS, no script, no font, image or stylesheet from anywhere, so it can be mailed, attached
//! to a CI run or opened from disk.
//!
//! First the pass rate of each runtime per area (the first part of a scenario id, as `--filter
//! area:` has it) as stacked bars, then the scenarios, those where the runtimes disagree first.
//! Each cell links to the scenario's YAML (the path the report recorded, under `--link-base`)
//! and carries the reason of a result that has one, as a tooltip and in a `<details>`.
//! Everything from a report is escaped: ids, reasons and paths are data, never markup.

use super::matrix::{self, MatrixError, Source};
use super::{ScenarioResult, Status};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

mod text;
pub use text::{escape, href, relative_dir};

/// Results of one runtime in one area, by the colour they get in the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AreaCount {
    pub pass: usize,
    pub xfail: usize,
    /// SKIP and UNSUPPORTED: the host or the runtime's features decided, nobody failed.
    pub skip: usize,
    /// FAIL, ERROR and XPASS.
    pub bad: usize,
}

impl AreaCount {
    pub fn total(&self) -> usize {
        self.pass + self.xfail + self.skip + self.bad
    }

    fn add(&mut self, s: Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Xfail => self.xfail += 1,
            Status::Skip | Status::Unsupported => self.skip += 1,
            Status::Fail | Status::Error | Status::Xpass => self.bad += 1,
        }
    }
}

/// `n` of `total` as a CSS width with one decimal (`0.0` for an empty total).
pub fn percent(n: usize, total: usize) -> String {
    if total == 0 {
        return "0.0".into();
    }
    format!("{:.1}", n as f64 * 100.0 / total as f64)
}

/// area -> column -> counts, over every result (`--only-diverging` does not change them).
pub fn areas(sources: &[Source]) -> BTreeMap<String, BTreeMap<String, AreaCount>> {
    let mut out: BTreeMap<String, BTreeMap<String, AreaCount>> = BTreeMap::new();
    for src in sources {
        for r in &src.report.results {
            out.entry(r.area().to_string())
                .or_default()
                .entry(matrix::column(&src.label, &r.runtime))
                .or_default()
                .add(r.status);
        }
    }
    out
}

pub struct Options {
    /// Prefix of the scenario links (a URL or a path relative to the page).
    pub link_base: String,
    pub only_diverging: bool,
}

/// The page. The columns and the refusal of a column two reports both fill are the matrix's.
pub fn render(sources: &[Source], opts: &Options) -> Result<String, MatrixError> {
    let m = matrix::build(sources, false)?;
    let mut cells: HashMap<(String, &str), &ScenarioResult> = HashMap::new();
    for src in sources {
        for r in &src.report.results {
            cells.insert((matrix::column(&src.label, &r.runtime), r.id.as_str()), r);
        }
    }
    let (diverging, agreeing): (Vec<_>, Vec<_>) =
        m.rows.iter().partition(|r| r.diverges(m.runtimes.len()));
    let mut out = String::from(HEAD);
    out.push_str("<h1>oci-conform matrix</h1>\n<p class=\"sub\">");
    for (i, src) in sources.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        let runtimes: Vec<String> = src
            .report
            .runtimes
            .iter()
            .map(|rt| {
                format!(
                    "<b>{}</b> {}",
                    escape(&matrix::column(&src.label, &rt.name)),
                    escape(&rt.version)
                )
            })
            .collect();
        let _ = write!(
            out,
            "{sep}{} ({})",
            runtimes.join(", "),
            escape(&src.origin)
        );
    }
    let _ = writeln!(
        out,
        "<br>{} scenarios, {} where the runtimes disagree</p>",
        m.rows.len(),
        diverging.len()
    );
    out.push_str(&bars(&m.runtimes, &areas(sources)));
    out.push_str(&table_head(&m.runtimes));
    section(
        &mut out,
        "diverging",
        "runtimes disagree",
        &diverging,
        &m.runtimes,
        &cells,
        opts,
    );
    if !opts.only_diverging {
        section(
            &mut out,
            "agreeing",
            "runtimes agree",
            &agreeing,
            &m.runtimes,
            &cells,
            opts,
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    Ok(out)
}

/// Per area a row, per runtime a stacked bar: pass, xfail, skipped, failed. The rows go
/// into two tables side by side, which a narrow window (or many runtimes) stacks.
fn bars(columns: &[String], areas: &BTreeMap<String, BTreeMap<String, AreaCount>>) -> String {
    let mut all: BTreeMap<String, AreaCount> = BTreeMap::new();
    for per in areas.values() {
        for (c, n) in per {
            let a = all.entry(c.clone()).or_default();
            a.pass += n.pass;
            a.xfail += n.xfail;
            a.skip += n.skip;
            a.bad += n.bad;
        }
    }
    let mut rows: Vec<(&str, &str, &BTreeMap<String, AreaCount>)> = vec![("all", "all", &all)];
    rows.extend(areas.iter().map(|(a, per)| (a.as_str(), "area", per)));
    let mut head = String::from("<table class=\"bars\">\n<tr><th>area</th>");
    for c in columns {
        let _ = write!(head, "<th>{}</th>", escape(c));
    }
    head.push_str("</tr>\n");
    let mut out = String::from(
        "<h2>Pass rate by area</h2>\n<p class=\"legend\"><i class=\"pass\"></i>PASS \
         <i class=\"xfail\"></i>XFAIL <i class=\"skip\"></i>SKIP/UNSUPPORTED \
         <i class=\"bad\"></i>FAIL/ERROR/XPASS</p>\n<div class=\"areas\">\n",
    );
    for half in rows.chunks(rows.len().div_ceil(2)) {
        out.push_str(&head);
        for (name, class, per) in half {
            let _ = write!(out, "<tr class=\"{class}\"><td>{}</td>", escape(name));
            for c in columns {
                out.push_str(&bar(&per.get(c).copied().unwrap_or_default()));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</div>\n");
    out
}

fn bar(n: &AreaCount) -> String {
    let t = n.total();
    if t == 0 {
        return "<td class=\"none\">—</td>".into();
    }
    let mut out = format!(
        "<td><div class=\"bar\" title=\"PASS {} · XFAIL {} · SKIP/UNSUPPORTED {} · FAIL/ERROR/XPASS {}\">",
        n.pass, n.xfail, n.skip, n.bad
    );
    for (class, k) in [
        ("pass", n.pass),
        ("xfail", n.xfail),
        ("skip", n.skip),
        ("bad", n.bad),
    ] {
        if k > 0 {
            let _ = write!(
                out,
                "<i class=\"{class}\" style=\"width:{}%\"></i>",
                percent(k, t)
            );
        }
    }
    let _ = write!(
        out,
        "</div><span class=\"rate\">{}%</span> <span class=\"of\">{}/{t}</span></td>",
        percent(n.pass, t).trim_end_matches(".0"),
        n.pass
    );
    out
}

fn table_head(columns: &[String]) -> String {
    let mut out = String::from(
        "<h2>Scenarios</h2>\n<table class=\"m\">\n<thead><tr><th>scenario</th><th>level</th>",
    );
    for c in columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead>\n");
    out
}

fn section(
    out: &mut String,
    class: &str,
    what: &str,
    rows: &[&matrix::Row],
    columns: &[String],
    cells: &HashMap<(String, &str), &ScenarioResult>,
    opts: &Options,
) {
    let _ = writeln!(
        out,
        "<tbody class=\"{class}\"><tr class=\"group\"><th colspan=\"{}\">{} scenario(s) where the {what}</th></tr>",
        columns.len() + 2,
        rows.len()
    );
    for row in rows {
        let first = columns
            .iter()
            .find_map(|c| cells.get(&(c.clone(), row.id.as_str())));
        let id = escape(&row.id);
        let name = match first.and_then(|r| href(&opts.link_base, &r.path)) {
            Some(h) => format!("<a href=\"{}\">{id}</a>", escape(&h)),
            None => id,
        };
        let title = first.map(|r| escape(&r.title)).unwrap_or_default();
        let _ = write!(
            out,
            "<tr id=\"{}\"><td class=\"id\" title=\"{title}\">{name}</td><td>{}</td>",
            escape(&row.id),
            escape(&row.level)
        );
        for c in columns {
            match cells.get(&(c.clone(), row.id.as_str())) {
                Some(r) => out.push_str(&cell(r, opts)),
                None => out.push_str("<td class=\"none\">—</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n");
}

/// A status, linked to the scenario's file, with its reason as tooltip and `<details>`.
fn cell(r: &ScenarioResult, opts: &Options) -> String {
    let st = r.status.as_str();
    let class = st.to_ascii_lowercase();
    let label = match href(&opts.link_base, &r.path) {
        Some(h) => format!("<a href=\"{}\">{st}</a>", escape(&h)),
        None => st.to_string(),
    };
    match r.reason.as_deref() {
        None => format!("<td class=\"{class}\">{label}</td>"),
        Some(why) => format!(
            "<td class=\"{class}\" title=\"{}\">{label}<details><summary>why</summary><p>{}</p></details></td>",
            escape(why),
            escape(why)
        ),
    }
}

/// The document up to `<body>`; the stylesheet is inlined so the page needs nothing else.
const HEAD: &str = concat!(
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    "<title>oci-conform matrix</title>\n<style>\n",
    include_str!("page.css"),
    "</style>\n</head>\n<body>\n"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn res(rt: &str, id: &str, st: Status, reason: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            title: format!("title of {id}"),
            path: format!("scenarios/{}.yaml", id.replace('.', "/")),
            reason: reason.map(str::to_string),
            ..fixture::result(rt, id, st)
        }
    }

    fn src(rt: &str, results: Vec<ScenarioResult>) -> Source {
        Source {
            label: None,
            origin: format!("{rt}/report.json"),
            report: fixture::report(rt, results),
        }
    }

    /// runc and ferrun; they disagree on `b.two` and `c.<script>` (missing in ferrun).
    fn sources() -> Vec<Source> {
        use Status::*;
        vec![
            src(
                "runc",
                vec![
                    res("runc", "a.one", Pass, None),
                    res(
                        "runc",
                        "a.two",
                        Xfail,
                        Some("runc 1.1 <lacks> \"it\" & more"),
                    ),
                    res("runc", "b.one", Skip, Some("no BFQ")),
                    res("runc", "b.two", Pass, None),
                    res("runc", "c.<script>", Pass, None),
                ],
            ),
            src(
                "ferrun",
                vec![
                    res("ferrun", "a.one", Pass, None),
                    res(
                        "ferrun",
                        "a.two",
                        Xfail,
                        Some("runc 1.1 <lacks> \"it\" & more"),
                    ),
                    res("ferrun", "b.one", Skip, Some("no BFQ")),
                    res("ferrun", "b.two", Fail, Some("exit 1")),
                ],
            ),
        ]
    }

    fn opts(only_diverging: bool) -> Options {
        Options {
            link_base: "../../".into(),
            only_diverging,
        }
    }

    #[test]
    fn escapes_everything_from_the_report() {
        let page = render(&sources(), &opts(false)).unwrap();
        assert!(!page.contains("<script>"), "an id is text, not markup");
        assert!(page.contains("<tr id=\"c.&lt;script&gt;\">"), "{page}");
        assert!(
            page.contains("title=\"runc 1.1 &lt;lacks&gt; &quot;it&quot; &amp; more\""),
            "{page}"
        );
        assert!(page.contains("<p>runc 1.1 &lt;lacks&gt; &quot;it&quot; &amp; more</p>"));
        assert!(
            page.contains("href=\"../../scenarios/c/%3Cscript%3E.yaml\""),
            "{page}"
        );
    }

    #[test]
    fn diverging_rows_come_first() {
        let page = render(&sources(), &opts(false)).unwrap();
        let at = |id: &str| page.find(&format!("<tr id=\"{id}\">")).unwrap();
        assert!(at("b.two") < at("c.&lt;script&gt;"));
        assert!(at("c.&lt;script&gt;") < at("a.one"));
        assert!(at("a.one") < at("a.two") && at("a.two") < at("b.one"));
        assert!(page.contains("2 scenario(s) where the runtimes disagree"));
        assert!(page.contains("3 scenario(s) where the runtimes agree"));
        assert!(page.contains("5 scenarios, 2 where the runtimes disagree"));
        // The missing cell and the failure with its reason.
        let row = &page[at("b.two")..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(
            "<td class=\"fail\" title=\"exit 1\"><a href=\"../../scenarios/b/two.yaml\">FAIL</a><details><summary>why</summary><p>exit 1</p></details></td>"
        ), "{row}");
        let only = render(&sources(), &opts(true)).unwrap();
        assert!(only.contains("<tr id=\"b.two\">") && !only.contains("<tr id=\"a.one\">"));
        assert!(only.contains("<td class=\"none\">—</td>"));
    }

    #[test]
    fn bars_show_the_pass_rate_per_area_and_runtime() {
        let a = areas(&sources());
        assert_eq!(
            a["b"]["ferrun"],
            AreaCount {
                pass: 0,
                xfail: 0,
                skip: 1,
                bad: 1
            }
        );
        assert_eq!(
            a["a"]["runc"],
            AreaCount {
                pass: 1,
                xfail: 1,
                skip: 0,
                bad: 0
            }
        );
        assert!(!a["c"].contains_key("ferrun"));
        let page = render(&sources(), &opts(false)).unwrap();
        let row = |area: &str| -> String {
            let from = page.find(&format!("<td>{area}</td>")).unwrap();
            page[from..from + page[from..].find("</tr>").unwrap()].to_string()
        };
        // all: runc 3 PASS of 5 results, ferrun 1 of 4.
        let all = row("all");
        assert!(
            all.contains("60%</span> <span class=\"of\">3/5</span>"),
            "{all}"
        );
        assert!(
            all.contains("<i class=\"pass\" style=\"width:60.0%\">"),
            "{all}"
        );
        assert!(
            all.contains("25%</span> <span class=\"of\">1/4</span>"),
            "{all}"
        );
        let a = row("a");
        assert!(a.contains("<i class=\"pass\" style=\"width:50.0%\"></i><i class=\"xfail\" style=\"width:50.0%\"></i>"), "{a}");
        let c = row("c");
        assert!(
            c.contains("100%</span>") && c.contains("<td class=\"none\">—</td>"),
            "{c}"
        );
        assert_eq!(percent(1, 3), "33.3");
        assert_eq!(percent(0, 0), "0.0");
    }

    #[test]
    fn the_page_stands_alone() {
        let page = render(&sources(), &opts(false)).unwrap();
        for outside in [
            "<script", "<link", "@import", "url(", "<img", "http://", "https://",
        ] {
            assert!(!page.contains(outside), "{outside}");
        }
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    }
}
