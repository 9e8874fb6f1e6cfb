//! Cgroup observation -> stable form. The observation is `{"path": ..., "files": {name: text}}`
//! (see probe::cgroup); the normalized form keeps the file contents, trimmed, with the
//! container's cgroup path replaced by `<CGROUP>`. The host's cgroup mode is left out so a
//! snapshot holds on v1, v2 and hybrid hosts alike where the file names agree.

use super::{Context, NormalizeError};
use serde_json::{Map, Value};

pub fn normalize(v: &Value, ctx: &Context) -> Result<Value, NormalizeError> {
    let files = v
        .get("files")
        .and_then(Value::as_object)
        .ok_or_else(|| NormalizeError::Shape {
            normalizer: "cgroup",
            message: "expected an object with a `files` map".to_string(),
        })?;
    let mut out = Map::new();
    for (name, content) in files {
        let text = match content {
            Value::String(s) => Value::String(ctx.scrub(s.trim())),
            other => other.clone(),
        };
        out.insert(name.clone(), text);
    }
    let mut top = Map::new();
    top.insert("files".to_string(), Value::Object(out));
    Ok(Value::Object(top))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trims_and_scrubs() {
        let ctx = Context {
            cgroup_path: "/oci-conform-1/a".into(),
            ..Default::default()
        };
        let obs = json!({"path": "/oci-conform-1/a", "mode": "hybrid",
            "files": {"pids.max": "32\n", "cgroup.procs": "7\n", "x": "/oci-conform-1/a/sub\n"}});
        let n = normalize(&obs, &ctx).unwrap();
        assert_eq!(
            n,
            json!({"files": {"pids.max": "32", "cgroup.procs": "7", "x": "<CGROUP>/sub"}})
        );
    }

    #[test]
    fn requires_files() {
        assert!(normalize(&json!({}), &Context::default()).is_err());
    }
}
