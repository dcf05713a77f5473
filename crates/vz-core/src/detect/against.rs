//! What the `baseline` detector compares the watched window with: the pre-deploy baseline,
//! or the metric's control (the stable version measured over the same ticks), so that a
//! traffic surge hitting canary and control alike is not a regression.

use super::stats::dependence::Lag1;
use super::stats::effect::{quantile_bound, Side};
use super::stats::{finite_values, mean, sort_values, std_dev, Baseline, Stat};
use super::{require_baseline, Input, NoAnswer};
use crate::model::{fmt_num, Expected};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};
use std::borrow::Cow;

/// `against:` of the `baseline` detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    /// The pre-deploy baseline (`vz-monitor baseline`, `analyze --baseline`).
    #[default]
    Baseline,
    /// The metric's `control:` series over the same ticks.
    Control,
}

impl Against {
    /// The config word, also used in reasons (`above control 12`).
    pub fn as_str(self) -> &'static str {
        match self {
            Against::Baseline => "baseline",
            Against::Control => "control",
        }
    }
}

/// The values one look compares the window with, sorted ascending.
pub(super) struct Reference<'a> {
    pub against: Against,
    pub sorted: Cow<'a, [f64]>,
    baseline: Option<&'a Baseline>,
}

impl<'a> Reference<'a> {
    /// The reference of one look; a control needs `needed` values, as the window does.
    pub fn of(against: Against, input: &Input<'a>, needed: usize) -> Result<Self, NoAnswer> {
        match against {
            Against::Baseline => {
                let b = require_baseline(input)?;
                Ok(Reference {
                    against,
                    sorted: Cow::Borrowed(&b.sorted),
                    baseline: Some(b),
                })
            }
            Against::Control => {
                let mut values = input
                    .control
                    .map(|w| finite_values(w.values))
                    .unwrap_or_default();
                if values.len() < needed {
                    return Err(NoAnswer::NotEnoughData(format!(
                        "{needed} control values needed, {} so far",
                        values.len()
                    )));
                }
                sort_values(&mut values);
                Ok(Reference {
                    against,
                    sorted: Cow::Owned(values),
                    baseline: None,
                })
            }
        }
    }

    /// The reference's value of `stat` (the baseline's precomputed one, as before controls).
    pub fn stat(&self, stat: Stat) -> f64 {
        match self.baseline {
            Some(b) => b.stat(stat),
            None => stat.of_sorted(&self.sorted),
        }
    }

    /// The dependence sums of what this look compares with: the baseline's ticks, or the
    /// control's ticks so far plus the baseline's when there is one.
    pub fn lag1(&self, input: &Input) -> Lag1 {
        match self.against {
            Against::Baseline => self.baseline.map(|b| b.lag1).unwrap_or_default(),
            Against::Control => {
                let control = input
                    .control
                    .map(|w| Lag1::of(w.values))
                    .unwrap_or_default();
                input.baseline.map_or(control, |b| control.plus(b.lag1))
            }
        }
    }

    /// Whether the reference grows with the window (a control), for the look boundary.
    pub fn grows(&self) -> bool {
        self.against == Against::Control
    }

    /// What normal was, for reports: the baseline's value, or the control's with its interval.
    pub fn expected(&self, stat: Stat, value: f64) -> Expected {
        match self.against {
            Against::Baseline => Expected::Value { value },
            Against::Control => {
                let (low, high) = interval(stat, &self.sorted);
                Expected::Control { value, low, high }
            }
        }
    }

    /// `; control p95 12 (95% CI 10 to 14) over 20 ticks` — empty against a baseline.
    pub fn describe(&self, stat: Stat, value: f64) -> String {
        if self.against == Against::Baseline {
            return String::new();
        }
        let (low, high) = interval(stat, &self.sorted);
        let ci = match (low, high) {
            (Some(l), Some(h)) => format!("95% CI {} to {}", fmt_num(l), fmt_num(h)),
            _ => format!("no 95% CI from {} values", self.sorted.len()),
        };
        format!(
            "; control {} {} ({ci}) over {} values of the same ticks",
            stat.as_str(),
            fmt_num(value),
            self.sorted.len()
        )
    }
}

/// Two-sided 95 % interval of `stat` from ascending values: for a quantile the
/// distribution-free order-statistic bounds at 97.5 % each side ([`quantile_bound`]); for
/// the mean the normal approximation mean ± 1.96·s/√n. `None` on a side the values cannot
/// bound (too few of them).
pub fn interval(stat: Stat, sorted: &[f64]) -> (Option<f64>, Option<f64>) {
    match stat.quantile() {
        Some(q) => (
            quantile_bound(sorted, q, 0.975, Side::Lower),
            quantile_bound(sorted, q, 0.975, Side::Upper),
        ),
        None if sorted.len() >= 2 => {
            let z = Normal::standard().inverse_cdf(0.975);
            let half = z * std_dev(sorted) / (sorted.len() as f64).sqrt();
            let m = mean(sorted);
            (Some(m - half), Some(m + half))
        }
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_of_a_mean_and_a_median() {
        // 1..=20: mean 10.5, s = 5.9161; 1.959964 · 5.9161 / √20 = 2.5928.
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        let (l, h) = interval(Stat::Mean, &v);
        assert!((l.unwrap() - 7.9072).abs() < 1e-3 && (h.unwrap() - 13.0928).abs() < 1e-3);
        // Median of 20: P(Bin(20, .5) ≥ 6) = 0.9793 ≥ 0.975, P(≥ 7) = 0.9423: X₍₆₎ = 6;
        // the upper bound mirrors it, X₍₁₅₎ = 15.
        assert_eq!(interval(Stat::P50, &v), (Some(6.0), Some(15.0)));
        // A p99 of 20 values has no upper bound.
        assert_eq!(interval(Stat::P99, &v).1, None);
        assert_eq!(interval(Stat::Mean, &[3.0]), (None, None));
    }
}
