//! What one runtime showed for one config, and where two runtimes differ. Observations are
//! the normalized snapshots (the same normalizers as `expect.snapshot`), plus the outcome:
//! which step failed, if any. Error messages are not compared: their wording is each
//! runtime's own.

use std::collections::BTreeMap;

/// Lines removed (`false`) and added (`true`) from one snapshot to another, with counts.
pub type Changes = BTreeMap<(bool, String), usize>;

/// Per snapshot name, the changes the base config alone shows between two runtimes: those
/// are reported once, as the base's own classes, and masked in every config's comparison so
/// they cannot hide what a config's features change.
pub type Baseline = BTreeMap<String, Changes>;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every step passed and teardown left nothing behind.
    Pass,
    /// Step `index` (`op`) did not pass: a command exited non-zero, an observation failed.
    Failed { index: usize, op: String },
    /// Teardown found something left behind.
    Leak,
    /// The harness could not run the scenario (setup, interruption).
    Harness(String),
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Pass => "pass".into(),
            Outcome::Failed { index, op } => format!("failed at step {index} ({op})"),
            Outcome::Leak => "left something behind after teardown".into(),
            Outcome::Harness(m) => format!("harness error: {m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub runtime: String,
    pub outcome: Outcome,
    /// Snapshot name -> normalized content.
    pub snapshots: BTreeMap<String, String>,
    /// The runtime's reason when it did not pass (for the report, never compared).
    pub reason: Option<String>,
}

/// The changed lines of snapshot `key` from `a` to `b`. The cgroup snapshot is compared as a
/// set of lines: devices.list lists rules in the order they were written, which means nothing.
pub fn changes(key: &str, a: &str, b: &str) -> Changes {
    let sorted = |t: &str| {
        let mut l: Vec<&str> = t.lines().collect();
        l.sort_unstable();
        l.join("\n") + "\n"
    };
    let (a, b) = if key == "cgroup" {
        (sorted(a), sorted(b))
    } else {
        (a.to_string() + "\n", b.to_string() + "\n")
    };
    let mut out = Changes::new();
    for change in similar::TextDiff::from_lines(&a, &b).iter_all_changes() {
        let added = match change.tag() {
            similar::ChangeTag::Equal => continue,
            similar::ChangeTag::Insert => true,
            similar::ChangeTag::Delete => false,
        };
        let line = change.value().trim_end_matches('\n').to_string();
        *out.entry((added, line)).or_default() += 1;
    }
    out
}

/// `c` without what `base` has (counts subtract).
pub fn without(mut c: Changes, base: Option<&Changes>) -> Changes {
    for (line, n) in base.into_iter().flatten() {
        if let Some(m) = c.get_mut(line) {
            *m = m.saturating_sub(*n);
        }
    }
    c.retain(|_, n| *n > 0);
    c
}

/// The observation keys on which `b` differs from `a` beyond `base`: `outcome` when the
/// outcomes differ (later snapshots are then missing on one side and say nothing more), else
/// the snapshot names whose changes are not all in `base`. Empty: no divergence.
pub fn diff(a: &Observation, b: &Observation, base: &Baseline) -> Vec<String> {
    if a.outcome != b.outcome {
        return vec!["outcome".into()];
    }
    let mut keys: Vec<String> = a
        .snapshots
        .keys()
        .chain(b.snapshots.keys())
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| {
        let (x, y) = (a.snapshots.get(k), b.snapshots.get(k));
        let c = changes(
            k,
            x.map_or("", String::as_str),
            y.map_or("", String::as_str),
        );
        !without(c, base.get(k)).is_empty()
    });
    keys
}

/// The base's own changes: in both of two runs (a change in one only is not the base's).
pub fn baseline(
    a1: &Observation,
    b1: &Observation,
    a2: &Observation,
    b2: &Observation,
) -> Baseline {
    let mut out = Baseline::new();
    for k in a1.snapshots.keys().chain(b1.snapshots.keys()) {
        let get = |o: &Observation| o.snapshots.get(k).cloned().unwrap_or_default();
        let first = changes(k, &get(a1), &get(b1));
        let second = changes(k, &get(a2), &get(b2));
        let both: Changes = first
            .into_iter()
            .filter_map(|(l, n)| second.get(&l).map(|m| (l, n.min(*m))))
            .collect();
        if !both.is_empty() {
            out.insert(k.clone(), both);
        }
    }
    out
}

/// Up to `n` changed lines as `-line` / `+line`, for a one-line report.
pub fn summary(c: &Changes, n: usize) -> String {
    let mut parts: Vec<String> = c
        .keys()
        .take(n)
        .map(|(added, l)| format!("{}{}", if *added { '+' } else { '-' }, l.trim()))
        .collect();
    if c.len() > n {
        parts.push(format!("(+{} more)", c.len() - n));
    }
    parts.join(" ")
}

/// The first line where two snapshots differ, for a one-line report.
pub fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    for i in 0..la.len().max(lb.len()) {
        let (x, y) = (la.get(i).copied(), lb.get(i).copied());
        if x != y {
            return format!(
                "line {}: {:?} vs {:?}",
                i + 1,
                x.unwrap_or("<none>"),
                y.unwrap_or("<none>")
            );
        }
    }
    "identical".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(outcome: Outcome, snaps: &[(&str, &str)]) -> Observation {
        Observation {
            runtime: "x".into(),
            outcome,
            snapshots: snaps
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            reason: None,
        }
    }

    #[test]
    fn outcome_first_then_snapshots() {
        let none = Baseline::new();
        let a = obs(Outcome::Pass, &[("env", "A=1"), ("caps", "x")]);
        let b = obs(
            Outcome::Pass,
            &[("env", "A=2"), ("caps", "x"), ("mounts", "m")],
        );
        assert_eq!(diff(&a, &b, &none), vec!["env", "mounts"]);
        let c = obs(
            Outcome::Failed {
                index: 0,
                op: "create".into(),
            },
            &[],
        );
        assert_eq!(diff(&a, &c, &none), vec!["outcome"]);
        assert!(diff(&a, &a.clone(), &none).is_empty());
        assert_eq!(first_difference("a\nb", "a\nc"), "line 2: \"b\" vs \"c\"");
    }

    #[test]
    fn the_base_changes_are_masked_and_cgroup_lines_are_a_set() {
        let a = obs(
            Outcome::Pass,
            &[("mounts", "x\n- ro\ny"), ("cgroup", "c 1:3 rwm\nc 1:5 rwm")],
        );
        let b = obs(
            Outcome::Pass,
            &[
                ("mounts", "x\n- ro\n- nosuid\ny"),
                ("cgroup", "c 1:5 rwm\nc 1:3 rwm"),
            ],
        );
        let base = baseline(&a, &b, &a, &b);
        assert_eq!(base.keys().collect::<Vec<_>>(), vec!["mounts"]);
        assert!(diff(&a, &b, &base).is_empty());
        // One more `- nosuid` than the base has is a divergence of its own.
        let c = obs(
            Outcome::Pass,
            &[
                ("mounts", "x\n- ro\n- nosuid\ny\n- nosuid"),
                ("cgroup", "c 1:3 rwm\nc 1:5 rwm"),
            ],
        );
        assert_eq!(diff(&a, &c, &base), vec!["mounts"]);
        assert_eq!(summary(&changes("mounts", "a", "b"), 3), "-a +b");
    }
}
