//! z-scores against hand-computed values.

use super::*;
use crate::detect::{NoAnswer, Window};

const TIMES: [i64; 1] = [0];

fn run(params: &ZscoreParams, baseline: Option<&Baseline>, latest: f64) -> Outcome {
    let values = [latest];
    evaluate(
        params,
        &Input {
            now: 0,
            window: Window {
                times: &TIMES,
                values: &values,
            },
            latest_is_value: true,
            baseline,
            control: None,
            down_since: None,
        },
    )
}

fn params(yaml: &str) -> ZscoreParams {
    serde_yaml::from_str(yaml).unwrap()
}

// Baseline 2, 4, 4, 4, 5, 5, 7, 9 (hand): mean 5, squared deviations sum 32,
// std dev sqrt(32/7) = 2.13809; median 4.5, |x − 4.5| = 2.5 .5 .5 .5 .5 .5 2.5 4.5,
// so MAD 0.5.
fn sample() -> Baseline {
    Baseline::from_values(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap()
}
const SD: f64 = 2.138_089_935_299_395;

#[test]
fn classic_z() {
    let b = sample();
    let p = ZscoreParams::default();
    let f = run(&p, Some(&b), 12.0).unwrap();
    let z = 7.0 / SD; // 3.27395
    assert!((f.score.unwrap() - z).abs() < 1e-12);
    assert!(f.active);
    assert_eq!(f.statistic, "z");
    assert_eq!(
        f.expected,
        Expected::Range {
            low: 5.0 - 3.0 * SD,
            high: 5.0 + 3.0 * SD
        }
    );
    assert_eq!(
        f.reason,
        "value 12 is 3.274 standard deviations above the baseline mean 5 (std dev 2.138), \
         at or beyond the threshold 3"
    );
    let f = run(&p, Some(&b), 6.0).unwrap();
    assert!(!f.active);
    assert!(f.reason.ends_with("within the threshold 3"), "{}", f.reason);
    // Below, either direction: active.
    let f = run(&p, Some(&b), -2.0).unwrap();
    assert!(f.active && f.score.unwrap() < -3.0);
    assert!(
        f.reason.contains("below the baseline mean 5"),
        "{}",
        f.reason
    );
}

#[test]
fn boundary_is_inclusive() {
    let b = sample();
    let p = params("{ threshold: 2 }");
    // latest = mean + 2·sd gives z = 2 up to rounding; compare with score itself.
    let exact = 5.0 + 2.0 * SD;
    let z = score(exact, &b, &p);
    assert!((z - 2.0).abs() < 1e-12);
    assert!(is_active(2.0, &p));
    assert!(!is_active(1.999_999, &p));
    assert!(is_active(-2.0, &p));
}

#[test]
fn directions() {
    let b = sample();
    let up = params("{ direction: increase }");
    let down = params("{ direction: decrease }");
    assert!(run(&up, Some(&b), 12.0).unwrap().active);
    let f = run(&up, Some(&b), -2.0).unwrap();
    assert!(!f.active);
    assert!(
        f.reason
            .ends_with("beyond the threshold 3 but only increases are watched"),
        "{}",
        f.reason
    );
    assert!(!run(&down, Some(&b), 12.0).unwrap().active);
    assert!(run(&down, Some(&b), -2.0).unwrap().active);
}

#[test]
fn robust_z_uses_median_and_mad() {
    let b = sample();
    let p = params("{ robust: true }");
    // z = (7 − 4.5) / (1.4826 · 0.5) = 3.37245…
    let f = run(&p, Some(&b), 7.0).unwrap();
    let z = 2.5 / (MAD_TO_SIGMA * 0.5);
    assert!((f.score.unwrap() - z).abs() < 1e-12);
    assert!(f.active);
    assert_eq!(f.statistic, "robust z");
    assert_eq!(
        f.reason,
        "value 7 is 3.372 robust standard deviations above the baseline median 4.5 \
         (1.4826·MAD 0.7413), at or beyond the threshold 3"
    );
    assert_eq!(
        f.expected,
        Expected::Range {
            low: 4.5 - 3.0 * 0.7413,
            high: 4.5 + 3.0 * 0.7413
        }
    );
    // The classic z of the same value is below 1.
    assert!(!run(&ZscoreParams::default(), Some(&b), 7.0).unwrap().active);
}

#[test]
fn robust_falls_back_to_std_dev_when_mad_is_zero() {
    // Median 10, MAD 0 (most values equal); std dev: mean 10.5, deviations −0.5 ×5 and
    // +2.5, squares 1.25 + 6.25 = 7.5, /5 → sqrt(1.5) = 1.224745.
    let b = Baseline::from_values(&[10.0, 10.0, 10.0, 10.0, 10.0, 13.0]).unwrap();
    assert_eq!(b.mad, 0.0);
    let p = params("{ robust: true }");
    let f = run(&p, Some(&b), 14.0).unwrap();
    let z = 4.0 / 1.5f64.sqrt();
    assert!((f.score.unwrap() - z).abs() < 1e-12);
    assert!(f.active);
    assert!(
        f.reason.contains("(MAD is 0, std dev 1.225 used instead)"),
        "{}",
        f.reason
    );
}

#[test]
fn constant_baseline_has_no_spread() {
    let b = Baseline::from_values(&[4.0; 5]).unwrap();
    for robust in [false, true] {
        let p = ZscoreParams {
            robust,
            ..ZscoreParams::default()
        };
        let f = run(&p, Some(&b), 4.0).unwrap();
        assert_eq!(f.score, Some(0.0));
        assert!(!f.active);
        assert_eq!(
            f.expected,
            Expected::Range {
                low: 4.0,
                high: 4.0
            }
        );
        assert!(f.reason.contains("has no spread"), "{}", f.reason);
        let f = run(&p, Some(&b), 4.5).unwrap();
        assert_eq!(f.score, Some(f64::INFINITY));
        assert!(f.active);
        assert!(f.reason.contains("z = +Inf"), "{}", f.reason);
        let f = run(&p, Some(&b), 3.0).unwrap();
        assert_eq!(f.score, Some(f64::NEG_INFINITY));
        assert!(f.active);
    }
}

#[test]
fn needs_baseline_and_a_latest_value() {
    let b = sample();
    let p = ZscoreParams::default();
    assert_eq!(run(&p, None, 1.0), Err(NoAnswer::NoBaseline));
    let empty = Baseline {
        sorted: vec![],
        ..sample()
    };
    assert_eq!(run(&p, Some(&empty), 1.0), Err(NoAnswer::NoBaseline));
    assert!(matches!(
        run(&p, Some(&b), f64::NAN),
        Err(NoAnswer::NotEnoughData(_))
    ));
    let missing = evaluate(
        &p,
        &Input {
            now: 0,
            window: Window {
                times: &[],
                values: &[],
            },
            latest_is_value: false,
            baseline: Some(&b),
            control: None,
            down_since: None,
        },
    );
    assert!(matches!(missing, Err(NoAnswer::NotEnoughData(_))));
}

#[test]
fn config_defaults_and_shape() {
    assert_eq!(params("{}"), ZscoreParams::default());
    assert_eq!(
        params("{ threshold: 2.5, robust: true, direction: decrease }"),
        ZscoreParams {
            threshold: 2.5,
            robust: true,
            direction: Direction::Decrease,
            min_delta: 0.0,
        }
    );
    assert!(serde_yaml::from_str::<ZscoreParams>("{ treshold: 2 }").is_err());
    assert!(serde_yaml::from_str::<ZscoreParams>("{ direction: up }").is_err());
}

/// Issue 25.6: `init`'s cpu-spike fired on an idle machine, 3 % CPU being 333 robust
/// deviations from a 10-sample baseline around 0.3 %. `min_delta` asks for a real change too.
#[test]
fn min_delta_keeps_a_quiet_baseline_from_calling_noise_a_spike() {
    // Baseline (hand): median 0.3, |x − 0.3| = .1 .1 0 0 0 0 0 0 .1 .1 → MAD 0, so the
    // std dev (0.0667) is the scale: 3 % is 40 deviations above.
    let b = Baseline::from_values(&[0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.4]).unwrap();
    let p = params("{ threshold: 4, robust: true, direction: increase }");
    assert!(
        run(&p, Some(&b), 3.0).unwrap().active,
        "the defect, as it was"
    );
    let p = params("{ threshold: 4, robust: true, direction: increase, min_delta: 20 }");
    let f = run(&p, Some(&b), 3.0).unwrap();
    assert!(!f.active, "{}", f.reason);
    assert!(
        f.reason
            .ends_with("beyond the threshold 4 but only 2.7 above it, below min_delta 20"),
        "{}",
        f.reason
    );
    assert_eq!(
        f.expected,
        Expected::Range {
            low: 0.3 - 20.0,
            high: 0.3 + 20.0
        }
    );
    let f = run(&p, Some(&b), 95.0).unwrap();
    assert!(f.active, "a busy machine still fires: {}", f.reason);
    assert!(p.validate().is_ok());
    assert!(params("{ min_delta: -1 }").validate().is_err());
}
