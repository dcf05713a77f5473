//! Descriptive statistics over slices, and the `Baseline` summary detectors compare against.
//!
//! Quantiles follow numpy's default (`method='linear'`); the Mann-Whitney U test follows
//! `scipy.stats.mannwhitneyu(..., method='asymptotic', use_continuity=True)`, so a number
//! printed by vz-monitor can be checked with two lines of Python.

use crate::model::Direction;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

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
        Some(Baseline {
            sorted,
            mean,
            std_dev,
            median,
            mad,
            q1,
            q3,
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

/// Arithmetic mean; NaN for an empty slice (as numpy).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (n − 1, two-pass); 0 for fewer than 2 values.
pub fn std_dev(values: &[f64]) -> f64 {
    std_dev_around(values, mean(values))
}

fn std_dev_around(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (ss / (values.len() - 1) as f64).sqrt()
}

/// The `p`-quantile of values sorted ascending, numpy's default 'linear' method
/// (`np.quantile(x, p)`). `p` is clamped to [0, 1]; NaN for an empty slice or a NaN `p`.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || p.is_nan() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    lerp(sorted[lo], sorted[hi], h - lo as f64)
}

/// numpy's `_lerp`: interpolates from the nearer end, so `t = 1` gives exactly `b`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The `p`-quantile of unsorted values in O(n) (selection, not sorting), numpy 'linear'
/// method. Reorders `values`; the caller drops NaN first (NaN sorts last here).
pub fn quantile_unsorted(values: &mut [f64], p: f64) -> f64 {
    let n = values.len();
    if n == 0 || p.is_nan() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(n - 1);
    let (_, &mut a, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let t = h - lo as f64;
    if t == 0.0 || above.is_empty() {
        return a;
    }
    // The next order statistic is the smallest value of the upper partition.
    let b = above.iter().copied().fold(f64::INFINITY, f64::min);
    lerp(a, b, t)
}

/// Median and unscaled median absolute deviation of the finite values (NaN, NaN when none).
pub fn median_mad(values: &[f64]) -> (f64, f64) {
    let mut v = finite_values(values);
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let median = quantile_unsorted(&mut v, 0.5);
    (median, mad_around(&v, median))
}

/// MAD of sorted values without allocating, in O(log n): the deviations below the median
/// (walking down from it) and above it (walking up) are two ascending runs, and the
/// middle of two sorted runs is found by bisection.
fn mad_sorted(sorted: &[f64], median: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let split = sorted.partition_point(|&x| x <= median);
    let below = |t: usize| median - sorted[split - 1 - t]; // ascending in t, t < split
    let above = |t: usize| sorted[split + t] - median; // ascending in t, t < n − split
    let (n_below, n_above) = (split, n - split);
    let h = (n - 1) as f64 * 0.5;
    let k = h.floor() as usize;
    // The k + 1 smallest deviations are the c smallest below and the k + 1 − c smallest
    // above, for the least c whose next "below" is not smaller than the last "above" taken.
    let settled = |c: usize| {
        let r = k + 1 - c;
        r == 0 || c == n_below || above(r - 1) <= below(c)
    };
    let (mut lo, mut hi) = ((k + 1).saturating_sub(n_above), (k + 1).min(n_below));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if settled(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let (c, r) = (lo, k + 1 - lo);
    let kth = match (c > 0, r > 0) {
        (true, true) => below(c - 1).max(above(r - 1)),
        (true, false) => below(c - 1),
        _ => above(r - 1),
    };
    let t = h - k as f64;
    if t == 0.0 {
        return kth;
    }
    let next = match (c < n_below, r < n_above) {
        (true, true) => below(c).min(above(r)),
        (true, false) => below(c),
        _ => above(r),
    };
    lerp(kth, next, t)
}

fn mad_around(values: &[f64], median: f64) -> f64 {
    let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    quantile_unsorted(&mut dev, 0.5)
}

/// The finite values of `values`, in order.
pub fn finite_values(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// Sorts ascending in IEEE total order (`f64::total_cmp`: −0.0 just before +0.0, which
/// compare equal anyway).
///
/// The values are first turned, in place, into integers with the same order (their bits,
/// sign-flipped), sorted as integers and turned back: about twice as fast as
/// `sort_unstable_by(f64::total_cmp)` at a million values, with no allocation.
pub fn sort_values(values: &mut [f64]) {
    // The keys are stored as raw bits in the f64 slots; `from_bits`/`to_bits` are plain
    // bit copies, so even keys that look like NaN come back unchanged.
    for v in values.iter_mut() {
        *v = f64::from_bits(order_key(*v));
    }
    values.sort_unstable_by_key(|v| v.to_bits());
    for v in values.iter_mut() {
        *v = from_order_key(v.to_bits());
    }
}

/// Maps a float to an integer with the same order as `f64::total_cmp`.
fn order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

/// Inverse of [`order_key`].
fn from_order_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Which way the second sample is tested to differ from the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// `b` is stochastically greater than `a`.
    Greater,
    /// `b` is stochastically less than `a`.
    Less,
    /// `b` and `a` differ in either direction.
    TwoSided,
}

/// Result of a Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of sample `b`: the number of pairs (aᵢ, bⱼ) with bⱼ > aᵢ, ties counting ½
    /// (scipy's `statistic` for `mannwhitneyu(b, a)`).
    pub u: f64,
    /// Asymptotic p-value (normal approximation, tie and continuity corrections).
    pub p_value: f64,
}

/// Mann-Whitney U test of `b` against `a`, identical to
/// `scipy.stats.mannwhitneyu(b, a, alternative=..., method='asymptotic', use_continuity=True)`.
///
/// NaN values are ignored. With an empty sample the p-value is NaN (as scipy); when every
/// value is tied there is no evidence of a shift and the p-value is 1. O((n + m) log(n + m)).
pub fn mann_whitney_u(a: &[f64], b: &[f64], alternative: Alternative) -> MannWhitney {
    // Sorted as integer keys in `total_cmp` order, merged as such: integer compares, no
    // converting back. Adding 0.0 turns -0.0 into 0.0 (and changes nothing else), so equal
    // values have equal keys and tie as they do in the float merge.
    let key = |x: &f64| order_key(x + 0.0);
    SCRATCH_KEYS.with_borrow_mut(|keys| {
        keys.clear();
        keys.extend(a.iter().filter(|x| !x.is_nan()).map(key));
        let n1 = keys.len();
        keys.extend(b.iter().filter(|x| !x.is_nan()).map(key));
        let (a, b) = keys.split_at_mut(n1);
        a.sort_unstable();
        b.sort_unstable();
        let result = test_sorted(a, b, alternative);
        if keys.capacity() > SCRATCH_KEEP {
            *keys = Vec::new();
        }
        result
    })
}

thread_local! {
    /// The keys of [`mann_whitney_u`]'s two samples, kept between calls: allocating them
    /// afresh each time cost page faults (the allocator gives the memory back on free), a
    /// third of the time of a test on 10,000 values each.
    static SCRATCH_KEYS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Largest scratch (in keys) kept for the next [`mann_whitney_u`]: 16 MiB.
const SCRATCH_KEEP: usize = 1 << 21;

/// As [`mann_whitney_u`], with `a` already sorted ascending and NaN-free (a `Baseline`'s
/// `sorted`), so only `b` is sorted.
pub fn mann_whitney_u_sorted(a_sorted: &[f64], b: &[f64], alternative: Alternative) -> MannWhitney {
    let mut b_sorted: Vec<f64> = b.iter().copied().filter(|v| !v.is_nan()).collect();
    sort_values(&mut b_sorted);
    mann_whitney_u_both_sorted(a_sorted, &b_sorted, alternative)
}

/// As [`mann_whitney_u`], with both samples already sorted ascending and NaN-free: O(n + m).
pub fn mann_whitney_u_both_sorted(
    a_sorted: &[f64],
    b_sorted: &[f64],
    alternative: Alternative,
) -> MannWhitney {
    test_sorted(a_sorted, b_sorted, alternative)
}

/// The test on two samples sorted ascending and NaN-free (floats, or their integer keys).
fn test_sorted<T: PartialOrd + Copy>(a: &[T], b: &[T], alternative: Alternative) -> MannWhitney {
    if a.is_empty() || b.is_empty() {
        return MannWhitney {
            u: 0.0,
            p_value: f64::NAN,
        };
    }
    sorted_counts(a, b).test(alternative)
}

/// [`PairCounts`] of two samples sorted ascending and NaN-free, by merging them.
fn sorted_counts<T: PartialOrd + Copy>(a_sorted: &[T], b_sorted: &[T]) -> PairCounts {
    let (n1, n2) = (a_sorted.len(), b_sorted.len());
    // Merge the two sorted samples, in SEGMENTS independent pieces cut at quantiles of b, so
    // the pieces' dependent loads overlap; a value's ties all land in one piece.
    let mut pieces = [Merge::default(); SEGMENTS];
    let (mut i, mut j) = (0, 0);
    for (k, piece) in pieces.iter_mut().enumerate() {
        let (i_end, j_end) = if k + 1 == SEGMENTS {
            (n1, n2)
        } else {
            let cut = b_sorted[n2 * (k + 1) / SEGMENTS];
            (
                a_sorted.partition_point(|x| *x < cut),
                b_sorted.partition_point(|x| *x < cut),
            )
        };
        *piece = Merge {
            i,
            i_end,
            j,
            j_end,
            ..Merge::default()
        };
        (i, j) = (i_end, j_end);
    }
    // In lockstep while every piece has both sides left (locals, so they live in registers),
    // then each piece to its end.
    let [mut p0, mut p1, mut p2, mut p3] = pieces;
    while p0.open() && p1.open() && p2.open() && p3.open() {
        p0.step(a_sorted, b_sorted);
        p1.step(a_sorted, b_sorted);
        p2.step(a_sorted, b_sorted);
        p3.step(a_sorted, b_sorted);
    }
    let pieces = [p0, p1, p2, p3].map(|mut p| {
        while p.step(a_sorted, b_sorted) {}
        p
    });
    let (mut twice_u, mut cross_ties) = (0u64, 0u128);
    for piece in &pieces {
        // The b's left in a piece are above each of its a's and every a before it.
        twice_u += piece.twice_u + ((piece.j_end - piece.j) * 2 * piece.i_end) as u64;
        cross_ties += piece.cross_ties;
    }
    PairCounts {
        n1,
        n2,
        twice_u,
        tie_term: run_ties(a_sorted) + run_ties(b_sorted) + cross_ties,
    }
}

/// What the Mann-Whitney test needs of two samples, however it was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PairCounts {
    n1: usize,
    n2: usize,
    /// 2U of `b`: twice the pairs with b above a, plus the tied pairs.
    twice_u: u64,
    /// Σ (t³ − t) over groups of equal values in both samples together.
    tie_term: u128,
}

impl PairCounts {
    fn test(self, alternative: Alternative) -> MannWhitney {
        let u_b = self.twice_u as f64 / 2.0;
        let (n1f, n2f) = (self.n1 as f64, self.n2 as f64);
        let nn = n1f * n2f;
        let (u, factor) = match alternative {
            Alternative::Greater => (u_b, 1.0),
            Alternative::Less => (nn - u_b, 1.0),
            Alternative::TwoSided => (u_b.max(nn - u_b), 2.0),
        };
        let n = n1f + n2f;
        let variance = nn / 12.0 * ((n + 1.0) - self.tie_term as f64 / (n * (n - 1.0)));
        let p_value = if variance <= 0.0 || !variance.is_finite() {
            1.0
        } else {
            let z = (u - nn / 2.0 - 0.5) / variance.sqrt();
            (Normal::standard().sf(z) * factor).clamp(0.0, 1.0)
        };
        MannWhitney { u: u_b, p_value }
    }
}

/// Pieces the Mann-Whitney merge is cut into.
const SEGMENTS: usize = 4;

/// One piece of the Mann-Whitney merge: `a[i..i_end]` against `b[j..j_end]`.
#[derive(Debug, Clone, Copy, Default)]
struct Merge {
    i: usize,
    i_end: usize,
    j: usize,
    j_end: usize,
    /// 2U so far: a b below the next a beats the `i` a's before it (ties count half).
    twice_u: u64,
    /// For values in both samples, 3·ca·cb·(ca + cb) of the tie term Σ(t³ − t).
    cross_ties: u128,
}

impl Merge {
    /// Both sides have values left.
    #[inline(always)]
    fn open(&self) -> bool {
        self.i < self.i_end && self.j < self.j_end
    }

    /// Takes the smaller of the two next values (a run of equal values at once); false when
    /// one side is used up. The usual step is branch-free (random data would mispredict half
    /// the time); equal values, rare in measurements, take the slow path.
    #[inline(always)]
    fn step<T: PartialOrd + Copy>(&mut self, a: &[T], b: &[T]) -> bool {
        if !self.open() {
            return false;
        }
        let (x, y) = (a[self.i], b[self.j]);
        let a_first = usize::from(x < y);
        let b_first = usize::from(y < x);
        if a_first | b_first == 0 {
            if x != y {
                self.i = self.i_end; // NaN: not allowed here; stop rather than loop forever
                return false;
            }
            let a_below = self.i;
            while self.i < self.i_end && a[self.i] == x {
                self.i += 1;
            }
            let j0 = self.j;
            while self.j < self.j_end && b[self.j] == x {
                self.j += 1;
            }
            let (ca, cb) = ((self.i - a_below) as u128, (self.j - j0) as u128);
            self.twice_u += (cb * (2 * a_below as u128 + ca)) as u64;
            self.cross_ties += 3 * ca * cb * (ca + cb);
            return true;
        }
        self.twice_u += (b_first * 2 * self.i) as u64;
        self.i += a_first;
        self.j += b_first;
        true
    }
}

/// Σ (t³ − t) over runs of equal values in a sorted slice, built up incrementally: growing
/// a run from L to L + 1 values adds 3·L·(L + 1).
fn run_ties<T: PartialEq>(sorted: &[T]) -> u128 {
    let mut total: u128 = 0;
    let mut len_before: u64 = 0;
    for w in sorted.windows(2) {
        len_before = (len_before + 1) * u64::from(w[0] == w[1]);
        total += u128::from(3 * len_before * (len_before + 1));
    }
    total
}

/// Formats a p-value for a sentence: `0.0004`, `3.2e-12`, `1`.
pub fn fmt_p(p: f64) -> String {
    if p > 0.0 && p < 1e-4 {
        format!("{p:.1e}")
    } else {
        crate::model::fmt_num(p)
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

    // Reference: scipy 1.17.1,
    //   r = stats.mannwhitneyu(b, a, alternative=alt, method='asymptotic', use_continuity=True)
    //   (r.statistic, r.pvalue)
    fn check_mwu(a: &[f64], b: &[f64], u: f64, greater: f64, less: f64, two_sided: f64) {
        for (alt, want) in [
            (Alternative::Greater, greater),
            (Alternative::Less, less),
            (Alternative::TwoSided, two_sided),
        ] {
            let r = mann_whitney_u(a, b, alt);
            assert_close!(r.u, u);
            assert_close!(r.p_value, want, 1e-9);
            let mut a_sorted: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
            sort_values(&mut a_sorted);
            assert_eq!(mann_whitney_u_sorted(&a_sorted, b, alt), r);
        }
    }

    #[test]
    fn mwu_separated_samples() {
        check_mwu(
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[6.0, 7.0, 8.0, 9.0, 10.0],
            25.0,
            0.006092890177672406,
            0.9966923245172357,
            0.012185780355344813,
        );
    }

    #[test]
    fn mwu_with_ties() {
        check_mwu(
            &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0],
            &[2.0, 3.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0],
            45.5,
            0.02196840161231566,
            0.983546026375922,
            0.04393680322463132,
        );
    }

    #[test]
    fn mwu_generated_samples() {
        // a = [(i*37 % 101)/10 for i in range(200)], b = [(i*53 % 97)/10 + 0.5 for i in range(150)]
        let a: Vec<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..150)
            .map(|i| ((i * 53) % 97) as f64 / 10.0 + 0.5)
            .collect();
        check_mwu(
            &a,
            &b,
            15627.5,
            0.2516302598123735,
            0.7487100376996483,
            0.503260519624747,
        );
    }

    #[test]
    fn mwu_degenerate_samples() {
        // All values tied: scipy's z is -inf, p = 1 (two-sided clipped to 1).
        check_mwu(&[5.0, 5.0, 5.0], &[5.0, 5.0], 3.0, 1.0, 1.0, 1.0);
        // Identical samples.
        let s = [10.0, 12.0, 11.0, 13.0, 12.0, 11.0, 10.0, 12.0];
        check_mwu(&s, &s, 32.0, 0.5218575235680845, 0.5218575235680845, 1.0);
        // One value each.
        check_mwu(&[3.0], &[1.0], 0.0, 0.9772498680518208, 0.5, 1.0);
        // -0.0 and +0.0 are the same value: a tie.
        check_mwu(&[-0.0, 1.0], &[0.0, 2.0], 2.5, 0.5, 0.7928919108787373, 1.0);
        // Empty sample: NaN like scipy; NaN values are ignored.
        assert!(mann_whitney_u(&[], &[1.0], Alternative::Greater)
            .p_value
            .is_nan());
        assert!(mann_whitney_u(&[1.0], &[f64::NAN], Alternative::Less)
            .p_value
            .is_nan());
        check_mwu(
            &[1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0],
            &[6.0, 7.0, 8.0, f64::NAN, 9.0, 10.0],
            25.0,
            0.006092890177672406,
            0.9966923245172357,
            0.012185780355344813,
        );
    }

    /// Textbook U and tie term: every pair, every group (O(n·m)).
    fn brute_force(a: &[f64], b: &[f64]) -> (f64, f64) {
        let mut twice_u = 0.0;
        for &y in b {
            for &x in a {
                twice_u += if y > x {
                    2.0
                } else if y == x {
                    1.0
                } else {
                    0.0
                };
            }
        }
        let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
        all.sort_unstable_by(f64::total_cmp);
        let mut ties = 0.0;
        for group in all.chunk_by(|p, q| p == q) {
            let t = group.len() as f64;
            ties += t * t * t - t;
        }
        (twice_u / 2.0, ties)
    }

    #[test]
    fn mwu_merge_matches_brute_force() {
        let mut x = 0x1234_5678_9ABC_DEF1u64;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..200 {
            let (n1, n2) = (1 + next(40) as usize, 1 + next(40) as usize);
            let distinct = [2, 5, 20, 1000][case % 4];
            let a: Vec<f64> = (0..n1).map(|_| next(distinct) as f64 - 1.0).collect();
            let b: Vec<f64> = (0..n2).map(|_| next(distinct) as f64).collect();
            let (u, ties) = brute_force(&a, &b);
            let r = mann_whitney_u(&a, &b, Alternative::TwoSided);
            assert_eq!(r.u, u, "case {case}");
            // p from the brute-force U and tie term, with scipy's formula.
            let (n1, n2) = (n1 as f64, n2 as f64);
            let n = n1 + n2;
            let var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
            let big = u.max(n1 * n2 - u);
            let p = if var > 0.0 {
                (2.0 * Normal::standard().sf((big - n1 * n2 / 2.0 - 0.5) / var.sqrt())).min(1.0)
            } else {
                1.0
            };
            assert_close!(r.p_value, p, 1e-12);
        }
    }

    #[test]
    fn mwu_large_samples_are_fast_and_sane() {
        let a: Vec<f64> = (0..10_000).map(|i| ((i * 7919) % 10_007) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 500.0).collect();
        let r = mann_whitney_u(&a, &b, Alternative::Greater);
        assert!(r.p_value < 1e-10, "{r:?}");
        let r = mann_whitney_u(&a, &b, Alternative::Less);
        assert!(r.p_value > 0.99, "{r:?}");
    }

    #[test]
    fn sort_values_matches_total_cmp() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Random bit patterns (every sign, exponent, subnormal), plus specials and repeats.
        let mut v: Vec<f64> = (0..20_000)
            .map(|i| match i % 4 {
                0 => f64::from_bits(next()),
                1 => (next() % 1000) as f64 - 500.0,
                2 => (next() >> 11) as f64 / (1u64 << 53) as f64 * 1e6,
                // −0.0 and negative subnormals have NaN-patterned keys: they must survive.
                _ => [
                    0.0,
                    -0.0,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::MIN_POSITIVE,
                    -5e-324,
                    -1e-310,
                    f64::MAX,
                    f64::MIN,
                ][i % 9],
            })
            .filter(|v| !v.is_nan())
            .collect();
        let mut want = v.clone();
        want.sort_unstable_by(f64::total_cmp);
        sort_values(&mut v);
        assert!(v.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
        // Narrow ranges and reversed input.
        for step in [1e-9, 1e-12, 1.0] {
            let mut v: Vec<f64> = (0..5000)
                .rev()
                .map(|i| if step < 1.0 { 100.0 } else { 0.0 } + i as f64 * step)
                .collect();
            let mut want = v.clone();
            want.sort_unstable_by(f64::total_cmp);
            sort_values(&mut v);
            assert_eq!(v, want);
        }
        // All equal.
        let mut v = vec![3.5; 5000];
        sort_values(&mut v);
        assert_eq!(v, vec![3.5; 5000]);
    }

    #[test]
    fn p_values_print_readably() {
        assert_eq!(fmt_p(0.0004), "0.0004");
        assert_eq!(fmt_p(3.2e-12), "3.2e-12");
        assert_eq!(fmt_p(1.0), "1");
        assert_eq!(fmt_p(0.0), "0");
    }

    #[test]
    fn the_key_merge_equals_the_float_merge_on_every_kind_of_sample() {
        // mann_whitney_u sorts and merges integer keys; a Baseline's test merges floats.
        use crate::detect::isolation_forest::SplitMix64;
        let mut rng = SplitMix64::new(77);
        for case in 0..3000 {
            let (n1, n2) = (1 + rng.below(300), 1 + rng.below(300));
            let mut draw = |n: usize, shift: f64| -> Vec<f64> {
                (0..n)
                    .map(|_| {
                        let u = rng.next_f64();
                        match case % 6 {
                            0 => shift + u,
                            1 => (u * 12.0).floor() - 6.0 + shift, // heavy ties, both signs
                            2 => [0.0, -0.0, 1.0, -1.0][rng.below(4)], // signed zeros tie
                            3 => (u * 700.0).exp() * shift,        // spread over many scales
                            4 if rng.below(10) == 0 => f64::NAN,   // gaps
                            _ => [f64::INFINITY, f64::NEG_INFINITY, u][rng.below(3)],
                        }
                    })
                    .collect()
            };
            let (a, b) = (draw(n1, 0.0), draw(n2, 0.25));
            let sorted = |v: &[f64]| {
                let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                sort_values(&mut s);
                s
            };
            let (sa, sb) = (sorted(&a), sorted(&b));
            for alt in [
                Alternative::Greater,
                Alternative::Less,
                Alternative::TwoSided,
            ] {
                let r = mann_whitney_u(&a, &b, alt);
                let f = mann_whitney_u_both_sorted(&sa, &sb, alt);
                assert_eq!(r.u.to_bits(), f.u.to_bits(), "case {case} {alt:?}");
                assert_eq!(
                    r.p_value.to_bits(),
                    f.p_value.to_bits(),
                    "case {case} {alt:?}"
                );
            }
        }
    }
}
