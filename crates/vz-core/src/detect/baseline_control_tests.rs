//! The baseline detector against a control (the stable version over the same ticks).

use super::*;
use crate::detect::{Baseline, Window};
use crate::model::Expected;

fn against_control(
    params: &BaselineParams,
    baseline: &Baseline,
    canary: &[f64],
    control: &[f64],
) -> Outcome {
    let times: Vec<i64> = (0..canary.len() as i64).map(|i| i * 30_000).collect();
    let ctimes: Vec<i64> = (0..control.len() as i64).map(|i| i * 30_000).collect();
    // Hand-made series: ticks taken as independent, as in baseline_tests.rs.
    let params = &BaselineParams {
        dependence: DependenceMode::None,
        ..*params
    };
    evaluate(
        params,
        &Input {
            now: times.last().copied().unwrap_or(0),
            window: Window {
                times: &times,
                values: canary,
            },
            latest_is_value: true,
            baseline: Some(baseline),
            control: Some(Window {
                times: &ctimes,
                values: control,
            }),
            down_since: None,
        },
    )
}

fn mean_rule() -> BaselineParams {
    BaselineParams {
        stat: Stat::Mean,
        max_change: 10.0,
        compare: Against::Control,
        ..BaselineParams::default()
    }
}

/// Before the deploy: 100..=119. A surge doubles canary and control alike: 200..=238.
fn quiet() -> Baseline {
    Baseline::from_values(&(100..120).map(f64::from).collect::<Vec<_>>()).unwrap()
}
fn surge() -> Vec<f64> {
    (0..20).map(|i| 200.0 + 2.0 * f64::from(i)).collect()
}

#[test]
fn a_surge_on_canary_and_control_alike_is_not_a_regression() {
    let (b, s) = (quiet(), surge());
    // Against the baseline the same surge is a +90 % change, and significant.
    let vs_baseline = BaselineParams {
        compare: Against::Baseline,
        ..mean_rule()
    };
    assert!(against_control(&vs_baseline, &b, &s, &s).unwrap().active);
    let f = against_control(&mean_rule(), &b, &s, &s).unwrap();
    assert!(!f.active, "{}", f.reason);
    // Control mean 219, s = 11.832: 219 ± 1.959964 · 11.832 / √20 = [213.8144, 224.1856].
    match f.expected {
        Expected::Control { value, low, high } => {
            assert_eq!(value, 219.0);
            assert!((low.unwrap() - 213.8144).abs() < 1e-3, "{low:?}");
            assert!((high.unwrap() - 224.1856).abs() < 1e-3, "{high:?}");
        }
        e => panic!("{e:?}"),
    }
    assert!(
        f.reason
            .starts_with("mean 219 equals control 219 (max 10%), within the allowed change"),
        "{}",
        f.reason
    );
    assert!(
        f.reason.ends_with(
            "; control mean 219 (95% CI 213.814 to 224.186) over 20 values of the same ticks"
        ),
        "{}",
        f.reason
    );
}

#[test]
fn a_regression_on_top_of_the_surge_is_caught() {
    let b = quiet();
    let control = surge();
    let canary: Vec<f64> = control.iter().map(|v| v * 1.5).collect();
    let f = against_control(&mean_rule(), &b, &canary, &control).unwrap();
    assert!(f.active, "{}", f.reason);
    // 328.5 / 219 = 1.5: +50 %.
    assert!((f.score.unwrap() - 50.0).abs() < 1e-9);
    assert!(
        f.reason.starts_with(
            "mean 328.5 is 50% above control 219 (max 10%), and the shift is significant"
        ),
        "{}",
        f.reason
    );
    assert!(f.reason.contains("Hodges–Lehmann shift"), "{}", f.reason);
}

#[test]
fn too_few_control_values_is_not_enough_data() {
    let b = quiet();
    let f = against_control(&mean_rule(), &b, &surge(), &[1.0, 2.0]);
    assert_eq!(
        f,
        Err(NoAnswer::NotEnoughData(
            "3 control values needed, 2 so far".into()
        ))
    );
    // No control at all: the same, never a pass.
    let times = [0i64];
    let none = evaluate(
        &mean_rule(),
        &Input {
            now: 0,
            window: Window {
                times: &times,
                values: &[1.0],
            },
            latest_is_value: true,
            baseline: None,
            control: None,
            down_since: None,
        },
    );
    assert!(matches!(none, Err(NoAnswer::NotEnoughData(_))));
    // Against a control, the rule needs no baseline.
    assert!(!crate::detect::Detector::needs_baseline(&mean_rule()));
}

#[test]
fn the_control_look_uses_the_growing_reference_boundary() {
    // Planned: 30 looks, whole-watch alpha 0.01. Against a control of as many values the
    // threshold differs from the one against a fixed baseline of 20.
    let planned = BaselineParams {
        plan: LookPlan {
            looks: 30,
            alpha: 0.01,
            sliding: false,
        },
        ..mean_rule()
    };
    let b = quiet();
    let control = surge();
    let canary: Vec<f64> = control.iter().map(|v| v * 1.5).collect();
    let f = against_control(&planned, &b, &canary, &control).unwrap();
    assert!(f.active, "{}", f.reason);
    assert!(
        f.reason
            .contains("the corrected threshold at 20 values of 30 planned"),
        "{}",
        f.reason
    );
}
