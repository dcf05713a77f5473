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

    fn default_kind(&self) -> Option<&'static str> {
        Some("MEMORY_LEAK")
    }
}

#[cfg(test)]
#[path = "trend_tests.rs"]
mod tests;
