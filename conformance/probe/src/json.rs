//! A minimal JSON writer (the probe is std + libc only, no serde).
//!
//! Only what the probe emits: objects with string keys, strings, integers,
//! booleans and arrays. Keys keep insertion order so the output is stable
//! and readable in snapshots.

/// A JSON value the probe can print.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Bool(bool),
    UInt(u64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs, keeping their order.
    pub fn object<K: Into<String>>(pairs: Vec<(K, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn str<S: Into<String>>(s: S) -> Json {
        Json::Str(s.into())
    }

    /// An array of strings.
    pub fn strings<S: AsRef<str>>(items: &[S]) -> Json {
        Json::Array(items.iter().map(|s| Json::str(s.as_ref())).collect())
    }

    /// Compact single-line rendering.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) {
        match self {
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::UInt(u) => out.push_str(&u.to_string()),
            Json::Str(s) => escape_into(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_to(out);
                }
                out.push(']');
            }
            Json::Object(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    escape_into(key, out);
                    out.push(':');
                    value.write_to(out);
                }
                out.push('}');
            }
        }
    }
}

fn escape_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Json::Bool(true), "true")]
    #[case(Json::UInt(u64::MAX), "18446744073709551615")]
    #[case(Json::str("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#)]
    #[case(Json::strings(&["x", "y"]), r#"["x","y"]"#)]
    #[case(Json::Array(vec![]), "[]")]
    #[case(Json::object(vec![("b", Json::UInt(1)), ("a", Json::Object(vec![]))]), r#"{"b":1,"a":{}}"#)]
    fn renders(#[case] value: Json, #[case] expected: &str) {
        assert_eq!(value.render(), expected);
    }
}
