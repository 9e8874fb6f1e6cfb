//! Semantic checks that serde cannot express, run at load time (so `lint` and `run` refuse
//! the same files): ids, spec refs, step constraints, templates that would fail to expand at
//! run time, and exit-code matchers that could never match a number. Each problem names the
//! place it is about, which `load` turns into a line and column.

use super::load::{check_spec_ref, is_valid_id};
use super::position::Where;
use super::step::Op;
use super::template::{names_in, Vars, NAMES, SYSTEMD_STEP_NAMES};
use super::{CgroupDriver, Scenario, Step, SCHEMA_V1};
use crate::expect::Matcher;

pub type Problem = (Where, String);

/// Every problem of the scenario, in file order where it matters (the first is reported).
pub fn validate(s: &Scenario) -> Vec<Problem> {
    let mut p = header(s);
    p.extend(bundle_templates(s));
    p.extend(systemd_names(s));
    let mut names = std::collections::BTreeSet::new();
    for (i, st) in s.steps.iter().enumerate() {
        step(i, st, &mut names, &mut p);
    }
    p.extend(super::agent_rules::problems(&s.steps));
    p
}

fn header(s: &Scenario) -> Vec<Problem> {
    let mut p = Vec::new();
    if s.schema != SCHEMA_V1 {
        let m = format!("schema must be `{SCHEMA_V1}`, got `{}`", s.schema);
        p.push((Where::Key("schema", None), m));
    }
    if !is_valid_id(&s.id) {
        let m = format!("id `{}` must be dotted lowercase words (area.name)", s.id);
        p.push((Where::Key("id", None), m));
    }
    if s.spec.is_empty() {
        let m = "spec: at least one spec reference is required".to_string();
        p.push((Where::Key("spec", None), m));
    }
    for r in &s.spec {
        if let Err(why) = check_spec_ref(&r.reference) {
            let m = format!("spec ref `{}`: {why}", r.reference);
            p.push((Where::Text(r.reference.clone()), m));
        }
    }
    if s.steps.is_empty() {
        let m = "steps: at least one step is required".to_string();
        p.push((Where::Key("steps", None), m));
    }
    if let Some(k) = &s.requires.kernel {
        if crate::host::parse_kernel(k).is_none() {
            let m = format!("requires.kernel `{k}` must be major.minor");
            p.push((Where::Key("requires", Some("kernel")), m));
        }
    }
    p
}

/// Every name a template may use, with a dummy value: expanding with it fails exactly where
/// the run would fail.
fn all_names() -> Vars {
    let mut v = Vars::default();
    for n in NAMES {
        v.set(n, "x");
    }
    v
}

fn template_problem(value: &serde_json::Value, what: &str) -> Option<Problem> {
    let e = all_names().render_value(value).err()?;
    let m = format!(
        "{what}: unknown template `{{{{{}}}}}` (known: {})",
        e.name,
        NAMES.join(", ")
    );
    Some((
        Where::Text(format!("{{{{{}", raw_name(&e.text, &e.name))),
        m,
    ))
}

/// The text between `{{` and the name as written (`{{ nosuch }}` keeps its space), so the
/// position search finds it.
fn raw_name(text: &str, name: &str) -> String {
    text.split("{{")
        .skip(1)
        .find(|part| part.trim_start().starts_with(name))
        .map(|part| part[..part.find(name).unwrap_or(0) + name.len()].to_string())
        .unwrap_or_else(|| name.to_string())
}

fn bundle_templates(s: &Scenario) -> Option<Problem> {
    // Symlink targets of the rootfs files are expanded too (bundle::prepare).
    let links: Vec<&String> = s
        .bundle
        .files
        .values()
        .filter_map(|f| f.symlink.as_ref())
        .collect();
    let b = serde_json::to_value((&s.bundle.config, &s.bundle.patch, links)).ok()?;
    template_problem(&b, "bundle")
}

