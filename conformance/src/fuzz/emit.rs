//! Scenarios as YAML (oci-conform/v1, docs/conformance.md): the observing scenario the fuzzer
//! runs for each config, and the ready-to-commit scenario that reproduces one divergence.
//! Both are built as values and serialized, so no quoting can go wrong, and both go through
//! the scenario loader before they are used or written.

use super::grammar::Feature;
use crate::host::CgroupMode;
use crate::scenario::load;
use serde_json::{json, Value};
use std::path::Path;

/// What the probe reports from inside the container, in one exec (a shell running each
/// probe subcommand): values that an exec'd child sees the same as the exec'd process.
const SHELL_PROBES: &str = "for c in id cwd nnp seccomp umask oom hostname rlimits 'syscall mkdir /fzmk' 'ls /dev'; do echo \"== $c\"; /probe $c 2>&1; done";

/// The observation steps: snapshot name -> step. Capabilities and the environment are
/// read by the exec'd probe itself (a shell's child would get other capabilities and
/// environment); the rest from the shell's children, the init's limits, mounts and cgroup
/// files from the host side.
pub fn observations(mode: CgroupMode) -> Vec<(&'static str, Value)> {
    let snap = |name: &str, normalize: &str| json!({ "snapshot": { "name": name, "normalize": normalize } });
    let any = json!({ "regex": "" });
    let files: Vec<&str> = if mode == CgroupMode::V2 {
        vec![
            "pids.max",
            "memory.max",
            "memory.low",
            "cpu.weight",
            "cpu.max",
            "cpuset.cpus",
            "cpuset.mems",
        ]
    } else {
        vec![
            "pids.max",
            "memory.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "cpu.shares",
            "cpu.cfs_quota_us",
            "cpu.cfs_period_us",
            "cpuset.cpus",
            "cpuset.mems",
            "devices.list",
        ]
    };
    let files: serde_json::Map<String, Value> = files
        .into_iter()
        .map(|f| (f.to_string(), any.clone()))
        .collect();
    let mut cgroup = snap("cgroup", "cgroup");
    cgroup["files"] = Value::Object(files);
    vec![
        (
            "caps",
            json!({"op": "exec", "args": ["/probe", "caps"], "expect": snap("caps", "json")}),
        ),
        (
            "env",
            json!({"op": "exec", "args": ["/probe", "env"], "expect": snap("env", "text")}),
        ),
        (
            "process",
            json!({"op": "exec", "args": ["/bin/sh", "-c", SHELL_PROBES], "expect": snap("process", "text")}),
        ),
        (
            "limits",
            json!({"op": "inspect_proc", "file": "limits", "expect": snap("limits", "text")}),
        ),
        (
            "mounts",
            json!({"op": "inspect_mounts", "expect": snap("mounts", "mountinfo")}),
        ),
        ("cgroup", json!({"op": "inspect_cgroup", "expect": cgroup})),
    ]
}

/// The steps before the observations.
pub const LIFECYCLE: &[&str] = &["create", "start"];

fn spec_ref(class: &str) -> &'static str {
    let table: &[(&str, &str)] = &[
        ("linux.namespaces", "config-linux.md#namespaces"),
        ("mounts", "config.md#mounts"),
        ("process.rlimits", "config.md#posix-process"),
        ("process.capabilities", "config.md#linux-process"),
        ("process.user", "config.md#posix-platform-user"),
        ("process.env", "config.md#process"),
        ("process.cwd", "config.md#process"),
        ("process.noNewPrivileges", "config.md#linux-process"),
        ("process.oomScoreAdj", "config.md#linux-process"),
        ("linux.sysctl", "config-linux.md#sysctl"),
        ("linux.maskedPaths", "config-linux.md#masked-paths"),
        ("linux.readonlyPaths", "config-linux.md#readonly-paths"),
        ("linux.devices", "config-linux.md#devices"),
        ("linux.resources.pids", "config-linux.md#pids"),
        ("linux.resources.memory", "config-linux.md#memory"),
        ("linux.resources.cpu", "config-linux.md#cpu"),
        ("hooks", "config.md#posix-platform-hooks"),
        ("linux.seccomp", "config-linux.md#seccomp"),
        ("root.readonly", "config.md#root"),
        ("hostname", "config.md#hostname"),
    ];
    table
        .iter()
        .find(|(prefix, _)| class.starts_with(prefix))
        .map(|(_, r)| *r)
        .unwrap_or("runtime.md#create")
}

