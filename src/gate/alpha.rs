//! Splits `policy.alpha` over the statistical rules and their series, so the chance that a
//! watch of an unchanged service is rolled back by any of them stays below it.
//!
//! Bonferroni across rules × series (each rule-series gets alpha / (rules × its series),
//! capped by the rule's own `p_value`), and within each rule-series a sequential boundary
//! over the planned looks (`detect::stats::sequential`). Dry-run rules and severities the
//! policy never rolls back for take no share (they cannot roll back) but are judged at the
//! share the others get.

use crate::config::{Policy, Rule};
use crate::detect::stats::sequential::LookPlan;
use crate::detect::{Baseline, DetectorSpec};
use std::collections::HashMap;

/// Fills every statistical rule's [`LookPlan`] from the policy and the baselines' series.
pub(super) fn plan(rules: &mut [Rule], policy: &Policy, baselines: &HashMap<String, Baseline>) {
    let rolls_back = |r: &Rule| !r.dry_run && policy.limit(r.severity) > 0;
    let statistical = |r: &Rule| matches!(r.detector, DetectorSpec::Baseline(_));
    let counted = rules
        .iter()
        .filter(|r| statistical(r) && rolls_back(r))
        .count()
        .max(1);
    for rule in rules.iter_mut() {
        let series = series_of(&rule.metric, baselines);
        let sliding = rule.window.is_some();
        if let DetectorSpec::Baseline(p) = &mut rule.detector {
            let share = p.p_value.min(policy.alpha / counted as f64);
            p.plan = LookPlan {
                looks: policy.looks.max(1),
                alpha: share / series as f64,
                sliding,
            };
        }
    }
}

/// Series of `metric` with a baseline: `metric` itself or `metric{…}` per series (at least 1).
fn series_of(metric: &str, baselines: &HashMap<String, Baseline>) -> usize {
    let labelled = baselines
        .keys()
        .filter(|k| {
            k.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with('{'))
        })
        .count();
    labelled.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &str) -> Vec<Rule> {
        let c = crate::config::parse_text(yaml, None, &|_| None).unwrap();
        c.rules
    }

    const YAML: &str = r#"
source: { prometheus: { url: "http://127.0.0.1:9" } }
duration: 1h
interval: 15s
metrics:
  lat: { query: "a" }
  err: { query: "b", per_series: true }
rules:
  - { name: a, metric: lat, detector: { baseline: { stat: mean } } }
  - { name: b, metric: err, detector: { baseline: { p_value: 0.001 } }, window: 2m }
  - { name: c, metric: lat, detector: { baseline: {} }, dry_run: true }
  - { name: d, metric: lat, detector: { threshold: { op: ">", value: 5 } } }
rollback: { policy: { alpha: 0.02 } }
"#;

    #[test]
    fn alpha_is_split_across_rules_and_series() {
        let c = crate::config::parse_text(YAML, None, &|_| None).unwrap();
        assert_eq!((c.policy.alpha, c.policy.looks), (0.02, 240));
        let mut rs = rules(YAML);
        let b = Baseline::from_values(&[1.0, 2.0]).unwrap();
        let baselines: HashMap<String, Baseline> = [
            ("lat".to_string(), b.clone()),
            ("err{pod=\"x\"}".to_string(), b.clone()),
            ("err{pod=\"y\"}".to_string(), b.clone()),
            ("errors".to_string(), b),
        ]
        .into();
        plan(&mut rs, &c.policy, &baselines);
        let plan_of = |i: usize| match &rs[i].detector {
            DetectorSpec::Baseline(p) => p.plan,
            _ => unreachable!(),
        };
        // Two rules can roll back (a, b): 0.01 each; b's own p_value 0.001 caps it, split
        // over its two series; the dry-run rule c is judged at the others' share.
        assert_eq!(
            plan_of(0),
            LookPlan {
                looks: 240,
                alpha: 0.01,
                sliding: false
            }
        );
        assert_eq!(
            plan_of(1),
            LookPlan {
                looks: 240,
                alpha: 0.0005,
                sliding: true
            }
        );
        assert_eq!(plan_of(2).alpha, 0.01);
    }
}