/// `{{unit}}` and `{{cgroup_dir}}` come from the rendered systemd cgroupsPath: only steps of
/// a `cgroup_driver: systemd` scenario have them, and so does a `systemd_unit` step without
/// its own `unit`.
fn systemd_names(s: &Scenario) -> Vec<Problem> {
    let mut p = Vec::new();
    let step_only = |v: &serde_json::Value| {
        names_in(v)
            .into_iter()
            .find(|n| SYSTEMD_STEP_NAMES.contains(&n.as_str()))
    };
    if let Some(n) = serde_json::to_value((&s.bundle.config, &s.bundle.patch))
        .ok()
        .and_then(|b| step_only(&b))
    {
        let m = format!(
            "bundle: `{{{{{n}}}}}` is known only in steps (it comes from the rendered cgroupsPath)"
        );
        p.push((Where::Text(format!("{{{{{n}")), m));
    }
    if s.cgroup_driver == CgroupDriver::Systemd {
        return p;
    }
    for (i, st) in s.steps.iter().enumerate() {
        if let Op::SystemdUnit { unit: None, .. } = st.op {
            let m = format!("steps[{i}]: systemd_unit without `unit` needs cgroup_driver: systemd (the unit comes from its cgroupsPath)");
            p.push((Where::Step(i, Some("op")), m));
        }
        if let Some(n) = serde_json::to_value(&st.op)
            .ok()
            .and_then(|v| step_only(&v))
        {
            let m = format!("steps[{i}]: `{{{{{n}}}}}` needs cgroup_driver: systemd");
            p.push((Where::Text(format!("{{{{{n}")), m));
        }
    }
    p
}

fn step(i: usize, st: &Step, names: &mut std::collections::BTreeSet<String>, p: &mut Vec<Problem>) {
    if let Some(r) = &st.spec {
        if let Err(why) = check_spec_ref(&r.reference) {
            let m = format!("spec ref `{}`: {why}", r.reference);
            p.push((Where::Step(i, Some("spec")), m));
        }
    }
    if let Some(snap) = &st.expect.snapshot {
        if !valid_snapshot_name(&snap.name) {
            let m = format!(
                "steps[{i}]: snapshot name `{}` may only hold [A-Za-z0-9_-]",
                snap.name
            );
            p.push((Where::Step(i, Some("snapshot")), m));
        }
        if !names.insert(snap.name.clone()) {
            let m = format!("steps[{i}]: snapshot name `{}` is used twice", snap.name);
            p.push((Where::Step(i, Some("snapshot")), m));
        }
    }
    // `kill`'s signal is passed through as written: rejecting a bad name is the runtime's
    // job, and scenarios test exactly that. Expected signals must be real ones.
    for sig in st.expect.signal.iter() {
        if crate::driver::signal::parse(sig).is_none() {
            p.push((
                Where::Step(i, Some("signal")),
                format!("steps[{i}]: unknown signal `{sig}`"),
            ));
        }
    }
    for (key, m) in [("exit", &st.expect.exit), ("code", &st.expect.code)] {
        if let Some(why) = m.as_ref().and_then(numeric_problem) {
            p.push((
                Where::Step(i, Some(key)),
                format!("steps[{i}]: expect.{key}: {why}"),
            ));
        }
    }
    if let Ok(op) = serde_json::to_value(&st.op) {
        p.extend(template_problem(&op, &format!("steps[{i}]")));
    }
    if let Op::Exec {
        tty: true,
        detach: false,
        ..
    } = st.op
    {
        p.push((Where::Step(i, Some("tty")), format!("steps[{i}]: exec tty: true needs detach: true (the runner has no terminal of its own; the pty arrives over the console socket and its output in {{{{console}}}})")));
    }
    if let Some(why) = target_problem(&st.op) {
        p.push((Where::Step(i, Some("id")), format!("steps[{i}]: {why}")));
    }
    if let Some((key, why)) = checkpoint_problem(&st.op) {
        p.push((Where::Step(i, Some(key)), format!("steps[{i}]: {why}")));
    }
    if let Op::Events { stats: false } = st.op {
        p.push((Where::Step(i, Some("stats")), format!("steps[{i}]: events without stats would stream forever; only stats: true is supported")));
    }
}

