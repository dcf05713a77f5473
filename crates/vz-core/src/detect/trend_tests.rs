//! Trend detector tests: slopes, fits and their params.

use super::*;
use crate::detect::Window;

const T0: i64 = 1_700_000_000_000; // a realistic epoch in ms: exercises the t0 shift

fn run(params: &TrendParams, times: &[i64], values: &[f64]) -> Outcome {
    evaluate(
        params,
        &Input {
            now: times.last().copied().unwrap_or(T0),
            window: Window { times, values },
            latest_is_value: true,
            baseline: None,
            control: None,
            down_since: None,
        },
    )
}

fn params(yaml: &str) -> TrendParams {
    serde_yaml::from_str(yaml).unwrap()
}

fn minutes(step_ms: i64, n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| T0 + i * step_ms).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn leak_is_a_trend() {
    // scipy.stats.linregress(t_min, y): slope 5.2, rvalue² 0.9913407821229052
    let t = minutes(60_000, 6);
    let y = [100.0, 104.0, 109.0, 116.0, 119.0, 126.0];
    let f = run(&params("{ min_slope_per_min: 5 }"), &t, &y).unwrap();
    assert!(close(f.observed, 5.2), "{}", f.observed);
    assert!(close(f.score.unwrap(), 0.9913407821229052));
    assert!(f.active);
    assert_eq!(f.statistic, "slope/min");
    assert_eq!(
        f.expected,
        Expected::Bound {
            op: ">=".into(),
            value: 5.0
        }
    );
    assert_eq!(
        f.reason,
        "slope 5.2/min over 6 points (R² 0.9913) is a trend: needs ≥ 5/min with R² ≥ 0.8"
    );
    let f = run(&params("{ min_slope_per_min: 6 }"), &t, &y).unwrap();
    assert!(!f.active);
    assert!(f.reason.contains("is not steep enough"), "{}", f.reason);
}

#[test]
fn decreasing_series() {
    // scipy.stats.linregress: slope -3.3571428571428568, r² 0.9861607142857141
    let t = minutes(30_000, 7);
    let y = [50.0, 48.0, 47.0, 45.0, 44.0, 41.0, 40.0];
    let down = params("{ min_slope_per_min: 3, direction: decrease }");
    let f = run(&down, &t, &y).unwrap();
    assert!(close(f.observed, -3.3571428571428568));
    assert!(close(f.score.unwrap(), 0.9861607142857141));
    assert!(f.active);
    assert_eq!(
        f.expected,
        Expected::Bound {
            op: "<=".into(),
            value: -3.0
        }
    );
    // Increase does not see a decrease; either does.
    assert!(
        !run(&params("{ min_slope_per_min: 3 }"), &t, &y)
            .unwrap()
            .active
    );
    let either = params("{ min_slope_per_min: 3, direction: either }");
    let f = run(&either, &t, &y).unwrap();
    assert!(f.active);
    assert_eq!(
        f.expected,
        Expected::Range {
            low: -3.0,
            high: 3.0
        }
    );
    // A negative min_slope_per_min means its magnitude.
    assert!(
        run(
            &params("{ min_slope_per_min: -3, direction: decrease }"),
            &t,
            &y
        )
        .unwrap()
        .active
    );
}

#[test]
fn noise_is_not_a_trend() {
    // scipy.stats.linregress: slope -0.2, r² 0.00022261798753339267
    let t = minutes(30_000, 5);
    let y = [10.0, 30.0, 5.0, 25.0, 12.0];
    let p = params("{ min_slope_per_min: 0.1, direction: either }");
    let f = run(&p, &t, &y).unwrap();
    assert!(close(f.observed, -0.2));
    assert!(close(f.score.unwrap(), 0.00022261798753339267));
    assert!(!f.active);
    assert!(f.reason.contains("too noisy"), "{}", f.reason);
    let p = params("{ min_slope_per_min: 1, direction: either }");
    let f = run(&p, &t, &y).unwrap();
    assert!(
        f.reason.contains("neither steep nor linear enough"),
        "{}",
        f.reason
    );
}