fn base_scenario(id: &str, title: &str, features: &[Feature], steps: Vec<Value>) -> Value {
    let mut refs: Vec<&str> = vec!["runtime.md#create"];
    for f in features {
        let r = spec_ref(&f.class);
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    let spec: Vec<Value> = refs
        .iter()
        .map(|r| json!({"ref": r, "level": "MUST"}))
        .collect();
    let patch: Vec<Value> = features.iter().flat_map(|f| f.ops.clone()).collect();
    json!({
        "schema": "oci-conform/v1",
        "id": id,
        "title": title,
        "spec": spec,
        "tags": ["fuzz"],
        "requires": { "privilege": "root" },
        "bundle": {
            "base": "probe",
            "config": { "process": { "args": ["/probe", "sleep", "300"] } },
            "patch": patch,
        },
        "steps": steps,
        "timeout": "60s",
    })
}

/// The scenario the fuzzer runs for one config: create, start, every observation.
pub fn observing(id: &str, features: &[Feature], mode: CgroupMode) -> String {
    let mut steps: Vec<Value> = LIFECYCLE.iter().map(|op| json!({ "op": op })).collect();
    steps.extend(observations(mode).into_iter().map(|(_, s)| s));
    let title = format!("fuzz config {id}");
    to_yaml(&base_scenario(id, &title, features, steps))
}

/// What the reference runtime did at the step where the runtimes part ways.
#[derive(Debug, Clone, PartialEq)]
pub enum Divergent {
    /// The reference's step `index` failed (non-zero exit) where the other's passed.
    RefFailedAt(usize),
    /// The reference passed the step where the other failed or errored.
    RefPassedAt(usize),
    /// Both ran the observation steps; these snapshots differ.
    Snapshots(Vec<String>),
}

/// The reproducing scenario: the lifecycle and the steps up to the divergence, with the
/// reference runtime's outcome as the expectation (its snapshots are written next to it).
pub fn reproducer(
    id: &str,
    title: &str,
    description: &str,
    features: &[Feature],
    mode: CgroupMode,
    what: &Divergent,
) -> String {
    let mut all: Vec<(String, Value)> = LIFECYCLE
        .iter()
        .map(|op| (op.to_string(), json!({ "op": op })))
        .collect();
    all.extend(
        observations(mode)
            .into_iter()
            .map(|(n, s)| (n.to_string(), s)),
    );
    let strip = |mut s: Value| {
        if let Some(e) = s.get_mut("expect").and_then(Value::as_object_mut) {
            e.remove("snapshot");
            if e.is_empty() {
                s.as_object_mut().map(|o| o.remove("expect"));
            }
        }
        s
    };
    let steps: Vec<Value> = match what {
        Divergent::RefFailedAt(k) | Divergent::RefPassedAt(k) => {
            let mut steps: Vec<Value> = all[..=*k].iter().map(|(_, s)| strip(s.clone())).collect();
            if matches!(what, Divergent::RefFailedAt(_)) {
                let last = &mut steps[*k];
                last["expect"] = json!({ "exit": { "not": 0 } });
            }
            steps
        }
        Divergent::Snapshots(names) => all
            .into_iter()
            .enumerate()
            .filter(|(i, (n, _))| *i < LIFECYCLE.len() || names.contains(n))
            .map(|(_, (_, s))| s)
            .collect(),
    };
    let mut v = base_scenario(id, title, features, steps);
    v["description"] = description.into();
    to_yaml(&v)
}

/// Top-level keys in the order the suite's scenarios use (serde_json sorts them).
const KEY_ORDER: &[&str] = &[
    "schema",
    "id",
    "title",
    "description",
    "spec",
    "tags",
    "requires",
    "bundle",
    "steps",
    "timeout",
];

fn to_yaml(v: &Value) -> String {
    let mut top = serde_yaml::Mapping::new();
    for key in KEY_ORDER {
        if let Some(x) = v.get(*key) {
            let x = serde_yaml::to_value(x).unwrap_or(serde_yaml::Value::Null);
            top.insert((*key).into(), x);
        }
    }
    serde_yaml::to_string(&top).unwrap_or_else(|e| format!("# cannot serialize: {e}\n"))
}

/// The scenario as the loader reads it (the check every emitted file passes).
pub fn load(path: &Path, text: &str) -> Result<load::Loaded, load::LoadError> {
    Ok(load::Loaded {
        path: path.to_path_buf(),
        scenario: load::parse(path, text)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::{grammar, rng::Rng};

    #[test]
    fn emitted_scenarios_load_back_through_the_scenario_loader() {
        let mut rng = Rng::new(3);
        for n in 0..100 {
            let features = grammar::generate(&mut rng);
            let id = format!("fuzz.t3-{n}");
            for mode in [CgroupMode::V1, CgroupMode::V2] {
                let text = observing(&id, &features, mode);
                load(Path::new("x.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                for what in [
                    Divergent::RefFailedAt(0),
                    Divergent::RefPassedAt(3),
                    Divergent::Snapshots(vec!["mounts".into(), "caps".into()]),
                ] {
                    let text = reproducer(&id, "t", "d", &features, mode, &what);
                    let l =
                        load(Path::new("x.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                    assert_eq!(l.scenario.id, id);
                }
            }
        }
    }

    #[test]
    fn a_reproducer_expects_the_reference_failure_and_keeps_only_divergent_snapshots() {
        let text = reproducer(
            "fuzz.x",
            "t",
            "d",
            &[],
            CgroupMode::V1,
            &Divergent::RefFailedAt(0),
        );
        let v: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(v["steps"].as_array().unwrap().len(), 1);
        assert_eq!(v["steps"][0]["expect"]["exit"]["not"], 0);
        let what = Divergent::Snapshots(vec!["env".into()]);
        let v: Value =
            serde_yaml::from_str(&reproducer("fuzz.x", "t", "d", &[], CgroupMode::V1, &what))
                .unwrap();
        let steps = v["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[2]["expect"]["snapshot"]["name"], "env");
    }
}
