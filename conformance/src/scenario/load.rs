//! Loading scenario files: discovery, duplicate-key rejection, typed parsing and the semantic
//! checks that serde cannot express. Every error names the file, and the line and column
//! where serde_yaml knows them.

use super::position::{culprit_key, locate};
use super::Scenario;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path.display(), self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            _ => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for LoadError {}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub scenario: Scenario,
}

/// Directories under a suite that hold other YAML (not scenarios).
const NOT_SCENARIO_DIRS: &[&str] = &["snapshots", "expectations"];

/// Expands files and directories (recursively, `*.yaml`/`*.yml`) into a sorted file list.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut out)?;
        } else if input.is_file() {
            out.push(input.clone());
        } else {
            return Err(LoadError {
                path: input.clone(),
                line: None,
                column: None,
                message: "no such file or directory".to_string(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError {
        path: dir.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read directory: {e}"),
    })?;
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if p.is_dir() {
            if !NOT_SCENARIO_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                walk(&p, out)?;
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(p);
        }
    }
    Ok(())
}

/// serde_yaml appends " at line L column C"; the position prefix already says it.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// `text` (when given) lets an error serde_yaml placed at the top-level mapping be moved to
/// the value it is about.
fn yaml_error(path: &Path, text: Option<&str>, e: &serde_yaml::Error) -> LoadError {
    let loc = e.location();
    let message = strip_location(&e.to_string());
    let mut pos = loc.map(|l| (l.line(), l.column()));
    if pos == Some((1, 1)) {
        if let Some(text) = text {
            let full = e.to_string();
            let fails_without = |v: &serde_yaml::Value| {
                serde_yaml::from_value::<Scenario>(v.clone())
                    .err()
                    .map(|e| e.to_string())
            };
            pos = culprit_key(text, &strip_location(&full), |v| {
                fails_without(v).map(|m| strip_location(&m))
            })
            .or(pos);
        }
    }
    LoadError {
        path: path.to_path_buf(),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
        message,
    }
}

/// Parses one scenario from text.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, LoadError> {
    // serde_yaml 0.9 rejects duplicate keys when building a Value; typed structs catch duplicate
    // fields, but free-form maps (config patches, matchers) would silently keep the last one.
    serde_yaml::from_str::<serde_yaml::Value>(text).map_err(|e| yaml_error(path, None, &e))?;
    let scenario: Scenario =
        serde_yaml::from_str(text).map_err(|e| yaml_error(path, Some(text), &e))?;
    if let Some((place, message)) = super::validate::validate(&scenario).into_iter().next() {
        let pos = locate(text, &place);
        return Err(LoadError {
            path: path.to_path_buf(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            message,
        });
    }
    Ok(scenario)
}

pub fn load_file(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        path: path.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })?;
    Ok(Loaded {
        path: path.to_path_buf(),
        scenario: parse(path, &text)?,
    })
}

/// Loads every file; returns the scenarios that parsed and the errors of those that did not.
pub fn load_all(files: &[PathBuf]) -> (Vec<Loaded>, Vec<LoadError>) {
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    for f in files {
        match load_file(f) {
            Ok(l) => ok.push(l),
            Err(e) => errs.push(e),
        }
    }
    (ok, errs)
}

pub fn is_valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
}

/// Documents of the runtime-spec a scenario may cite.
pub const SPEC_FILES: &[&str] = &[
    "bundle.md",
    "config.md",
    "config-linux.md",
    "features.md",
    "features-linux.md",
    "glossary.md",
    "principles.md",
    "runtime.md",
    "runtime-linux.md",
    "spec.md",
];

