//! `isolation_forest`: is the joint vector of several metrics unlike the baseline's?
//!
//! Liu, Ting & Zhou (2008): each tree isolates points by random axis-parallel splits; an
//! anomaly is isolated in few splits. The score is `2^(-E[h(x)] / c(ψ))` in (0, 1], the same
//! number scikit-learn's `-score_samples` gives: ~0.5 and below is ordinary, close to 1 is
//! anomalous. Own implementation (no crate): seeded SplitMix64 so a forest is the same on
//! every run; batches are scored through the trees compiled to complete fixed-depth ones
//! (`isolation_forest_fast.rs`), and with AVX2 as exact feature ranks run through 3-level
//! micro-trees (`isolation_forest_avx2.rs`), both bit-identical to the node-by-node walk
//! kept here.

use super::{evaluated_by_gate, invalid, Detector, Finding, Input, NoAnswer, Outcome};
use crate::model::{fmt_num, Expected};
use serde::Deserialize;

/// Config: `isolation_forest: { metrics: [cpu, mem, p95], trees: 100, sample_size: 256 }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestParams {
    /// The metrics whose latest values form the joint vector (at least 2).
    pub metrics: Vec<String>,
    /// Number of isolation trees.
    #[serde(default = "default_trees")]
    pub trees: usize,
    /// Rows drawn (without replacement) from the baseline for each tree.
    #[serde(default = "default_sample_size")]
    pub sample_size: usize,
    /// Anomaly score above which the tick is active; default 0.65 unless `contamination` is set.
    pub threshold: Option<f64>,
    /// Share of baseline rows expected to be anomalous: the threshold becomes the
    /// (1 − contamination) quantile of the baseline rows' own scores.
    pub contamination: Option<f64>,
    /// Seed of the random splits and subsamples (same seed, same forest).
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_trees() -> usize {
    100
}
fn default_sample_size() -> usize {
    256
}
fn default_seed() -> u64 {
    42
}

/// Score threshold used when neither `threshold` nor `contamination` is given.
pub const DEFAULT_THRESHOLD: f64 = 0.65;
/// Fewest baseline rows a forest is trained on.
pub const MIN_ROWS: usize = 16;

#[path = "isolation_forest_rng.rs"]
mod rng;
pub use rng::{c_factor, SplitMix64};

#[path = "isolation_forest_fast.rs"]
mod fast;

#[path = "isolation_forest_tree.rs"]
mod tree;
use tree::{grow, path_length, Node, LEAF};

/// How [`Forest::score_many_via`] takes rows through the trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPath {
    /// The fastest this CPU has: AVX2 micro-trees, else the portable compiled trees.
    Best,
    /// The compiled complete trees walked 8 rows in lockstep, on any CPU.
    Portable,
    /// Every row walks every tree node by node.
    Walk,
}

/// A trained forest over `dims`-dimensional rows.
#[derive(Debug, Clone)]
pub struct Forest {
    dims: usize,
    trees: Vec<Vec<Node>>,
    /// The same trees padded to complete ones for batch scoring (`None` if too deep).
    compiled: Option<fast::Compiled>,
    c_psi: f64,
    /// Per-feature median and MAD of the training rows, to say which metric looks unusual.
    centre: Vec<(f64, f64)>,
    /// Scores of the training rows, sorted ascending (for contamination thresholds).
    train_scores: Vec<f64>,
}

