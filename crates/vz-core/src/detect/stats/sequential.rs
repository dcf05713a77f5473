//! The whole-watch false-alarm boundary of a rank test repeated at every tick.
//!
//! A test at level α repeated on each of 30 ticks of a growing window rolls back far more
//! than α of unchanged deploys (peeking). This module turns a whole-watch α into one
//! nominal per-look threshold per window size, so that the probability of crossing at *any*
//! planned look, for an unchanged service, is at most α:
//!
//! - **Growing window** (the rule has no `window:`): a group-sequential boundary with
//!   Lan–DeMets alpha spending with the power-family spending function α·t^1.5
//!   (Lan & DeMets 1983, "Discrete sequential boundaries for clinical trials", Biometrika
//!   70(3):659–663; Kim & DeMets 1987, Biometrics 43:857–864, whose family α·t^ρ runs from
//!   Pocock-like at ρ ≈ 0.8 to O'Brien–Fleming-like at ρ ≈ 3). ρ = 1.5 spends little where a
//!   look holds little information: the first looks of a growing window carry a few values
//!   and a shift that starts minutes into the watch is not in them yet. Against the
//!   Pocock-type α·ln(1 + (e − 1)·t) used before, it catches a 1.5× shift on one of 10
//!   metrics starting at tick 3–8 in 86 % of 30-tick watches instead of 81 %, and a 1.3× one
//!   from the deploy on in 53 % instead of 45 %, one tick later at the median
//!   (bench/false_rollback.rs, issue 19). The Mann-Whitney statistic of
//!   a growing window against a fixed baseline of m values has, under "no change", the
//!   canonical joint distribution of group-sequential theory with information
//!   I(n) = n / (n + m + 1) (its U-statistic covariance is m·n₁·(m + n₂ + 1)/12 for nested
//!   windows n₁ ≤ n₂, so corr = √(I(n₁)/I(n₂))), and the boundary is computed exactly for it by
//!   the recursive numerical integration of Armitage, McPherson & Rowe (1969, JRSS A
//!   132:235–244), as in Jennison & Turnbull (2000), "Group Sequential Methods with
//!   Applications to Clinical Trials", ch. 19. Time t is the information fraction
//!   I(n)/I(N) of the planned last look N. Looks that do not happen (missing ticks) only
//!   lower the crossing probability.
//! - **Growing window against a control** (`against: control`): the control grows with the
//!   window, tick for tick. The two-sample U statistic's Hájek projection is then a sum of
//!   one i.i.d. term per tick (canary and control readings of that tick), a random walk with
//!   information I(n) ∝ n²/(2n + 1) (Var U = n²(2n + 1)/12 for n values each), and the same
//!   spending boundary is computed for that information ([`GROWING_REFERENCE`]).
//! - **Sliding window** (`window:` set): looks on disjoint windows are nearly independent,
//!   so the union bound is almost tight: α/N per look (Bonferroni over the N planned looks).
//!
//! Pure and deterministic; boundaries are memoised per (N, m, first look, α).

use statrs::distribution::{ContinuousCDF, Normal};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How a statistical rule's whole-watch false-alarm probability is spread over its looks.
/// Filled in by the gate from `policy.alpha`, the rule's `p_value` and the planned watch;
/// `looks == 0` means "not planned": the p-value is then a fixed-sample level per look.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LookPlan {
    /// Ticks planned in the watch (duration / interval).
    pub looks: u32,
    /// This rule-series' whole-watch false-alarm probability (its share of `policy.alpha`).
    pub alpha: f64,
    /// The rule's window slides (`window:`): Bonferroni over looks instead of spending.
    pub sliding: bool,
}

/// The threshold one look is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookThreshold {
    /// Nominal one-sided p-value below which this look counts as significant (0: none can).
    pub nominal: f64,
    /// Alpha spent by the planned looks up to and including this one.
    pub spent: f64,
    /// The boundary on the standard normal scale (∞ when no alpha is left).
    pub z: f64,
}

/// The exponent ρ of the power-family spending function α·t^ρ (Kim & DeMets 1987).
pub const SPENDING_POWER: f64 = 1.5;

/// The spending function: cumulative alpha spent by information time t ∈ [0, 1].
pub fn spending(alpha: f64, t: f64) -> f64 {
    alpha * t.clamp(0.0, 1.0).powf(SPENDING_POWER)
}

/// The reference size meaning "the reference grows with the window, one value per tick"
/// (a control over the same ticks) rather than a fixed baseline of m values.
pub const GROWING_REFERENCE: usize = 0;

/// Statistical information of a rank test of `n` window values against `m` baseline values
/// (up to a constant factor: only ratios matter), or against as many control values.
fn information(n: usize, m: usize) -> f64 {
    if m == GROWING_REFERENCE {
        let n = n as f64;
        return n * n / (2.0 * n + 1.0);
    }
    n as f64 / (n + m + 1) as f64
}

