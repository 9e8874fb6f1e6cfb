//! `check_unknown_fields`: find config.json fields that oci-spec's parser dropped because
//! it does not model them (a newer runtime-spec, a typo such as `noNewPrivilege`). serde
//! ignores unknown fields, so without this such a field would be silently ignored, which
//! is exactly what `check_supported` exists to prevent. runc (Go's encoding/json) ignores
//! them too; call this where that leniency is not wanted, e.g. in `create` next to
//! `check_supported`, with the raw JSON that was parsed into `spec`.
//!
//! How: serialise the parsed `Spec` again and walk the raw JSON beside it; an object key
//! present (and not null) in the raw JSON but absent after the round trip was dropped.
//! Values are not compared (oci-spec normalises some, e.g. `SYS_ADMIN` → `CAP_SYS_ADMIN`).

use oci_spec::runtime::Spec;
use serde_json::Value;

use super::{Unsupported, UnsupportedField};

const REASON: &str = "unknown field: not part of the runtime-spec version ferrun implements";

/// Refuse every key of `raw` that did not survive parsing into `spec`.
pub fn check_unknown_fields(raw: &Value, spec: &Spec) -> Result<(), Unsupported> {
    let parsed = serde_json::to_value(spec).map_err(|_| Unsupported {
        fields: vec![UnsupportedField {
            field: "(config.json)".into(),
            reason: "the parsed configuration could not be serialised again for checking",
        }],
    })?;
    let mut fields = Vec::new();
    walk(raw, &parsed, "", &mut fields);
    if fields.is_empty() {
        Ok(())
    } else {
        Err(Unsupported { fields })
    }
}

fn walk(raw: &Value, parsed: &Value, path: &str, out: &mut Vec<UnsupportedField>) {
    match (raw, parsed) {
        (Value::Object(r), Value::Object(p)) => {
            for (key, value) in r {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match p.get(key) {
                    Some(pv) => walk(value, pv, &child, out),
                    None if value.is_null() => {}
                    None => out.push(UnsupportedField {
                        field: child,
                        reason: REASON,
                    }),
                }
            }
        }
        (Value::Array(r), Value::Array(p)) if r.len() == p.len() => {
            for (i, (rv, pv)) in r.iter().zip(p).enumerate() {
                walk(rv, pv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(raw: Value) -> Result<(), Unsupported> {
        let spec: Spec = serde_json::from_value(raw.clone()).expect("parses");
        check_unknown_fields(&raw, &spec)
    }

    fn base() -> Value {
        json!({
            "ociVersion": "1.2.0",
            "root": {"path": "rootfs"},
            "process": {
                "user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
                "capabilities": {"bounding": ["SYS_ADMIN"]}, "env": null
            },
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {"namespaces": [{"type": "mount"}], "resources": {"pids": {"limit": 5}}},
            "annotations": {"org.example/key": "v"}
        })
    }

    #[test]
    fn a_known_config_with_normalised_values_passes() {
        check(base()).expect("nothing unknown");
    }

    #[test]
    fn typos_and_newer_fields_are_named_with_their_path() {
        let mut raw = base();
        raw["process"]["noNewPrivilege"] = json!(true);
        raw["mounts"][0]["futureOption"] = json!({"x": 1});
        raw["linux"]["resources"]["pids"]["futureKnob"] = json!(1);
        raw["topLevelThing"] = json!("x");
        let err = check(raw).expect_err("unknown fields");
        let mut fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "linux.resources.pids.futureKnob",
                "mounts[0].futureOption",
                "process.noNewPrivilege",
                "topLevelThing"
            ]
        );
    }
}
