//! The Mann-Whitney U test (two-sample rank test), as scipy computes it.

use super::descriptive::{order_key, sort_values};
use statrs::distribution::{ContinuousCDF, Normal};

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

#[cfg(test)]
#[path = "mann_whitney_tests.rs"]
mod tests;