impl Forest {
    /// Trains on `rows` (row-major, `dims` values each; rows with a non-finite value dropped).
    pub fn fit(
        data: &[f64],
        dims: usize,
        trees: usize,
        sample_size: usize,
        seed: u64,
    ) -> Result<Forest, String> {
        if dims == 0 || trees == 0 || sample_size < 2 {
            return Err("needs at least 1 metric, 1 tree and a sample size of 2".into());
        }
        let rows: Vec<&[f64]> = data
            .chunks_exact(dims)
            .filter(|r| r.iter().all(|v| v.is_finite()))
            .collect();
        if rows.len() < MIN_ROWS {
            return Err(format!(
                "{} complete baseline rows, at least {MIN_ROWS} needed",
                rows.len()
            ));
        }
        let psi = sample_size.min(rows.len());
        let height_limit = (psi as f64).log2().ceil() as usize;
        let mut rng = SplitMix64::new(seed);
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        let mut forest = Vec::with_capacity(trees);
        for _ in 0..trees {
            // Partial Fisher-Yates: the first psi indices are a sample without replacement.
            for i in 0..psi {
                let j = i + rng.below(idx.len() - i);
                idx.swap(i, j);
            }
            let mut sample: Vec<usize> = idx[..psi].to_vec();
            let mut nodes = vec![Node {
                split: 0.0,
                feature: LEAF,
                left: 0,
            }];
            grow(
                &rows,
                &mut sample,
                0,
                0,
                height_limit,
                dims,
                &mut rng,
                &mut nodes,
            );
            forest.push(nodes);
        }
        let centre = (0..dims)
            .map(|d| {
                let col: Vec<f64> = rows.iter().map(|r| r[d]).collect();
                super::stats::median_mad(&col)
            })
            .collect();
        let mut f = Forest {
            dims,
            compiled: fast::Compiled::new(dims, &forest),
            trees: forest,
            c_psi: c_factor(psi),
            centre,
            train_scores: Vec::new(),
        };
        let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        let mut scores = f.score_many(&flat);
        super::stats::sort_values(&mut scores);
        f.train_scores = scores;
        Ok(f)
    }

    /// Number of values in a row.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The anomaly score of one row, in (0, 1].
    pub fn score(&self, row: &[f64]) -> f64 {
        let h: f64 = self.trees.iter().map(|t| path_length(t, row)).sum();
        self.normalise(h)
    }

    fn normalise(&self, total_path: f64) -> f64 {
        let mean = total_path / self.trees.len() as f64;
        if self.c_psi == 0.0 {
            return 0.5;
        }
        (-mean / self.c_psi).exp2()
    }

    /// Scores every row of `data` (row-major) the fastest way this CPU has.
    pub fn score_many(&self, data: &[f64]) -> Vec<f64> {
        self.score_many_via(data, BatchPath::Best)
    }

    /// The straightforward batch scorer: every row walks every tree node by node.
    pub fn score_many_walk(&self, data: &[f64]) -> Vec<f64> {
        self.score_many_via(data, BatchPath::Walk)
    }

    /// Scores every row of `data` (row-major) by `path`; every path gives the same scores,
    /// bit for bit (the benchmarks time them against each other).
    pub fn score_many_via(&self, data: &[f64], path: BatchPath) -> Vec<f64> {
        let n = data.len() / self.dims;
        let data = &data[..n * self.dims];
        let mut out = vec![0.0; n];
        match (&self.compiled, path) {
            (Some(c), BatchPath::Best) => c.add_path_lengths(data, &mut out),
            (Some(c), BatchPath::Portable) => c.add_path_lengths_portable(data, &mut out),
            _ => self.add_path_lengths_walk(data, &mut out),
        }
        for acc in out.iter_mut() {
            *acc = self.normalise(*acc);
        }
        out
    }

    /// Whether [`Forest::score_many`] runs on AVX2 here (x86-64 CPU with AVX2, at most 8
    /// metrics, trees at most 12 levels deep).
    pub fn batch_uses_avx2(&self) -> bool {
        self.compiled.as_ref().is_some_and(|c| c.uses_avx2())
    }

    /// Blocks of rows, trees outer, so a tree stays in cache while a block runs through it.
    fn add_path_lengths_walk(&self, data: &[f64], out: &mut [f64]) {
        const BLOCK: usize = 2048;
        for (b, chunk) in out.chunks_mut(BLOCK).enumerate() {
            let base = b * BLOCK * self.dims;
            for tree in &self.trees {
                for (i, acc) in chunk.iter_mut().enumerate() {
                    let row = &data[base + i * self.dims..base + (i + 1) * self.dims];
                    *acc += path_length(tree, row);
                }
            }
        }
    }

