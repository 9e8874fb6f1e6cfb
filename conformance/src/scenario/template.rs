//! `{{name}}` placeholders in config strings, exec/raw args and read_file paths.
//!
//! Known names: `id` (container id), `bundle`, `rootfs`, `root` (the runtime's --root),
//! `scratch` (a per-scenario host directory for hook output), `images` (a per-scenario empty
//! host directory for checkpoint images), `cgroup_path`, `cgroup_name` (unique per run,
//! runtime and scenario: the name part of a systemd cgroupsPath a scenario writes itself),
//! `console` (the file that collects terminal output received over the console socket).
//! With `cgroup_driver: systemd`, steps (not the bundle: they come from the rendered
//! cgroupsPath) also have `unit` (the scope the cgroupsPath names) and `cgroup_dir` (that
//! unit's cgroup directory on the host).
//! An unknown name is an error, never left as literal text.

use serde_json::Value;
use std::collections::BTreeMap;

pub const NAMES: &[&str] = &[
    "id",
    "bundle",
    "rootfs",
    "root",
    "scratch",
    "images",
    "cgroup_path",
    "cgroup_name",
    "console",
    "unit",
    "cgroup_dir",
];

/// Names only steps of a `cgroup_driver: systemd` scenario may use: they are derived from the
/// rendered cgroupsPath, so the bundle cannot use them and other scenarios have none.
pub const SYSTEMD_STEP_NAMES: &[&str] = &["unit", "cgroup_dir"];

/// The template names a JSON value uses, in order of appearance.
pub fn names_in(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut visit = |s: &str| {
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            out.push(after[..end].trim().to_string());
            rest = &after[end + 2..];
        }
    };
    fn walk(v: &Value, f: &mut dyn FnMut(&str)) {
        match v {
            Value::String(s) => f(s),
            Value::Array(a) => a.iter().for_each(|x| walk(x, f)),
            Value::Object(o) => o.values().for_each(|x| walk(x, f)),
            _ => {}
        }
    }
    walk(v, &mut visit);
    out
}

#[derive(Debug, Clone, Default)]
pub struct Vars(pub BTreeMap<String, String>);

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("unknown template variable `{{{{{name}}}}}` in {text:?} (known: {known})")]
pub struct TemplateError {
    pub name: String,
    pub text: String,
    pub known: String,
}

impl Vars {
    pub fn set(&mut self, k: &str, v: impl Into<String>) {
        self.0.insert(k.to_string(), v.into());
    }

    pub fn render(&self, text: &str) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = after[..end].trim();
            match self.0.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    return Err(TemplateError {
                        name: name.to_string(),
                        text: text.to_string(),
                        known: self.0.keys().cloned().collect::<Vec<_>>().join(", "),
                    })
                }
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Renders every string (not keys) in a JSON value.
    pub fn render_value(&self, v: &Value) -> Result<Value, TemplateError> {
        Ok(match v {
            Value::String(s) => Value::String(self.render(s)?),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| self.render_value(x))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| Ok((k.clone(), self.render_value(x)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.clone(),
        })
    }

    pub fn render_all(&self, items: &[String]) -> Result<Vec<String>, TemplateError> {
        items.iter().map(|s| self.render(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("id", "c1");
        v.set("scratch", "/tmp/s");
        v
    }

    #[test]
    fn renders_known_names() {
        assert_eq!(
            vars().render("x {{id}} {{ scratch }}/h").unwrap(),
            "x c1 /tmp/s/h"
        );
    }

    #[test]
    fn unknown_name_is_an_error() {
        assert_eq!(vars().render("{{nope}}").unwrap_err().name, "nope");
    }

    #[test]
    fn finds_the_names_a_value_uses() {
        let v = json!({"a": ["{{ unit }}/x", 1], "b": {"c": "{{id}}-{{cgroup_dir}}"}, "d": "{{"});
        assert_eq!(names_in(&v), vec!["unit", "id", "cgroup_dir"]);
    }

    #[test]
    fn renders_nested_values() {
        let v = vars()
            .render_value(&json!({"a": ["{{id}}", 1], "b": {"c": "{{scratch}}"}}))
            .unwrap();
        assert_eq!(v, json!({"a": ["c1", 1], "b": {"c": "/tmp/s"}}));
    }
}
