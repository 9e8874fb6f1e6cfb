//! Load-time checks of the `seccomp_agent` steps, so a typo in a rule is a lint error rather
//! than an agent that refuses to start mid-run: rule keys are syscall names (`mkdir`,
//! `mkdir,mkdirat`, or `*`), actions are what oci-seccomp-agent understands, a scenario
//! starts one agent at most, and `seccomp_agent_stop` comes after it.

use super::position::Where;
use super::step::Op;
use super::Step;

/// The action syntax of oci-seccomp-agent (conformance/agent/src/rules.rs), for the schema.
pub const ACTION_PATTERN: &str =
    r"^(errno:([A-Z][A-Z0-9]*|[1-9][0-9]*)|success(:-?[0-9]+)?|continue)$";

type Problem = (Where, String);

fn action_problem(action: &str) -> Option<String> {
    let re = regex::Regex::new(ACTION_PATTERN).expect("the action pattern is a valid regex");
    if !re.is_match(action) {
        return Some(format!(
            "`{action}` is not an agent action (errno:NAME, errno:N, success, success:N, continue)"
        ));
    }
    let name = action.strip_prefix("errno:")?;
    let known = name.parse::<i32>().is_ok_and(|n| n < 4096)
        || (1..4096).any(|n| format!("{:?}", nix::errno::Errno::from_raw(n)) == name);
    (!known).then(|| format!("`{name}` is not an errno this host knows"))
}

fn key_problem(key: &str) -> Option<String> {
    let ok = key == "*"
        || key.split(',').all(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    (!ok).then(|| format!("rule `{key}` must name syscalls (`mkdir`, `mkdir,mkdirat`) or be `*`"))
}

pub fn problems(steps: &[Step]) -> Vec<Problem> {
    let mut p = Vec::new();
    let mut started = false;
    for (i, st) in steps.iter().enumerate() {
        match &st.op {
            Op::SeccompAgent { rules, default } => {
                if started {
                    let m = format!("steps[{i}]: a scenario starts one seccomp agent at most");
                    p.push((Where::Step(i, None), m));
                }
                started = true;
                for (k, a) in rules {
                    for m in key_problem(k).into_iter().chain(action_problem(a)) {
                        p.push((Where::Step(i, Some("rules")), format!("steps[{i}]: {m}")));
                    }
                }
                if let Some(m) = action_problem(default) {
                    p.push((Where::Step(i, Some("default")), format!("steps[{i}]: {m}")));
                }
            }
            Op::SeccompAgentStop {} if !started => {
                let m = format!(
                    "steps[{i}]: seccomp_agent_stop without a seccomp_agent step before it"
                );
                p.push((Where::Step(i, None), m));
            }
            _ => {}
        }
    }
    p
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
spec: [{ ref: config-linux.md#seccomp, level: MUST }]
bundle:
  config: { hostname: x }
steps:
";

    #[rstest]
    #[case(
        "  - { op: seccomp_agent, rules: { mkdir: errno:EWHAT } }\n",
        "`EWHAT` is not an errno"
    )]
    #[case(
        "  - { op: seccomp_agent, rules: { mkdir: allow } }\n",
        "`allow` is not an agent action"
    )]
    #[case(
        "  - { op: seccomp_agent, rules: { MKDIR: success } }\n",
        "must name syscalls"
    )]
    #[case(
        "  - { op: seccomp_agent, default: errno }\n",
        "`errno` is not an agent action"
    )]
    #[case(
        "  - { op: seccomp_agent_stop }\n",
        "without a seccomp_agent step before it"
    )]
    #[case(
        "  - { op: seccomp_agent }\n  - { op: seccomp_agent }\n",
        "one seccomp agent at most"
    )]
    fn bad_agent_steps_are_refused(#[case] steps: &str, #[case] needle: &str) {
        let e = parse(Path::new("t.yaml"), &format!("{HEAD}{steps}")).unwrap_err();
        assert!(e.message.contains(needle), "{e}");
    }

    #[test]
    fn good_agent_steps_load() {
        let steps = "  - op: seccomp_agent\n    rules: { \"mkdir,mkdirat\": \"errno:EPERM\", chmod: success, \"*\": \"errno:38\" }\n    default: success:3\n  - { op: seccomp_agent_stop }\n";
        parse(Path::new("t.yaml"), &format!("{HEAD}{steps}")).unwrap();
    }
}
