//! A JSON Schema (draft 2020-12) of the scenario format for editors (yaml-language-server).
//! Hand-written beside the serde types; `tests::schema_covers_every_op` keeps the op list in
//! step with `Op`.

use serde_json::{json, Map, Value};

fn matcher() -> Value {
    json!({"$ref": "#/$defs/matcher"})
}

fn command_expect() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {
        "exit": matcher(), "stdout": matcher(), "stderr": matcher(), "json": matcher(),
        "snapshot": {"$ref": "#/$defs/snapshot"}}})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

/// `props` plus the optional `id` of the container the step addresses.
fn with_id(mut props: Value) -> Value {
    props["id"] = json!({"type": "string", "minLength": 1});
    props
}

fn checkpoint_props() -> Value {
    let b = json!({"type": "boolean"});
    let s = json!({"type": "string", "minLength": 1});
    json!({"id": s, "image_path": s, "work_path": s, "parent_path": s,
        "leave_running": b, "tcp_established": b, "ext_unix_sk": b, "shell_job": b,
        "file_locks": b, "pre_dump": b, "auto_dedup": b,
        "manage_cgroups_mode": {"enum": ["soft", "full", "strict", "ignore"]},
        "empty_ns": s, "args": strings()})
}

fn restore_props() -> Value {
    let b = json!({"type": "boolean"});
    let s = json!({"type": "string", "minLength": 1});
    json!({"id": s, "bundle": s, "detach": b, "image_path": s, "work_path": s,
        "tcp_established": b, "ext_unix_sk": b, "shell_job": b, "file_locks": b,
        "no_pivot": b, "manage_cgroups_mode": {"enum": ["soft", "full", "strict", "ignore"]},
        "empty_ns": s, "args": strings()})
}

/// (op, op-specific properties, required, expect schema)
fn ops() -> Vec<(&'static str, Value, Vec<&'static str>, Value)> {
    let files = json!({"type": "object", "additionalProperties": matcher()});
    let none = json!({"type": "object", "additionalProperties": false, "properties": {}});
    vec![
        (
            "create",
            json!({"args": strings(), "pid_file": {"type": "boolean"}}),
            vec![],
            command_expect(),
        ),
        ("start", json!({}), vec![], command_expect()),
        (
            "run",
            json!({"detach": {"type": "boolean"}, "args": strings()}),
            vec![],
            command_expect(),
        ),
        ("state", with_id(json!({})), vec![], command_expect()),
        (
            "list",
            json!({"format": {"enum": ["json", "table"]}, "quiet": {"type": "boolean"}}),
            vec![],
            command_expect(),
        ),
        (
            "kill",
            with_id(json!({"signal": {"type": ["string", "integer"]}, "all": {"type": "boolean"}})),
            vec![],
            command_expect(),
        ),
        (
            "delete",
            with_id(json!({"force": {"type": "boolean"}})),
            vec![],
            command_expect(),
        ),
        (
            "exec",
            with_id(
                json!({"args": strings(), "env": strings(), "cwd": {"type": "string"},
            "user": {"type": "string"}, "cap": strings(), "no_new_privs": {"type": "boolean"},
            "detach": {"type": "boolean"}, "tty": {"type": "boolean"}, "process": {"type": "object"}, "flags": strings()}),
            ),
            vec!["args"],
            command_expect(),
        ),
        ("pause", with_id(json!({})), vec![], command_expect()),
        ("resume", with_id(json!({})), vec![], command_expect()),
        (
            "ps",
            json!({"format": {"enum": ["json", "table"]}}),
            vec![],
            command_expect(),
        ),
        (
            "events",
            json!({"stats": {"const": true}}),
            vec![],
            command_expect(),
        ),
        (
            "update",
            json!({"resources": {"type": "object"}, "args": strings()}),
            vec![],
            command_expect(),
        ),
        (
            "wait_for",
            with_id(
                json!({"status": {"enum": ["creating", "created", "running", "paused", "stopped", "gone"]},
            "within": {"$ref": "#/$defs/duration"}}),
            ),
            vec!["status", "within"],
            none.clone(),
        ),
        (
            "container_exit",
            with_id(json!({"within": {"$ref": "#/$defs/duration"}})),
            vec![],
            json!({"type": "object", "additionalProperties": false, "properties": {
                "code": matcher(), "signal": {"type": ["string", "integer"]}}}),
        ),
        (
            "inspect_mounts",
            json!({}),
            vec![],
            json!({"type": "object", "additionalProperties": false,
            "properties": {"mounts": matcher(), "snapshot": {"$ref": "#/$defs/snapshot"}}}),
        ),
        (
            "inspect_cgroup",
            json!({}),
            vec![],
            json!({"type": "object", "additionalProperties": false,
            "properties": {"files": files.clone(), "snapshot": {"$ref": "#/$defs/snapshot"}}}),
        ),
        (
            "inspect_proc",
            json!({"file": {"type": "string"}}),
            vec![],
            json!({"type": "object",
            "additionalProperties": false, "properties": {"fields": files, "content": matcher(),
            "snapshot": {"$ref": "#/$defs/snapshot"}}}),
        ),
        (
            "read_file",
            json!({"path": {"type": "string"}, "within": {"$ref": "#/$defs/duration"}}),
            vec!["path"],
            json!({"type": "object",
            "additionalProperties": false, "properties": {"exists": {"type": "boolean"},
            "content": matcher(), "json": matcher(), "snapshot": {"$ref": "#/$defs/snapshot"}}}),
        ),
        (
            "raw",
            json!({"args": strings(), "global_flags": {"type": "boolean"}}),
            vec!["args"],
            command_expect(),
        ),
        (
            "sleep",
            json!({"for": {"$ref": "#/$defs/duration"}}),
            vec!["for"],
            none.clone(),
        ),
        (
            "race",
            json!({"path": {"type": "string"}, "target": {"type": "string"},
                "for": {"$ref": "#/$defs/duration"}}),
            vec!["path", "target", "for"],
            none.clone(),
        ),
        (
            "seccomp_agent",
            json!({"rules": {"type": "object", "additionalProperties":
                {"type": "string", "pattern": crate::scenario::agent_rules::ACTION_PATTERN}},
            "default": {"type": "string", "pattern": crate::scenario::agent_rules::ACTION_PATTERN}}),
            vec![],
            none.clone(),
        ),
        ("seccomp_agent_stop", json!({}), vec![], none),
        (
            "systemd_unit",
            json!({"unit": {"type": "string", "minLength": 1}, "within": {"$ref": "#/$defs/duration"}}),
            vec![],
            json!({"type": "object", "additionalProperties": false, "properties": {
                "properties": {"type": "object", "additionalProperties": matcher()},
                "exists": {"type": "boolean"}}}),
        ),
        ("checkpoint", checkpoint_props(), vec![], command_expect()),
        ("restore", restore_props(), vec![], command_expect()),
    ]
}

