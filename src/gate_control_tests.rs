//! `control:` and `min_volume:` written as users write them, through config validation and
//! the gate.

use crate::config::parse_text;
use crate::gate::{replay, GatePlan, RuleStatus, Tick};
use crate::model::{Reading, Sample, Timestamp};
use crate::policy::Verdict;
use std::path::Path;

fn parse(yaml: &str) -> Result<crate::config::Config, String> {
    parse_text(yaml, Some(Path::new("t.yaml")), &|_| None).map_err(|e| e.to_string())
}

const METRICS: &str = "metrics:
  lat:
    probe: { command: [lat.sh] }
    control: { probe: { command: [lat-stable.sh] } }
  err:
    probe: { command: [err.sh] }
    min_volume: { metric: rps, min: 5 }
  rps:
    probe: { command: [rps.sh] }
";

#[test]
fn control_and_min_volume_are_validated_with_file_line_and_field() {
    let rules = "rules:\n  - { name: r, metric: lat, detector: { baseline: { stat: mean } }, severity: critical }\n";
    let c = parse(&format!("{METRICS}{rules}")).unwrap();
    let specs = c.metric_specs();
    assert!(specs.iter().any(|m| m.name == "lat" && m.control));
    assert!(specs
        .iter()
        .any(|m| m.name == "err" && m.min_volume.is_some()));

    let bad = METRICS.replace(
        "control: { probe: { command: [lat-stable.sh] } }",
        "control: { }",
    );
    let e = parse(&format!("{bad}{rules}")).unwrap_err();
    assert!(
        e.contains("t.yaml:4:5:") && e.contains("metrics.lat.control"),
        "{e}"
    );
    assert!(e.contains("needs a `query` (PromQL) or a `probe`"), "{e}");

    let bad = METRICS.replace("metric: rps, min: 5", "metric: nope, min: 5");
    let e = parse(&format!("{bad}{rules}")).unwrap_err();
    assert!(
        e.contains("metrics.err.min_volume.metric") && e.contains("unknown metric `nope`"),
        "{e}"
    );
    let bad = METRICS.replace("metric: rps, min: 5", "metric: rps, min: 0");
    let e = parse(&format!("{bad}{rules}")).unwrap_err();
    assert!(e.contains("metrics.err.min_volume.min"), "{e}");

    let against =
        "rules:\n  - { name: r, metric: err, detector: { baseline: { against: control } } }\n";
    let e = parse(&format!("{METRICS}{against}")).unwrap_err();
    assert!(e.contains("rules[0].detector.baseline.against"), "{e}");
    assert!(e.contains("needs a `control:`"), "{e}");
}

fn ticks(canary: &[f64], control: &[f64]) -> Vec<Tick> {
    canary
        .iter()
        .zip(control)
        .enumerate()
        .map(|(i, (a, b))| Tick {
            at: i as Timestamp * 15_000,
            samples: vec![
                Sample::new("lat", Reading::Value(*a)),
                Sample::of_control("lat", Reading::Value(*b)),
            ],
        })
        .collect()
}

#[test]
fn the_baseline_rule_defaults_to_the_control_and_a_shared_surge_passes() {
    let c = parse(&format!(
        "{METRICS}rules:\n  - {{ name: r, metric: lat, detector: {{ baseline: {{ stat: mean, max_change: 10 }} }}, severity: critical }}\n"
    ))
    .unwrap();
    // No baseline is needed: the rule compares with the control.
    let plan =
        GatePlan::new(c.rules.clone(), c.metric_specs(), c.policy.clone()).with_planned_ticks(20);
    assert_eq!(plan.missing_baseline(), None);
    // A surge: both twice the pre-deploy level, wobbling the same way.
    let surge: Vec<f64> = (0..20).map(|i| 200.0 + f64::from(i % 5) * 3.0).collect();
    let mut g = plan.clone().build();
    let d = replay(&mut g, ticks(&surge, &surge));
    assert_eq!(d.decision, None);
    assert_eq!(g.finish(19 * 15_000).verdict, Verdict::Healthy);
    let e = &g.evaluations()[0];
    assert_eq!(e.status, RuleStatus::Ok);
    assert!(e.reason.contains("control mean"), "{}", e.reason);

    // `against: baseline` keeps the pre-deploy baseline even though the metric has a control.
    let c2 = parse(&format!(
        "{METRICS}rules:\n  - {{ name: r, metric: lat, detector: {{ baseline: {{ against: baseline }} }} }}\n"
    ))
    .unwrap();
    let plan2 = GatePlan::new(c2.rules.clone(), c2.metric_specs(), c2.policy.clone());
    assert_eq!(
        plan2.missing_baseline().map(|m| m.metric),
        Some("lat".into())
    );

    // A 1.5× regression on the canary only rolls back.
    let canary: Vec<f64> = surge.iter().map(|v| v * 1.5).collect();
    let mut g = plan.build();
    let d = replay(&mut g, ticks(&canary, &surge));
    assert_eq!(d.decision.map(|d| d.verdict), Some(Verdict::Rollback));
    assert!(
        g.anomalies()[0].reason.contains("above control"),
        "{}",
        g.anomalies()[0].reason
    );
}

