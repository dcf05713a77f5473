//! `zscore`: how many standard deviations is the latest value from the baseline?
//!
//! The classic z uses mean and standard deviation; the robust one median and
//! 1.4826·MAD (consistent with the standard deviation for normal data, and not dragged
//! around by the outliers it is meant to find).

use super::stats::{side, watched_only};
use super::threshold::latest_point;
use super::{invalid, Baseline, Detector, Finding, Input, NoAnswer, Outcome};
use crate::model::{fmt_num, Direction, Expected};
use serde::{Deserialize, Serialize};

/// Scales the MAD to a standard deviation for normally distributed data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Config of the `zscore` detector: `{ threshold: 3, robust: true, direction: either }`.
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

/// The baseline a detector needs, or `NoBaseline` (also for an empty one).
pub fn require_baseline<'a>(input: &Input<'a>) -> Result<&'a Baseline, NoAnswer> {
    match input.baseline {
        Some(b) if !b.is_empty() => Ok(b),
        _ => Err(NoAnswer::NoBaseline),
    }
}

/// Judges the latest value's z-score against the baseline.
pub fn evaluate(params: &ZscoreParams, input: &Input) -> Outcome {
    let baseline = require_baseline(input)?;
    let latest = latest_point(input)?;
    let spread = Spread::of(baseline, params.robust);
    let z = spread.z(latest);
    let active = is_active(z, params);
    let threshold = fmt_num(params.threshold);
    let verdict = if active {
        format!("at or beyond the threshold {threshold}")
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
    let half = params.threshold * spread.scale;
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
mod tests {
    use super::*;
    use crate::detect::Window;

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
                direction: Direction::Decrease
            }
        );
        assert!(serde_yaml::from_str::<ZscoreParams>("{ treshold: 2 }").is_err());
        assert!(serde_yaml::from_str::<ZscoreParams>("{ direction: up }").is_err());
    }
}
