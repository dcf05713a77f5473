//! Mann-Whitney U against scipy and against a brute-force count.

use super::*;
use crate::detect::stats::sort_values;

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
