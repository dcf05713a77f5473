//! The sequential boundary against published values, scipy and simulation.

use super::*;

/// Crossing probability of a boundary for Brownian motion at `info`, by simulation.
fn simulate(info: &[f64], z: &[f64], runs: usize, seed: u64) -> f64 {
    let mut rng = crate::detect::isolation_forest::SplitMix64::new(seed);
    let mut gauss = || {
        let (a, b) = (rng.next_f64().max(1e-300), rng.next_f64());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    };
    let mut hits = 0;
    for _ in 0..runs {
        let (mut s, mut prev) = (0.0, 0.0);
        for (k, &i) in info.iter().enumerate() {
            s += gauss() * (i - prev).sqrt();
            prev = i;
            if s / i.sqrt() >= z[k] {
                hits += 1;
                break;
            }
        }
    }
    hits as f64 / runs as f64
}

#[test]
fn equally_spaced_looks_match_the_power_family_boundaries_scipy_gives() {
    // Lan-DeMets power-family spending α·t^1.5, 5 equally spaced looks, one-sided 0.025: the
    // first boundary is Φ⁻¹(1 − 0.025·(1/5)^1.5) = 2.8428 (closed form); the total spent is
    // 0.025.
    let info: Vec<f64> = (1..=5).map(|k| k as f64 / 5.0).collect();
    let b = spending_boundary(0.025, &info);
    assert!((b[0].z - 2.8428).abs() < 1e-3, "{:?}", b[0]);
    assert!((b[4].spent - 0.025).abs() < 2e-5, "{:?}", b[4]);
    // Independently, with scipy 1.17.1: each boundary solved by brentq so that
    // 1 − multivariate_normal(cov = √(tᵢ/tⱼ)).cdf(boundaries so far) equals the spending
    // function at tₖ gives 2.8428 2.5923 2.4256 2.2908 2.1750.
    for (got, want) in b.iter().zip([2.8428, 2.5923, 2.4256, 2.2908, 2.1750]) {
        assert!((got.z - want).abs() < 2e-3, "{} vs {want}", got.z);
    }
}

#[test]
fn the_boundary_holds_alpha_for_many_unequal_looks() {
    // A growing window of 3..=60 values against 60 baseline values, alpha 0.05.
    let m = 60;
    let info: Vec<f64> = (3..=60).map(|n| information(n, m)).collect();
    let b = spending_boundary(0.05, &info);
    let total = b.last().unwrap().spent;
    assert!((total - 0.05).abs() < 1e-3, "{total}");
    let z: Vec<f64> = b.iter().map(|t| t.z).collect();
    let rate = simulate(&info, &z, 200_000, 7);
    // Binomial sd at 200,000 runs: 0.0005; discrete looks cross no more than planned.
    assert!(rate < 0.05 + 0.002 && rate > 0.05 - 0.006, "{rate}");
    // And far less strict than Bonferroni over the same 58 looks.
    let bonferroni = Normal::standard().inverse_cdf(1.0 - 0.05 / 58.0);
    assert!(z.iter().all(|&z| z < bonferroni), "{z:?} vs {bonferroni}");
}

#[test]
fn thirty_looks_against_sixty_baseline_values_cross_at_alpha() {
    // The watch of the README's example: 30 looks of a growing window against a 60-value
    // baseline, alpha 0.01. 200,000 simulated null watches cross at 0.98 % with this seed.
    let info: Vec<f64> = (3..=30).map(|n| information(n, 60)).collect();
    let z: Vec<f64> = spending_boundary(0.01, &info).iter().map(|t| t.z).collect();
    let rate = simulate(&info, &z, 200_000, 3);
    // Binomial sd at 200,000 runs: 0.00022.
    assert!(rate < 0.01 + 0.0008 && rate > 0.01 - 0.0015, "{rate}");
}

#[test]
fn a_control_growing_with_the_window_gets_its_own_boundary() {
    // Canary and control each 3..=30 values: information n²/(2n + 1).
    let info: Vec<f64> = (3..=30)
        .map(|n| information(n, GROWING_REFERENCE))
        .collect();
    let b = spending_boundary(0.01, &info);
    let z: Vec<f64> = b.iter().map(|t| t.z).collect();
    let rate = simulate(&info, &z, 200_000, 11);
    // Binomial sd at 200,000 runs: 0.00022.
    assert!(rate < 0.01 + 0.0008, "{rate}");
    let t = growing_threshold(0.01, 30, 3, GROWING_REFERENCE, 30);
    assert!((t.spent - 0.01).abs() < 1e-4, "{t:?}");
    // 3 against 3 values cannot reach any useful level (smallest one-sided p = 0.04).
    assert!(first_useful_look(0.01, 30, 3, GROWING_REFERENCE) > 3);
}

