//! The minimum detectable effect of a metric: the smallest shift the planned watch catches
//! with 80 % power at the configured alpha, found by injecting shifts of growing size into
//! replayed windows and counting the windows the gate would have rolled back.
//!
//! A shift of x % multiplies every watched value of the metric by `1 + x` (or `1 − x` when
//! its rules watch for a decrease): a p95 latency, a mean, a rate all move by x %, which
//! is the unit `max_change` is written in. A metric whose values are all 0 cannot be shifted
//! this way; it gets no figure.

use super::{metric_of, replay_window, History, Shift, Window, WindowResult};
use crate::detect::threshold::Op;
use crate::detect::DetectorSpec;
use crate::gate::GatePlan;
use crate::model::Direction;
use serde::Serialize;

/// Power the minimum detectable effect is defined at.
pub const POWER: f64 = 0.8;

/// The shifts tried, in percent, smallest first.
pub const SHIFTS: [f64; 16] = [
    1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0,
];

/// A decrease cannot go past this (values stay positive).
const MAX_DECREASE: f64 = 90.0;

/// One metric's minimum detectable effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mde {
    pub metric: String,
    /// The way the shift was injected: the way the metric's rules watch.
    pub direction: Direction,
    /// The smallest shift tried (percent) caught in at least 80 % of the windows; `None`
    /// when even the largest was not, or no figure could be had (see `note`).
    pub effect: Option<f64>,
    /// The share of windows caught at `effect`.
    pub power: Option<f64>,
    /// The largest shift tried below `effect` and its power (how sharp the figure is).
    pub below: Option<(f64, f64)>,
    /// Windows the shifts were injected into.
    pub windows: usize,
    /// Why there is no figure, or what limits it.
    pub note: String,
}

/// The direction a metric's rules watch: down only when every rule on it watches a
/// decrease (or a `<` bound), else up.
pub fn direction(plan: &GatePlan, metric: &str) -> Option<Direction> {
    let dirs: Vec<Direction> = plan
        .rules
        .iter()
        .filter(|r| !r.dry_run)
        .filter(|r| {
            r.metric == metric
                || r.detector
                    .joint_metrics()
                    .is_some_and(|m| m.iter().any(|x| x == metric))
        })
        .map(|r| match &r.detector {
            DetectorSpec::Baseline(p) => p.direction,
            DetectorSpec::Zscore(p) => p.direction,
            DetectorSpec::Iqr(p) => p.direction,
            DetectorSpec::Trend(p) => p.direction,
            DetectorSpec::Threshold(p) if matches!(p.op, Op::Lt | Op::Le) => Direction::Decrease,
            _ => Direction::Increase,
        })
        .collect();
    if dirs.is_empty() {
        return None;
    }
    Some(if dirs.iter().all(|d| *d == Direction::Decrease) {
        Direction::Decrease
    } else {
        Direction::Increase
    })
}

/// The multiplier of a shift of `percent` in `direction`.
pub fn factor(direction: Direction, percent: f64) -> f64 {
    match direction {
        Direction::Decrease => 1.0 - percent / 100.0,
        _ => 1.0 + percent / 100.0,
    }
}

/// Evenly spaced windows among those that were judged and would not have rolled back
/// unshifted (a window already rolled back says nothing about a shift), at most `max`.
pub fn quiet_windows(results: &[WindowResult], max: usize) -> Vec<Window> {
    let quiet: Vec<Window> = results
        .iter()
        .filter(|r| r.judged() && !r.rollback)
        .map(|r| r.window)
        .collect();
    if quiet.len() <= max || max == 0 {
        return quiet;
    }
    (0..max).map(|i| quiet[i * quiet.len() / max]).collect()
}

/// The share of `windows` that roll back with `percent` injected into `metric`.
pub fn power(
    plan: &GatePlan,
    history: &History,
    windows: &[Window],
    metric: &str,
    direction: Direction,
    percent: f64,
) -> f64 {
    if windows.is_empty() {
        return 0.0;
    }
    let shift = Shift {
        metric,
        factor: factor(direction, percent),
    };
    let caught = windows
        .iter()
        .filter(|w| replay_window(plan, history, w, Some(shift)).rollback)
        .count();
    caught as f64 / windows.len() as f64
}

/// The minimum detectable effect of `metric` over `windows` (quiet ones, see
/// [`quiet_windows`]): a bisection over [`SHIFTS`], assuming power grows with the shift.
pub fn min_detectable_effect(
    plan: &GatePlan,
    history: &History,
    windows: &[Window],
    metric: &str,
) -> Mde {
    let mut out = Mde {
        metric: metric.to_string(),
        direction: Direction::Increase,
        effect: None,
        power: None,
        below: None,
        windows: windows.len(),
        note: String::new(),
    };
    let Some(direction) = direction(plan, metric) else {
        out.note = "no rule watches it".into();
        return out;
    };
    out.direction = direction;
    if windows.is_empty() {
        out.note = "no quiet window to inject a shift into".into();
        return out;
    }
    if all_zero(history, windows, metric) {
        out.note = "its values are all 0: a relative shift leaves them 0".into();
        return out;
    }
    let shifts: Vec<f64> = SHIFTS
        .iter()
        .copied()
        .filter(|s| direction != Direction::Decrease || *s <= MAX_DECREASE)
        .collect();
    let at = |i: usize| power(plan, history, windows, metric, direction, shifts[i]);
    let top = shifts.len() - 1;
    let top_power = at(top);
    if top_power < POWER {
        out.note = format!(
            "not caught with {:.0} % power even at {} % ({:.0} % of windows)",
            POWER * 100.0,
            shifts[top],
            top_power * 100.0
        );
        out.below = Some((shifts[top], top_power));
        return out;
    }
    // Invariant: shifts[hi] reaches POWER; every index below lo is known not to.
    let (mut lo, mut hi, mut hi_power) = (0usize, top, top_power);
    let mut below: Option<(f64, f64)> = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let p = at(mid);
        if p >= POWER {
            hi = mid;
            hi_power = p;
        } else {
            below = Some((shifts[mid], p));
            lo = mid + 1;
        }
    }
    out.effect = Some(shifts[hi]);
    out.power = Some(hi_power);
    out.below = below.filter(|(s, _)| *s < shifts[hi]);
    out
}

fn all_zero(history: &History, windows: &[Window], metric: &str) -> bool {
    history
        .series
        .iter()
        .filter(|(k, _)| !super::split_control(k).1 && metric_of(k) == metric)
        .all(|(_, v)| {
            windows.iter().all(|w| {
                v[w.watch.0..w.watch.1]
                    .iter()
                    .all(|x| !x.is_finite() || *x == 0.0)
            })
        })
}