/// An `id:` names a container under the scenario's `--root`: a path component, and set at
/// all (an empty one would address nothing).
fn target_problem(op: &Op) -> Option<String> {
    let id = op.target_id()?;
    if id.trim().is_empty() {
        return Some(format!(
            "{}: id is empty (leave it out for the scenario's own container)",
            op.name()
        ));
    }
    if id.contains('/') || id == "." || id == ".." {
        return Some(format!("{}: id `{id}` must not be a path", op.name()));
    }
    None
}

/// Path fields that are set must name something: an empty one would silently mean "the
/// current directory" to the runtime.
fn checkpoint_problem(op: &Op) -> Option<(&'static str, String)> {
    let fields: Vec<(&'static str, &Option<String>)> = match op {
        Op::Checkpoint(c) => vec![
            ("image_path", &c.image_path),
            ("work_path", &c.work_path),
            ("parent_path", &c.parent_path),
            ("empty_ns", &c.empty_ns),
        ],
        Op::Restore(r) => vec![
            ("image_path", &r.image_path),
            ("work_path", &r.work_path),
            ("bundle", &r.bundle),
            ("empty_ns", &r.empty_ns),
        ],
        _ => return None,
    };
    fields
        .into_iter()
        .find(|(_, v)| v.as_deref().is_some_and(|v| v.trim().is_empty()))
        .map(|(k, _)| {
            (
                k,
                format!("{}: {k} is empty (leave it out for the default)", op.name()),
            )
        })
}

