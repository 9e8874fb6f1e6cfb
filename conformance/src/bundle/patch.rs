//! JSON merge patch (RFC 7396) and JSON Patch (RFC 6902) over serde_json values.

use crate::scenario::PatchOp;
use serde_json::Value;

/// RFC 7396: objects merge recursively, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PatchError {
    #[error("patch[{index}] {op} {path}: {message}")]
    Failed {
        index: usize,
        op: &'static str,
        path: String,
        message: String,
    },
}

/// RFC 6901 pointer tokens (`~1` is `/`, `~0` is `~`).
fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(vec![]);
    }
    let rest = path
        .strip_prefix('/')
        .ok_or("a JSON pointer must start with /")?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(o) => o.get_mut(t).ok_or_else(|| format!("no member `{t}`"))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("`{t}` is not an array index"))?;
                let len = a.len();
                a.get_mut(i)
                    .ok_or_else(|| format!("index {i} out of range (len {len})"))?
            }
            _ => return Err(format!("cannot descend into a scalar at `{t}`")),
        };
    }
    Ok(cur)
}

fn get(doc: &Value, path: &str) -> Result<Value, String> {
    doc.pointer(path)
        .cloned()
        .ok_or_else(|| "path does not exist".to_string())
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let toks = tokens(path)?;
    let Some((last, init)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, init)? {
        Value::Object(o) => {
            o.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) if last == "-" => {
            a.push(value);
            Ok(())
        }
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not an array index"))?;
            if i > a.len() {
                return Err(format!("index {i} out of range (len {})", a.len()));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err("parent is not a container".into()),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let toks = tokens(path)?;
    let (last, init) = toks
        .split_last()
        .ok_or("cannot remove the whole document")?;
    match parent(doc, init)? {
        Value::Object(o) => o.remove(last).ok_or_else(|| format!("no member `{last}`")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not an array index"))?;
            if i >= a.len() {
                return Err(format!("index {i} out of range (len {})", a.len()));
            }
            Ok(a.remove(i))
        }
        _ => Err("parent is not a container".into()),
    }
}

fn apply_one(doc: &mut Value, op: &PatchOp) -> Result<(), String> {
    match op {
        PatchOp::Add { path, value } => add(doc, path, value.clone()),
        PatchOp::Remove { path } => remove(doc, path).map(|_| ()),
        PatchOp::Replace { path, value } => {
            remove(doc, path)?;
            add(doc, path, value.clone())
        }
        PatchOp::Move { from, path } => {
            let v = remove(doc, from)?;
            add(doc, path, v)
        }
        PatchOp::Copy { from, path } => {
            let v = get(doc, from)?;
            add(doc, path, v)
        }
        PatchOp::Test { path, value } => {
            let v = get(doc, path)?;
            if &v == value {
                Ok(())
            } else {
                Err(format!("test failed: found {v}"))
            }
        }
    }
}

fn describe(op: &PatchOp) -> (&'static str, &str) {
    match op {
        PatchOp::Add { path, .. } => ("add", path),
        PatchOp::Remove { path } => ("remove", path),
        PatchOp::Replace { path, .. } => ("replace", path),
        PatchOp::Move { path, .. } => ("move", path),
        PatchOp::Copy { path, .. } => ("copy", path),
        PatchOp::Test { path, .. } => ("test", path),
    }
}

/// Applies operations in order; the document is left unchanged if any fails (RFC 6902 §5).
pub fn apply(doc: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    let mut work = doc.clone();
    for (index, op) in ops.iter().enumerate() {
        apply_one(&mut work, op).map_err(|message| {
            let (name, path) = describe(op);
            PatchError::Failed {
                index,
                op: name,
                path: path.to_string(),
                message,
            }
        })?;
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    // RFC 7396 appendix A examples
    #[case(json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"}))]
    #[case(json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"}))]
    #[case(json!({"a": "b"}), json!({"a": null}), json!({}))]
    #[case(json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"}))]
    #[case(json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]}))]
    #[case(json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}}))]
    #[case(json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"]))]
    #[case(json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1}))]
    #[case(json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}}))]
    fn merge_patch(#[case] mut target: Value, #[case] patch: Value, #[case] want: Value) {
        merge(&mut target, &patch);
        assert_eq!(target, want);
    }

    fn ops(yaml: &str) -> Vec<PatchOp> {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[rstest]
    #[case("[{op: add, path: /m/-, value: 3}]", json!({"m": [1, 2, 3]}))]
    #[case("[{op: add, path: /m/0, value: 0}]", json!({"m": [0, 1, 2]}))]
    #[case("[{op: add, path: /n, value: {x: 1}}]", json!({"m": [1, 2], "n": {"x": 1}}))]
    #[case("[{op: remove, path: /m/0}]", json!({"m": [2]}))]
    #[case("[{op: replace, path: /m/1, value: 9}]", json!({"m": [1, 9]}))]
    #[case("[{op: move, from: /m/0, path: /k}]", json!({"m": [2], "k": 1}))]
    #[case("[{op: copy, from: /m, path: /c}]", json!({"m": [1, 2], "c": [1, 2]}))]
    #[case("[{op: test, path: /m/1, value: 2}, {op: remove, path: /m}]", json!({}))]
    #[case("[{op: add, path: /a~1b, value: 1}]", json!({"m": [1, 2], "a/b": 1}))]
    fn json_patch(#[case] yaml: &str, #[case] want: Value) {
        let mut doc = json!({"m": [1, 2]});
        apply(&mut doc, &ops(yaml)).unwrap();
        assert_eq!(doc, want);
    }

    #[rstest]
    #[case("[{op: test, path: /m/0, value: 5}]", "test failed")]
    #[case("[{op: remove, path: /zz}]", "no member")]
    #[case("[{op: add, path: /m/7, value: 1}]", "out of range")]
    #[case("[{op: replace, path: nope, value: 1}]", "must start with /")]
    fn json_patch_errors_leave_doc_unchanged(#[case] yaml: &str, #[case] needle: &str) {
        let mut doc = json!({"m": [1, 2]});
        let e = apply(
            &mut doc,
            &ops(&format!(
                "[{{op: add, path: /x, value: 1}}, {}]",
                &yaml[1..yaml.len() - 1]
            )),
        )
        .unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
        assert!(e.to_string().starts_with("patch[1]"), "{e}");
        assert_eq!(doc, json!({"m": [1, 2]}));
    }
}
