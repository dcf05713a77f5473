//! What a gate is built from, resolved the same way for `watch`, `analyze` and `test`: the
//! rules and metrics that can run, the policy, and the baseline rows they judge against.

use super::Gate;
use crate::detect::stats::dependence::Lag1;
use crate::detect::Baseline;
use crate::policy::Policy;
use crate::spec::{MetricSpec, Rule};
use std::collections::HashMap;

/// Everything a [`Gate`] needs, before it runs.
#[derive(Debug, Clone)]
pub struct GatePlan {
    pub rules: Vec<Rule>,
    pub metrics: Vec<MetricSpec>,
    pub policy: Policy,
    /// Baseline values in capture order per series (or metric) name; NaN marks a tick
    /// without a value. Univariate detectors get a summary of the finite values;
    /// `isolation_forest` rules train on the rows, paired by index.
    pub baseline_rows: HashMap<String, Vec<f64>>,
    /// The dependence between ticks per series from a lookback longer than the baseline
    /// (`baseline --lookback`): used instead of the baseline's own ticks when it has more
    /// lag pairs.
    pub lookback: HashMap<String, Lag1>,
    /// How many ticks the window will have, when known: lets the gate end a run as soon as
    /// missing data makes it inconclusive instead of at the end of the window.
    pub planned_ticks: Option<u32>,
}

/// A rule that needs a baseline the plan does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingBaseline {
    pub rule: String,
    pub detector: &'static str,
    pub metric: String,
}

impl GatePlan {
    /// A plan over every rule and metric, with no baseline yet.
    pub fn new(mut rules: Vec<Rule>, metrics: Vec<MetricSpec>, policy: Policy) -> GatePlan {
        super::control::resolve_against(&mut rules, &metrics);
        GatePlan {
            rules,
            metrics,
            policy,
            baseline_rows: HashMap::new(),
            lookback: HashMap::new(),
            planned_ticks: None,
        }
    }

    /// The same plan judged against these baseline rows.
    pub fn with_baseline(mut self, rows: HashMap<String, Vec<f64>>) -> GatePlan {
        self.baseline_rows = rows;
        self
    }

    /// The same plan with each series' dependence estimated from a longer lookback.
    pub fn with_lookback(mut self, lookback: HashMap<String, Lag1>) -> GatePlan {
        self.lookback = lookback;
        self
    }

    /// The same plan where exactly the metrics `given` have a control series (a replay's
    /// control file columns, a rule test's `control:`): `baseline` rules that do not say
    /// `against:` compare against the control where there is one.
    pub fn with_controls(mut self, given: impl Fn(&str) -> bool) -> GatePlan {
        for m in &mut self.metrics {
            m.control = given(&m.name);
        }
        super::control::resolve_against(&mut self.rules, &self.metrics);
        self
    }

    /// The first rule that compares against a control its metric does not have: (rule,
    /// metric).
    pub fn missing_control(&self) -> Option<(String, String)> {
        super::control::missing_control(&self.rules, &self.metrics)
    }

    /// The same plan with a known number of ticks.
    pub fn with_planned_ticks(mut self, ticks: u32) -> GatePlan {
        self.planned_ticks = Some(ticks);
        // Statistical rules spread their whole-watch alpha over the planned looks; set here
        // so the plan's policy (printed in summaries) is the one the gate runs.
        self.policy.looks = ticks.max(1);
        self
    }

    /// Keeps only what can run when just the metrics `given` have data (a replay file's
    /// columns, a rule test's inputs): rules whose metrics are all given, and the error-rate
    /// trigger only if its metric is. Returns the rules left out, for a note to the user.
    pub fn restrict_to(&mut self, given: impl Fn(&str) -> bool) -> Vec<Rule> {
        self.metrics.retain(|m| given(&m.name));
        let (kept, skipped): (Vec<Rule>, Vec<Rule>) =
            std::mem::take(&mut self.rules).into_iter().partition(|r| {
                given(&r.metric)
                    && r.detector
                        .joint_metrics()
                        .unwrap_or(&[])
                        .iter()
                        .all(|m| given(m))
            });
        self.rules = kept;
        if self
            .policy
            .error_rate
            .as_ref()
            .is_some_and(|er| !given(&er.metric))
        {
            self.policy.error_rate = None;
        }
        skipped
    }

    /// The first rule that compares against a baseline the plan has no values for (its own
    /// metric, or each metric of a joint rule; a per-series metric counts when any of its
    /// series `metric{…}` has values).
    pub fn missing_baseline(&self) -> Option<MissingBaseline> {
        let has = |m: &str| {
            let prefix = format!("{m}{{");
            self.baseline_rows
                .iter()
                .any(|(k, v)| (k == m || k.starts_with(&prefix)) && v.iter().any(|x| x.is_finite()))
        };
        self.rules
            .iter()
            .filter(|r| r.detector.needs_baseline())
            .find_map(|rule| {
                let needed = match rule.detector.joint_metrics() {
                    Some(ms) => ms.to_vec(),
                    None => vec![rule.metric.clone()],
                };
                needed
                    .into_iter()
                    .find(|m| !has(m))
                    .map(|metric| MissingBaseline {
                        rule: rule.name.clone(),
                        detector: rule.detector.name(),
                        metric,
                    })
            })
    }

    /// Builds the running gate.
    pub fn build(self) -> Gate {
        let summaries: HashMap<String, Baseline> = self
            .baseline_rows
            .iter()
            .filter_map(|(k, v)| {
                let mut b = Baseline::from_values(v)?;
                if let Some(l) = self.lookback.get(k) {
                    b.lag1 = b.lag1.or_longer(*l);
                }
                Some((k.clone(), b))
            })
            .collect();
        let mut gate = Gate::new(self.rules, self.metrics, self.policy, summaries)
            .with_baseline_rows(self.baseline_rows);
        gate.planned_ticks = self.planned_ticks;
        gate
    }
}
