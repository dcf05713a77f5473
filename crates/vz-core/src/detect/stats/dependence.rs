//! How much consecutive ticks of a series depend on each other, and what that does to a rank
//! test that treats them as independent.
//!
//! A `rate(x[5m])` sampled every 15 s shares 95 % of its data with the previous tick, and a
//! real latency series wanders for minutes with nothing changed: 30 such ticks carry the
//! information of far fewer independent ones, and a Mann-Whitney test that counts them as 30
//! rolls back most unchanged deploys (issue 19: 82 % at lag-1 autocorrelation 0.8).
//!
//! The method: the variance of the Mann-Whitney statistic under serial dependence, through
//! its Hájek projection. Under "no change", U − mn/2 ≈ m·Σᵢ(F(xᵢ) − ½) − n·Σⱼ(F(yⱼ) − ½), sums
//! of the probability-integral transforms of each sample. For independent ticks each sum of
//! k terms has variance k/12; for a stationary series it has k·τ_k/12, where
//! τ_k = 1 + 2·Σ_{h<k} (1 − h/k)·ρ(h) is the long-run variance ratio of the transformed series
//! over k ticks (Newey & West 1987; Andrews 1991, whose AR(1) plug-in we follow). So
//!
//!   Var(U) = m·n·(m·τ_n + n·τ_m) / 12,   against m·n·(m + n) / 12 for independent ticks,
//!
//! and the test's z is divided by √((m·τ_n + n·τ_m)/(m + n)) — the same as comparing
//! n/τ_n against m/τ_m effective samples. Positive correlation between the baseline and the
//! window (adjacent in time) only lowers Var(U), so ignoring it errs on the safe side.
//!
//! ρ(h) is modelled as AR(1), ρ(h) = ρʰ, with ρ the lag-1 autocorrelation of the ranks
//! (Spearman-type, so lognormal or spiky values do not distort it), estimated from the data
//! the gate has before the deploy changed anything: the baseline's ticks in capture order,
//! and a control's ticks. Each run of consecutive values (a missing tick ends a run) is
//! ranked and centred on its own, and the pooled estimate is corrected for its small-sample
//! bias, E[ρ̂] ≈ ρ − (1 + 3ρ)/n per run (Kendall 1954; Marriott & Pope 1954). The watched
//! ticks are never read for it: a regression stepping or ramping through the window would
//! look like dependence and hide itself. Fewer than [`MIN_PAIRS`] reference pairs (a
//! 10-sample probe baseline) cannot show it: the ticks are then taken as independent, and
//! every output says so. The gate
//! then judges with ρ̂ + √((1 − ρ̂²)/pairs) (Bartlett's 1946 standard error of a lag-1
//! estimate; the upper end of a one-sided 84 % interval) once ρ̂ ≥ 0.5, and a proportionally
//! smaller margin below: τ = (1 + ρ)/(1 − ρ) is so steep near 1 that a point estimate from
//! 60 or 240 ticks, low by its own sampling error, let 2.5–9 % of unchanged watches of a
//! φ = 0.95 series roll back at α = 0.01 (bench/false_rollback.rs --dependent); the margin
//! holds them within α, and vanishing near 0 it leaves independent ticks their power. For AR(1)
//! series the factor is exact; for a moving average such as `rate(x[5m])` (a triangular
//! autocorrelation) the AR(1) plug-in overstates τ about twofold, which costs power, never
//! the false-rollback bound.

use serde::{Deserialize, Serialize};

/// The largest lag-1 autocorrelation used: beyond it 1/(1 − ρ) explodes on noise.
pub const RHO_MAX: f64 = 0.995;

/// From this lag-1 estimate on the gate adds a whole standard error to it ([`Lag1::upper_rho`]).
pub const FULL_MARGIN: f64 = 0.5;

/// Fewer lag pairs than this cannot show the dependence (the standard error of ρ̂ is
/// ≈ 1/√pairs): the gate then takes the ticks as independent, and says so.
pub const MIN_PAIRS: usize = 20;

/// Sums behind a lag-1 autocorrelation of ranks, pooled over runs of consecutive ticks.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Lag1 {
    /// Σ (r_t − r̄)(r_{t+1} − r̄) over the runs, ranks centred within their run.
    pub products: f64,
    /// Σ (r_t − r̄)² over the runs.
    pub squares: f64,
    /// Values in runs of 3 or more.
    pub values: usize,
    /// Lag pairs (values − runs).
    pub pairs: usize,
    /// Runs of 3 or more consecutive values.
    pub runs: usize,
}

