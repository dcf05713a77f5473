//! `trend`: is the watched series drifting? Least-squares slope per minute, with R² —
//! memory leaks, disks filling, queues growing.
//!
//! A window statistic: it answers even when the latest tick was missing, from the values
//! the window holds. Needs no baseline.

use super::{invalid, Detector, Finding, Input, NoAnswer, Outcome};
use crate::model::{fmt_num, Direction, Expected, Timestamp};
use serde::{Deserialize, Serialize};

/// Config of the `trend` detector: `{ min_slope_per_min: 5, min_r2: 0.8 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// Smallest slope (value units per minute) that counts; required. Its magnitude is
    /// used, the sign comes from `direction`.
    pub min_slope_per_min: f64,
    /// Smallest R² that makes the slope a trend rather than noise (default 0.8).
    #[serde(default = "default_min_r2")]
    pub min_r2: f64,
    /// Points needed before answering (default 5; at least 2 are always needed).
    #[serde(default = "default_min_points")]
    pub min_points: usize,
    /// Which way of drifting counts (default `increase`).
    #[serde(default = "default_direction")]
    pub direction: Direction,
}

fn default_min_r2() -> f64 {
    0.8
}
fn default_min_points() -> usize {
    5
}
fn default_direction() -> Direction {
    Direction::Increase
}

/// A least-squares line through (minutes, value) points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Points used (finite values only).
    pub n: usize,
    /// Value units per minute.
    pub slope: f64,
    /// Coefficient of determination; 0 for a constant series (no trend).
    pub r2: f64,
}

/// Fits value against time (ms, converted to minutes since the first point for numerical
/// stability). Pairs with a non-finite value are skipped; when the slices differ in length,
/// the latest points (their ends) are paired. `None` with fewer than 2 points or when all
/// points share one timestamp.
pub fn fit(times: &[Timestamp], values: &[f64]) -> Option<Fit> {
    let len = times.len().min(values.len());
    let (times, values) = (&times[times.len() - len..], &values[values.len() - len..]);
    let points = || {
        times
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(t, v)| (*t, *v))
    };
    let t0 = points().next()?.0;
    let minutes = |t: Timestamp| (t - t0) as f64 / 60_000.0;
    let (mut n, mut sx, mut sy) = (0usize, 0.0f64, 0.0f64);
    for (t, v) in points() {
        n += 1;
        sx += minutes(t);
        sy += v;
    }
    if n < 2 {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut sxy, mut syy) = (0.0f64, 0.0f64, 0.0f64);
    for (t, v) in points() {
        let (dx, dy) = (minutes(t) - mx, v - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 {
        (sxy * sxy / (sxx * syy)).min(1.0)
    } else {
        0.0
    };
    Some(Fit { n, slope, r2 })
}

/// Whether a slope goes far enough the watched way (inclusive: "at least").
pub fn steep_enough(slope: f64, params: &TrendParams) -> bool {
    let min = params.min_slope_per_min.abs();
    match params.direction {
        Direction::Increase => slope >= min,
        Direction::Decrease => slope <= -min,
        Direction::Either => slope.abs() >= min,
    }
}

/// Fits a line through the window and judges its slope and R².
pub fn evaluate(params: &TrendParams, input: &Input) -> Outcome {
    let w = input.window;
    let finite = w.values.iter().filter(|v| v.is_finite()).count();
    let needed = params.min_points.max(2);
    if finite < needed {
        return Err(NoAnswer::NotEnoughData(format!(
            "{needed} points needed for a trend, {finite} so far"
        )));
    }
    let fit = fit(w.times, w.values).ok_or_else(|| {
        NoAnswer::NotEnoughData("all points share one timestamp: no time span to fit".into())
    })?;
    let min = params.min_slope_per_min.abs();
    let steep = steep_enough(fit.slope, params);
    let linear = fit.r2 >= params.min_r2;
    let active = steep && linear;
    let limit = match params.direction {
        Direction::Increase => format!("≥ {}", fmt_num(min)),
        Direction::Decrease => format!("≤ {}", fmt_num(-min)),
        Direction::Either => format!("|slope| ≥ {}", fmt_num(min)),
    };
    let what = format!(
        "slope {}/min over {} points (R² {})",
        fmt_num(fit.slope),
        fit.n,
        fmt_num(fit.r2)
    );
    let needs = format!("needs {limit}/min with R² ≥ {}", fmt_num(params.min_r2));
    let reason = match (steep, linear) {
        (true, true) => format!("{what} is a trend: {needs}"),
        (false, true) => format!("{what} is not steep enough: {needs}"),
        (true, false) => format!("{what} is too noisy to be a trend: {needs}"),
        (false, false) => format!("{what} is neither steep nor linear enough: {needs}"),
    };
    let expected = match params.direction {
        Direction::Increase => Expected::Bound {
            op: ">=".into(),
            value: min,
        },
        Direction::Decrease => Expected::Bound {
            op: "<=".into(),
            value: -min,
        },
        Direction::Either => Expected::Range {
            low: -min,
            high: min,
        },
    };
    Ok(Finding {
        active,
        observed: fit.slope,
        expected,
        score: Some(fit.r2),
        p_value: None,
        statistic: "slope/min",
        reason,
    })
}

impl Detector for TrendParams {
    fn name(&self) -> &'static str {
        "trend"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if !(0.0..=1.0).contains(&self.min_r2) {
            return invalid("min_r2", "must be in [0, 1]");
        }
        if self.min_points < 2 {
            return invalid("min_points", "must be at least 2");
        }
        if !self.min_slope_per_min.is_finite() {
            return invalid("min_slope_per_min", "must be a finite number");
        }
        Ok(())
    }

    fn evaluate(&self, input: &Input) -> Outcome {
        evaluate(self, input)
    }

    fn default_kind(&self) -> &'static str {
        "MEMORY_LEAK"
    }
}

#[cfg(test)]
mod tests {
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
}
