//! Matchers: equals, contains, includes, regex, empty, not, gt/ge/lt/le, one_of, subset, lines,
//! len, and `{match: MODE, value: X}`.
//!
//! A scalar or a list is `equals`. A mapping must use matcher keywords only (several keys must
//! all hold); an empty mapping is an error, so a typo never turns into "matches anything".
//! Inside `subset`/`contains` values, a mapping whose keys are all keywords is a nested matcher.
//! An array inside `subset` means exactly those elements (in any order); `contains` is "at least".

mod eval;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use eval::{as_number, ellipsize, render};

pub const KEYWORDS: &[&str] = &[
    "equals", "contains", "includes", "regex", "empty", "not", "gt", "ge", "lt", "le", "one_of",
    "subset", "lines", "len",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Equals(Value),
    /// Substring of a string; for a list: each expected item subset-matches some element.
    Contains(Value),
    Regex(regex::Regex),
    Empty(bool),
    Not(Box<Matcher>),
    Cmp(CmpOp, f64),
    OneOf(Vec<Value>),
    Subset(Value),
    Lines(Box<Matcher>),
    Len(Box<Matcher>),
    All(Vec<Matcher>),
}

#[derive(Debug, Clone)]
pub struct Matcher {
    pub kind: Kind,
    /// The matcher as written, for reports and `Serialize`.
    pub source: Value,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MatcherError {
    #[error("empty matcher `{{}}`: write what you expect (e.g. `equals: ...` or `empty: true`)")]
    Empty,
    #[error("unknown matcher key `{key}` (expected one of: {})", KEYWORDS.join(", "))]
    UnknownKey { key: String },
    #[error("matcher `{key}`: {message}")]
    BadValue { key: String, message: String },
}

fn bad(key: &str, message: impl Into<String>) -> MatcherError {
    MatcherError::BadValue {
        key: key.to_string(),
        message: message.into(),
    }
}

/// True when `v` is a mapping made only of matcher keywords (or `match`/`value`).
pub fn is_matcher_object(v: &Value) -> bool {
    match v {
        Value::Object(m) if !m.is_empty() => {
            m.keys().all(|k| KEYWORDS.contains(&k.as_str()))
                || (m.contains_key("match") && m.keys().all(|k| k == "match" || k == "value"))
        }
        _ => false,
    }
}

impl Matcher {
    pub fn from_json(v: &Value) -> Result<Matcher, MatcherError> {
        let kind = match v {
            Value::Object(m) if m.is_empty() => return Err(MatcherError::Empty),
            Value::Object(m) if m.contains_key("match") => {
                if let Some(k) = m.keys().find(|k| *k != "match" && *k != "value") {
                    return Err(MatcherError::UnknownKey { key: k.clone() });
                }
                let mode = m.get("match").and_then(Value::as_str).ok_or_else(|| {
                    bad("match", "must be a matcher name such as subset or equals")
                })?;
                if !KEYWORDS.contains(&mode) {
                    return Err(MatcherError::UnknownKey {
                        key: mode.to_string(),
                    });
                }
                let value = m.get("value").cloned().unwrap_or(Value::Null);
                one(mode, &value)?
            }
            Value::Object(m) => {
                let mut all = Vec::new();
                for (k, val) in m {
                    if !KEYWORDS.contains(&k.as_str()) {
                        return Err(MatcherError::UnknownKey { key: k.clone() });
                    }
                    all.push(Matcher {
                        kind: one(k, val)?,
                        source: single(k, val),
                    });
                }
                if all.len() == 1 {
                    all.pop().map(|m| m.kind).ok_or(MatcherError::Empty)?
                } else {
                    Kind::All(all)
                }
            }
            other => Kind::Equals(other.clone()),
        };
        Ok(Matcher {
            kind,
            source: v.clone(),
        })
    }

    pub fn equals(v: Value) -> Matcher {
        Matcher {
            source: v.clone(),
            kind: Kind::Equals(v),
        }
    }

