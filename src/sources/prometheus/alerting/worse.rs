//! Whether an alert series already firing before the deploy got worse during the watch,
//! judged as the statistical rules judge and not as "a new maximum".
//!
//! `increase(errors[3m]) > 0` sampled every few seconds shares almost all of its data with
//! the next value, and a new maximum of such a value is reached by chance again and again
//! while nothing changed. So the values are thinned to one per *block* — the longest range
//! the expression reads (two values that far apart share no sample), at least
//! [`MIN_BLOCK`] — before the prior's and the watch's are compared. The comparison is a
//! one-sided exact Mann-Whitney test of the watch's thinned values against the prior's, ties
//! counting against "worse"; the k-th thinned watch value is a look that rejects at
//! p ≤ α / (k (k + 1)), which sums to α over any number of looks (a Bonferroni spending,
//! valid however long the watch lasts). Too little history to ever reach that bound is said
//! so, not called worse. Pure: no clock, the caller passes `now`.

use std::collections::HashMap;
use std::time::Duration;

/// False-alarm probability of "worse" per series over the whole watch (the gate's default
/// `policy.alpha`).
pub const ALPHA: f64 = 0.01;

/// The shortest block: a value without a range (a gauge, `up == 0`) still wanders for
/// about a scrape-and-evaluate cycle.
pub const MIN_BLOCK: Duration = Duration::from_secs(60);

/// Thinned values kept per side (the latest ones): the exact test costs (n·m)².
pub const MAX_VALUES: usize = 40;

/// Independent prior values wanted: the lookback for the prior's values is stretched to
/// this many blocks.
pub const PRIOR_BLOCKS: u32 = 20;

/// The block of an expression whose longest range is `range`.
pub fn block(range: Duration) -> Duration {
    range.max(MIN_BLOCK)
}

/// `values` (sampled every `step`) thinned to one per `block`, the latest kept, at most
/// [`MAX_VALUES`]; NaN dropped.
pub fn thin(values: &[f64], step: Duration, block: Duration) -> Vec<f64> {
    let every = (block.as_secs_f64() / step.as_secs_f64().max(1e-3))
        .ceil()
        .max(1.0) as usize;
    let mut out: Vec<f64> = values
        .iter()
        .rev()
        .step_by(every)
        .copied()
        .filter(|v| !v.is_nan())
        .take(MAX_VALUES)
        .collect();
    out.reverse();
    out
}

/// The outcome of one look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorseTest {
    /// One-sided exact p-value of "the watch is worse than the prior".
    pub p: f64,
    /// The bound this look rejects at: α / (k (k + 1)).
    pub bound: f64,
    /// k: thinned watch values so far.
    pub look: usize,
    /// Thinned prior values.
    pub prior_n: usize,
    /// Whether even the most extreme watch could reach the bound at this look.
    pub decidable: bool,
}

impl WorseTest {
    /// Whether the watch is worse than the prior at this look.
    pub fn worse(&self) -> bool {
        self.p <= self.bound
    }