#[test]
fn a_very_long_watch_looks_every_kth_tick_and_still_spends_alpha_once() {
    // 1 s ticks for 24 h against 240 baseline values: 86,400 planned ticks, at most
    // MAX_LOOKS looks, computed at once (this is what start-up waits for).
    let planned = 86_400;
    let first = first_useful_look(0.001, planned, 3, 240);
    let stride = look_stride(planned, first);
    assert_eq!(stride, (planned - first + 1).div_ceil(MAX_LOOKS));
    let at_look = growing_threshold(0.001, planned, 3, 240, first + stride);
    assert!(
        at_look.nominal > 0.0 && at_look.z.is_finite(),
        "{at_look:?}"
    );
    // Between two looks nothing is significant, and the alpha spent stays put.
    let between = growing_threshold(0.001, planned, 3, 240, first + stride + 1);
    assert_eq!(between.nominal, 0.0);
    assert_eq!(between.spent, at_look.spent);
    // The last planned tick is always a look, and the whole alpha is spent by it.
    let last = growing_threshold(0.001, planned, 3, 240, planned);
    assert!((last.spent - 0.001).abs() < 1e-5, "{last:?}");
    // A watch within MAX_LOOKS keeps a look at every tick.
    assert_eq!(look_stride(600, 5), 1);
}

#[test]
fn thresholds_by_window_size() {
    // Alpha 0.01 spends 0.01·(I(3)/I(30))^1.5 ≈ 5.4e-4 by 3 values against 60, below the
    // smallest p-value 3 values can have (0.0019): the first look is at 4.
    assert_eq!(first_useful_look(0.01, 30, 3, 60), 4);
    assert_eq!(growing_threshold(0.01, 30, 3, 60, 3).nominal, 0.0);
    let t = growing_threshold(0.01, 30, 3, 60, 4);
    assert!(t.nominal > 0.0 && t.nominal < 0.01 && t.z.is_finite());
    let later = growing_threshold(0.01, 30, 3, 60, 30);
    assert!((later.spent - 0.01).abs() < 1e-4, "{later:?}");
    // Before the first look and after the last planned one nothing can be significant.
    assert_eq!(growing_threshold(0.01, 30, 3, 60, 2).nominal, 0.0);
    // With alpha 0.001, 3 to 5 values against 60 cannot reach their level (the smallest
    // p-value of 5 values is 1.16e-4, above the 1.10e-4 spent by then): the first look is
    // at 6 values.
    assert_eq!(first_useful_look(0.001, 30, 3, 60), 6);
    assert_eq!(growing_threshold(0.001, 30, 3, 60, 5).nominal, 0.0);
    let t6 = growing_threshold(0.001, 30, 3, 60, 6);
    assert!(t6.nominal > 1.2e-4 && t6.nominal < 0.001, "{t6:?}");
    let past = growing_threshold(0.01, 30, 3, 60, 31);
    assert_eq!((past.nominal, past.spent), (0.0, 0.01));
    let s = sliding_threshold(0.01, 40);
    assert!((s.nominal - 0.00025).abs() < 1e-15);
    assert!((s.z - 3.4807).abs() < 1e-3);
}

/// Whole-watch crossing rate of the one-sided Mann-Whitney test (asymptotic p-value
/// with continuity correction, as `mann_whitney`) of a growing window against `m` fixed
/// baseline values, held to [`growing_threshold`] at every look, on i.i.d. continuous
/// data: the exact discrete rank statistic, not the Brownian motion the boundary is
/// computed for.
fn rank_crossing_rate(alpha: f64, planned: usize, m: usize, runs: usize, seed: u64) -> f64 {
    let mut rng = crate::detect::isolation_forest::SplitMix64::new(seed);
    let nominal: Vec<f64> = (1..=planned)
        .map(|n| growing_threshold(alpha, planned, 3, m, n).nominal)
        .collect();
    let mf = m as f64;
    let mut hits = 0;
    for _ in 0..runs {
        let mut base: Vec<f64> = (0..m).map(|_| rng.next_f64()).collect();
        base.sort_by(f64::total_cmp);
        let mut u = 0.0;
        for (i, &level) in nominal.iter().enumerate() {
            let x = rng.next_f64();
            u += base.partition_point(|b| *b < x) as f64;
            let n = (i + 1) as f64;
            let z = (u - n * mf / 2.0 - 0.5) / (n * mf * (n + mf + 1.0) / 12.0).sqrt();
            if level > 0.0 && normal().sf(z) < level {
                hits += 1;
                break;
            }
        }
    }
    hits as f64 / runs as f64
}

#[test]
fn the_rank_test_itself_holds_the_whole_watch_alpha_at_every_look() {
    // One metric of issue 12's benchmark: alpha 0.01, 120 looks against 60 baseline
    // values. 100,000 runs of this simulation (seed 17, release build) cross at 0.85 %: the
    // discrete statistic at small n is lighter-tailed than its normal approximation, so the
    // exact Gaussian boundary is slightly conservative for it, never anti-conservative.
    // Binomial sd at 10,000 runs: 0.001; this seed gives 1.00 %.
    let rate = rank_crossing_rate(0.01, 120, 60, 10_000, 5);
    assert!(rate > 0.004 && rate < 0.01 + 0.002, "{rate}");
}