/// runc's man pages (`man/runc-<command>.8.md` in runc's tree) are the written contract of the
/// command line that runc-compatible runtimes share, so parity scenarios (`events`, `--debug`,
/// `exec --cgroup` ...) cite them: `runc.8.md` for the global options, `runc-<command>.8.md`
/// for a command. The runtime-spec says nothing about these.
fn is_runc_man_page(file: &str) -> bool {
    let Some(page) = file.strip_suffix(".8.md") else {
        return false;
    };
    page == "runc"
        || page.strip_prefix("runc-").is_some_and(|cmd| {
            !cmd.is_empty() && cmd.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

/// `file.md#anchor` with a known file and a GitHub-style anchor (lowercase, digits, `-`).
pub fn check_spec_ref(r: &str) -> Result<(), String> {
    let (file, anchor) = r.split_once('#').ok_or("must be file.md#anchor")?;
    if !SPEC_FILES.contains(&file) && !is_runc_man_page(file) {
        return Err(format!(
            "unknown spec document `{file}` (known: {}, and runc's man pages runc.8.md and \
             runc-<command>.8.md)",
            SPEC_FILES.join(", ")
        ));
    }
    let ok = !anchor.is_empty()
        && anchor
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "anchor `{anchor}` must be a heading slug (lowercase words joined by -)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const GOOD: &str = "\
schema: oci-conform/v1
id: lifecycle.basic
title: create and delete
spec: [{ ref: runtime.md#lifecycle, level: MUST }]
tags: [lifecycle]
requires: { privilege: root, cgroup: any, cgroup_controllers: [pids] }
bundle:
  base: busybox
  config:
    process: { args: [sleep, '300'] }
  patch:
    - { op: add, path: /mounts/-, value: { destination: /scratch, type: tmpfs, source: tmpfs } }
steps:
  - { op: create, expect: { exit: 0 } }
  - op: state
    expect:
      json: { match: subset, value: { status: created, pid: { gt: 0 } } }
      snapshot: { name: state-created, normalize: oci-state }
  - { op: kill, signal: KILL }
  - { op: wait_for, status: stopped, within: 10s }
  - { op: container_exit, expect: { signal: KILL } }
  - { op: delete }
  - { op: state, expect: { exit: { not: 0 } } }
";

    fn p(text: &str) -> Result<Scenario, LoadError> {
        parse(Path::new("t.yaml"), text)
    }

    #[test]
    fn parses_the_design_example_shape() {
        let s = p(GOOD).unwrap();
        assert_eq!(s.steps.len(), 7);
        assert_eq!(s.steps[0].op.name(), "create");
        assert!(s.steps[1].expect.snapshot.is_some());
    }

    #[rstest]
    // unknown top-level field
    #[case("bogus: 1\n", "unknown field `bogus`", Some(24))]
    // unknown field inside a step
    #[case(
        "  - { op: start, signal: KILL }\n",
        "unknown field `signal`",
        Some(24)
    )]
    // expect key not valid for the op
    #[case(
        "  - { op: wait_for, status: stopped, within: 1s, expect: { exit: 0 } }\n",
        "expect.exit is not valid for op `wait_for`",
        Some(24)
    )]
    // empty matcher
    #[case(
        "  - { op: state, expect: { stdout: {} } }\n",
        "empty matcher",
        Some(24)
    )]
    // unknown matcher keyword
    #[case(
        "  - { op: state, expect: { stdout: { equal: x } } }\n",
        "unknown matcher key `equal`",
        Some(24)
    )]
    // an empty map of matchers
    #[case(
        "  - { op: inspect_cgroup, expect: { files: {} } }\n",
        "expect.files is empty",
        Some(24)
    )]
    // unknown op
    #[case("  - { op: frobnicate }\n", "unknown variant `frobnicate`", Some(24))]
    // duplicate key inside a step
    #[case(
        "  - { op: kill, signal: KILL, signal: TERM }\n",
        "duplicate entry with key \"signal\"",
        Some(24)
    )]
    // bad regex
    #[case(
        "  - { op: state, expect: { stdout: { regex: '(' } } }\n",
        "regex",
        Some(24)
    )]
    // bad expected signal
    #[case(
        "  - { op: container_exit, expect: { signal: NOPE } }\n",
        "unknown signal `NOPE`",
        None
    )]
    fn rejects_appended(#[case] extra: &str, #[case] needle: &str, #[case] line: Option<usize>) {
        let text = format!("{GOOD}{extra}");
        let e = p(&text).unwrap_err();
        assert!(e.message.contains(needle), "{e}");
        if line.is_some() {
            assert_eq!(e.line, line, "{e}");
            assert!(e.column.is_some());
        }
    }

    #[test]
    fn duplicate_keys_are_rejected_everywhere() {
        // A top-level duplicate.
        let e = p(&GOOD.replace("title: create and delete\n", "title: a\ntitle: b\n")).unwrap_err();
        assert!(e.message.contains("duplicate"), "{e}");
        // A duplicate inside a free-form config patch (serde_json::Value would keep the last).
        let e =
            p(&GOOD.replace("  base: busybox\n", "  base: busybox\n  config2: 1\n")).unwrap_err();
        assert!(e.message.contains("unknown field `config2`"), "{e}");
        let dup = GOOD.replace(
            "    process: { args: [sleep, '300'] }\n",
            "    hostname: a\n    hostname: b\n",
        );
        let e = p(&dup).unwrap_err();
        assert!(
            e.message.contains("duplicate entry with key \"hostname\""),
            "{e}"
        );
        assert_eq!(e.line, Some(10));
    }

    #[rstest]
    #[case(
        "schema: oci-conform/v1\n",
        "schema: oci-conform/v2\n",
        "schema must be"
    )]
    #[case("id: lifecycle.basic\n", "id: Lifecycle\n", "id `Lifecycle`")]
    #[case(
        "spec: [{ ref: runtime.md#lifecycle, level: MUST }]\n",
        "spec: []\n",
        "at least one spec"
    )]
    fn semantic_errors(#[case] from: &str, #[case] to: &str, #[case] needle: &str) {
        let e = p(&GOOD.replace(from, to)).unwrap_err();
        assert!(e.message.contains(needle), "{e}");
        assert!(e.line.is_some(), "{e}");
    }

    #[rstest]
    #[case("runtime.md#lifecycle", true)]
    #[case("config-linux.md#rootfs-mount-propagation", true)]
    #[case("runtime.md", false)]
    #[case("runtim.md#lifecycle", false)]
    #[case("config.md#Mounts", false)]
    #[case("config.md#", false)]
    #[case("runc.8.md#global-options", true)]
    #[case("runc-events.8.md#options", true)]
    #[case("runc-.8.md#options", false)]
    #[case("runc-events.md#options", false)]
    #[case("runc-Events.8.md#options", false)]
    fn spec_refs(#[case] r: &str, #[case] ok: bool) {
        assert_eq!(check_spec_ref(r).is_ok(), ok, "{r}");
    }

    #[test]
    fn bad_level_is_rejected() {
        let e = p(&GOOD.replace("level: MUST", "level: MUSTNT")).unwrap_err();
        assert!(e.message.contains("unknown variant `MUSTNT`"), "{e}");
    }

    #[test]
    fn display_has_file_line_column() {
        let e = p(&format!("{GOOD}bogus: 1\n")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.yaml:24:1: unknown field `bogus`"),
            "{e}"
        );
    }
}