/// Most looks a boundary is computed for. A longer watch (1 s ticks for 24 h: 86,400) looks
/// every k-th tick instead, k = ⌈looks / MAX_LOOKS⌉, and always at its last planned tick:
/// a group-sequential design with fewer, evenly spaced looks holds alpha just the same, and
/// its boundary is computed in a bounded time before the first tick (issue 24).
pub const MAX_LOOKS: usize = 720;

/// Ticks between two looks of a watch planned for `planned` ticks with its first look at
/// `first`: 1 up to [`MAX_LOOKS`] looks.
pub fn look_stride(planned: usize, first: usize) -> usize {
    let looks = planned.saturating_sub(first) + 1;
    looks.div_ceil(MAX_LOOKS).max(1)
}

/// The window sizes that are looks: `first`, `first + k`, … and `planned`.
fn look_sizes(planned: usize, first: usize) -> Vec<usize> {
    let stride = look_stride(planned, first);
    let mut sizes: Vec<usize> = (first..=planned).step_by(stride).collect();
    if sizes.last() != Some(&planned) {
        sizes.push(planned);
    }
    sizes
}

/// The one-sided threshold for a growing window of `n` values against a baseline of `m`
/// (or a control growing with it, `m` = [`GROWING_REFERENCE`]),
/// looks planned at every window size `first..=planned` (every [`look_stride`]-th of them
/// past [`MAX_LOOKS`]), whole-watch level `alpha`. Between looks and beyond the planned
/// ones nothing can be significant.
pub fn growing_threshold(
    alpha: f64,
    planned: usize,
    first: usize,
    m: usize,
    n: usize,
) -> LookThreshold {
    let first = first_useful_look(alpha, planned, first.max(1), m);
    if n < first || n > planned || alpha <= 0.0 {
        return LookThreshold {
            nominal: 0.0,
            spent: if n > planned { alpha } else { 0.0 },
            z: f64::INFINITY,
        };
    }
    let table = boundary_table(alpha, planned, first, m);
    let stride = look_stride(planned, first);
    let index = (n - first) / stride;
    if n == planned {
        return table[table.len() - 1];
    }
    if (n - first) % stride == 0 {
        return table[index];
    }
    LookThreshold {
        nominal: 0.0,
        spent: table[index].spent,
        z: f64::INFINITY,
    }
}

/// The first window size, from `min_samples` on, at which the rank test can reach the level
/// it would get as the first look: with all n window values above all m baseline values the
/// asymptotic one-sided p-value is P(N(0,1) ≥ (nm/2 − ½)/√(nm(n + m + 1)/12)), and a look
/// that cannot reach its level would spend alpha for nothing. Depends only on (α, N, m,
/// `min_samples`), never on the data, so the boundary stays pre-specified.
pub fn first_useful_look(alpha: f64, planned: usize, first: usize, m: usize) -> usize {
    let last = information(planned.max(1), m);
    (first..planned.max(first))
        .find(|&n| {
            let nf = n as f64;
            let mf = if m == GROWING_REFERENCE { nf } else { m as f64 };
            let z = (nf * mf / 2.0 - 0.5) / (nf * mf * (nf + mf + 1.0) / 12.0).sqrt();
            normal().sf(z) < spending(alpha, information(n, m) / last)
        })
        .unwrap_or(planned.max(first))
}

/// The one-sided threshold of a sliding-window look: α/N (Bonferroni over N planned looks).
pub fn sliding_threshold(alpha: f64, planned: usize) -> LookThreshold {
    let nominal = alpha / planned.max(1) as f64;
    LookThreshold {
        nominal,
        spent: nominal,
        z: normal().inverse_cdf(1.0 - nominal),
    }
}

fn normal() -> Normal {
    Normal::standard()
}

type Key = (usize, usize, usize, u64);

/// Boundaries already computed, shared by every thread: a watch asks for the same one every
/// tick, possibly from another worker thread than the one that built its gate (which
/// computes them before the first tick, [`prepare_growing`]).
fn tables() -> &'static Mutex<HashMap<Key, Arc<[LookThreshold]>>> {
    static TABLES: OnceLock<Mutex<HashMap<Key, Arc<[LookThreshold]>>>> = OnceLock::new();
    TABLES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Most boundaries kept in the memo before it is emptied.
const MEMO_KEEP: usize = 256;

fn boundary_table(alpha: f64, planned: usize, first: usize, m: usize) -> Arc<[LookThreshold]> {
    let key = (planned, first, m, alpha.to_bits());
    let memo = || tables().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = memo().get(&key).cloned() {
        return t;
    }
    let info: Vec<f64> = look_sizes(planned, first)
        .into_iter()
        .map(|n| information(n, m))
        .collect();
    let table: Arc<[LookThreshold]> = spending_boundary(alpha, &info).into();
    let mut memo = memo();
    if memo.len() >= MEMO_KEEP {
        memo.clear();
    }
    memo.insert(key, table.clone());
    table
}

