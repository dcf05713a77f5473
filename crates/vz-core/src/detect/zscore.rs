//! `zscore`: how many standard deviations is the latest value from the baseline?
//!
//! The classic z uses mean and standard deviation; the robust one median and
//! 1.4826·MAD (consistent with the standard deviation for normal data, and not dragged
//! around by the outliers it is meant to find).

use super::stats::{side, watched_only};
use super::{invalid, latest_point, require_baseline, Baseline, Detector, Finding, Input, Outcome};
use crate::model::{fmt_num, Direction, Expected};
use serde::{Deserialize, Serialize};

/// Scales the MAD to a standard deviation for normally distributed data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Config of the `zscore` detector: `{ threshold: 3, robust: true, direction: either,
/// min_delta: 0 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZscoreParams {
    /// Active when |z| ≥ threshold (default 3).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Median and 1.4826·MAD instead of mean and standard deviation (default false).
    #[serde(default)]
    pub robust: bool,
    /// Which side of the baseline counts (default `either`).
    #[serde(default)]
    pub direction: Direction,
    /// How far from the baseline's center the value must also be, in the metric's own unit
    /// (default 0). A quiet baseline has almost no spread: against an idle machine's 0.3 %
    /// CPU, 3 % is hundreds of deviations away and no trouble at all.
    #[serde(default)]
    pub min_delta: f64,
}

fn default_threshold() -> f64 {
    3.0
}

impl Default for ZscoreParams {
    fn default() -> Self {
        ZscoreParams {
            threshold: default_threshold(),
            robust: false,
            direction: Direction::Either,
            min_delta: 0.0,
        }
    }
}

/// Center and scale of the baseline used to compute z, with how they were chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Mean, or median when robust.
    pub center: f64,
    /// Standard deviation, or 1.4826·MAD when robust (std dev if the MAD is 0); 0 = no spread.
    pub scale: f64,
    /// How `scale` was obtained.
    pub kind: SpreadKind,
}

/// How the scale of a z-score was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpreadKind {
    /// Sample standard deviation around the mean.
    StdDev,
    /// 1.4826·MAD around the median.
    Mad,
    /// Robust was asked but the MAD is 0: standard deviation, still around the median.
    StdDevFallback,
}

impl Spread {
    /// The center and scale a z-score against `baseline` uses.
    pub fn of(baseline: &Baseline, robust: bool) -> Spread {
        if !robust {
            return Spread {
                center: baseline.mean,
                scale: baseline.std_dev,
                kind: SpreadKind::StdDev,
            };
        }
        let mad = MAD_TO_SIGMA * baseline.mad;
        if mad > 0.0 {
            Spread {
                center: baseline.median,
                scale: mad,
                kind: SpreadKind::Mad,
            }
        } else {
            Spread {
                center: baseline.median,
                scale: baseline.std_dev,
                kind: SpreadKind::StdDevFallback,
            }
        }
    }

    /// z of `value`: 0 at the center; ±infinity off-center when the baseline has no spread.
    pub fn z(&self, value: f64) -> f64 {
        let delta = value - self.center;
        if self.scale > 0.0 {
            delta / self.scale
        } else if delta == 0.0 {
            0.0
        } else {
            delta.signum() * f64::INFINITY
        }
    }

    fn center_name(&self) -> &'static str {
        match self.kind {
            SpreadKind::StdDev => "mean",
            SpreadKind::Mad | SpreadKind::StdDevFallback => "median",
        }
    }

    fn scale_words(&self) -> String {
        let s = fmt_num(self.scale);
        match self.kind {
            SpreadKind::StdDev => format!("std dev {s}"),
            SpreadKind::Mad => format!("1.4826·MAD {s}"),
            SpreadKind::StdDevFallback => format!("MAD is 0, std dev {s} used instead"),
        }
    }
}

/// The core per-value function: z of `value` against `baseline` (see [`Spread::z`]).
pub fn score(value: f64, baseline: &Baseline, params: &ZscoreParams) -> f64 {
    Spread::of(baseline, params.robust).z(value)
}

/// Whether a z-score makes the condition active: |z| ≥ threshold on an admitted side.
pub fn is_active(z: f64, params: &ZscoreParams) -> bool {
    z.abs() >= params.threshold && params.direction.admits(z)
}

/// Judges the latest value's z-score against the baseline.
pub fn evaluate(params: &ZscoreParams, input: &Input) -> Outcome {
    let baseline = require_baseline(input)?;
    let latest = latest_point(input)?;
    let spread = Spread::of(baseline, params.robust);
    let z = spread.z(latest);
    let delta = latest - spread.center;
    let far_enough = delta.abs() >= params.min_delta;
    let active = is_active(z, params) && far_enough;
    let threshold = fmt_num(params.threshold);
    let verdict = if active {
        format!("at or beyond the threshold {threshold}")
    } else if is_active(z, params) {
        format!(
            "beyond the threshold {threshold} but only {} {} it, below min_delta {}",
            fmt_num(delta.abs()),
            side(delta),
            fmt_num(params.min_delta)
        )
    } else if z.abs() >= params.threshold {
        format!(
            "beyond the threshold {threshold} but {}",
            watched_only(params.direction)
        )
    } else {
        format!("within the threshold {threshold}")
    };
    let (value, center) = (fmt_num(latest), fmt_num(spread.center));
    let name = spread.center_name();
    let reason = if spread.scale > 0.0 {
        let unit = match spread.kind {
            SpreadKind::Mad => "robust standard deviations",
            _ => "standard deviations",
        };
        format!(
            "value {value} is {} {unit} {} the baseline {name} {center} ({}), {verdict}",
            fmt_num(z.abs()),
            side(z),
            spread.scale_words(),
        )
    } else {
        format!(
            "value {value} is {} the baseline {name} {center} and the baseline has no spread \
             (std dev 0), so z = {}, {verdict}",
            side(z),
            fmt_num(z),
        )
    };
    let half = (params.threshold * spread.scale).max(params.min_delta);
    Ok(Finding {
        active,
        observed: latest,
        expected: Expected::Range {
            low: spread.center - half,
            high: spread.center + half,
        },
        score: Some(z),
        p_value: None,
        statistic: if params.robust { "robust z" } else { "z" },
        reason,
    })
}

impl Detector for ZscoreParams {
    fn name(&self) -> &'static str {
        "zscore"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return invalid("threshold", "must be a positive number");
        }
        if !(self.min_delta >= 0.0 && self.min_delta.is_finite()) {
            return invalid("min_delta", "must be a number ≥ 0");
        }
        Ok(())
    }

    fn evaluate(&self, input: &Input) -> Outcome {
        evaluate(self, input)
    }

    fn needs_baseline(&self) -> bool {
        true
    }
}

#[cfg(test)]
#[path = "zscore_tests.rs"]
mod tests;