    /// The test in one clause, for a reason.
    pub fn describe(&self) -> String {
        let base = format!(
            "{} independent watch value{} against {} before, p {} vs {:.2e} (alpha {ALPHA} \
             spent over looks)",
            self.look,
            if self.look == 1 { "" } else { "s" },
            self.prior_n,
            fmt_p(self.p),
            self.bound
        );
        if self.decidable || self.worse() {
            base
        } else {
            format!("{base}; too little history to call it worse yet")
        }
    }
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Tests the thinned `watch` values against the thinned `prior` ones: `up` when higher is
/// worse. None without a value on either side.
pub fn test(prior: &[f64], watch: &[f64], up: bool) -> Option<WorseTest> {
    let (n, m) = (prior.len(), watch.len());
    if n == 0 || m == 0 {
        return None;
    }
    // U: pairs where the watch value is strictly worse; a tie is no evidence.
    let u = watch
        .iter()
        .map(|w| {
            prior
                .iter()
                .filter(|p| if up { w > p } else { w < p })
                .count()
        })
        .sum::<usize>();
    let tail = upper_tail(n, m);
    let bound = ALPHA / (m * (m + 1)) as f64;
    Some(WorseTest {
        p: tail[u],
        bound,
        look: m,
        prior_n: n,
        decidable: tail[n * m] <= bound,
    })
}

/// P(U ≥ u) for u = 0..=n·m under no change: U is the Mann-Whitney count of (prior, watch)
/// pairs with the watch value above, for `n` prior and `m` watch values in random order.
/// Its generating function counts orders by where the largest value comes from:
/// f(i, j) = f(i − 1, j) + q^i · f(i, j − 1).
fn upper_tail(n: usize, m: usize) -> Vec<f64> {
    let mut prev: Vec<Vec<f64>> = vec![vec![1.0]; m + 1];
    for i in 1..=n {
        let mut cur: Vec<Vec<f64>> = Vec::with_capacity(m + 1);
        cur.push(vec![1.0]);
        for j in 1..=m {
            let mut poly = vec![0.0; i * j + 1];
            for (u, c) in prev[j].iter().enumerate() {
                poly[u] += c;
            }
            for (u, c) in cur[j - 1].iter().enumerate() {
                poly[u + i] += c;
            }
            cur.push(poly);
        }
        prev = cur;
    }
    let counts = &prev[m];
    let total: f64 = counts.iter().sum();
    let mut tail = vec![0.0; counts.len()];
    let mut acc = 0.0;
    for u in (0..counts.len()).rev() {
        acc += counts[u];
        tail[u] = acc / total;
    }
    tail
}

/// The thinned watch values of each pre-existing series, one kept per block.
#[derive(Debug, Default)]
pub struct Watched {
    kept: HashMap<String, (i64, Vec<f64>)>,
}

impl Watched {
    /// Records `value` of `series` at `now_ms` if a block has passed since the last one
    /// kept; returns the values kept so far.
    pub fn observe(&mut self, series: &str, now_ms: i64, value: f64, block: Duration) -> &[f64] {
        let e = self
            .kept
            .entry(series.to_string())
            .or_insert((i64::MIN, Vec::new()));
        let due = e.0 == i64::MIN || now_ms - e.0 >= block.as_millis() as i64;
        if due && !value.is_nan() {
            e.0 = now_ms;
            e.1.push(value);
            if e.1.len() > MAX_VALUES {
                e.1.remove(0);
            }
        }
        &e.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_tail_matches_the_count_of_orders() {
        // n = 2, m = 2: the 6 orders give U = 0,1,2,2,3,4 → P(U ≥ 4) = 1/6, P(U ≥ 2) = 4/6.
        let t = upper_tail(2, 2);
        assert_eq!(t.len(), 5);
        assert!((t[4] - 1.0 / 6.0).abs() < 1e-12);
        assert!((t[2] - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(t[0], 1.0);
        // All m watch values above all n prior ones: 1 / C(n + m, m) (20 and 3: 1/1771).
        let t = upper_tail(20, 3);
        assert!((t[60] - 1.0 / 1771.0).abs() < 1e-15);
    }

    #[test]
    fn a_new_maximum_of_a_filling_range_is_not_worse() {
        // The case: prior 2.9–11.3 over 5 blocks, then 12.8 at the first tick.
        let prior = [2.9, 6.0, 11.3, 8.1, 4.4];
        let t = test(&prior, &[12.8], true).unwrap();
        assert!(!t.worse(), "{t:?}");
        assert!((t.p - 1.0 / 6.0).abs() < 1e-12);
        assert!(!t.decidable);
        assert!(
            t.describe().contains("too little history"),
            "{}",
            t.describe()
        );
        // With 5 prior values 1/C(5+k, k) > α/(k(k+1)) until look 19: only a shift sustained
        // over 19 blocks (57 minutes of a 3 m range) is called worse.
        let watch: Vec<f64> = (0..20).map(|i| 20.0 + i as f64).collect();
        for k in 1..=18 {
            assert!(
                !test(&prior, &watch[..k], true).unwrap().worse(),
                "look {k}"
            );
        }
        assert!(test(&prior, &watch[..19], true).unwrap().worse());
    }

    #[test]
    fn a_real_shift_against_enough_history_is_worse_and_noise_is_not() {
        let prior: Vec<f64> = (0..20).map(|i| 1.0 + (i % 5) as f64 * 0.1).collect();
        // Three blocks all above every prior value: p = 1/1771 ≤ 0.01/12.
        let t = test(&prior, &[5.0, 6.0, 5.5], true).unwrap();
        assert!(t.worse(), "{t:?}");
        // Lower is worse for a `<` alert: the same values are better.
        assert!(!test(&prior, &[5.0, 6.0, 5.5], false).unwrap().worse());
        // Values inside the prior's range never are, however many looks.
        let same: Vec<f64> = (0..30).map(|i| 1.0 + (i % 5) as f64 * 0.1).collect();
        assert!(!test(&prior, &same, true).unwrap().worse());
        // Ties are no evidence.
        assert!(!test(&[1.0; 20], &[1.0; 5], true).unwrap().worse());
    }

    #[test]
    fn thinning_keeps_one_value_per_block_the_latest_included() {
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        let s = Duration::from_secs(60);
        assert_eq!(thin(&v, s, Duration::from_secs(180)), [0.0, 3.0, 6.0, 9.0]);
        assert_eq!(thin(&v, s, Duration::from_secs(30)).len(), 10);
        let mut w = Watched::default();
        let b = Duration::from_secs(180);
        assert_eq!(w.observe("s", 0, 1.0, b), [1.0]);
        assert_eq!(w.observe("s", 60_000, 2.0, b), [1.0]);
        assert_eq!(w.observe("s", 180_000, 3.0, b), [1.0, 3.0]);
    }
}