impl Lag1 {
    /// The sums of `values` in time order; a non-finite value (a missing tick) ends a run.
    pub fn of(values: &[f64]) -> Lag1 {
        let mut out = Lag1::default();
        for run in values.split(|v| !v.is_finite()) {
            out.add_run(run);
        }
        out
    }

    /// The sums of a lookback longer than the baseline (hours before the deploy, at the
    /// watch's step): each run of consecutive values cut into stretches of `chunk` values
    /// (the last one takes the remainder), each ranked and centred on its own. Centring per
    /// stretch keeps a daily cycle over the hours from reading as tick-to-tick dependence,
    /// and pooling many stretches shrinks the standard error of ρ̂ by √(stretches): 6 h at
    /// 15 s in 1 h stretches gives ≈ 0.03 where a 15-minute baseline alone gives ≈ 0.13.
    pub fn of_chunks(values: &[f64], chunk: usize) -> Lag1 {
        let chunk = chunk.max(3);
        let mut out = Lag1::default();
        for run in values.split(|v| !v.is_finite()) {
            let mut rest = run;
            while rest.len() >= 2 * chunk {
                let (head, tail) = rest.split_at(chunk);
                out.add_run(head);
                rest = tail;
            }
            out.add_run(rest);
        }
        out
    }

    /// The better-informed of two estimates of one series' dependence: the one with more
    /// lag pairs (a lookback of hours over the baseline's own ticks).
    pub fn or_longer(self, other: Lag1) -> Lag1 {
        if other.pairs > self.pairs {
            other
        } else {
            self
        }
    }

    fn add_run(&mut self, run: &[f64]) {
        let n = run.len();
        if n < 3 {
            return;
        }
        let ranks = mid_ranks(run);
        let centre = (n as f64 + 1.0) / 2.0;
        let c: Vec<f64> = ranks.iter().map(|r| r - centre).collect();
        self.products += c.windows(2).map(|w| w[0] * w[1]).sum::<f64>();
        self.squares += c.iter().map(|x| x * x).sum::<f64>();
        self.values += n;
        self.pairs += n - 1;
        self.runs += 1;
    }

    /// Both sums together (the baseline's and a control's, say).
    pub fn plus(self, other: Lag1) -> Lag1 {
        Lag1 {
            products: self.products + other.products,
            squares: self.squares + other.squares,
            values: self.values + other.values,
            pairs: self.pairs + other.pairs,
            runs: self.runs + other.runs,
        }
    }

    /// The bias-corrected lag-1 autocorrelation, in [0, [`RHO_MAX`]] (a negative estimate is
    /// taken as 0: it would make the test bolder, never safer). `None` without enough data.
    pub fn rho(&self) -> Option<f64> {
        if self.runs == 0 || self.squares <= 0.0 {
            return None;
        }
        let raw = self.products / self.squares;
        // Kendall's bias of a mean-corrected lag-1 estimate, pooled over the runs.
        let k = self.runs as f64 / self.values as f64;
        let corrected = if 3.0 * k < 1.0 {
            (raw + k) / (1.0 - 3.0 * k)
        } else {
            raw + k
        };
        Some(corrected.clamp(0.0, RHO_MAX))
    }

    /// [`Lag1::rho`] plus a margin of up to one standard error, √((1 − ρ̂²)/pairs), in
    /// [0, [`RHO_MAX`]]: what the gate judges with, so an estimate low by its own sampling
    /// error does not make the test bolder than the data allow. The margin is full from
    /// ρ̂ = [`FULL_MARGIN`] on, where τ = (1 + ρ)/(1 − ρ) grows steeply and an estimate a
    /// standard error low lets unchanged watches roll back; below it the margin shrinks in
    /// proportion, so ticks that show no dependence keep the power of independent ones
    /// (a negative estimate is already taken as 0, which errs on the safe side).
    pub fn upper_rho(&self) -> Option<f64> {
        let rho = self.rho()?;
        let se = ((1.0 - rho * rho).max(0.0) / self.pairs.max(1) as f64).sqrt();
        let margin = se * (rho / FULL_MARGIN).min(1.0);
        Some((rho + margin).min(RHO_MAX))
    }

    /// The dependence the gate judges with from these sums: [`Lag1::upper_rho`], or unknown
    /// (ticks taken as independent) without [`MIN_PAIRS`] lag pairs.
    pub fn dependence(&self) -> Dependence {
        match self.upper_rho() {
            Some(rho) if self.enough() => Dependence {
                rho,
                from: self.values,
                unknown: false,
            },
            _ => Dependence {
                rho: 0.0,
                from: self.values,
                unknown: true,
            },
        }
    }