    /// Like [`Forest::score_many`], spread over `threads` OS threads.
    pub fn score_many_parallel(&self, data: &[f64], threads: usize) -> Vec<f64> {
        let n = data.len() / self.dims;
        let per = n.div_ceil(threads.max(1)).max(1);
        let parts: Vec<Vec<f64>> = std::thread::scope(|s| {
            let handles: Vec<_> = data
                .chunks(per * self.dims)
                .map(|c| s.spawn(move || self.score_many(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("scoring thread"))
                .collect()
        });
        parts.concat()
    }

    /// The score at the (1 − contamination) quantile of the training rows.
    pub fn contamination_threshold(&self, contamination: f64) -> f64 {
        super::stats::quantile_sorted(&self.train_scores, 1.0 - contamination)
    }

    /// Index of the feature farthest from its training median, in MADs, and that distance.
    pub fn most_unusual(&self, row: &[f64]) -> (usize, f64) {
        row.iter()
            .zip(&self.centre)
            .map(|(v, (med, mad))| (v - med).abs() / mad.max(1e-9 * med.abs().max(1.0)))
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0))
    }
}

/// The active threshold of a trained forest under `params`.
pub fn threshold_of(params: &ForestParams, forest: &Forest) -> f64 {
    match (params.threshold, params.contamination) {
        (Some(t), _) => t,
        (None, Some(c)) => forest.contamination_threshold(c),
        (None, None) => DEFAULT_THRESHOLD,
    }
}

/// Judges one tick's joint vector (`values` in the order of `params.metrics`).
pub fn evaluate(
    params: &ForestParams,
    forest: Option<&Result<Forest, String>>,
    values: &[f64],
) -> Outcome {
    let forest = match forest {
        None => return Err(NoAnswer::NoBaseline),
        Some(Err(why)) => return Err(NoAnswer::NotEnoughData(format!("no forest: {why}"))),
        Some(Ok(f)) => f,
    };
    if values.len() != forest.dims() || values.iter().any(|v| !v.is_finite()) {
        return Err(NoAnswer::NotEnoughData(
            "not every metric of the joint vector has a value this tick".into(),
        ));
    }
    let score = forest.score(values);
    let threshold = threshold_of(params, forest);
    let active = score > threshold;
    let (d, dist) = forest.most_unusual(values);
    let vector = params
        .metrics
        .iter()
        .zip(values)
        .map(|(m, v)| format!("{m}={}", fmt_num(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    let reason = format!(
        "joint vector [{vector}] has isolation score {} {} {}; most unusual: {} ({} MADs from its baseline median)",
        fmt_num(score),
        if active { ">" } else { "<=" },
        fmt_num(threshold),
        params.metrics[d],
        fmt_num(dist)
    );
    Ok(Finding {
        active,
        observed: score,
        expected: Expected::Bound {
            op: ">".into(),
            value: threshold,
        },
        score: Some(score),
        p_value: None,
        statistic: "isolation score",
        reason,
    })
}

impl Detector for ForestParams {
    fn name(&self) -> &'static str {
        "isolation_forest"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if self.metrics.len() < 2 {
            return invalid(
                "metrics",
                "needs at least 2 metrics (one metric: use zscore or iqr)",
            );
        }
        if !(1..=10_000).contains(&self.trees) {
            return invalid("trees", "must be between 1 and 10000");
        }
        if self.sample_size < 2 {
            return invalid("sample_size", "must be at least 2");
        }
        if self.threshold.is_some_and(|t| !(t > 0.0 && t < 1.0)) {
            return invalid("threshold", "must be in (0, 1): an isolation score");
        }
        if self.contamination.is_some_and(|c| !(c > 0.0 && c <= 0.5)) {
            return invalid("contamination", "must be in (0, 0.5]");
        }
        if self.threshold.is_some() && self.contamination.is_some() {
            return invalid(
                "threshold",
                "give either threshold or contamination, not both",
            );
        }
        Ok(())
    }

    /// The gate judges the joint vector with [`evaluate`]; one series alone has no answer.
    fn evaluate(&self, _input: &Input) -> Outcome {
        evaluated_by_gate(self.name())
    }

    fn needs_baseline(&self) -> bool {
        true
    }

    fn joint_metrics(&self) -> Option<&[String]> {
        Some(&self.metrics)
    }
}

#[cfg(test)]
#[path = "isolation_forest_tests.rs"]
mod tests;
