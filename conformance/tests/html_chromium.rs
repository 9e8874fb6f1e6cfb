//! `oci-conform matrix --html` as a browser shows it: headless Chromium (Debian's `chromium`)
//! takes a screenshot of the page and dumps the DOM it rendered, and the table must hold the
//! expected rows, statuses, links and reasons. The reports are made here.
//!
//! `#[ignore]`d like the root tests: `cargo test -p oci-conform -- --include-ignored` runs it,
//! and then a missing chromium FAILS it (CI installs it through scripts/setup.sh).

mod common;

use common::{bin, require, result_json as result, stderr, write_report, Need};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "chromium";
/// A headless Chromium renders this page in about a second; a hung one is killed.
const DEADLINE: Duration = Duration::from_secs(90);

/// Runs chromium with the flags that keep it off the network and out of the user's profile,
/// in its own process group, killed as a whole at the deadline. Returns stdout.
fn chromium(profile: &Path, args: &[String]) -> String {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stdout), &mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > DEADLINE {
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!("chromium {args:?} did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium {args:?}: {status}");
    reader.join().unwrap()
}

/// The `<tr id="ID">` row of the dumped DOM, up to its `</tr>`.
fn row<'a>(dom: &'a str, id: &str) -> &'a str {
    let from = dom
        .find(&format!("<tr id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no row {id} in the DOM"));
    let len = dom[from..].find("</tr>").unwrap();
    &dom[from..from + len]
}

/// The `<td ...>...</td>` cells of a row, the scenario and level first.
fn cells(row: &str) -> Vec<&str> {
    row.split("<td").skip(1).collect()
}

#[test]
#[ignore = "needs chromium"]
fn chromium_renders_the_matrix_page() {
    require("chromium_renders_the_matrix_page", &[Need::Tool(CHROMIUM)]);
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("runc.json"), tmp.path().join("ferrun.json"));
    write_report(
        &a,
        "runc",
        vec![
            result("runc", "a.one", "PASS", None),
            result("runc", "a.two", "XFAIL", Some("runc 1.1 lacks it & more")),
            result("runc", "b.one", "SKIP", Some("no BFQ")),
            result("runc", "b.two", "PASS", None),
            result("runc", "c.<script>x", "PASS", None),
        ],
    );
    write_report(
        &b,
        "ferrun",
        vec![
            result("ferrun", "a.one", "PASS", None),
            result("ferrun", "a.two", "XFAIL", Some("runc 1.1 lacks it & more")),
            result("ferrun", "b.one", "SKIP", Some("no BFQ")),
            result("ferrun", "b.two", "FAIL", Some("exit 1: \"boom\"")),
        ],
    );
    let page = tmp.path().join("page/matrix.html");
    let o = bin()
        .args(["matrix", "--html"])
        .arg(&page)
        .args(["--link-base", "https://example.org/ferrun/blob/main/"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "--html alone prints no Markdown");
    let url = format!("file://{}", page.display());

    let png = tmp.path().join("shot.png");
    chromium(
        &tmp.path().join("profile1"),
        &[format!("--screenshot={}", png.display()), url.clone()],
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let dim = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((dim(16), dim(20)), (1200, 900), "IHDR: the window size");
    // A blank 1200x900 page compresses to about 5 KB; bars, colours and text make far more.
    assert!(
        bytes.len() > 20_000,
        "a near-empty screenshot: {} bytes",
        bytes.len()
    );

    let dom = chromium(&tmp.path().join("profile2"), &["--dump-dom".into(), url]);
    // A parsed element would be serialized with its end tag; the id must stay text.
    assert!(!dom.contains("</script>"), "an id is text, never markup");
    // Diverging first (b.two differs, c.<script>x is missing in ferrun), then the rest.
    // (The id attribute is matched by its start: Chromium escapes `<` in attribute values
    // only since version 138.)
    let at = |id: &str| dom.find(&format!("<tr id=\"{id}")).unwrap();
    assert!(at("b.two") < at("c."));
    assert!(
        dom.contains("2 scenario(s) where the runtimes disagree"),
        "{dom}"
    );
    assert!(
        dom.contains("3 scenario(s) where the runtimes agree"),
        "{dom}"
    );
    let diverging_end = dom.find("where the runtimes agree").unwrap();
    assert!(at("c.") < diverging_end && at("a.one") > diverging_end);

    let two = cells(row(&dom, "b.two"));
    assert_eq!(two.len(), 4, "scenario, level, runc, ferrun: {two:?}");
    let link = "href=\"https://example.org/ferrun/blob/main/scenarios/b/two.yaml\"";
    assert!(
        two[0].contains(link) && two[0].contains(">b.two</a>"),
        "{}",
        two[0]
    );
    assert!(
        two[2].starts_with(" class=\"pass\"")
            && two[2].contains(link)
            && two[2].contains(">PASS</a>"),
        "{}",
        two[2]
    );
    assert!(
        two[3].starts_with(" class=\"fail\" title=\"exit 1: &quot;boom&quot;\"")
            && two[3].contains(">FAIL</a>")
            && two[3].contains("<details><summary>why</summary><p>exit 1: \"boom\"</p></details>"),
        "{}",
        two[3]
    );
    let xss = &dom[at("c.")..];
    let xss = &xss[..xss.find("</tr>").unwrap()];
    assert!(xss.contains(">c.&lt;script&gt;x</a>"), "{xss}");
    assert!(xss.contains("%3Cscript%3Ex.yaml"), "{xss}");
    assert!(
        xss.ends_with("<td class=\"none\">—</td>"),
        "ferrun has no result: {xss}"
    );
    let xfail = cells(row(&dom, "a.two"));
    assert!(
        xfail[3].contains("title=\"runc 1.1 lacks it &amp; more\""),
        "{}",
        xfail[3]
    );

    // The bars: runc passed 3 of 5, ferrun 1 of 4.
    let all = &dom[dom.find("<tr class=\"all\">").unwrap()..];
    let all = &all[..all.find("</tr>").unwrap()];
    assert!(
        all.contains("60%</span> <span class=\"of\">3/5</span>"),
        "{all}"
    );
    assert!(
        all.contains("25%</span> <span class=\"of\">1/4</span>"),
        "{all}"
    );
    assert!(
        all.contains("class=\"pass\" style=\"width:60.0%\""),
        "{all}"
    );
    eprintln!("chromium test: {:?}", started.elapsed());
}
