//! The gate driven by rules written as users write them (YAML through config validation).

use crate::config::parse_text;
use crate::gate::{Gate, RuleStatus};
use crate::model::{Reading, Severity};
use crate::model::{Sample, Timestamp};
use crate::policy::Verdict;
use std::collections::HashMap;
use std::path::Path;

fn config(rules: &str) -> crate::config::Config {
    let text = format!(
        "metrics:\n  m:\n    probe: {{ command: [x] }}\n  h:\n    probe: {{ tcp: {{ address: \"127.0.0.1:1\" }} }}\nrules:\n{rules}"
    );
    parse_text(&text, Some(Path::new("t.yaml")), &|_| None).unwrap()
}

fn gate(rules: &str) -> Gate {
    let c = config(rules);
    Gate::new(c.rules.clone(), c.metric_specs(), c.policy, HashMap::new())
}

fn v(x: f64) -> Vec<Sample> {
    vec![Sample::new("m", Reading::Value(x))]
}

const S: Timestamp = 1000;

#[test]
fn threshold_with_for_fires_after_holding_like_prometheus() {
    let mut g = gate("  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } }, for: 60s, severity: high }\n");
    assert!(g.tick(0, &v(9.0)).fired.is_empty()); // pending since 0
    assert!(g.tick(30 * S, &v(9.0)).fired.is_empty());
    let r = g.tick(60 * S, &v(9.0)); // held 60s: fires
    assert_eq!(r.fired.len(), 1);
    assert_eq!(r.fired[0].fired_at, 60 * S);
    assert_eq!(r.fired[0].severity, Severity::High);
    assert!(
        r.decision.is_none(),
        "one high anomaly is below the default limit of 3"
    );
    let r = g.tick(90 * S, &v(1.0));
    assert_eq!(r.resolved.len(), 1);
    assert_eq!(g.anomalies()[0].resolved_at, Some(90 * S));
}

#[test]
fn a_dip_resets_the_for_streak() {
    let mut g = gate(
        "  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } }, for: 60s }\n",
    );
    g.tick(0, &v(9.0));
    g.tick(30 * S, &v(1.0));
    g.tick(60 * S, &v(9.0));
    assert!(g.tick(90 * S, &v(9.0)).fired.is_empty());
    assert_eq!(g.tick(120 * S, &v(9.0)).fired.len(), 1);
}

#[test]
fn critical_fires_and_decides_at_once() {
    let mut g = gate("  - { name: er, metric: m, detector: { threshold: { op: '>', value: 5 } }, kind: HIGH_ERROR_RATE }\n");
    assert!(g.tick(0, &v(1.0)).decision.is_none());
    let d = g.tick(10 * S, &v(6.0)).decision.unwrap();
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(d.at, 10 * S);
    assert!(d.reason().contains("1 critical anomaly"), "{}", d.reason());
}

#[test]
fn failure_limits_count_active_ticks() {
    // failure_limit 2: fires on the third active tick, even with gaps.
    let mut g = gate("  - { name: f, metric: m, detector: { threshold: { op: '>', value: 5 } }, failure_limit: 2 }\n");
    assert!(g.tick(0, &v(9.0)).fired.is_empty());
    g.tick(S, &v(0.0));
    assert!(g.tick(2 * S, &v(9.0)).fired.is_empty());
    assert_eq!(g.tick(3 * S, &v(9.0)).fired.len(), 1);
    // consecutive_failures 3: a gap resets the count.
    let mut g = gate("  - { name: c, metric: m, detector: { threshold: { op: '>', value: 5 } }, consecutive_failures: 3 }\n");
    g.tick(0, &v(9.0));
    g.tick(S, &v(9.0));
    g.tick(2 * S, &v(0.0));
    g.tick(3 * S, &v(9.0));
    assert!(g.tick(4 * S, &v(9.0)).fired.is_empty());
    assert_eq!(g.tick(5 * S, &v(9.0)).fired.len(), 1);
}

