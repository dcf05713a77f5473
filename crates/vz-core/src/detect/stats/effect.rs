//! Effect sizes with their uncertainty: distribution-free confidence bounds on a quantile
//! (order statistics), and the Hodges–Lehmann shift between two samples with its
//! Mann-Whitney confidence interval (Hodges & Lehmann 1963; Moses 1965; Hollander & Wolfe,
//! "Nonparametric Statistical Methods", §4.3 — the effect size Kayenta's Mann-Whitney
//! classifier reports).

use statrs::distribution::{ContinuousCDF, Normal};

/// Confidence of the one-sided quantile bounds used to judge p95/p99 changes.
pub const QUANTILE_CONFIDENCE: f64 = 0.95;

/// Which side a one-sided confidence bound limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The quantile is at least the bound (with the given confidence).
    Lower,
    /// The quantile is at most the bound.
    Upper,
}

/// Distribution-free one-sided confidence bound on the `q`-quantile of the distribution the
/// ascending `sorted` values were drawn from (i.i.d.): the order statistic X₍ᵣ₎ with
/// P(X₍ᵣ₎ ≤ ξ_q) = P(Binomial(n, q) ≥ r) ≥ `confidence` (lower; the upper bound mirrors it).
/// `None` when n values cannot support such a bound (e.g. an upper bound on a p95 from
/// 10 values): the data then prove nothing on that side.
pub fn quantile_bound(sorted: &[f64], q: f64, confidence: f64, side: Side) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // pmf[k] = P(Binomial(n, q) = k), computed in logs for stability.
    let (lq, lp) = (q.ln(), (1.0 - q).ln());
    let mut log_choose = 0.0;
    let mut pmf = Vec::with_capacity(n + 1);
    for k in 0..=n {
        if k > 0 {
            log_choose += ((n - k + 1) as f64).ln() - (k as f64).ln();
        }
        let term = log_choose + k as f64 * lq + (n - k) as f64 * lp;
        pmf.push(if term.is_finite() { term.exp() } else { 0.0 });
    }
    match side {
        Side::Lower => {
            // Largest r ≥ 1 with P(Bin ≥ r) ≥ confidence.
            let mut tail = 0.0;
            for r in (1..=n).rev() {
                tail += pmf[r];
                if tail >= confidence {
                    return Some(sorted[r - 1]);
                }
            }
            None
        }
        Side::Upper => {
            // Smallest s ≤ n with P(Bin ≤ s − 1) ≥ confidence.
            let mut head = 0.0;
            for s in 1..=n {
                head += pmf[s - 1];
                if head >= confidence {
                    return Some(sorted[s - 1]);
                }
            }
            None
        }
    }
}

/// The Hodges–Lehmann shift of `b` against `a` with a two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// Median of all pairwise differences bⱼ − aᵢ.
    pub estimate: f64,
    /// Lower end of the interval (−∞ when the samples are too small for the level).
    pub low: f64,
    /// Upper end of the interval (+∞ likewise).
    pub high: f64,
    /// Confidence of the interval.
    pub confidence: f64,
}

/// Hodges–Lehmann shift of `b_sorted` against `a_sorted` (both ascending, NaN-free), with the
/// distribution-free interval (D₍C₎, D₍nm+1−C₎) of the pairwise differences,
/// C = nm/2 − z·√(nm(n+m+1)/12) rounded (Hollander & Wolfe §4.3). O((n + m) · 64): order
/// statistics of the differences are found by bisection on their value, counting in one
/// merge pass, never listing the n·m differences.
pub fn hodges_lehmann(a_sorted: &[f64], b_sorted: &[f64], confidence: f64) -> Option<Shift> {
    let (m, n) = (a_sorted.len(), b_sorted.len());
    if m == 0 || n == 0 {
        return None;
    }
    let total = n * m;
    let estimate = if total % 2 == 1 {
        kth_difference(a_sorted, b_sorted, total.div_ceil(2))
    } else {
        0.5 * (kth_difference(a_sorted, b_sorted, total / 2)
            + kth_difference(a_sorted, b_sorted, total / 2 + 1))
    };
    let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
    let (nf, mf) = (n as f64, m as f64);
    let c = (nf * mf / 2.0 - z * (nf * mf * (nf + mf + 1.0) / 12.0).sqrt()).round();
    let (low, high) = if c < 1.0 {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        let c = c as usize;
        (
            kth_difference(a_sorted, b_sorted, c),
            kth_difference(a_sorted, b_sorted, total + 1 - c),
        )
    };
    Some(Shift {
        estimate,
        low,
        high,
        confidence,
    })
}

