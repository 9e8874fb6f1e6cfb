//! Where in a YAML text a problem lies, for errors that serde_yaml cannot place: semantic
//! checks run on the parsed scenario, which keeps no spans, and serde_yaml gives a custom
//! error (an invalid duration, say) the position of the enclosing mapping, 1:1 at the top
//! level. The scenario files are block-style YAML written by people, so a line scan finds the
//! key again; when it cannot, callers keep the coarser position.

/// 1-based line and column.
pub type Pos = (usize, usize);

/// A place in a scenario, as a semantic check names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Where {
    /// A top-level key, optionally a key nested in its block (`requires` / `kernel`).
    Key(&'static str, Option<&'static str>),
    /// `steps[i]`, optionally one of its keys (`tty`, `exit`).
    Step(usize, Option<&'static str>),
    /// The first occurrence of this text (e.g. a `{{name}}` template).
    Text(String),
}

fn is_top_level(line: &str) -> bool {
    line.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

/// The line of the top-level `key:`.
fn top_key(lines: &[&str], key: &str) -> Option<usize> {
    let prefix = format!("{key}:");
    lines.iter().position(|l| l.starts_with(&prefix))
}

/// Lines `[start, end)` of the block under the top-level key at `start`.
fn block(lines: &[&str], start: usize) -> (usize, usize) {
    let end = lines[start + 1..]
        .iter()
        .position(|l| is_top_level(l))
        .map_or(lines.len(), |i| start + 1 + i);
    (start, end)
}

/// Position of `key:` (as a whole word) within lines `[from, to)`.
fn key_in(lines: &[&str], from: usize, to: usize, key: &str) -> Option<Pos> {
    let needle = format!("{key}:");
    (from..to).find_map(|i| {
        let l = lines[i];
        let mut at = 0;
        while let Some(k) = l[at..].find(&needle) {
            let col = at + k;
            let before = l[..col].chars().last();
            if before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
                return Some((i + 1, col + 1));
            }
            at = col + needle.len();
        }
        None
    })
}

/// Lines `[start, end)` of item `index` of the block sequence under top-level `steps:`.
fn step_lines(lines: &[&str], index: usize) -> Option<(usize, usize)> {
    let (start, end) = block(lines, top_key(lines, "steps")?);
    let items: Vec<usize> = (start + 1..end)
        .filter(|&i| lines[i].trim_start().starts_with("- ") || lines[i].trim() == "-")
        .collect();
    let indent = items
        .iter()
        .map(|&i| lines[i].len() - lines[i].trim_start().len())
        .min()?;
    let items: Vec<usize> = items
        .into_iter()
        .filter(|&i| lines[i].len() - lines[i].trim_start().len() == indent)
        .collect();
    let first = *items.get(index)?;
    Some((first, items.get(index + 1).copied().unwrap_or(end)))
}

/// Finds `w` in `text`; `None` when the scan cannot tell.
pub fn locate(text: &str, w: &Where) -> Option<Pos> {
    let lines: Vec<&str> = text.lines().collect();
    match w {
        Where::Key(key, None) => top_key(&lines, key).map(|i| (i + 1, 1)),
        Where::Key(key, Some(inner)) => {
            let (s, e) = block(&lines, top_key(&lines, key)?);
            key_in(&lines, s, e, inner).or(Some((s + 1, 1)))
        }
        Where::Step(i, key) => {
            let (s, e) = step_lines(&lines, *i)?;
            let item = lines[s].find('-').map_or(1, |c| c + 3);
            key.and_then(|k| key_in(&lines, s, e, k))
                .or(Some((s + 1, item)))
        }
        Where::Text(t) => lines
            .iter()
            .enumerate()
            .find_map(|(i, l)| l.find(t.as_str()).map(|c| (i + 1, c + 1))),
    }
}

/// For a serde error placed at the top-level mapping (1:1): the top-level key whose value
/// causes it, found by parsing again without each key in turn (`fails_without` returns the
/// error message then, or `None` when the rest parses): serde reports a bad value while it
/// visits the entries, and missing fields only after, so without any other key the same
/// error comes back. A `missing field` has no such key and stays at 1:1.
pub fn culprit_key(
    text: &str,
    message: &str,
    fails_without: impl Fn(&serde_yaml::Value) -> Option<String>,
) -> Option<Pos> {
    let serde_yaml::Value::Mapping(top) = serde_yaml::from_str(text).ok()? else {
        return None;
    };
    if message.starts_with("missing field") {
        return None;
    }
    let key = top.keys().filter_map(|k| k.as_str()).find(|k| {
        let mut rest = top.clone();
        rest.remove(*k);
        fails_without(&serde_yaml::Value::Mapping(rest)).as_deref() != Some(message)
    })?;
    let lines: Vec<&str> = text.lines().collect();
    let i = top_key(&lines, key)?;
    let after = lines[i][key.len() + 1..].trim_start();
    let col = if after.is_empty() || after.starts_with('#') {
        1
    } else {
        lines[i].len() - after.len() + 1
    };
    Some((i + 1, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
schema: oci-conform/v1
id: a.b
requires:
  privilege: root
  kernel: banana
timeout: 5 parsecs
steps:
  - { op: create }
  - op: exec
    args: [ls]
    tty: true
  - { op: start, expect: { exit: zero } }
teardown: auto
";

    #[test]
    fn finds_keys_steps_and_text() {
        assert_eq!(locate(TEXT, &Where::Key("timeout", None)), Some((6, 1)));
        assert_eq!(
            locate(TEXT, &Where::Key("requires", Some("kernel"))),
            Some((5, 3))
        );
        assert_eq!(locate(TEXT, &Where::Step(0, None)), Some((8, 5)));
        assert_eq!(locate(TEXT, &Where::Step(1, Some("tty"))), Some((11, 5)));
        assert_eq!(locate(TEXT, &Where::Step(2, Some("exit"))), Some((12, 28)));
        assert_eq!(locate(TEXT, &Where::Step(3, None)), None);
        assert_eq!(locate(TEXT, &Where::Text("op: exec".into())), Some((9, 5)));
    }

    #[test]
    fn finds_the_key_whose_value_fails() {
        let fails = |v: &serde_yaml::Value| {
            v.get("timeout")
                .map(|_| "bad duration".to_string())
                .or_else(|| {
                    v.get("steps")
                        .is_none()
                        .then(|| "missing field".to_string())
                })
        };
        assert_eq!(culprit_key(TEXT, "bad duration", fails), Some((6, 10)));
        assert_eq!(culprit_key(TEXT, "other", |_| Some("other".into())), None);
    }
}