#[test]
fn missing_data_neither_fires_nor_clears() {
    let mut g = gate("  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } }, for: 20s, severity: low }\n");
    g.tick(0, &v(9.0));
    let miss = vec![Sample::new("m", Reading::Missing("timeout".into()))];
    let r = g.tick(10 * S, &miss);
    assert!(r.fired.is_empty());
    let e = &g.evaluations()[0];
    assert_eq!(e.status, RuleStatus::NoData);
    // Issue 25.6: the row said "no data" beside the previous tick's 9.
    assert_eq!(e.observed, None, "no value beside \"no data\"");
    assert_eq!(e.observed_text(), "-");
    assert_eq!(e.status_text(), "no data");
    // The streak that began at 0 still holds at 20 s.
    assert_eq!(g.tick(20 * S, &v(9.0)).fired.len(), 1);
    let c = g.completeness();
    assert_eq!((c[0].ticks, c[0].missing), (3, 1));
}

#[test]
fn on_missing_fail_counts_missing_as_failure() {
    let c = config("  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } }, kind: HIGH_ERROR_RATE }\n");
    let mut metrics = c.metric_specs();
    metrics[1].on_missing = crate::config::OnMissing::Fail; // BTreeMap order: h, m
    assert_eq!(metrics[1].name, "m");
    let mut g = Gate::new(c.rules, metrics, c.policy, HashMap::new());
    let r = g.tick(0, &[Sample::new("m", Reading::Missing("refused".into()))]);
    assert_eq!(r.fired.len(), 1);
    assert!(r.fired[0].reason.contains("on_missing: fail"));
    assert!(r.decision.is_some());
    assert!(
        g.completeness().is_empty(),
        "fail metrics do not count toward max_missing"
    );
}

#[test]
fn dry_run_rules_report_but_never_decide() {
    let mut g = gate("  - { name: er, metric: m, detector: { threshold: { op: '>', value: 5 } }, kind: HIGH_ERROR_RATE, dry_run: true }\n");
    let r = g.tick(0, &v(9.0));
    assert_eq!(r.fired.len(), 1);
    assert!(r.fired[0].dry_run);
    assert!(r.decision.is_none());
    assert_eq!(g.finish(S).verdict, Verdict::Healthy);
}

#[test]
fn refiring_the_same_rule_counts_once_for_the_policy() {
    let mut g = gate("  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } }, severity: high }\n  - { name: hi2, metric: m, detector: { threshold: { op: '>', value: 7 } }, severity: high }\n");
    for (i, x) in [9.0, 0.0, 9.0, 0.0, 9.0].iter().enumerate() {
        assert!(
            g.tick(i as Timestamp * S, &v(*x)).decision.is_none(),
            "two distinct high anomalies < 3"
        );
    }
    assert_eq!(g.anomalies().len(), 6);
}

#[test]
fn down_probe_past_max_downtime_rolls_back() {
    let mut g =
        gate("  - { name: m-hi, metric: m, detector: { threshold: { op: '>', value: 5 } } }\n");
    let down = vec![Sample::new("h", Reading::Down("refused".into()))];
    assert!(g.tick(0, &down).decision.is_none());
    assert!(g.tick(30 * S, &down).decision.is_none());
    let d = g.tick(60 * S, &down).decision.unwrap();
    assert!(d.reason().contains("h down for 60s"), "{}", d.reason());
}

#[test]
fn down_detector_fires_after_its_for() {
    let mut g = gate("  - { name: svc, metric: h, detector: { down: { for: 60s } } }\n");
    let down = vec![Sample::new("h", Reading::Down("refused".into()))];
    let up = vec![Sample::new("h", Reading::Value(1.0))];
    g.tick(0, &up);
    g.tick(10 * S, &down);
    assert!(g.tick(40 * S, &down).fired.is_empty());
    let r = g.tick(70 * S, &down);
    assert_eq!(r.fired.len(), 1);
    assert_eq!(r.fired[0].kind, "SERVICE_DOWN");
}

#[test]
fn sliding_window_limits_what_window_detectors_see() {
    let mut g = gate("  - { name: t, metric: m, detector: { trend: { min_slope_per_min: 1, min_r2: 0.9, min_points: 3 } }, window: 2m }\n");
    // Rises 10/min for 3 minutes, then flat for 3 minutes: the 2-minute window forgets the rise.
    let mut fired = 0;
    for i in 0..=12 {
        let t = i as Timestamp * 30 * S;
        let x = if i <= 6 { i as f64 * 5.0 } else { 30.0 };
        fired += g.tick(t, &v(x)).fired.len();
    }
    assert_eq!(fired, 1);
    assert_eq!(g.evaluations()[0].status, RuleStatus::Ok);
}