    /// Whether there are enough lag pairs to estimate the dependence on their own.
    pub fn enough(&self) -> bool {
        self.pairs >= MIN_PAIRS
    }
}

/// The dependence one look is judged with, and its sentence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dependence {
    /// Lag-1 autocorrelation of the ranks judged with (an upper bound; 0: independent).
    pub rho: f64,
    /// Values the estimate came from.
    pub from: usize,
    /// Too few reference values to estimate it: ticks are taken as independent.
    pub unknown: bool,
}

impl Dependence {
    /// No dependence: the factor is 1.
    pub const NONE: Dependence = Dependence {
        rho: 0.0,
        from: 0,
        unknown: false,
    };

    /// The long-run variance ratio τ_k of a sum of `k` consecutive ticks (1 for k ≤ 1):
    /// (1 + ρ)/(1 − ρ) − 2ρ(1 − ρᵏ)/(k(1 − ρ)²), exact for AR(1).
    pub fn tau(&self, k: usize) -> f64 {
        let r = self.rho;
        if k <= 1 || r <= 0.0 {
            return 1.0;
        }
        let kf = k as f64;
        let t = (1.0 + r) / (1.0 - r) - 2.0 * r * (1.0 - r.powf(kf)) / (kf * (1.0 - r) * (1.0 - r));
        t.max(1.0)
    }

    /// Effective independent samples in `k` consecutive ticks: k / τ_k.
    pub fn effective(&self, k: usize) -> f64 {
        k as f64 / self.tau(k)
    }

    /// Var(U) under dependence over Var(U) for independent ticks, for a window of `n` values
    /// against a fixed reference of `m` ([`Dependence::against_growing`] for a control).
    pub fn inflation(&self, m: usize, n: usize) -> f64 {
        if m + n == 0 {
            return 1.0;
        }
        (m as f64 * self.tau(n) + n as f64 * self.tau(m)) / (m + n) as f64
    }

    /// The same for `n` canary values against `n` control values of the same ticks.
    pub fn against_growing(&self, n: usize) -> f64 {
        self.tau(n)
    }

    /// `lag-1 autocorrelation ≤ 0.82: 30 ticks ≈ 3.6 effective samples` (≤: the bound the
    /// gate judges with, [`Lag1::upper_rho`]).
    pub fn describe(&self, n: usize) -> String {
        if self.unknown {
            return format!(
                "dependence between ticks not estimated: {} reference values are too few to \
                 show it ({} needed), so the {n} ticks are taken as independent",
                self.from,
                MIN_PAIRS + 1
            );
        }
        format!(
            "lag-1 autocorrelation ≤ {}: {n} ticks ≈ {} effective samples",
            fmt2(self.rho),
            fmt_eff(self.effective(n))
        )
    }
}

