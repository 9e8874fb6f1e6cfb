//! The differential campaign: generate a config, run it on every runtime, compare each
//! runtime with the first (the reference), confirm a divergence by running it again,
//! minimize it, fingerprint it into a class, and write a reproducing scenario for each class.

use super::compare::{self, Baseline, Observation, Outcome};
use super::emit::{self, Divergent};
use super::execute::Executor;
use super::grammar::{self, Feature};
use super::known::{fingerprint, Known};
use super::minimize::ddmin;
use super::rng::Rng;
use crate::runner::interrupt;
use crate::snapshot;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Config {
    pub seed: u64,
    pub count: Option<usize>,
    pub time: Option<Duration>,
    /// Runs the minimizer may spend on one divergence.
    pub min_budget: usize,
    pub out: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Class {
    pub fingerprint: String,
    /// The runtime that differs from the reference.
    pub runtime: String,
    /// Why it is known (from the expectations), or None: a new divergence.
    pub known: Option<String>,
    pub first_config: String,
    pub configs: usize,
    pub features_before: usize,
    pub features_after: usize,
    pub detail: String,
    pub scenario: Option<String>,
    #[serde(skip)]
    minimized: Vec<Feature>,
    #[serde(skip)]
    raw_keys: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub configs: usize,
    /// Configs whose divergence showed again when re-run.
    pub divergent_configs: usize,
    /// Configs that diverged once and not when re-run.
    pub flaky: usize,
    /// Configs the harness could not run on some runtime (setup errors, interruption).
    pub harness_errors: usize,
    /// Every config run, the minimizer's included.
    pub runs: usize,
    pub elapsed_s: u64,
    pub classes: Vec<Class>,
}

impl Summary {
    pub fn new_classes(&self) -> usize {
        self.classes.iter().filter(|c| c.known.is_none()).count()
    }
}

/// Config `n` of seed `seed`: each config has its own generator, so one can be re-made alone.
pub fn config_for(seed: u64, n: usize) -> Vec<Feature> {
    let mut rng = Rng::new(seed ^ (n as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    grammar::generate(&mut rng)
}

fn subset_of(small: &[Feature], big: &[Feature]) -> bool {
    small.iter().all(|f| big.iter().any(|g| g.class == f.class))
}

fn harness(obs: &[Observation]) -> bool {
    obs.iter().any(|o| matches!(o.outcome, Outcome::Harness(_)))
}

fn detail(a: &Observation, b: &Observation, keys: &[String], base: &Baseline) -> String {
    match keys.first().map(String::as_str) {
        Some("outcome") | None => format!(
            "{}: {}; {}: {}",
            a.runtime,
            a.outcome.describe(),
            b.runtime,
            b.outcome.describe()
        ),
        Some(k) => {
            let get = |o: &Observation| o.snapshots.get(k).cloned().unwrap_or_default();
            let c = compare::without(compare::changes(k, &get(a), &get(b)), base.get(k));
            format!("{k}: {}", compare::summary(&c, 3))
        }
    }
}

struct Campaign<'e, 'a> {
    exec: &'e mut Executor<'a>,
    known: &'e Known,
    cfg: &'e Config,
    summary: Summary,
    /// Per runtime (the reference's entry is empty): what the base config alone changes.
    baselines: Vec<Baseline>,
}

pub fn run(exec: &mut Executor, known: &Known, cfg: &Config, log: &mut dyn FnMut(&str)) -> Summary {
    let start = Instant::now();
    let mut c = Campaign {
        exec,
        known,
        cfg,
        summary: Summary {
            seed: cfg.seed,
            ..Summary::default()
        },
        baselines: vec![],
    };
    if let Err(e) = c.baseline(log) {
        log(&format!("fuzz: the base config cannot be compared: {e}"));
        c.summary.harness_errors += 1;
        return c.summary;
    }
    let mut n = 0usize;
    loop {
        let over_time = cfg.time.is_some_and(|t| start.elapsed() >= t);
        let over_count = cfg.count.is_some_and(|k| n >= k);
        if over_time || over_count || interrupt::interrupted() {
            break;
        }
        c.one(n, log);
        n += 1;
    }
    c.summary.runs = c.exec.runs;
    c.summary.elapsed_s = start.elapsed().as_secs();
    c.summary
}

impl Campaign<'_, '_> {
    /// Runs the base config twice and records, per runtime, what it changes against the
    /// reference in both runs; each changed snapshot becomes a class `base => KEY`.
    fn baseline(&mut self, log: &mut dyn FnMut(&str)) -> Result<(), String> {
        let id = format!("fuzz.s{}-base", self.cfg.seed);
        let one = self.exec.observe(&id, &[])?;
        let two = self.exec.observe(&format!("{id}-again"), &[])?;
        if harness(&one) || harness(&two) {
            return Err(format!(
                "harness error: {:?}",
                one.iter().map(|o| o.outcome.describe()).collect::<Vec<_>>()
            ));
        }
        self.baselines = vec![Baseline::new()];
        for i in 1..one.len() {
            if one[0].outcome != one[i].outcome {
                return Err(format!(
                    "{} / {}: {}; {}",
                    one[0].runtime,
                    one[i].runtime,
                    one[0].outcome.describe(),
                    one[i].outcome.describe()
                ));
            }
            let base = compare::baseline(&one[0], &one[i], &two[0], &two[i]);
            for (key, changes) in &base {
                let fp = fingerprint(&[], std::slice::from_ref(key));
                let known = self.known.reason(&fp);
                let detail = format!("{key}: {}", compare::summary(changes, 4));
                log(&format!(
                    "{id}: {} differs on the base config: {fp}: {detail} [{}]",
                    one[i].runtime,
                    known.as_deref().unwrap_or("NEW")
                ));
                self.summary.classes.push(Class {
                    fingerprint: fp,
                    runtime: one[i].runtime.clone(),
                    known,
                    first_config: id.clone(),
                    configs: 0,
                    features_before: 0,
                    features_after: 0,
                    detail,
                    scenario: None,
                    minimized: vec![],
                    raw_keys: vec![],
                });
            }
            self.baselines.push(base);
        }
        Ok(())
    }

    fn one(&mut self, n: usize, log: &mut dyn FnMut(&str)) {
        let id = format!("fuzz.s{}-n{n}", self.cfg.seed);
        let features = config_for(self.cfg.seed, n);
        let obs = match self.exec.observe(&id, &features) {
            Ok(o) => o,
            Err(e) => {
                log(&format!("{id}: cannot run: {e}"));
                self.summary.harness_errors += 1;
                return;
            }
        };
        self.summary.configs += 1;
        if harness(&obs) {
            self.summary.harness_errors += 1;
            return;
        }
        for i in 1..obs.len() {
            let keys = compare::diff(&obs[0], &obs[i], &self.baselines[i]);
            if !keys.is_empty() {
                self.divergence(&id, i, &features, &keys, log);
            }
        }
    }

    /// The keys on which runtime `i` differs from the reference for this config, or None
    /// when the harness could not run it.
    fn keys_of(
        &mut self,
        id: &str,
        i: usize,
        features: &[Feature],
    ) -> Option<(Vec<String>, Vec<Observation>)> {
        let obs = self.exec.observe(id, features).ok()?;
        if harness(&obs) || interrupt::interrupted() {
            return None;
        }
        Some((compare::diff(&obs[0], &obs[i], &self.baselines[i]), obs))
    }

    fn divergence(
        &mut self,
        id: &str,
        i: usize,
        features: &[Feature],
        keys: &[String],
        log: &mut dyn FnMut(&str),
    ) {
        match self.keys_of(&format!("{id}-again"), i, features) {
            Some((again, _)) if again == keys => {}
            _ => {
                self.summary.flaky += 1;
                log(&format!(
                    "{id}: diverged on {} once, not when re-run (flaky)",
                    keys.join(",")
                ));
                return;
            }
        }
        self.summary.divergent_configs += 1;
        let runtime = self.exec_runtime(i);
        if let Some(class) = self.summary.classes.iter_mut().find(|c| {
            c.runtime == runtime && c.raw_keys == keys && subset_of(&c.minimized, features)
        }) {
            class.configs += 1;
            log(&format!("{id}: {} again", class.fingerprint));
            return;
        }
        let target = keys[0].clone();
        let budget = self.cfg.min_budget;
        let mut k = 0usize;
        let (minimized, tests) = ddmin(features, budget, |subset| {
            k += 1;
            let sub_id = format!("{id}-m{k}");
            self.keys_of(&sub_id, i, subset)
                .is_some_and(|(keys, _)| keys.contains(&target))
        });
        let (minimized, final_keys, obs) = match self.keys_of(&format!("{id}-min"), i, &minimized) {
            Some((fk, obs)) if !fk.is_empty() => (minimized, fk, obs),
            _ => match self.keys_of(&format!("{id}-full"), i, features) {
                Some((fk, obs)) if !fk.is_empty() => (features.to_vec(), fk, obs),
                _ => {
                    self.summary.flaky += 1;
                    return;
                }
            },
        };
        let fp = fingerprint(&minimized, &final_keys);
        let known = self.known.reason(&fp);
        let mut class = Class {
            fingerprint: fp.clone(),
            runtime: runtime.clone(),
            known: known.clone(),
            first_config: id.to_string(),
            configs: 1,
            features_before: features.len(),
            features_after: minimized.len(),
            detail: detail(&obs[0], &obs[i], &final_keys, &self.baselines[i]),
            scenario: None,
            minimized,
            raw_keys: keys.to_vec(),
        };
        if let Some(existing) = self
            .summary
            .classes
            .iter_mut()
            .find(|c| c.fingerprint == fp && c.runtime == runtime)
        {
            existing.configs += 1;
            log(&format!("{id}: {fp} again (minimized in {tests} runs)"));
            return;
        }
        match self.write_reproducer(&class, &obs[0], &obs[i], &final_keys) {
            Ok(p) => class.scenario = Some(p),
            Err(e) => log(&format!("{id}: cannot write the reproducer: {e}")),
        }
        let fate = known
            .map(|r| format!("known: {r}"))
            .unwrap_or_else(|| "NEW".into());
        log(&format!(
            "{id}: {runtime} diverges: {fp} ({} -> {} features in {tests} runs) [{fate}]\n    {}",
            class.features_before, class.features_after, class.detail
        ));
        self.summary.classes.push(class);
    }

    fn exec_runtime(&self, i: usize) -> String {
        self.exec.runtime_name(i)
    }

    /// `<out>/scenarios/fuzz/<id>.yaml` and the reference's snapshots in
    /// `<out>/scenarios/snapshots/`, laid out as the suite is, so both can be copied in.
    fn write_reproducer(
        &self,
        class: &Class,
        reference: &Observation,
        other: &Observation,
        keys: &[String],
    ) -> Result<String, String> {
        let id = format!(
            "fuzz.d{:016x}",
            fnv1a(&format!("{}|{}", class.runtime, class.fingerprint))
        );
        let what = if keys.first().map(String::as_str) == Some("outcome") {
            let last = emit::LIFECYCLE.len() + emit::observations(self.exec.mode()).len() - 1;
            match (&reference.outcome, &other.outcome) {
                (Outcome::Failed { index, .. }, Outcome::Failed { index: j, .. }) if j > index => {
                    Divergent::RefFailedAt(*index)
                }
                (Outcome::Failed { index, .. }, Outcome::Pass | Outcome::Leak) => {
                    Divergent::RefFailedAt(*index)
                }
                (_, Outcome::Failed { index, .. }) => Divergent::RefPassedAt(*index),
                _ => Divergent::RefPassedAt(last),
            }
        } else {
            Divergent::Snapshots(keys.to_vec())
        };
        let title = format!("fuzz divergence: {}", class.fingerprint);
        let description = format!(
            "Found by `oci-conform fuzz --seed {}` ({}), minimized from {} to {} config features. {} differs from {}: {}. Triage it (docs/fuzz.md) before committing: cite the spec sentence and fix the runtime, XFAIL the reference with the reason, or record it as underspecified.",
            self.cfg.seed, class.first_config, class.features_before, class.features_after, other.runtime, reference.runtime, class.detail
        );
        let text = emit::reproducer(
            &id,
            &title,
            &description,
            &class.minimized,
            self.exec.mode(),
            &what,
        );
        let dir = self.cfg.out.join("scenarios").join("fuzz");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{id}.yaml"));
        emit::load(&path, &text).map_err(|e| e.to_string())?;
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Divergent::Snapshots(names) = &what {
            let store = snapshot::Store {
                dir: self.cfg.out.join("scenarios").join("snapshots"),
                update: true,
            };
            for name in names {
                if let Some(body) = reference.snapshots.get(name) {
                    store
                        .check(&id, name, &serde_json::Value::String(body.clone()))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(path.display().to_string())
    }
}

/// FNV-1a: a stable id for a class's reproducer across runs and builds.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_n_of_a_seed_is_the_same_whatever_ran_before() {
        assert_eq!(config_for(42, 17), config_for(42, 17));
        assert_ne!(config_for(42, 17), config_for(42, 18));
        assert_ne!(config_for(42, 17), config_for(43, 17));
        let total: usize = (0..100).map(|n| config_for(1, n).len()).sum();
        assert!(
            total > 300,
            "the grammar yields several features per config: {total}"
        );
    }
}
