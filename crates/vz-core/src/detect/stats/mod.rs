//! Statistics over slices, and the `Baseline` summary detectors compare against.
//!
//! Quantiles follow numpy's default (`method='linear'`); the Mann-Whitney U test follows
//! `scipy.stats.mannwhitneyu(..., method='asymptotic', use_continuity=True)`, so a number
//! printed by vz-monitor can be checked with two lines of Python. Split by concept:
//! `descriptive` (mean, quantiles, MAD, sorting) and `mann_whitney` (the rank test).

pub mod dependence;
mod descriptive;
pub mod effect;
mod mann_whitney;
pub mod sequential;

pub use descriptive::*;
pub use mann_whitney::{
    mann_whitney_u, mann_whitney_u_both_sorted, mann_whitney_u_sorted, Alternative, MannWhitney,
};

use crate::model::Direction;
use descriptive::{mad_sorted, std_dev_around};
use serde::{Deserialize, Serialize};

/// The pre-deploy distribution of one metric, with the statistics detectors need precomputed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The baseline values, sorted ascending (NaN/Inf removed).
    pub sorted: Vec<f64>,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for fewer than 2 values.
    pub std_dev: f64,
    pub median: f64,
    /// Median absolute deviation from the median, unscaled.
    pub mad: f64,
    pub q1: f64,
    pub q3: f64,
    /// How consecutive baseline ticks depend on each other (from the values in capture
    /// order): what the statistical rules discount their ticks by. Empty for a baseline
    /// stored before it was kept.
    #[serde(default)]
    pub lag1: dependence::Lag1,
}

impl Baseline {
    /// Summarises `values`, dropping NaN and ±Inf; `None` when no finite value is left.
    pub fn from_values(values: &[f64]) -> Option<Baseline> {
        let mut sorted = finite_values(values);
        if sorted.is_empty() {
            return None;
        }
        sort_values(&mut sorted);
        let mean = mean(&sorted);
        let std_dev = std_dev_around(&sorted, mean);
        let median = quantile_sorted(&sorted, 0.5);
        let mad = mad_sorted(&sorted, median);
        let q1 = quantile_sorted(&sorted, 0.25);
        let q3 = quantile_sorted(&sorted, 0.75);
        let lag1 = dependence::Lag1::of(values);
        Some(Baseline {
            sorted,
            mean,
            std_dev,
            median,
            mad,
            q1,
            q3,
            lag1,
        })
    }

    /// The `p`-quantile (0 ≤ p ≤ 1) of the baseline values, numpy 'linear' interpolation.
    pub fn quantile(&self, p: f64) -> f64 {
        quantile_sorted(&self.sorted, p)
    }

    /// The named statistic of the baseline values.
    pub fn stat(&self, s: Stat) -> f64 {
        match s {
            Stat::Mean => self.mean,
            Stat::P50 => self.median,
            Stat::P95 => self.quantile(0.95),
            Stat::P99 => self.quantile(0.99),
        }
    }

    /// Number of baseline values.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether the baseline holds no value (possible only for a hand-built or deserialized one).
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// A summary statistic of a distribution, as named in config (`stat: p95`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    Mean,
    P50,
    P95,
    P99,
}

impl Stat {
    /// The config and report name (`mean`, `p50`, `p95`, `p99`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::P50 => "p50",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
        }
    }

    /// The quantile this statistic stands for, `None` for the mean.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::Mean => None,
            Stat::P50 => Some(0.5),
            Stat::P95 => Some(0.95),
            Stat::P99 => Some(0.99),
        }
    }

    /// This statistic of values sorted ascending (NaN for an empty slice).
    pub fn of_sorted(self, sorted: &[f64]) -> f64 {
        match self.quantile() {
            None => mean(sorted),
            Some(p) => quantile_sorted(sorted, p),
        }
    }
}

/// Formats a p-value for a sentence: `0.0004`, `3.2e-12`, `1`.
pub fn fmt_p(p: f64) -> String {
    if p > 0.0 && p < 1e-4 {
        format!("{p:.1e}")
    } else {
        crate::model::fmt_num(p)
    }
}

/// `a` and `b` as a comparison writes them (`p=… < …`): as `fa` and `fb` write each, unless
/// that writes two different numbers the same; then both at the fewest significant digits
/// that tell them apart, so a reason never reads `p=0.0017 < 0.0017` (issue 25.6).
pub fn fmt_apart(a: f64, b: f64, fa: fn(f64) -> String, fb: fn(f64) -> String) -> (String, String) {
    let (sa, sb) = (fa(a), fb(b));
    if sa != sb || a == b || !(a.is_finite() && b.is_finite()) {
        return (sa, sb);
    }
    (3..=17)
        .map(|n| (fmt_sig(a, n), fmt_sig(b, n)))
        .find(|(x, y)| x != y)
        .unwrap_or((sa, sb))
}

