//! `<runtime> features` (runtime-spec features.md) and the check of a scenario's
//! `requires.features` against it. A runtime without the command supports everything as far
//! as the runner can tell: the scenario then runs and shows what really happens.

use serde_json::Value;

/// `a.b` must be true; `a.b:item` must be an array containing `item`.
pub fn missing(features: &Value, wanted: &[String]) -> Option<String> {
    for w in wanted {
        let (path, item) = match w.split_once(':') {
            Some((p, i)) => (p, Some(i)),
            None => (w.as_str(), None),
        };
        let pointer = format!("/{}", path.replace('.', "/"));
        let v = features.pointer(&pointer);
        let ok = match (v, item) {
            (Some(Value::Array(a)), Some(i)) => a.iter().any(|x| x.as_str() == Some(i)),
            (Some(Value::Bool(b)), None) => *b,
            _ => false,
        };
        if !ok {
            return Some(format!("runtime features lack `{w}`"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_paths_and_items() {
        let f = json!({"hooks": ["prestart"], "linux": {"namespaces": ["pid"], "seccomp": {"enabled": true}}});
        assert_eq!(
            missing(
                &f,
                &["hooks:prestart".into(), "linux.seccomp.enabled".into()]
            ),
            None
        );
        assert!(missing(&f, &["linux.namespaces:cgroup".into()])
            .unwrap()
            .contains("linux.namespaces:cgroup"));
        assert!(missing(&f, &["linux.apparmor.enabled".into()]).is_some());
    }
}