#[test]
fn below_the_minimum_volume_a_reading_is_not_enough_data() {
    let c = parse(&format!(
        "{METRICS}rules:\n  - {{ name: hi, metric: err, detector: {{ threshold: {{ op: '>', value: 5 }} }}, severity: critical }}\n"
    ))
    .unwrap();
    let plan =
        GatePlan::new(c.rules.clone(), c.metric_specs(), c.policy.clone()).with_planned_ticks(10);
    let tick = |i: i64, err: f64, rps: f64| Tick {
        at: i * 15_000,
        samples: vec![
            Sample::new("err", Reading::Value(err)),
            Sample::new("rps", Reading::Value(rps)),
        ],
    };
    // 50 % errors over 2 requests per second: noise, not a failure — and not a pass.
    let mut g = plan.clone().build();
    let d = replay(&mut g, (0..10).map(|i| tick(i, 50.0, 2.0)));
    assert_eq!(
        d.decision.as_ref().map(|d| d.verdict),
        Some(Verdict::Inconclusive)
    );
    let e = &g.evaluations()[0];
    assert_eq!(e.status, RuleStatus::NoData);
    assert!(
        e.reason
            .contains("request volume 2 (rps) is below min_volume 5"),
        "{}",
        e.reason
    );
    // The same error rate with enough requests fails.
    let mut g = plan.build();
    let d = replay(&mut g, (0..10).map(|i| tick(i, 50.0, 80.0)));
    assert_eq!(d.decision.map(|d| d.verdict), Some(Verdict::Rollback));
}

/// Issue 24, fault 1: a control that answers nothing usable (an error, garbage, NaN, no
/// reading at all) is a missing sample of the rule comparing against it, never a pass.
#[test]
fn a_dead_control_is_missing_data_never_healthy() {
    let c = parse(&format!(
        "{METRICS}rules:\n  - {{ name: r, metric: lat, detector: {{ baseline: {{ stat: mean, max_change: 10 }} }}, severity: critical }}\n"
    ))
    .unwrap();
    let plan =
        GatePlan::new(c.rules.clone(), c.metric_specs(), c.policy.clone()).with_planned_ticks(20);
    let dead: [fn(usize) -> Option<Reading>; 3] = [
        |_| Some(Reading::Missing("HTTP 500".into())),
        |_| Some(Reading::Value(f64::NAN)),
        |_| None,
    ];
    for control in dead {
        let mut g = plan.clone().build();
        let ticks = (0..20).map(|i| Tick {
            at: i as Timestamp * 15_000,
            samples: std::iter::once(Sample::new("lat", Reading::Value(200.0)))
                .chain(control(i).map(|r| Sample::of_control("lat", r)))
                .collect(),
        });
        let d = replay(&mut g, ticks);
        let verdict = d
            .decision
            .map(|d| d.verdict)
            .unwrap_or_else(|| g.finish(19 * 15_000).verdict);
        assert_eq!(verdict, Verdict::Inconclusive);
        let done = g.completeness();
        assert!(done[0].missing > 0, "{done:?}");
    }
}