/// `x` to `n` significant digits: plain decimals from 1e-4 up to 1e6, else `1.23e-7`.
pub fn fmt_sig(x: f64, n: usize) -> String {
    let n = n.max(1);
    if x == 0.0 || !x.is_finite() {
        return crate::model::fmt_num(x);
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        return format!("{:.*e}", n - 1, x);
    }
    let decimals = (n as i32 - 1 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Why a change in the wrong direction does not count, for reasons.
pub fn watched_only(direction: Direction) -> &'static str {
    match direction {
        Direction::Increase => "only increases are watched",
        Direction::Decrease => "only decreases are watched",
        Direction::Either => "there is no change",
    }
}

/// `above`, `below` or `at`, by the sign of a difference.
pub fn side(delta: f64) -> &'static str {
    if delta > 0.0 {
        "above"
    } else if delta < 0.0 {
        "below"
    } else {
        "at"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    macro_rules! assert_close {
        ($a:expr, $b:expr) => {
            assert_close!($a, $b, 1e-12)
        };
        ($a:expr, $b:expr, $tol:expr) => {{
            let (a, b) = ($a, $b);
            assert!(close(a, b, $tol), "{} = {a}, expected {b}", stringify!($a));
        }};
    }

    // x and its numpy summaries:
    // np.quantile(x, p), np.mean(x), np.std(x, ddof=1), np.median(x),
    // np.median(np.abs(x - np.median(x))) with numpy 2.4.
    const X: [f64; 7] = [1.0, 2.5, 3.0, 4.0, 7.0, 10.0, 2.0];
    const X_QUANTILES: [(f64, f64); 9] = [
        (0.0, 1.0),
        (0.1, 1.6),
        (0.25, 2.25),
        (0.5, 3.0),
        (0.75, 5.5),
        (0.9, 8.200000000000001),
        (0.95, 9.099999999999998),
        (0.99, 9.819999999999999),
        (1.0, 10.0),
    ];

    #[test]
    fn baseline_summary_matches_numpy() {
        let b = Baseline::from_values(&X).unwrap();
        assert_eq!(b.sorted, vec![1.0, 2.0, 2.5, 3.0, 4.0, 7.0, 10.0]);
        assert_close!(b.mean, 4.214285714285714);
        assert_close!(b.std_dev, 3.186653715853341);
        assert_close!(b.median, 3.0);
        assert_close!(b.mad, 1.0);
        assert_close!(b.q1, 2.25);
        assert_close!(b.q3, 5.5);
        assert_eq!(b.len(), 7);
        assert!(!b.is_empty());
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        let b = Baseline::from_values(&X).unwrap();
        for (p, want) in X_QUANTILES {
            assert_close!(b.quantile(p), want);
            assert_close!(quantile_sorted(&b.sorted, p), want);
            let mut v = X.to_vec();
            assert_close!(quantile_unsorted(&mut v, p), want);
        }
        // np.quantile([1, 2, 3, 4], 0.25) = 1.75; clamped p outside [0, 1].
        assert_close!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
        assert_close!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], -1.0), 1.0);
        assert_close!(quantile_unsorted(&mut [4.0, 3.0, 2.0, 1.0], 7.0), 4.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert!(quantile_unsorted(&mut [], 0.5).is_nan());
        assert!(quantile_sorted(&[1.0], f64::NAN).is_nan());
        assert_eq!(quantile_sorted(&[42.0], 0.99), 42.0);
        assert_eq!(quantile_unsorted(&mut [42.0], 0.99), 42.0);
    }

    #[test]
    fn stat_names_and_values() {
        let b = Baseline::from_values(&X).unwrap();
        assert_close!(b.stat(Stat::Mean), 4.214285714285714);
        assert_close!(b.stat(Stat::P50), 3.0);
        assert_close!(b.stat(Stat::P95), 9.099999999999998);
        assert_close!(b.stat(Stat::P99), 9.819999999999999);
        assert_close!(Stat::P95.of_sorted(&b.sorted), 9.099999999999998);
        assert_close!(Stat::Mean.of_sorted(&b.sorted), 4.214285714285714);
        for (s, name) in [
            (Stat::Mean, "mean"),
            (Stat::P50, "p50"),
            (Stat::P95, "p95"),
            (Stat::P99, "p99"),
        ] {
            assert_eq!(s.as_str(), name);
            let parsed: Stat = serde_yaml::from_str(name).unwrap();
            assert_eq!(parsed, s);
        }
        assert!(serde_yaml::from_str::<Stat>("p90").is_err());
    }

    #[test]
    fn non_finite_values_are_dropped() {
        let b =
            Baseline::from_values(&[f64::NAN, 3.0, f64::INFINITY, 1.0, f64::NEG_INFINITY]).unwrap();
        assert_eq!(b.sorted, vec![1.0, 3.0]);
        assert_eq!(b.mean, 2.0);
        assert!(Baseline::from_values(&[]).is_none());
        assert!(Baseline::from_values(&[f64::NAN, f64::INFINITY]).is_none());
        let (m, mad) = median_mad(&[f64::NAN, 1.0, 2.0, 10.0]);
        assert_eq!((m, mad), (2.0, 1.0));
        let (m, mad) = median_mad(&[f64::NAN]);
        assert!(m.is_nan() && mad.is_nan());
    }

    #[test]
    fn single_and_constant_baselines() {
        let one = Baseline::from_values(&[5.0]).unwrap();
        assert_eq!(
            (one.mean, one.std_dev, one.median, one.mad),
            (5.0, 0.0, 5.0, 0.0)
        );
        assert_eq!((one.q1, one.q3), (5.0, 5.0));
        let flat = Baseline::from_values(&[2.0; 10]).unwrap();
        assert_eq!((flat.std_dev, flat.mad, flat.q3 - flat.q1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn mad_of_sorted_matches_selection() {
        let mut x = 88172645463325252u64;
        for n in (1usize..=40).chain([100, 101, 1000, 1001]) {
            for skewed_ties in [true, false] {
                let v: Vec<f64> = (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        if skewed_ties {
                            (x % 50) as f64 * if x % 7 == 3 { 10.0 } else { 1.0 }
                        } else {
                            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.3
                        }
                    })
                    .collect();
                let (median, mad) = median_mad(&v); // selection on |x − median|
                let b = Baseline::from_values(&v).unwrap(); // bisection on the sorted values
                assert_eq!((b.median, b.mad), (median, mad), "n = {n}");
            }
        }
    }

    #[test]
    fn mean_and_std_dev() {
        assert!(mean(&[]).is_nan());
        assert_eq!(std_dev(&[]), 0.0);
        assert_eq!(std_dev(&[3.0]), 0.0);
        // Hand: mean 5, squared deviations 9+1+1+9 = 20, /3 → sqrt(6.6667).
        assert_eq!(mean(&[2.0, 4.0, 6.0, 8.0]), 5.0);
        assert_close!(std_dev(&[2.0, 4.0, 6.0, 8.0]), (20.0f64 / 3.0).sqrt());
    }

    #[test]
    fn p_values_print_readably() {
        assert_eq!(fmt_p(0.0004), "0.0004");
        assert_eq!(fmt_p(3.2e-12), "3.2e-12");
        assert_eq!(fmt_p(1.0), "1");
        assert_eq!(fmt_p(0.0), "0");
    }

    #[test]
    fn a_comparison_never_writes_two_different_numbers_the_same() {
        // Issue 25.6: a reason read `p=0.0017 < 0.0017`.
        assert_eq!(fmt_p(0.001683), fmt_p(0.001712), "the defect, as it was");
        assert_eq!(
            fmt_apart(0.001683, 0.001712, fmt_p, fmt_p),
            ("0.00168".to_string(), "0.00171".to_string())
        );
        assert_eq!(
            fmt_apart(0.0016831, 0.0016839, fmt_p, fmt_p),
            ("0.001683".to_string(), "0.001684".to_string())
        );
        // Numbers that read differently already, or are equal, stay as they were.
        assert_eq!(
            fmt_apart(0.02, 0.01, fmt_p, fmt_p),
            ("0.02".to_string(), "0.01".to_string())
        );
        assert_eq!(
            fmt_apart(0.01, 0.01, fmt_p, fmt_p),
            ("0.01".to_string(), "0.01".to_string())
        );
        assert_eq!(
            fmt_apart(3.21e-7, 3.24e-7, fmt_p, fmt_p),
            ("3.21e-7".to_string(), "3.24e-7".to_string())
        );
    }
}