#[test]
fn boundaries_are_inclusive() {
    // Exactly linear: slope 2/min, R² 1.
    let t = minutes(60_000, 5);
    let y = [0.0, 2.0, 4.0, 6.0, 8.0];
    let f = run(&params("{ min_slope_per_min: 2, min_r2: 1 }"), &t, &y).unwrap();
    assert_eq!((f.observed, f.score), (2.0, Some(1.0)));
    assert!(f.active);
    assert!(
        !run(&params("{ min_slope_per_min: 2.0001 }"), &t, &y)
            .unwrap()
            .active
    );
}

#[test]
fn constant_series_has_no_trend() {
    let t = minutes(60_000, 10);
    let f = run(&params("{ min_slope_per_min: 0 }"), &t, &[7.0; 10]).unwrap();
    assert_eq!((f.observed, f.score), (0.0, Some(0.0)));
    assert!(!f.active);
}

#[test]
fn not_enough_points() {
    let p = params("{ min_slope_per_min: 1 }");
    let t = minutes(60_000, 4);
    assert_eq!(
        run(&p, &t, &[1.0, 2.0, 3.0, 4.0]),
        Err(NoAnswer::NotEnoughData(
            "5 points needed for a trend, 4 so far".into()
        ))
    );
    assert!(matches!(run(&p, &[], &[]), Err(NoAnswer::NotEnoughData(_))));
    // min_points below 2 still needs two points.
    let p1 = params("{ min_slope_per_min: 1, min_points: 1 }");
    assert!(matches!(
        run(&p1, &[T0], &[1.0]),
        Err(NoAnswer::NotEnoughData(_))
    ));
    // NaN values do not count as points.
    let t = minutes(60_000, 5);
    assert!(matches!(
        run(&p, &t, &[1.0, 2.0, f64::NAN, 4.0, 5.0]),
        Err(NoAnswer::NotEnoughData(_))
    ));
    // All at one instant: no time span.
    assert!(matches!(
        run(&p, &[T0; 5], &[1.0, 2.0, 3.0, 4.0, 5.0]),
        Err(NoAnswer::NotEnoughData(_))
    ));
}

#[test]
fn nan_values_are_skipped() {
    let t = minutes(60_000, 6);
    let y = [0.0, 2.0, f64::NAN, 6.0, 8.0, 10.0];
    let f = run(&params("{ min_slope_per_min: 2 }"), &t, &y).unwrap();
    assert!(close(f.observed, 2.0) && close(f.score.unwrap(), 1.0));
    assert_eq!(fit(&t, &y).unwrap().n, 5);
}

#[test]
fn uneven_spacing_and_mismatched_lengths() {
    // scipy.stats.linregress([0, 0.5, 3, 4], [1, 2, 8, 9]): slope 2.100558659217877,
    // rvalue² 0.9872625698324023
    let t = [T0, T0 + 30_000, T0 + 180_000, T0 + 240_000];
    let y = [1.0, 2.0, 8.0, 9.0];
    let f = fit(&t, &y).unwrap();
    assert!(close(f.slope, 2.100558659217877), "{}", f.slope);
    assert!(close(f.r2, 0.9872625698324023), "{}", f.r2);
    // An extra leading timestamp is ignored: the latest points pair up.
    let t5 = [T0 - 60_000, T0, T0 + 30_000, T0 + 180_000, T0 + 240_000];
    assert_eq!(fit(&t5, &y), Some(f));
}

#[test]
fn config_shape() {
    let p = params("{ min_slope_per_min: 5 }");
    assert_eq!(
        p,
        TrendParams {
            min_slope_per_min: 5.0,
            min_r2: 0.8,
            min_points: 5,
            direction: Direction::Increase
        }
    );
    assert!(serde_yaml::from_str::<TrendParams>("{ min_r2: 0.5 }").is_err());
    assert!(serde_yaml::from_str::<TrendParams>("{ min_slope_per_min: 1, r2: 1 }").is_err());
}