#[test]
fn inconclusive_when_too_much_is_missing() {
    let mut g =
        gate("  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } } }\n");
    let miss = vec![Sample::new("m", Reading::Missing("x".into()))];
    g.tick(0, &v(1.0));
    g.tick(S, &miss);
    let d = g.finish(2 * S);
    assert_eq!(d.verdict, Verdict::Inconclusive);
    assert!(!d.wants_rollback());
}

fn gate_with(metrics: &[&str], rules: &str) -> Gate {
    let mut text = String::from("metrics:\n");
    for m in metrics {
        text += &format!("  {m}:\n    probe: {{ command: [x] }}\n");
    }
    text += "rules:\n";
    text += rules;
    let c = parse_text(&text, Some(Path::new("t.yaml")), &|_| None).unwrap();
    Gate::new(c.rules.clone(), c.metric_specs(), c.policy, HashMap::new())
}

fn row(pairs: &[(&str, f64)]) -> Vec<Sample> {
    pairs
        .iter()
        .map(|(m, x)| Sample::new(m, Reading::Value(*x)))
        .collect()
}

#[test]
fn composite_and_fires_only_while_both_rules_fire() {
    let mut g = gate_with(
        &["a", "b"],
        "  - { name: ha, metric: a, detector: { threshold: { op: '>', value: 5 } }, severity: info }\n  - { name: hb, metric: b, detector: { threshold: { op: '>', value: 5 } }, for: 20s, severity: info }\n  - { name: both, detector: { composite: { op: and, rules: [ha, hb] } }, kind: HIGH_ERROR_RATE }\n",
    );
    assert!(g
        .tick(0, &row(&[("a", 9.0), ("b", 1.0)]))
        .decision
        .is_none());
    // hb pending (for: 20s), so the AND is not yet true.
    let r = g.tick(10 * S, &row(&[("a", 9.0), ("b", 9.0)]));
    assert!(r.fired.iter().all(|a| a.rule != "both"));
    let r = g.tick(30 * S, &row(&[("a", 9.0), ("b", 9.0)]));
    let both: Vec<_> = r.fired.iter().filter(|a| a.rule == "both").collect();
    assert_eq!(both.len(), 1, "{:?}", r.fired);
    assert_eq!(both[0].fired_at, 30 * S);
    assert!(
        both[0].reason.contains("firing: ha, hb"),
        "{}",
        both[0].reason
    );
    assert_eq!(r.decision.unwrap().verdict, Verdict::Rollback);
    let e = g.evaluations();
    assert!(e
        .iter()
        .any(|e| e.rule == "both" && e.status == RuleStatus::Firing));
}

#[test]
fn composite_at_least_and_nested_composites_follow_their_references() {
    let mut g = gate_with(
        &["a", "b", "c"],
        "  - { name: ca, detector: { composite: { op: at_least, k: 2, rules: [x, y, z] } }, severity: info }\n  - { name: top, detector: { composite: { op: or, rules: [ca] } }, severity: high }\n  - { name: x, metric: a, detector: { threshold: { op: '>', value: 5 } }, severity: info }\n  - { name: y, metric: b, detector: { threshold: { op: '>', value: 5 } }, severity: info }\n  - { name: z, metric: c, detector: { threshold: { op: '>', value: 5 } }, severity: info }\n",
    );
    let r = g.tick(0, &row(&[("a", 9.0), ("b", 1.0), ("c", 1.0)]));
    assert!(r.fired.iter().all(|a| a.rule != "ca" && a.rule != "top"));
    // Two of three: ca fires, and top (which references ca) fires on the same tick.
    let r = g.tick(10 * S, &row(&[("a", 9.0), ("b", 1.0), ("c", 9.0)]));
    let names: Vec<_> = r.fired.iter().map(|a| a.rule.as_str()).collect();
    assert!(names.contains(&"ca") && names.contains(&"top"), "{names:?}");
    let r = g.tick(20 * S, &row(&[("a", 1.0), ("b", 1.0), ("c", 9.0)]));
    let resolved: Vec<_> = r.resolved.iter().map(|a| a.rule.as_str()).collect();
    assert!(resolved.contains(&"top"), "{resolved:?}");
}

