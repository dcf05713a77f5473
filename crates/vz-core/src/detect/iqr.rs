//! `iqr`: is the latest value outside the baseline's Tukey fences `[Q1 − k·IQR, Q3 + k·IQR]`?

use super::stats::watched_only;
use super::{invalid, latest_point, require_baseline, Baseline, Detector, Finding, Input, Outcome};
use crate::model::{fmt_num, Direction, Expected};
use serde::{Deserialize, Serialize};

/// Config of the `iqr` detector: `{ k: 3, direction: increase }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IqrParams {
    /// Fence distance in IQRs beyond the quartiles (default 1.5; 3 = "far out").
    #[serde(default = "default_k")]
    pub k: f64,
    /// Which fence counts (default `either`).
    #[serde(default)]
    pub direction: Direction,
}

fn default_k() -> f64 {
    1.5
}

impl Default for IqrParams {
    fn default() -> Self {
        IqrParams {
            k: default_k(),
            direction: Direction::Either,
        }
    }
}

/// Tukey's fences of a baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fences {
    pub q1: f64,
    pub q3: f64,
    /// Q3 − Q1.
    pub iqr: f64,
    /// Q1 − k·IQR.
    pub low: f64,
    /// Q3 + k·IQR.
    pub high: f64,
}

impl Fences {
    /// The fences of `baseline` at distance `k`.
    pub fn of(baseline: &Baseline, k: f64) -> Fences {
        let iqr = baseline.q3 - baseline.q1;
        Fences {
            q1: baseline.q1,
            q3: baseline.q3,
            iqr,
            low: baseline.q1 - k * iqr,
            high: baseline.q3 + k * iqr,
        }
    }

    /// Signed distance beyond the nearer fence (> 0 above, < 0 below, 0 on or inside).
    pub fn beyond(&self, value: f64) -> f64 {
        if value > self.high {
            value - self.high
        } else if value < self.low {
            value - self.low
        } else {
            0.0
        }
    }

    /// The core per-value function: distance beyond the fence in IQR units, 0 inside
    /// (infinite outside when the IQR is 0).
    pub fn score(&self, value: f64) -> f64 {
        let d = self.beyond(value).abs();
        if d == 0.0 {
            0.0
        } else if self.iqr > 0.0 {
            d / self.iqr
        } else {
            f64::INFINITY
        }
    }

    /// Whether `value` is outside on a side `direction` admits (on the fence is inside).
    pub fn is_active(&self, value: f64, direction: Direction) -> bool {
        direction.admits(self.beyond(value))
    }
}

/// Judges the latest value against the baseline's fences.
pub fn evaluate(params: &IqrParams, input: &Input) -> Outcome {
    let baseline = require_baseline(input)?;
    let latest = latest_point(input)?;
    let fences = Fences::of(baseline, params.k);
    let beyond = fences.beyond(latest);
    let active = params.direction.admits(beyond);
    let score = fences.score(latest);
    let quartiles = if fences.iqr > 0.0 {
        format!(
            "Q1 {}, Q3 {}, IQR {}, k {}",
            fmt_num(fences.q1),
            fmt_num(fences.q3),
            fmt_num(fences.iqr),
            fmt_num(params.k)
        )
    } else {
        format!(
            "Q1 = Q3 = {}: the baseline IQR is 0, so any other value is outside",
            fmt_num(fences.q1)
        )
    };
    let value = fmt_num(latest);
    let outside = |side: &str, fence: f64| {
        let by = if fences.iqr > 0.0 {
            format!(" by {} IQR", fmt_num(score))
        } else {
            String::new()
        };
        format!(
            "value {value} is {side} fence {}{by} ({quartiles})",
            fmt_num(fence)
        )
    };
    let mut reason = if beyond > 0.0 {
        outside("above the upper", fences.high)
    } else if beyond < 0.0 {
        outside("below the lower", fences.low)
    } else {
        format!(
            "value {value} is inside the fences [{}, {}] ({quartiles})",
            fmt_num(fences.low),
            fmt_num(fences.high)
        )
    };
    if beyond != 0.0 && !active {
        reason.push_str(", but ");
        reason.push_str(watched_only(params.direction));
    }
    Ok(Finding {
        active,
        observed: latest,
        expected: Expected::Range {
            low: fences.low,
            high: fences.high,
        },
        score: Some(score),
        p_value: None,
        statistic: "value",
        reason,
    })
}