pub fn op_names() -> Vec<&'static str> {
    ops().into_iter().map(|o| o.0).collect()
}

fn step_schema() -> Value {
    let variants: Vec<Value> = ops()
        .into_iter()
        .map(|(name, props, required, expect)| {
            let mut p: Map<String, Value> = props.as_object().cloned().unwrap_or_default();
            p.insert("op".into(), json!({"const": name}));
            p.insert("name".into(), json!({"type": "string"}));
            p.insert("spec".into(), json!({"$ref": "#/$defs/specRef"}));
            p.insert("timeout".into(), json!({"$ref": "#/$defs/duration"}));
            p.insert("expect".into(), expect);
            let mut req = vec!["op"];
            req.extend(required);
            json!({"if": {"properties": {"op": {"const": name}}}, "then": {
                "type": "object", "additionalProperties": false, "properties": p, "required": req}})
        })
        .collect();
    json!({"type": "object", "required": ["op"],
        "properties": {"op": {"enum": op_names()}}, "allOf": variants})
}

pub fn json_schema() -> Value {
    let keywords: Map<String, Value> = crate::expect::KEYWORDS
        .iter()
        .map(|k| ((*k).to_string(), json!({})))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ferrun.invalid/oci-conform/v1/scenario.schema.json",
        "title": "oci-conform scenario (oci-conform/v1)",
        "type": "object",
        "additionalProperties": false,
        "required": ["schema", "id", "title", "spec", "bundle", "steps"],
        "properties": {
            "schema": {"const": "oci-conform/v1"},
            "id": {"type": "string", "pattern": "^[a-z0-9_-]+(\\.[a-z0-9_-]+)+$"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "spec": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/specRef"}},
            "tags": strings(),
            "requires": {"type": "object", "additionalProperties": false, "properties": {
                "privilege": {"enum": ["any", "root", "rootless"]},
                "cgroup": {"enum": ["any", "v1", "v2", "hybrid"]},
                "cgroup_controllers": strings(), "cgroup_files": strings(),
                "block_devices": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]+:[0-9]+$"}},
                "kernel": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+$"},
                "criu": {"enum": ["works", true, false]}, "seccomp": {"type": "boolean"},
                "apparmor": {"type": "boolean"}, "selinux": {"enum": ["enabled", "disabled", true, false]},
                "userns": {"type": "boolean"}, "systemd": {"type": "boolean"},
                "features": strings(),
                "capabilities": strings(), "without_capabilities": strings()}},
            "cgroup_driver": {"enum": ["cgroupfs", "systemd"]},
            "bundle": {"type": "object", "additionalProperties": false, "properties": {
                "base": {"enum": ["busybox", "probe"]},
                "config": {"type": "object", "description": "JSON merge patch (RFC 7396) over the base config.json"},
                "patch": {"type": "array", "items": {"$ref": "#/$defs/patchOp"}},
                "files": {"$ref": "#/$defs/files"}}},
            "scratch": {"type": "object", "additionalProperties": false, "properties": {
                "shared": {"type": "boolean"}, "tmpfs": strings(),
                "files": {"$ref": "#/$defs/files"}}},
            "runtime_copy": {"type": "boolean", "description": "run a disposable copy of the runtime; FAIL if its sha256 changes"},
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
            "teardown": {"const": "auto"},
            "timeout": {"$ref": "#/$defs/duration"}
        },
        "$defs": {
            "files": {"type": "object", "additionalProperties": {"type": "object",
                "additionalProperties": false, "properties": {
                    "content": {"type": "string"}, "mode": {"type": "string", "pattern": "^0?[0-7]{3,4}$"},
                    "symlink": {"type": "string", "minLength": 1}, "directory": {"type": "boolean"},
                    "owner": {"type": "string", "pattern": "^[0-9]+:[0-9]+$"}}}},
            "specRef": {"type": "object", "additionalProperties": false, "required": ["ref", "level"],
                "properties": {"ref": {"type": "string"}, "level": {"enum": ["MUST", "SHOULD", "MAY"]}}},
            "duration": {"type": ["string", "number"], "pattern": "^[0-9.]+(ms|s|m)?$"},
            "snapshot": {"type": "object", "additionalProperties": false, "required": ["name"],
                "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
                    "normalize": {"enum": ["oci-state", "mountinfo", "cgroup", "json", "text"]}}},
            "patchOp": {"type": "object", "required": ["op", "path"], "properties": {
                "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
                "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}},
            "matcher": {"description": "A scalar or list means equals; a mapping uses matcher keywords (all must hold) or {match: KEYWORD, value: X}",
                "anyOf": [
                    {"type": ["string", "number", "boolean", "null", "array"]},
                    {"type": "object", "minProperties": 1, "additionalProperties": false, "properties": keywords},
                    {"type": "object", "additionalProperties": false, "required": ["match"],
                        "properties": {"match": {"enum": crate::expect::KEYWORDS}, "value": {}}}
                ]},
            "step": step_schema()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_covers_every_op() {
        // Every op name in the schema must deserialize, so the two lists cannot drift apart.
        for name in op_names() {
            let yaml = match name {
                "exec" | "raw" => format!("{{op: {name}, args: [x]}}"),
                "wait_for" => "{op: wait_for, status: stopped, within: 1s}".to_string(),
                "read_file" => "{op: read_file, path: /x}".to_string(),
                "sleep" => "{op: sleep, for: 1s}".to_string(),
                "race" => "{op: race, path: /x, target: /y, for: 1s}".to_string(),
                "systemd_unit" => "{op: systemd_unit, expect: {exists: false}}".to_string(),
                _ => format!("{{op: {name}}}"),
            };
            let step: crate::scenario::Step = serde_yaml::from_str(&yaml).unwrap();
            assert_eq!(step.op.name(), name);
        }
        assert_eq!(op_names().len(), 27);
    }

    #[test]
    fn schema_lists_every_checkpoint_and_restore_field() {
        // Serializing a step with every field set names each key serde accepts.
        use crate::scenario::step::{Checkpoint, Restore};
        let c = serde_json::to_value(Checkpoint {
            id: Some("x".into()),
            image_path: Some("x".into()),
            work_path: Some("x".into()),
            parent_path: Some("x".into()),
            manage_cgroups_mode: Some(crate::scenario::step::CgroupsMode::Soft),
            empty_ns: Some("network".into()),
            ..Default::default()
        })
        .unwrap();
        let props = checkpoint_props();
        for k in c.as_object().unwrap().keys() {
            assert!(props.get(k).is_some(), "checkpoint schema lacks `{k}`");
        }
        let r: Restore = serde_yaml::from_str(
            "{id: x, bundle: x, image_path: x, work_path: x, manage_cgroups_mode: full, empty_ns: network}",
        )
        .unwrap();
        let props = restore_props();
        for k in serde_json::to_value(r).unwrap().as_object().unwrap().keys() {
            assert!(props.get(k).is_some(), "restore schema lacks `{k}`");
        }
    }
}