/// Mid-ranks (ties share the mean of their ranks), 1-based, in the values' own order.
fn mid_ranks(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && values[idx[j + 1]] == values[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

fn fmt2(x: f64) -> String {
    format!("{x:.2}")
}

/// Effective samples to two significant digits (`3.1`, `27`, `0.48`).
pub fn fmt_eff(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::isolation_forest::SplitMix64;

    fn ar1(phi: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = SplitMix64::new(seed);
        let mut gauss = || {
            let (a, b) = (rng.next_f64().max(1e-300), rng.next_f64());
            (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
        };
        let mut x = gauss();
        (0..n)
            .map(|_| {
                x = phi * x + (1.0 - phi * phi).sqrt() * gauss();
                (0.3 * x).exp()
            })
            .collect()
    }

    #[test]
    fn tau_matches_the_ar1_partial_sum_variance() {
        // AR(1) ρ = 0.8: Var(Σ₁ⁿ x)/n = 9 − 2·0.8·(1 − 0.8ⁿ)/(n·0.04); n = 30: 7.6683 (by hand).
        let d = Dependence {
            rho: 0.8,
            ..Dependence::NONE
        };
        assert!((d.tau(30) - 7.6683).abs() < 1e-3, "{}", d.tau(30));
        assert_eq!(d.tau(1), 1.0);
        // Long windows approach (1 + ρ)/(1 − ρ) = 9.
        assert!((d.tau(100_000) - 9.0).abs() < 1e-3);
        assert!((d.effective(30) - 3.9122).abs() < 1e-3);
        // Independent ticks: no inflation at all.
        assert_eq!(Dependence::NONE.inflation(60, 30), 1.0);
        // Against a fixed baseline, both sides' factors weigh in: (60·τ₃₀ + 30·τ₆₀)/90.
        let want = (60.0 * d.tau(30) + 30.0 * d.tau(60)) / 90.0;
        assert!((d.inflation(60, 30) - want).abs() < 1e-12);
    }

    #[test]
    fn the_estimate_recovers_the_dependence_of_ar1_series() {
        // Mean of the corrected estimate over 400 series of 60 values: within 0.05 of the
        // rank autocorrelation of a Gaussian AR(1), (6/π)·asin(φ/2) (Pearson 1907): 0.4826
        // for φ = 0.5 and 0.7859 for φ = 0.8.
        for (phi, want) in [(0.5, 0.4826), (0.8, 0.7859)] {
            let mean: f64 = (0..400)
                .map(|s| Lag1::of(&ar1(phi, 60, s)).rho().unwrap())
                .sum::<f64>()
                / 400.0;
            assert!((mean - want).abs() < 0.05, "φ {phi}: {mean} vs {want}");
        }
        // Independent values: near 0 (clamped at 0 from below).
        let mean: f64 = (0..400)
            .map(|s| Lag1::of(&ar1(0.0, 60, s)).rho().unwrap())
            .sum::<f64>()
            / 400.0;
        assert!(mean < 0.08, "{mean}");
    }

    #[test]
    fn missing_ticks_split_runs_and_short_runs_count_for_nothing() {
        let l = Lag1::of(&[
            1.0,
            2.0,
            3.0,
            f64::NAN,
            4.0,
            5.0,
            f64::INFINITY,
            1.0,
            2.0,
            3.0,
            4.0,
        ]);
        assert_eq!((l.runs, l.values, l.pairs), (2, 7, 5));
        // Ranks of 1,2,3 centred: −1, 0, 1 → products −0 + 0 = 0, squares 2; of 1..4:
        // −1.5, −0.5, 0.5, 1.5 → products 0.75 − 0.25 + 0.75 = 1.25, squares 5.
        assert!((l.products - 1.25).abs() < 1e-12 && (l.squares - 7.0).abs() < 1e-12);
        assert!(!l.enough());
        assert_eq!(Lag1::of(&[]).rho(), None);
        // Ties share their rank: a flat series carries no dependence information.
        assert_eq!(Lag1::of(&[2.0; 10]).rho(), None);
        assert_eq!(mid_ranks(&[5.0, 1.0, 5.0, 3.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn a_lookback_in_hour_long_stretches_narrows_the_estimate_and_damps_a_slow_cycle() {
        // 6 h at 15 s of independent values: in 6 stretches of 240 the upper bound is within
        // a few hundredths of 0, where 60 ticks alone leave a margin of a standard error.
        let iid = ar1(0.0, 1440, 11);
        let l = Lag1::of_chunks(&iid, 240);
        assert_eq!((l.runs, l.values, l.pairs), (6, 1440, 1434));
        assert!(l.upper_rho().unwrap() < 0.06, "{l:?}");
        // The same values under a slow cycle (±50 % over the 6 h): per-stretch centring keeps
        // most of the swing out of the tick-to-tick estimate (as one run it reads as
        // dependence).
        let cycled: Vec<f64> = iid
            .iter()
            .enumerate()
            .map(|(t, v)| v * (1.0 + 0.5 * (std::f64::consts::TAU * t as f64 / 1440.0).sin()))
            .collect();
        let one_run = Lag1::of(&cycled).rho().unwrap();
        let stretched = Lag1::of_chunks(&cycled, 240).rho().unwrap();
        assert!(one_run > 0.3 && stretched < 0.1, "{one_run} {stretched}");
        // An AR(1) φ 0.8 series: the pooled estimate is close to its rank autocorrelation.
        let rho = Lag1::of_chunks(&ar1(0.8, 1440, 12), 240).rho().unwrap();
        assert!((rho - 0.7859).abs() < 0.06, "{rho}");
        // A remainder shorter than a stretch joins the last one; a gap still ends a run.
        let mut v = ar1(0.0, 700, 13);
        v[100] = f64::NAN;
        let l = Lag1::of_chunks(&v, 240);
        // 100 values, then 599: a stretch of 240 and the last 359.
        assert_eq!((l.runs, l.values), (3, 699));
        // The longer estimate wins; a shorter one never replaces it.
        let short = Lag1::of(&v[..60]);
        assert_eq!(short.or_longer(l), l);
        assert_eq!(l.or_longer(short), l);
    }

    #[test]
    fn the_sentence_states_the_dependence() {
        let d = Dependence {
            rho: 0.82,
            from: 60,
            unknown: false,
        };
        assert_eq!(
            d.describe(30),
            "lag-1 autocorrelation ≤ 0.82: 30 ticks ≈ 3.6 effective samples"
        );
    }
}
