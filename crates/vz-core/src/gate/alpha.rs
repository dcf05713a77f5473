//! Splits `policy.alpha` over the statistical rules and their series, so the chance that a
//! watch of an unchanged service is rolled back by any of them stays below it.
//!
//! Bonferroni across rules × series (each rule-series gets alpha / (rules × its series),
//! capped by the rule's own `p_value`), and within each rule-series a sequential boundary
//! over the planned looks (`detect::stats::sequential`). Dry-run rules and severities the
//! policy never rolls back for take no share (they cannot roll back) but are judged at the
//! share the others get.

use crate::detect::against::Against;
use crate::detect::stats::sequential::{LookPlan, GROWING_REFERENCE};
use crate::detect::Baseline;
use crate::policy::Policy;
use crate::spec::Rule;
use std::collections::HashMap;

/// Fills every statistical rule's [`LookPlan`] from the policy and the baselines' series.
pub(super) fn plan(rules: &mut [Rule], policy: &Policy, baselines: &HashMap<String, Baseline>) {
    let rolls_back = |r: &Rule| !r.dry_run && policy.limit(r.severity) > 0;
    let statistical = |r: &Rule| r.detector.statistical().is_some();
    let counted = rules
        .iter()
        .filter(|r| statistical(r) && rolls_back(r))
        .count()
        .max(1);
    for rule in rules.iter_mut() {
        let series = series_of(&rule.metric, baselines);
        let sliding = rule.window.is_some();
        if let Some(p) = rule.detector.statistical_mut() {
            let share = p.p_value().min(policy.alpha / counted as f64);
            p.set_plan(LookPlan {
                looks: policy.looks.max(1),
                alpha: share / series as f64,
                sliding,
            });
            // The boundary is computed now, not at the first look of the watch.
            if p.compare() == Against::Control {
                p.prepare(GROWING_REFERENCE);
            } else {
                for b in baselines_of(&rule.metric, baselines) {
                    p.prepare(b.len());
                }
            }
        }
    }
}

/// The baselines of `metric`: its own and those of its series `metric{…}`.
fn baselines_of<'a>(
    metric: &'a str,
    baselines: &'a HashMap<String, Baseline>,
) -> impl Iterator<Item = &'a Baseline> {
    baselines
        .iter()
        .filter(move |(k, _)| {
            k.strip_prefix(metric)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
        })
        .map(|(_, b)| b)
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
    use crate::detect::DetectorSpec;
    use crate::model::Severity;
    use std::time::Duration;

    fn rule(name: &str, metric: &str, detector: &str) -> Rule {
        Rule {
            name: name.into(),
            metric: metric.into(),
            detector: serde_yaml::with::singleton_map::deserialize(
                serde_yaml::Deserializer::from_str(detector),
            )
            .unwrap(),
            for_: Duration::ZERO,
            window: None,
            kind: "HIGH_LATENCY".into(),
            severity: Severity::Critical,
            failure_limit: 0,
            consecutive_failures: 1,
            dry_run: false,
            description: None,
            annotations: Default::default(),
            origin: "test".into(),
        }
    }

    #[test]
    fn alpha_is_split_across_rules_and_series() {
        let mut rs = vec![
            rule("a", "lat", "{ baseline: { stat: mean } }"),
            Rule {
                window: Some(Duration::from_secs(120)),
                ..rule("b", "err", "{ baseline: { p_value: 0.001 } }")
            },
            Rule {
                dry_run: true,
                ..rule("c", "lat", "{ baseline: {} }")
            },
            rule("d", "lat", "{ threshold: { op: \">\", value: 5 } }"),
        ];
        let policy = Policy {
            alpha: 0.02,
            looks: 240,
            ..Policy::default()
        };
        let b = Baseline::from_values(&[1.0, 2.0]).unwrap();
        let baselines: HashMap<String, Baseline> = [
            ("lat".to_string(), b.clone()),
            ("err{pod=\"x\"}".to_string(), b.clone()),
            ("err{pod=\"y\"}".to_string(), b.clone()),
            ("errors".to_string(), b),
        ]
        .into();
        plan(&mut rs, &policy, &baselines);
        let plan_of = |i: usize| match &rs[i].detector {
            DetectorSpec::Baseline(p) => p.plan,
            _ => unreachable!(),
        };
        // Two rules can roll back (a, b): 0.01 each; b's own p_value 0.001 caps it, split
        // over its two series; the dry-run rule c is judged at the others' share.
        let want = |alpha, sliding| LookPlan {
            looks: 240,
            alpha,
            sliding,
        };
        assert_eq!(plan_of(0), want(0.01, false));
        assert_eq!(plan_of(1), want(0.0005, true));
        assert_eq!(plan_of(2).alpha, 0.01);
    }
}