    /// Checks `actual`; the error says what differed, with a JSON-pointer-like path.
    pub fn check(&self, actual: &Value) -> Result<(), String> {
        eval::check(self, actual, "")
    }
}

fn single(k: &str, v: &Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(k.to_string(), v.clone());
    Value::Object(m)
}

fn number(key: &str, v: &Value) -> Result<f64, MatcherError> {
    as_number(v).ok_or_else(|| bad(key, format!("expects a number, got {v}")))
}

/// Validates nested matchers inside subset/contains values so errors surface at load time.
fn validate_nested(v: &Value) -> Result<(), MatcherError> {
    if is_matcher_object(v) {
        return Matcher::from_json(v).map(|_| ());
    }
    match v {
        Value::Object(m) => m.values().try_for_each(validate_nested),
        Value::Array(a) => a.iter().try_for_each(validate_nested),
        _ => Ok(()),
    }
}

fn one(key: &str, v: &Value) -> Result<Kind, MatcherError> {
    Ok(match key {
        "equals" => Kind::Equals(v.clone()),
        "contains" | "includes" => {
            validate_nested(v)?;
            Kind::Contains(v.clone())
        }
        "subset" => {
            validate_nested(v)?;
            Kind::Subset(v.clone())
        }
        "regex" => {
            let src = v
                .as_str()
                .ok_or_else(|| bad(key, "expects a string pattern"))?;
            Kind::Regex(regex::Regex::new(src).map_err(|e| bad(key, e.to_string()))?)
        }
        "empty" => Kind::Empty(
            v.as_bool()
                .ok_or_else(|| bad(key, "expects true or false"))?,
        ),
        "not" => Kind::Not(Box::new(Matcher::from_json(v)?)),
        "gt" => Kind::Cmp(CmpOp::Gt, number(key, v)?),
        "ge" => Kind::Cmp(CmpOp::Ge, number(key, v)?),
        "lt" => Kind::Cmp(CmpOp::Lt, number(key, v)?),
        "le" => Kind::Cmp(CmpOp::Le, number(key, v)?),
        "one_of" => match v {
            Value::Array(a) if !a.is_empty() => Kind::OneOf(a.clone()),
            _ => return Err(bad(key, "expects a non-empty list")),
        },
        "lines" => Kind::Lines(Box::new(Matcher::from_json(v)?)),
        "len" => Kind::Len(Box::new(Matcher::from_json(v)?)),
        other => {
            return Err(MatcherError::UnknownKey {
                key: other.to_string(),
            })
        }
    })
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Matcher::from_json(&v).map_err(D::Error::custom)
    }
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.source.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn m(yaml: &str) -> Matcher {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[rstest]
    #[case("0", json!(0), true)]
    #[case("0", json!(1), false)]
    #[case("'32'", json!(32), true)]
    #[case("32", json!("32"), true)]
    #[case("{equals: \"a\\n\"}", json!("a\n"), true)]
    #[case("{contains: foo}", json!("a foo b"), true)]
    #[case("{contains: foo}", json!("a fo b"), false)]
    #[case("{contains: [a, b]}", json!("xaxb"), true)]
    #[case("{contains: [ro, nosuid]}", json!(["rw", "ro", "nosuid"]), true)]
    #[case("{contains: [{target: /x, options: {includes: [ro]}}]}", json!([{"target": "/x", "options": ["ro", "nodev"]}]), true)]
    #[case("{contains: [{target: /x, options: {includes: [ro]}}]}", json!([{"target": "/x", "options": ["rw"]}]), false)]
    #[case("{regex: '^uid=0\\b'}", json!("uid=0 gid=0"), true)]
    #[case("{regex: 'a.c'}", json!("abd"), false)]
    #[case("{empty: true}", json!(""), true)]
    #[case("{empty: true}", json!([]), true)]
    #[case("{empty: false}", json!("x"), true)]
    #[case("{empty: true}", json!("x"), false)]
    #[case("{not: 0}", json!(1), true)]
    #[case("{not: 0}", json!(0), false)]
    #[case("{gt: 0}", json!(5), true)]
    #[case("{gt: 0}", json!(0), false)]
    #[case("{ge: 0, lt: 10}", json!(9), true)]
    #[case("{ge: 0, lt: 10}", json!(10), false)]
    #[case("{le: 1.5}", json!(" 1.5\n"), true)]
    #[case("{one_of: [created, running]}", json!("running"), true)]
    #[case("{one_of: [created, running]}", json!("stopped"), false)]
    #[case("{subset: {status: created, pid: {gt: 0}}}", json!({"status": "created", "pid": 7, "id": "x"}), true)]
    #[case("{subset: {status: created, pid: {gt: 0}}}", json!({"status": "created", "pid": 0}), false)]
    #[case("{subset: {status: created}}", json!({"pid": 1}), false)]
    #[case("{match: subset, value: {a: {b: 1}}}", json!({"a": {"b": 1, "c": 2}}), true)]
    #[case("{lines: [a, b]}", json!("a\nb\n"), true)]
    #[case("{lines: {contains: [b]}}", json!("a\nb\n"), true)]
    #[case("{lines: {len: 2}}", json!("a\nb\n"), true)]
    #[case("{len: {gt: 2}}", json!([1, 2]), false)]
    #[case("{subset: {names: []}}", json!({"names": ["CAP_KILL"]}), false)]
    #[case("{subset: {names: []}}", json!({"names": []}), true)]
    #[case("{subset: {g: [10, 20]}}", json!({"g": [20, 10]}), true)]
    #[case("{subset: {g: [10, 20]}}", json!({"g": [10, 20, 30]}), false)]
    #[case("{subset: {g: [10, 10]}}", json!({"g": [10, 20]}), false)]
    #[case("{subset: [{gt: 0}, 1]}", json!([1, 5]), true)]
    #[case("{subset: {g: {contains: [10]}}}", json!({"g": [10, 20]}), true)]
    #[case("{contains: [{p: [private]}]}", json!([{"p": ["private", "x"]}]), false)]
    #[case("{one_of: [null, []]}", json!(["c1"]), false)]
    #[case("{one_of: [null, []]}", json!([]), true)]
    #[case("[a, b]", json!(["a", "b"]), true)]
    #[case("[a, b]", json!(["b", "a"]), false)]
    fn matches(#[case] yaml: &str, #[case] actual: serde_json::Value, #[case] want: bool) {
        let r = m(yaml).check(&actual);
        assert_eq!(r.is_ok(), want, "{yaml} vs {actual}: {r:?}");
    }

    #[rstest]
    #[case("{}", "empty matcher")]
    #[case("{equal: 1}", "unknown matcher key `equal`")]
    #[case("{gt: abc}", "expects a number")]
    #[case("{regex: '('}", "regex")]
    #[case("{one_of: []}", "non-empty list")]
    #[case("{match: nope, value: 1}", "unknown matcher key `nope`")]
    #[case("{subset: {a: {gt: x}}}", "expects a number")]
    #[case("{not: {}}", "empty matcher")]
    fn rejects(#[case] yaml: &str, #[case] needle: &str) {
        let e = serde_yaml::from_str::<Matcher>(yaml)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{yaml}: {e}");
    }

    #[test]
    fn failure_messages_name_the_path() {
        let e = m("{subset: {a: {b: 2}}}")
            .check(&json!({"a": {"b": 1}}))
            .unwrap_err();
        assert_eq!(e, "at /a/b: expected 2 but got 1");
    }
}
