//! The order a mutant meets the scenarios in: those of the areas it touches first, so a
//! `--first-kill` campaign stops early on a killed mutant and only survivors cost a full run.

use crate::scenario::Scenario;

/// True when the scenario's area or one of its tags is among `areas`.
pub fn touches(s: &Scenario, areas: &[&str]) -> bool {
    areas.contains(&s.area()) || s.tags.iter().any(|t| areas.contains(&t.as_str()))
}

/// Indices of `scenarios` with the touched ones first; each group keeps the input order.
pub fn order(scenarios: &[&Scenario], areas: &[&str]) -> Vec<usize> {
    let (mut first, rest): (Vec<usize>, Vec<usize>) =
        (0..scenarios.len()).partition(|&i| touches(scenarios[i], areas));
    first.extend(rest);
    first
}

/// Batches of a plan: the touched scenarios in batches that double from `start` (cheap kills
/// come from the first few), then the rest in one batch. Without `first_kill`, one batch.
pub fn batches(plan: &[usize], touched: usize, start: usize, first_kill: bool) -> Vec<Vec<usize>> {
    if !first_kill {
        return vec![plan.to_vec()];
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut size = start.max(1);
    while i < touched.min(plan.len()) {
        let end = (i + size).min(touched);
        out.push(plan[i..end].to_vec());
        i = end;
        size *= 2;
    }
    if i < plan.len() {
        out.push(plan[i..].to_vec());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(id: &str, tags: &[&str]) -> Scenario {
        let yaml = format!(
            "schema: oci-conform/v1\nid: {id}\ntitle: t\nspec: [{{ ref: 'runtime.md#state', level: MUST }}]\ntags: [{}]\nbundle: {{ base: probe }}\nsteps: [{{ op: state }}]\n",
            tags.join(",")
        );
        serde_yaml::from_str(&yaml).unwrap()
    }

    #[test]
    fn touched_scenarios_come_first_in_input_order() {
        let s = [
            sc("a.one", &[]),
            sc("masked.x", &[]),
            sc("b.two", &["masked"]),
            sc("c.three", &[]),
        ];
        let refs: Vec<&Scenario> = s.iter().collect();
        assert_eq!(order(&refs, &["masked"]), [1, 2, 0, 3]);
    }

    #[test]
    fn batches_double_then_take_the_rest() {
        let plan: Vec<usize> = (0..20).collect();
        let b = batches(&plan, 7, 2, true);
        let sizes: Vec<usize> = b.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 4, 1, 13]);
        assert_eq!(b.concat(), plan);
        assert_eq!(batches(&plan, 7, 2, false), vec![plan.clone()]);
        assert_eq!(batches(&plan, 0, 2, true), vec![plan]);
    }
}