impl Detector for IqrParams {
    fn name(&self) -> &'static str {
        "iqr"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if !(self.k >= 0.0 && self.k.is_finite()) {
            return invalid("k", "must be 0 or more");
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
    use crate::detect::{NoAnswer, Window};

    fn run(params: &IqrParams, baseline: Option<&Baseline>, latest: f64) -> Outcome {
        let values = [latest];
        evaluate(
            params,
            &Input {
                now: 0,
                window: Window {
                    times: &[0],
                    values: &values,
                },
                latest_is_value: true,
                baseline,
                control: None,
                down_since: None,
            },
        )
    }

    // 1..=9: np.quantile → Q1 3, Q3 7, IQR 4; k 1.5 → fences [−3, 13]; k 3 → [−9, 19].
    fn sample() -> Baseline {
        Baseline::from_values(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]).unwrap()
    }

    #[test]
    fn fences_from_quartiles() {
        let f = Fences::of(&sample(), 1.5);
        assert_eq!(
            (f.q1, f.q3, f.iqr, f.low, f.high),
            (3.0, 7.0, 4.0, -3.0, 13.0)
        );
        let f = Fences::of(&sample(), 3.0);
        assert_eq!((f.low, f.high), (-9.0, 19.0));
    }

    #[test]
    fn outside_above_and_below() {
        let b = sample();
        let p = IqrParams::default();
        let f = run(&p, Some(&b), 15.0).unwrap();
        assert!(f.active);
        assert_eq!(f.score, Some(0.5)); // (15 − 13) / 4
        assert_eq!(
            f.expected,
            Expected::Range {
                low: -3.0,
                high: 13.0
            }
        );
        assert_eq!(
            f.reason,
            "value 15 is above the upper fence 13 by 0.5 IQR (Q1 3, Q3 7, IQR 4, k 1.5)"
        );
        let f = run(&p, Some(&b), -11.0).unwrap();
        assert!(f.active);
        assert_eq!(f.score, Some(2.0)); // (−3 − −11) / 4
        assert!(f
            .reason
            .starts_with("value -11 is below the lower fence -3 by 2 IQR"));
        let f = run(&p, Some(&b), 8.0).unwrap();
        assert!(!f.active);
        assert_eq!(f.score, Some(0.0));
        assert_eq!(
            f.reason,
            "value 8 is inside the fences [-3, 13] (Q1 3, Q3 7, IQR 4, k 1.5)"
        );
    }

    #[test]
    fn on_the_fence_is_inside() {
        let b = sample();
        let p = IqrParams::default();
        assert!(!run(&p, Some(&b), 13.0).unwrap().active);
        assert!(!run(&p, Some(&b), -3.0).unwrap().active);
        assert!(run(&p, Some(&b), 13.000_001).unwrap().active);
        assert!(run(&p, Some(&b), -3.000_001).unwrap().active);
    }

    #[test]
    fn directions() {
        let b = sample();
        let up: IqrParams = serde_yaml::from_str("{ direction: increase }").unwrap();
        let down: IqrParams = serde_yaml::from_str("{ direction: decrease }").unwrap();
        assert!(run(&up, Some(&b), 20.0).unwrap().active);
        let f = run(&up, Some(&b), -20.0).unwrap();
        assert!(!f.active);
        assert_eq!(f.score, Some(4.25)); // still reported: (−3 − −20) / 4
        assert!(
            f.reason.ends_with(", but only increases are watched"),
            "{}",
            f.reason
        );
        assert!(!run(&down, Some(&b), 20.0).unwrap().active);
        assert!(run(&down, Some(&b), -20.0).unwrap().active);
    }

    #[test]
    fn zero_iqr() {
        let b = Baseline::from_values(&[5.0, 5.0, 5.0, 5.0, 6.0]).unwrap();
        let p = IqrParams::default();
        let f = run(&p, Some(&b), 5.0).unwrap();
        assert!(!f.active);
        assert_eq!(f.score, Some(0.0));
        let f = run(&p, Some(&b), 6.0).unwrap();
        assert!(f.active);
        assert_eq!(f.score, Some(f64::INFINITY));
        assert_eq!(
            f.reason,
            "value 6 is above the upper fence 5 (Q1 = Q3 = 5: the baseline IQR is 0, \
             so any other value is outside)"
        );
    }

    #[test]
    fn needs_baseline_and_value() {
        let p = IqrParams::default();
        assert_eq!(run(&p, None, 1.0), Err(NoAnswer::NoBaseline));
        assert!(matches!(
            run(&p, Some(&sample()), f64::NAN),
            Err(NoAnswer::NotEnoughData(_))
        ));
    }

    #[test]
    fn config_defaults_and_shape() {
        let p: IqrParams = serde_yaml::from_str("{}").unwrap();
        assert_eq!(p, IqrParams::default());
        let p: IqrParams = serde_yaml::from_str("{ k: 3 }").unwrap();
        assert_eq!((p.k, p.direction), (3.0, Direction::Either));
        assert!(serde_yaml::from_str::<IqrParams>("{ k: 3, z: 1 }").is_err());
    }
}
