//! `state` output (runtime.md#state) -> stable form: the fields the spec defines plus runc's
//! `rootfs`, `created` and `owner`; id, pid, paths, timestamps and the version are placeholders.

use super::{Context, NormalizeError};
use serde_json::{Map, Value};

const KNOWN: &[&str] = &[
    "ociVersion",
    "id",
    "status",
    "pid",
    "bundle",
    "rootfs",
    "created",
    "owner",
    "annotations",
];

pub fn normalize(v: &Value, ctx: &Context) -> Result<Value, NormalizeError> {
    let obj = v.as_object().ok_or_else(|| NormalizeError::Shape {
        normalizer: "oci-state",
        message: format!("expected a JSON object, got {v}"),
    })?;
    let mut out = Map::new();
    for (k, val) in obj {
        if !KNOWN.contains(&k.as_str()) {
            continue;
        }
        let norm = match k.as_str() {
            "ociVersion" => Value::String("<OCI_VERSION>".into()),
            "id" if val.as_str() == Some(ctx.container_id.as_str()) => Value::String("<ID>".into()),
            "pid" => match val.as_i64() {
                Some(0) | None => val.clone(),
                Some(_) => Value::String("<PID>".into()),
            },
            "created" => Value::String("<TIMESTAMP>".into()),
            "bundle" | "rootfs" => Value::String(ctx.scrub(val.as_str().unwrap_or_default())),
            _ => val.clone(),
        };
        out.insert(k.clone(), norm);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaces_volatile_fields_and_drops_unknown() {
        let ctx = Context {
            bundle: "/tmp/x/b1".into(),
            container_id: "c1".into(),
            ..Default::default()
        };
        let state = json!({"ociVersion": "1.0.2-dev", "id": "c1", "pid": 4242, "status": "created",
            "bundle": "/tmp/x/b1", "rootfs": "/tmp/x/b1/rootfs", "created": "2026-01-01T00:00:00Z",
            "owner": "", "extra": 1});
        let n = normalize(&state, &ctx).unwrap();
        assert_eq!(
            n,
            json!({"ociVersion": "<OCI_VERSION>", "id": "<ID>", "pid": "<PID>", "status": "created",
                "bundle": "<BUNDLE>", "rootfs": "<BUNDLE>/rootfs", "created": "<TIMESTAMP>", "owner": ""})
        );
    }

    #[test]
    fn stopped_pid_zero_is_kept() {
        let n = normalize(&json!({"pid": 0, "status": "stopped"}), &Context::default()).unwrap();
        assert_eq!(n, json!({"pid": 0, "status": "stopped"}));
    }

    #[test]
    fn rejects_non_objects() {
        assert!(normalize(&json!([1]), &Context::default()).is_err());
    }
}