/// Computes (and keeps) the boundary [`growing_threshold`] will use for these looks, so the
/// first look of a watch does not pay for it on the clock (≈ 1 s of CPU in a debug build).
pub fn prepare_growing(alpha: f64, planned: usize, first: usize, m: usize) {
    growing_threshold(alpha, planned, first, m, planned);
}

/// Grid of the recursive integration: cells of width `STEP` on the z scale over [LOW, HIGH].
const LOW: f64 = -7.0;
const HIGH: f64 = 8.5;
const STEP: f64 = 0.02;

/// Upper one-sided boundary z₁ … z_K for looks at increasing information `info`, spending
/// `alpha` with [`spending`], exact for the canonical joint distribution
/// (Brownian motion observed at `info`): P(Z_k ≥ z_k for some k) = alpha.
///
/// The density of Z_k on paths that have not crossed is carried on a grid of cells; mass
/// moves from cell centres to cells with the exact Gaussian increment (cell-integrated, so
/// it is conserved however narrow the increment), and the crossing probability of each look
/// is integrated exactly from the previous look's cells.
pub fn spending_boundary(alpha: f64, info: &[f64]) -> Vec<LookThreshold> {
    let n = normal();
    let cells = ((HIGH - LOW) / STEP).round() as usize;
    let centre = |i: usize| LOW + (i as f64 + 0.5) * STEP;
    let last = info.last().copied().unwrap_or(1.0);
    let mut out = Vec::with_capacity(info.len());
    // First look: Z₁ is standard normal.
    let target = spending(alpha, info.first().copied().unwrap_or(0.0) / last);
    let z1 = n.inverse_cdf(1.0 - target.clamp(1e-300, 1.0));
    out.push(LookThreshold {
        nominal: target,
        spent: target,
        z: z1,
    });
    let mut mass: Vec<f64> = (0..cells)
        .map(|i| {
            let (a, b) = (LOW + i as f64 * STEP, LOW + (i + 1) as f64 * STEP);
            (n.cdf(b.min(z1)) - n.cdf(a)).max(0.0)
        })
        .collect();
    let mut spent = target;
    for k in 1..info.len() {
        let (i0, i1) = (info[k - 1], info[k]);
        let (r0, r1) = (i0.sqrt(), i1.sqrt());
        let sd = (i1 - i0).max(1e-300).sqrt();
        // Z_k = (Z_{k-1}·r0 + increment) / r1, increment ~ N(0, i1 − i0).
        let mean_of = |u: f64| u * r0 / r1;
        let sd_z = sd / r1;
        let want = (spending(alpha, i1 / last) - spent).max(0.0);
        let cross = |c: f64| -> f64 {
            mass.iter()
                .enumerate()
                .filter(|(_, w)| **w > 0.0)
                .map(|(i, w)| w * n.sf((c - mean_of(centre(i))) / sd_z))
                .sum()
        };
        // Bisection for the boundary spending exactly `want` at this look.
        let (mut lo, mut hi) = (-2.0, HIGH);
        let z = if want <= 0.0 || cross(hi) >= want {
            hi
        } else {
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if cross(mid) > want {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        };
        let crossed = cross(z);
        spent += crossed;
        // Nominal level of this look alone: P(N(0,1) ≥ z).
        out.push(LookThreshold {
            nominal: n.sf(z),
            spent,
            z,
        });
        // Carry the non-crossed mass to look k's cells below z.
        let mut next = vec![0.0; cells];
        let reach = 9.0 * sd_z;
        for (i, w) in mass.iter().enumerate() {
            if *w < 1e-300 {
                continue;
            }
            let mu = mean_of(centre(i));
            let lo_cell = (((mu - reach - LOW) / STEP).floor().max(0.0)) as usize;
            let hi_z = (mu + reach).min(z);
            if hi_z <= LOW {
                continue;
            }
            let hi_cell = (((hi_z - LOW) / STEP).ceil() as usize).min(cells);
            let mut prev = n.cdf((LOW + lo_cell as f64 * STEP - mu) / sd_z);
            for (j, slot) in next.iter_mut().enumerate().take(hi_cell).skip(lo_cell) {
                let b = (LOW + (j + 1) as f64 * STEP).min(z);
                let cur = n.cdf((b - mu) / sd_z);
                *slot += w * (cur - prev).max(0.0);
                prev = cur;
            }
        }
        mass = next;
    }
    out
}

#[cfg(test)]
#[path = "sequential_tests.rs"]
mod tests;
