//! Descriptive statistics: mean, standard deviation, numpy-linear quantiles, MAD, and the
//! order-preserving sort every rank statistic here relies on.

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

pub(super) fn std_dev_around(values: &[f64], mean: f64) -> f64 {
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
pub(super) fn mad_sorted(sorted: &[f64], median: f64) -> f64 {
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

pub(super) fn mad_around(values: &[f64], median: f64) -> f64 {
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
pub(super) fn order_key(v: f64) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