fn valid_snapshot_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a matcher of an exit code or status could never hold (`exit: "zero"`), if it could not.
fn numeric_problem(m: &Matcher) -> Option<String> {
    use crate::expect::{as_number, Kind};
    let not_a_number = |v: &serde_json::Value| {
        as_number(v).is_none().then(|| {
            format!(
                "{} is not a number, so it can never match an exit status",
                crate::expect::render(v)
            )
        })
    };
    match &m.kind {
        Kind::Equals(v) => not_a_number(v),
        Kind::OneOf(vs) => vs.iter().find_map(not_a_number),
        Kind::Cmp(..) => None,
        Kind::Not(inner) => numeric_problem(inner),
        Kind::All(all) => all.iter().find_map(numeric_problem),
        _ => Some(format!(
            "{} does not apply to an exit status (use a number, one_of, not, gt/ge/lt/le)",
            crate::expect::render(&m.source)
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load::parse;
    use rstest::rstest;
    use std::path::Path;

    const HEAD: &str = "\
schema: oci-conform/v1
id: a.b
title: t
spec: [{ ref: runtime.md#create, level: MUST }]
bundle:
  config: { hostname: \"{{id}}\" }
steps:
  - { op: create }
";

    #[rstest]
    #[case("  - { op: create, expect: { exit: \"zero\" } }\n", "expect.exit: \"zero\" is not a number", (9, 29))]
    #[case("  - op: start\n    expect: { exit: { one_of: [0, nope] } }\n", "\"nope\" is not a number", (10, 15))]
    #[case("  - { op: container_exit, expect: { code: { regex: x } } }\n", "does not apply to an exit status", (9, 37))]
    #[case("  - { op: raw, args: [\"{{nosuch}}\"] }\n", "steps[1]: unknown template `{{nosuch}}`", (9, 24))]
    #[case("  - op: read_file\n    path: \"{{ scratch }}/{{ nope }}\"\n", "unknown template `{{nope}}`", (10, 26))]
    #[case("  - op: exec\n    args: [ls]\n    tty: true\n", "needs detach: true", (11, 5))]
    #[case("  - op: state\n    id: \"\"\n", "state: id is empty", (10, 5))]
    #[case("  - op: kill\n    id: a/b\n", "kill: id `a/b` must not be a path", (10, 5))]
    #[case("  - op: checkpoint\n    parent_path: \"\"\n", "checkpoint: parent_path is empty", (10, 5))]
    #[case("  - op: restore\n    image_path: \"{{imgs}}/x\"\n", "unknown template `{{imgs}}`", (10, 18))]
    #[case("  - op: restore\n    id: \"{{id}}-2\"\n    bundle: \" \"\n", "restore: bundle is empty", (11, 5))]
    #[case("  - { op: systemd_unit, expect: { exists: false } }\n", "systemd_unit without `unit` needs cgroup_driver: systemd", (9, 7))]
    #[case("  - { op: read_file, path: \"{{cgroup_dir}}/x\" }\n", "steps[1]: `{{cgroup_dir}}` needs cgroup_driver: systemd", (9, 29))]
    #[case("  - { op: systemd_unit, unit: x.scope }\n", "systemd_unit needs expect.properties or expect.exists", (9, 5))]
    #[case("  - op: systemd_unit\n    unit: x.scope\n    expect: { exists: false, properties: { A: b } }\n", "a unit that is gone has none", (9, 5))]
    fn step_problems_are_placed_at_their_key(
        #[case] step: &str,
        #[case] needle: &str,
        #[case] pos: (usize, usize),
    ) {
        let e = parse(Path::new("t.yaml"), &format!("{HEAD}{step}")).unwrap_err();
        assert!(e.message.contains(needle), "{e}");
        assert_eq!((e.line, e.column), (Some(pos.0), Some(pos.1)), "{e}");
    }

    #[rstest]
    #[case("  config: { hostname: \"{{id}}\" }\n", "  config: { hostname: \"{{nosuch}}\" }\n", "bundle: unknown template `{{nosuch}}`", (6, 24))]
    #[case("steps:\n", "requires:\n  privilege: root\n  kernel: banana\nsteps:\n", "requires.kernel `banana`", (9, 3))]
    #[case("steps:\n", "timeout: 5 parsecs\nsteps:\n", "invalid duration `5 parsecs`", (7, 10))]
    #[case("  config: { hostname: \"{{id}}\" }\n", "  config: { hostname: \"{{unit}}\" }\ncgroup_driver: systemd\n", "bundle: `{{unit}}` is known only in steps", (6, 24))]
    #[case("steps:\n", "cgroup_driver: systemdd\nsteps:\n", "unknown variant `systemdd`", (7, 16))]
    #[case("steps:\n", "teardown: auto\ntimeout: [1]\nsteps:\n", "expected a duration", (8, 10))]
    fn top_level_problems_are_placed_at_their_key(
        #[case] from: &str,
        #[case] to: &str,
        #[case] needle: &str,
        #[case] pos: (usize, usize),
    ) {
        let e = parse(Path::new("t.yaml"), &HEAD.replace(from, to)).unwrap_err();
        assert!(e.message.contains(needle), "{e}");
        assert_eq!((e.line, e.column), (Some(pos.0), Some(pos.1)), "{e}");
    }

    #[test]
    fn systemd_scenarios_may_use_the_unit_in_steps() {
        let text = HEAD.replace("steps:\n", "cgroup_driver: systemd\nsteps:\n")
            + "  - { op: systemd_unit, expect: { properties: { Delegate: \"yes\" } } }\n"
            + "  - { op: read_file, path: \"{{cgroup_dir}}/memory.max\", expect: { content: max } }\n";
        let s = parse(Path::new("t.yaml"), &text).unwrap();
        assert_eq!(s.cgroup_driver, crate::scenario::CgroupDriver::Systemd);
    }
}
