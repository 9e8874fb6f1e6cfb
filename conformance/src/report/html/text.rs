//! Text that goes into the page: HTML escaping and the links to scenario files.

use std::fmt::Write;
use std::path::{Component, Path};

/// Text for HTML content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The link to a scenario file: `base` + the recorded path, percent-encoded so that no part
/// of a path (a `:`, say) can turn it into a scheme or a fragment. An absolute path under the
/// default (empty or relative) base becomes a `file://` URL.
pub fn href(base: &str, path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let enc = |p: &str| -> String {
        let mut out = String::new();
        for b in p.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                    out.push(b as char)
                }
                _ => {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
        out
    };
    let is_url = base.contains("://");
    if path.starts_with('/') && !is_url {
        return Some(format!("file://{}", enc(path)));
    }
    let rel = path.trim_start_matches("./").trim_start_matches('/');
    let sep = if base.is_empty() || base.ends_with('/') {
        ""
    } else {
        "/"
    };
    Some(format!("{base}{sep}{}", enc(rel)))
}

/// The relative path from directory `from` to directory `to`, with a trailing `/` (empty when
/// they are the same): the default link base, from the page's directory to where the reports'
/// relative scenario paths start.
pub fn relative_dir(from: &Path, to: &Path) -> String {
    let parts = |p: &Path| -> Vec<String> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    };
    let (f, t) = (parts(from), parts(to));
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = "../".repeat(f.len() - common);
    for p in &t[common..] {
        out.push_str(p);
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        assert_eq!(
            href("", "scenarios/a/b.yaml").unwrap(),
            "scenarios/a/b.yaml"
        );
        assert_eq!(
            href("https://example.org/tree/main", "./scenarios/a b#c.yaml").unwrap(),
            "https://example.org/tree/main/scenarios/a%20b%23c.yaml"
        );
        assert_eq!(
            href("", "javascript:alert(1)").unwrap(),
            "javascript%3Aalert%281%29"
        );
        assert_eq!(href("../", "/abs/x.yaml").unwrap(), "file:///abs/x.yaml");
        assert_eq!(href("../", ""), None);
        assert_eq!(
            relative_dir(Path::new("/r/target/ci"), Path::new("/r")),
            "../../"
        );
        assert_eq!(relative_dir(Path::new("/r"), Path::new("/r")), "");
        assert_eq!(
            relative_dir(Path::new("/tmp/x"), Path::new("/r/s")),
            "../../r/s/"
        );
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("a'b\"<c>&"), "a&#39;b&quot;&lt;c&gt;&amp;");
    }
}