/// Number of pairs with bⱼ − aᵢ ≤ d, in one pass over both sorted samples.
fn count_at_most(a: &[f64], b: &[f64], d: f64) -> usize {
    // For rising bⱼ, the a's with aᵢ ≥ bⱼ − d shrink to a suffix that only moves right.
    let mut i = 0;
    let mut count = 0;
    for &bj in b {
        while i < a.len() && a[i] < bj - d {
            i += 1;
        }
        count += a.len() - i;
    }
    count
}

/// The k-th smallest (1-based) of the differences bⱼ − aᵢ.
fn kth_difference(a: &[f64], b: &[f64], k: usize) -> f64 {
    let (mut lo, mut hi) = (b[0] - a[a.len() - 1], b[b.len() - 1] - a[0]);
    if count_at_most(a, b, lo) >= k {
        return lo;
    }
    // Invariant: count(lo) < k ≤ count(hi).
    for _ in 0..64 {
        let mid = lo + 0.5 * (hi - lo);
        if mid <= lo || mid >= hi {
            break;
        }
        if count_at_most(a, b, mid) >= k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    // Snap to the smallest actual difference above `lo`: the k-th, exactly as bⱼ − aᵢ.
    b.iter()
        .filter_map(|&bj| {
            let below = a.partition_point(|&ai| bj - ai > lo);
            // a[..below] give differences above lo; the largest such a gives the smallest.
            below.checked_sub(1).map(|i| bj - a[i])
        })
        .fold(f64::INFINITY, f64::min)
        .min(b[b.len() - 1] - a[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_bounds_are_order_statistics() {
        let v: Vec<f64> = (1..=30).map(f64::from).collect();
        // P(Bin(30, .95) ≥ 26) = 0.9844, P(≥ 27) = 0.9392 (scipy.stats.binom.sf(25/26, 30, .95)).
        assert_eq!(quantile_bound(&v, 0.95, 0.95, Side::Lower), Some(26.0));
        // An upper bound on a p95 needs more than 30 values: P(Bin(30,.95) ≤ 29) = 0.785.
        assert_eq!(quantile_bound(&v, 0.95, 0.95, Side::Upper), None);
        // Median of 10: P(Bin(10,.5) ≥ 2) = 0.989, P(≥ 3) = 0.945 → X₍₂₎; upper mirrors: X₍₉₎.
        let w: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile_bound(&w, 0.5, 0.95, Side::Lower), Some(2.0));
        assert_eq!(quantile_bound(&w, 0.5, 0.95, Side::Upper), Some(9.0));
        assert_eq!(quantile_bound(&[], 0.5, 0.95, Side::Lower), None);
    }

    #[test]
    fn one_lone_outlier_does_not_move_the_lower_bound_of_a_p95() {
        let mut v: Vec<f64> = (1..=30).map(f64::from).collect();
        let before = quantile_bound(&v, 0.95, 0.95, Side::Lower);
        v[29] = 1000.0;
        assert_eq!(quantile_bound(&v, 0.95, 0.95, Side::Lower), before);
    }

    #[test]
    fn hodges_lehmann_matches_brute_force() {
        let a: Vec<f64> = vec![1.0, 2.0, 4.0, 7.0, 11.0, 16.0];
        let b: Vec<f64> = vec![3.0, 5.5, 9.0, 14.0, 20.0];
        let mut d: Vec<f64> = b
            .iter()
            .flat_map(|y| a.iter().map(move |x| y - x))
            .collect();
        d.sort_by(f64::total_cmp);
        for k in 1..=d.len() {
            assert_eq!(kth_difference(&a, &b, k), d[k - 1], "k {k}");
        }
        let s = hodges_lehmann(&a, &b, 0.95).unwrap();
        // 30 differences: the median is the mean of the 15th and 16th.
        assert_eq!(s.estimate, (d[14] + d[15]) / 2.0);
        // C = round(15 − 1.96·√(30·12/12)) = round(4.265) = 4 → (D₄, D₂₇).
        assert_eq!((s.low, s.high), (d[3], d[26]));
        // Shifting b shifts the estimate and the interval by the same amount.
        let b2: Vec<f64> = b.iter().map(|x| x + 10.0).collect();
        let s2 = hodges_lehmann(&a, &b2, 0.95).unwrap();
        assert!((s2.estimate - s.estimate - 10.0).abs() < 1e-9);
        assert!((s2.low - s.low - 10.0).abs() < 1e-9);
        // Too few values for a 95 % interval: unbounded.
        let t = hodges_lehmann(&[1.0, 2.0], &[3.0], 0.95).unwrap();
        assert_eq!((t.low, t.high), (f64::NEG_INFINITY, f64::INFINITY));
    }
}