#[test]
fn isolation_forest_judges_the_joint_vector_against_baseline_rows() {
    let mut rows = HashMap::new();
    // Baseline: b tracks a (b ≈ 2a); each alone spans 10..20 / 20..40.
    let a: Vec<f64> = (0..200).map(|i| 10.0 + (i % 50) as f64 / 5.0).collect();
    let b: Vec<f64> = a
        .iter()
        .map(|x| 2.0 * x + 0.1 * ((x * 7.0).sin()))
        .collect();
    rows.insert("a".to_string(), a);
    rows.insert("b".to_string(), b);
    let mut g = gate_with(
        &["a", "b"],
        "  - { name: joint, detector: { isolation_forest: { metrics: [a, b], threshold: 0.6 } }, for: 10s, severity: critical }\n",
    )
    .with_baseline_rows(rows);
    assert!(g
        .tick(0, &row(&[("a", 15.0), ("b", 30.0)]))
        .fired
        .is_empty());
    let e = &g.evaluations()[0];
    assert_eq!(e.status, RuleStatus::Ok, "{}", e.reason);
    // Far outside the joint cloud: pending, then fires after `for`.
    assert!(g
        .tick(10 * S, &row(&[("a", 40.0), ("b", 5.0)]))
        .fired
        .is_empty());
    let r = g.tick(20 * S, &row(&[("a", 40.0), ("b", 5.0)]));
    assert_eq!(r.fired.len(), 1);
    assert_eq!(r.fired[0].detector, "isolation_forest");
    assert_eq!(r.fired[0].metric, "a");
    assert!(r.fired[0].reason.contains("isolation score"));
    assert!(r.decision.is_some());
}

#[test]
fn isolation_forest_without_baseline_rows_says_so() {
    let mut g = gate_with(
        &["a", "b"],
        "  - { name: joint, detector: { isolation_forest: { metrics: [a, b] } } }\n",
    );
    g.tick(0, &row(&[("a", 1.0), ("b", 2.0)]));
    let e = &g.evaluations()[0];
    assert_eq!(e.status, RuleStatus::NoData);
    assert!(e.reason.contains("no baseline"), "{}", e.reason);
}

#[test]
fn a_lookback_with_more_lag_pairs_is_what_a_baseline_rule_judges_dependence_with() {
    use crate::detect::stats::dependence::Lag1;
    use crate::gate::GatePlan;
    // A baseline of 60 ticks that wander together (a slow ramp: every rank is its
    // neighbour's), and a lookback of hours that shows no dependence at all (alternating).
    let base: Vec<f64> = (0..60).map(|i| 100.0 + i as f64 * 0.1).collect();
    let lookback: Vec<f64> = (0..1440)
        .map(|i| 100.0 + if i % 2 == 0 { 1.0 } else { -1.0 } * (i % 7) as f64)
        .collect();
    let c = config(
        "  - { name: drift, metric: m, detector: { baseline: { stat: mean, max_change: '10%' } } }\n",
    );
    let reason = |plan: GatePlan| {
        let mut g = plan.with_planned_ticks(30).build();
        for t in 0..6 {
            g.tick(t * 15 * S, &v(100.0));
        }
        g.evaluations()[0].reason.clone()
    };
    let plan = || {
        let mut rows = HashMap::new();
        rows.insert("m".to_string(), base.clone());
        GatePlan::new(c.rules.clone(), c.metric_specs(), c.policy.clone()).with_baseline(rows)
    };
    let own = reason(plan());
    assert!(own.contains("lag-1 autocorrelation ≤ 0.9"), "{own}");
    let mut l = HashMap::new();
    l.insert("m".to_string(), Lag1::of_chunks(&lookback, 240));
    let with = reason(plan().with_lookback(l));
    assert!(with.contains("lag-1 autocorrelation ≤ 0.00"), "{with}");
    // A lookback with fewer lag pairs than the baseline's own ticks is not used.
    let mut short = HashMap::new();
    short.insert("m".to_string(), Lag1::of(&lookback[..30]));
    assert_eq!(reason(plan().with_lookback(short)), own);
}
