//! How the agent answers a notification: `--rule NAMES=ACTION` (NAMES: one syscall name or
//! several joined by commas, or `*` for the default) and `--default ACTION`.
//!
//! ACTION is `errno:NAME` or `errno:NUMBER` (the syscall fails with that errno), `success` or
//! `success:VALUE` (the syscall is not run and returns VALUE, default 0), or `continue`
//! (SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the syscall as if no filter had asked).

use nix::errno::Errno;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Errno(i32),
    Success(i64),
    Continue,
}

impl Action {
    pub fn parse(text: &str) -> Result<Action, String> {
        let (kind, arg) = match text.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (text, None),
        };
        match (kind, arg) {
            ("continue", None) => Ok(Action::Continue),
            ("success", None) => Ok(Action::Success(0)),
            ("success", Some(v)) => v
                .parse()
                .map(Action::Success)
                .map_err(|_| format!("`{text}`: the success value must be an integer")),
            ("errno", Some(e)) => errno_number(e)
                .map(Action::Errno)
                .ok_or_else(|| format!("`{text}`: `{e}` is not an errno name or number")),
            _ => Err(format!(
                "`{text}` is not an action (errno:NAME, errno:N, success, success:N, continue)"
            )),
        }
    }

    /// The action as it appears in the log.
    pub fn to_json(self) -> Value {
        match self {
            Action::Errno(n) => {
                json!({ "action": "errno", "errno": errno_name(n), "errno_number": n })
            }
            Action::Success(v) => json!({ "action": "success", "value": v }),
            Action::Continue => json!({ "action": "continue" }),
        }
    }
}

/// `EPERM` or `1` -> 1. Names come from nix's Errno, so every errno Linux has is accepted.
fn errno_number(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (n > 0 && n < 4096).then_some(n);
    }
    (1..4096).find(|n| format!("{:?}", Errno::from_raw(*n)) == text)
}

fn errno_name(n: i32) -> String {
    format!("{:?}", Errno::from_raw(n))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    by_name: BTreeMap<String, Action>,
    default: Action,
}

impl Rules {
    pub fn new(rules: &[String], default: &str) -> Result<Rules, String> {
        let mut out = Rules {
            by_name: BTreeMap::new(),
            default: Action::parse(default)?,
        };
        for r in rules {
            let (names, action) = r
                .split_once('=')
                .ok_or_else(|| format!("rule `{r}` is not NAMES=ACTION"))?;
            let action = Action::parse(action)?;
            for name in names.split(',').map(str::trim) {
                match name {
                    "" => return Err(format!("rule `{r}` names an empty syscall")),
                    "*" => out.default = action,
                    n => {
                        out.by_name.insert(n.to_string(), action);
                    }
                }
            }
        }
        Ok(out)
    }

    pub fn action_for(&self, syscall: &str) -> Action {
        self.by_name.get(syscall).copied().unwrap_or(self.default)
    }

    pub fn to_json(&self) -> Value {
        let rules: serde_json::Map<String, Value> = self
            .by_name
            .iter()
            .map(|(k, a)| (k.clone(), a.to_json()))
            .collect();
        json!({ "rules": rules, "default": self.default.to_json() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse() {
        assert_eq!(Action::parse("errno:EPERM"), Ok(Action::Errno(1)));
        assert_eq!(Action::parse("errno:ENOMEDIUM"), Ok(Action::Errno(123)));
        assert_eq!(Action::parse("errno:13"), Ok(Action::Errno(13)));
        assert_eq!(Action::parse("success"), Ok(Action::Success(0)));
        assert_eq!(Action::parse("success:7"), Ok(Action::Success(7)));
        assert_eq!(Action::parse("continue"), Ok(Action::Continue));
    }

    #[test]
    fn bad_actions_are_refused_with_the_text() {
        for bad in [
            "errno",
            "errno:EWHAT",
            "errno:0",
            "success:x",
            "allow",
            "continue:1",
        ] {
            let e = Action::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn rules_pick_by_name_then_default() {
        let r = Rules::new(
            &["mkdir,mkdirat=errno:EPERM".into(), "chmod=success".into()],
            "continue",
        )
        .unwrap();
        assert_eq!(r.action_for("mkdirat"), Action::Errno(1));
        assert_eq!(r.action_for("chmod"), Action::Success(0));
        assert_eq!(r.action_for("getcwd"), Action::Continue);
    }

    #[test]
    fn a_star_rule_sets_the_default() {
        let r = Rules::new(&["*=errno:EIO".into()], "continue").unwrap();
        assert_eq!(r.action_for("open"), Action::Errno(5));
    }

    #[test]
    fn malformed_rules_are_refused() {
        assert!(Rules::new(&["mkdir".into()], "continue").is_err());
        assert!(Rules::new(&[",=continue".into()], "continue").is_err());
        assert!(Rules::new(&[], "nope").is_err());
    }

    #[test]
    fn the_log_names_the_errno() {
        assert_eq!(
            Action::Errno(1).to_json(),
            json!({"action": "errno", "errno": "EPERM", "errno_number": 1})
        );
    }
}
