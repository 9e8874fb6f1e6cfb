//! The `--filter` language. Whitespace-separated terms must all hold; a term is
//! `[!]KEY:PATTERN[,PATTERN...]` (any pattern may match) or a bare pattern on the id.
//! Keys: `id`, `tag`, `level` (MUST/SHOULD/MAY), `spec` (the ref), `area` (first id part).
//! Patterns use `*` as a wildcard; matching is case-sensitive except for `level`.

use super::Scenario;

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negate: bool,
    key: Key,
    patterns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    Id,
    Tag,
    Level,
    Spec,
    Area,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    terms: Vec<Term>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("bad filter term `{term}`: unknown key `{key}` (use id, tag, level, spec, area)")]
pub struct FilterError {
    pub term: String,
    pub key: String,
}

/// `*` matches any run of characters (including none).
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut pos = first.len();
    let end = text.len() - last.len();
    for mid in &parts[1..parts.len() - 1] {
        match text[pos..end].find(mid) {
            Some(i) => pos += i + mid.len(),
            None => return false,
        }
    }
    true
}

impl Filter {
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        let mut terms = Vec::new();
        for raw in expr.split_whitespace() {
            let (negate, body) = match raw.strip_prefix('!') {
                Some(b) => (true, b),
                None => (false, raw),
            };
            let (key, pats) = match body.split_once(':') {
                Some((k, p)) => {
                    let key = match k {
                        "id" => Key::Id,
                        "tag" => Key::Tag,
                        "level" => Key::Level,
                        "spec" => Key::Spec,
                        "area" => Key::Area,
                        _ => {
                            return Err(FilterError {
                                term: raw.into(),
                                key: k.into(),
                            })
                        }
                    };
                    (key, p)
                }
                None => (Key::Id, body),
            };
            let patterns = pats
                .split(',')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect();
            terms.push(Term {
                negate,
                key,
                patterns,
            });
        }
        Ok(Filter { terms })
    }

    pub fn matches(&self, s: &Scenario) -> bool {
        self.terms.iter().all(|t| term_matches(t, s) != t.negate)
    }
}

fn term_matches(t: &Term, s: &Scenario) -> bool {
    let values: Vec<String> = match t.key {
        Key::Id => vec![s.id.clone()],
        Key::Area => vec![s.area().to_string()],
        Key::Tag => s.tags.clone(),
        Key::Level => s
            .spec
            .iter()
            .map(|r| r.level.as_str().to_string())
            .collect(),
        Key::Spec => s.spec.iter().map(|r| r.reference.clone()).collect(),
    };
    t.patterns.iter().any(|p| {
        values.iter().any(|v| {
            if t.key == Key::Level {
                p.eq_ignore_ascii_case(v)
            } else {
                glob(p, v)
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("a*", "abc", true)]
    #[case("*c", "abc", true)]
    #[case("a*c", "abc", true)]
    #[case("a*b*c", "a-b-c", true)]
    #[case("a*d", "abc", false)]
    #[case("abc", "abc", true)]
    #[case("ab", "abc", false)]
    #[case("*", "", true)]
    fn globbing(#[case] p: &str, #[case] t: &str, #[case] want: bool) {
        assert_eq!(glob(p, t), want);
    }

    fn scenario(id: &str, tags: &[&str], level: &str) -> Scenario {
        let yaml = format!(
            "schema: oci-conform/v1\nid: {id}\ntitle: t\nspec: [{{ref: runtime.md#x, level: {level}}}]\ntags: [{}]\nbundle: {{base: busybox}}\nsteps: [{{op: state}}]\n",
            tags.join(", ")
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[rstest]
    #[case("lifecycle.*", true)]
    #[case("tag:cgroups", true)]
    #[case("tag:mounts,cgroups", true)]
    #[case("!tag:cgroups", false)]
    #[case("level:must area:lifecycle", true)]
    #[case("level:MAY", false)]
    #[case("spec:runtime.md*", true)]
    #[case("", true)]
    fn filters(#[case] expr: &str, #[case] want: bool) {
        let s = scenario("lifecycle.exec", &["cgroups"], "MUST");
        assert_eq!(Filter::parse(expr).unwrap().matches(&s), want);
    }

    #[test]
    fn unknown_key_is_rejected() {
        assert!(Filter::parse("colour:red").is_err());
    }
}
