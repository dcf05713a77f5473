//! Batch scoring with AVX2 (x86-64, checked at run time), still bit-identical to the walk.
//!
//! Two changes of representation make a tree step a handful of vector instructions:
//!
//! - **Exact ranks instead of values.** For each feature, every threshold the forest uses is
//!   sorted into `cuts`. A value `x` becomes its rank, the number of cuts `<= x`; a split on
//!   cut number `j` sends `x` right (`x >= cut[j]`) exactly when `rank(x) > j`. This is exact
//!   (not a quantisation): if `x >= cut[j]` then cuts `0..=j` are all `<= x`, so the rank is at
//!   least `j + 1`; if `x < cut[j]` then no cut from `j` on is `<= x`, so the rank is at most
//!   `j`. NaN ranks 0 and goes left, as in the walk. Ranks are found through a bucket table
//!   over the finite cuts plus one 8-wide compare (or a binary search when the cuts are too
//!   clustered for the table).
//! - **Micro-trees of three levels.** The complete tree is cut into subtrees of 7 nodes; each
//!   node is one `i32`, `rank << 3 | feature`. A row (at most 8 features, each `rank << 3`)
//!   sits in one 256-bit register: `vpermd` with the record as index picks, for all 7 nodes at
//!   once, the row's value of that node's feature (it reads the low 3 bits), one signed
//!   compare against the same record decides all 7 (`r << 3 > j << 3 | f` iff `r > j`), and a
//!   256-entry table turns the 7-bit mask into the subtree's exit 0..8. A depth-8 tree is 3
//!   such steps instead of 8 dependent loads; 8 rows go in lockstep so their steps overlap.

use super::Compiled;
use std::arch::x86_64::{
    __m256i, _mm256_castsi256_ps, _mm256_cmp_pd, _mm256_cmpgt_epi32, _mm256_load_si256,
    _mm256_loadu_pd, _mm256_loadu_si256, _mm256_movemask_pd, _mm256_movemask_ps,
    _mm256_permutevar8x32_epi32, _mm256_set1_pd, _CMP_LE_OQ,
};

/// Levels per micro-tree (7 nodes fill 7 of a register's 8 lanes).
const LEVELS: usize = 3;
/// Most micro-tree stages compiled (trees up to 12 levels deep).
const MAX_STAGES: usize = 4;
/// Rows walked through one tree in lockstep.
const LANES: usize = 8;
/// Rows ranked and then run through every tree before the next block starts.
const BLOCK: usize = 512;
/// Cuts compared at once after the bucket lookup: at most this many cuts share a bucket.
const SCAN: usize = 8;
/// A node that sends every row left: padding levels and lanes, NaN thresholds.
const LEFT: i32 = i32::MAX;

/// One micro-tree: 7 node records in heap order and one unused lane.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
struct Micro([i32; 8]);

/// The forest in micro-tree form with the per-feature rank tables.
///
/// Only [`Avx2::new`] makes one, and only after finding AVX2 and POPCNT on this CPU: holding
/// an `Avx2` is the proof the `unsafe` `#[target_feature]` functions below rely on, so the
/// CPU is checked once per forest, not per call.
#[derive(Debug, Clone)]
pub(super) struct Avx2 {
    stages: usize,
    trees: usize,
    dims: usize,
    /// Micro-trees per tree: 1 + 8 + 64 + … over the stages.
    per_tree: usize,
    micro: Vec<Micro>,
    /// `trees × 8^stages` path lengths.
    leaf: Vec<f64>,
    rankers: Vec<Ranker>,
    /// Subtree exit for each compare mask, times 32 (a micro-tree's size in bytes).
    exit: [u8; 256],
}

impl Avx2 {
    /// The AVX2 form of `c`, or `None` when the CPU lacks AVX2, a row has more than 8
    /// features, or the trees are deeper than 12 levels.
    pub(super) fn new(c: &Compiled) -> Option<Avx2> {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt")) {
            return None;
        }
        Avx2::build(c)
    }

    fn build(c: &Compiled) -> Option<Avx2> {
        let stages = c.depth.div_ceil(LEVELS);
        if c.dims > 8 || stages > MAX_STAGES {
            return None;
        }
        let padded = LEVELS * stages;
        let inner = (1usize << c.depth) - 1;
        let mut cuts = vec![Vec::new(); c.dims];
        for (t, &f) in c.threshold.iter().zip(&c.feature) {
            if !t.is_nan() {
                cuts[f as usize].push(*t);
            }
        }
        for v in &mut cuts {
            v.sort_by(f64::total_cmp);
            v.dedup_by(|a, b| a.to_bits() == b.to_bits());
            if v.len() >= 1 << 28 {
                return None; // ranks must fit an i32 shifted left by 3
            }
        }
        let per_tree = stage_start(stages);
        let leaves = 1usize << padded;
        let mut micro = vec![Micro([LEFT; 8]); per_tree * c.trees];
        let mut leaf = vec![0.0; leaves * c.trees];
        for t in 0..c.trees {
            for level in 0..c.depth {
                for i in 0..(1usize << level) {
                    let node = t * inner + (1 << level) - 1 + i;
                    let (thr, f) = (c.threshold[node], c.feature[node] as usize);
                    let (stage, l) = (level / LEVELS, level % LEVELS);
                    let lane = (1 << l) - 1 + (i & ((1 << l) - 1));
                    let m = t * per_tree + stage_start(stage) + (i >> l);
                    micro[m].0[lane] = if thr.is_nan() {
                        LEFT
                    } else {
                        let j = cuts[f]
                            .binary_search_by(|q| q.total_cmp(&thr))
                            .expect("every threshold is a cut");
                        ((j as i32) << 3) | f as i32
                    };
                }
            }
            // Padding levels send rows left, so bottom slot `i` holds real leaf `i >> pad`.
            let pad = padded - c.depth;
            for (i, v) in leaf[t * leaves..(t + 1) * leaves].iter_mut().enumerate() {
                *v = c.leaf[t * (inner + 1) + (i >> pad)];
            }
        }
        let mut exit = [0u8; 256];
        for (mask, e) in exit.iter_mut().enumerate() {
            let right = |node: usize| (mask >> node) & 1;
            let b0 = right(0);
            let b1 = right(1 + b0);
            let b2 = right(3 + 2 * b0 + b1);
            *e = ((4 * b0 + 2 * b1 + b2) * size_of::<Micro>()) as u8;
        }
        Some(Avx2 {
            stages,
            trees: c.trees,
            dims: c.dims,
            per_tree,
            micro,
            leaf,
            rankers: cuts.into_iter().map(Ranker::new).collect(),
            exit,
        })
    }

    /// Adds each row's total path length over all trees to `acc` (one entry per row).
    pub(super) fn add_path_lengths(&self, data: &[f64], acc: &mut [f64]) {
        let mut ranks = vec![[0i32; 8]; BLOCK];
        for (b, block) in acc.chunks_mut(BLOCK).enumerate() {
            let rows = &data[b * BLOCK * self.dims..(b * BLOCK + block.len()) * self.dims];
            let ranks = &mut ranks[..block.len()];
            // SAFETY (both calls): `new` built `self` only after finding AVX2 and POPCNT on
            // this CPU; `ranks` and `block` have the same length, and `rows` holds that many
            // rows of `self.dims` values.
            unsafe { self.rank_rows(rows, ranks) };
            for t in 0..self.trees {
                unsafe {
                    match self.stages {
                        1 => self.tree_block::<1>(t, ranks, block),
                        2 => self.tree_block::<2>(t, ranks, block),
                        3 => self.tree_block::<3>(t, ranks, block),
                        _ => self.tree_block::<4>(t, ranks, block),
                    }
                }
            }
        }
    }

    /// Writes each row's ranks, shifted left by 3, into `out` (one feature at a time, so
    /// one rank table is in use at once).
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2 and POPCNT (true of any `Avx2`, see [`Avx2::new`]).
    #[target_feature(enable = "avx2,popcnt")]
    unsafe fn rank_rows(&self, rows: &[f64], out: &mut [[i32; 8]]) {
        for (f, ranker) in self.rankers.iter().enumerate() {
            for (row, r) in rows.chunks_exact(self.dims).zip(out.iter_mut()) {
                r[f] = (ranker.rank(row[f]) << 3) as i32;
            }
        }
    }

    /// Runs the ranked `rows` through tree `t`, adding path lengths to `acc`.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2 (true of any `Avx2`, see [`Avx2::new`]); `STAGES` must be
    /// `self.stages`, `t < self.trees`, `rows.len() == acc.len()` and every row's ranks must
    /// come from `rank_rows` of this forest (so each is below its feature's cut count). The
    /// first two and the lengths are asserted; the reads below rely on them.
    #[target_feature(enable = "avx2")]
    unsafe fn tree_block<const STAGES: usize>(&self, t: usize, rows: &[[i32; 8]], acc: &mut [f64]) {
        assert!(STAGES == self.stages && t < self.trees && rows.len() == acc.len());
        let tree = self.micro[t * self.per_tree..(t + 1) * self.per_tree].as_ptr();
        // Byte address of each stage's first micro-tree; `k` below is a byte offset in it.
        let mut stage = [tree.cast::<u8>(); MAX_STAGES];
        for (s, p) in stage.iter_mut().enumerate().take(STAGES) {
            *p = tree.add(stage_start(s)).cast();
        }
        let leaves = 1usize << (LEVELS * STAGES);
        let leaf = self.leaf[t * leaves..(t + 1) * leaves]
            .as_ptr()
            .cast::<u8>();
        // SAFETY of the unchecked reads: `k` is 32 × (a micro-tree index of its stage): the
        // exit table holds 32 × 0..8 and each stage multiplies by 8, as the next stage has 8
        // times as many micro-trees; after the last stage `k / 32` is a leaf index, so
        // `k / 4` is its byte offset in `leaf`. Rows are read below `rows.len()`.
        let row = |r: usize| _mm256_loadu_si256(rows.as_ptr().add(r).cast::<__m256i>());
        let mut groups = acc.chunks_exact_mut(LANES);
        let mut r = 0;
        for group in &mut groups {
            // Each row loaded once into a register for all its stages.
            let x: [__m256i; LANES] = std::array::from_fn(|l| row(r + l));
            let mut k = [0usize; LANES];
            for p in stage.iter().take(STAGES) {
                for (x, k) in x.iter().zip(k.iter_mut()) {
                    *k = *k * 8 + step(&self.exit, *x, p.add(*k));
                }
            }
            for (a, k) in group.iter_mut().zip(k) {
                *a += *leaf.add(k >> 2).cast::<f64>();
            }
            r += LANES;
        }
        for a in groups.into_remainder() {
            let mut k = 0;
            for p in stage.iter().take(STAGES) {
                k = k * 8 + step(&self.exit, row(r), p.add(k));
            }
            *a += *leaf.add(k >> 2).cast::<f64>();
            r += 1;
        }
    }
}

/// Micro-trees of a tree before stage `s`: 1 + 8 + … + 8^(s−1).
const fn stage_start(s: usize) -> usize {
    ((1 << (LEVELS * s)) - 1) / ((1 << LEVELS) - 1)
}

/// One micro-tree step for the ranked row `x`: the exit (times 32) from the micro-tree at
/// `at`. Inlined into its one caller, `tree_block`, which has the same target features.
///
/// # Safety
///
/// The CPU must support AVX2; `at` must point to a 32-byte aligned [`Micro`] (a micro-tree
/// of this forest) and `exit` be the forest's exit table (every entry of which is in range).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn step(exit: &[u8; 256], x: __m256i, at: *const u8) -> usize {
    let node = _mm256_load_si256(at.cast::<__m256i>());
    let right = _mm256_cmpgt_epi32(_mm256_permutevar8x32_epi32(x, node), node);
    *exit.get_unchecked(_mm256_movemask_ps(_mm256_castsi256_ps(right)) as usize) as usize
}

/// Exact rank of a value among one feature's sorted cuts: how many cuts are `<= x`.
#[derive(Debug, Clone)]
struct Ranker {
    /// Sorted by `total_cmp`, then `SCAN` NaNs (which no value is `>=`).
    cuts: Vec<f64>,
    /// Bucket of `x`: `clamp((x - lo) * scale, 0, top)`, truncated; monotone in `x`.
    lo: f64,
    scale: f64,
    top: f64,
    /// `start[b]`: cuts in buckets before `b`; empty when the cuts are too clustered for
    /// buckets of at most `SCAN` cuts and ranks come from a binary search instead.
    start: Vec<u32>,
}

impl Ranker {
    fn new(mut cuts: Vec<f64>) -> Ranker {
        let n = cuts.len();
        let finite: Vec<f64> = cuts.iter().copied().filter(|c| c.is_finite()).collect();
        let (lo, hi) = match (finite.first(), finite.last()) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => (0.0, 0.0),
        };
        let mut ranker = Ranker {
            cuts: Vec::new(),
            lo,
            scale: 0.0,
            top: 0.0,
            start: Vec::new(),
        };
        // Buckets double until none holds more than SCAN cuts, up to 64 per cut.
        let mut buckets = (2 * n).next_power_of_two().max(2);
        while buckets <= (64 * n).max(1024) {
            ranker.scale = if hi > lo {
                buckets as f64 / (hi - lo)
            } else {
                0.0
            };
            ranker.top = (buckets - 1) as f64;
            let mut start = vec![0u32; buckets + 1];
            for &c in &cuts {
                start[ranker.bucket(c) + 1] += 1;
            }
            if start.iter().all(|&k| k as usize <= SCAN) {
                for b in 1..=buckets {
                    start[b] += start[b - 1];
                }
                ranker.start = start;
                break;
            }
            buckets *= 2;
        }
        cuts.extend([f64::NAN; SCAN]);
        ranker.cuts = cuts;
        ranker
    }

    #[inline(always)]
    fn bucket(&self, x: f64) -> usize {
        // `max` maps NaN to bucket 0; the clamp keeps the cast in range.
        ((x - self.lo) * self.scale).max(0.0).min(self.top) as usize
    }

    /// Cuts `<= x`. Exact: cuts in earlier buckets are `< x` and in later ones `> x` (the
    /// bucket is monotone in `x`), and the `SCAN` cuts from `x`'s bucket's start count the
    /// rest (cuts of later buckets among them, and the NaN padding, are not `<= x`).
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2 and POPCNT, and `self` must come from [`Ranker::new`] (its
    /// `SCAN` NaN padding keeps the 8-wide read inside `cuts`). Inlined into its one
    /// caller, `rank_rows`, which has the same target features.
    #[target_feature(enable = "avx2,popcnt")]
    #[inline]
    unsafe fn rank(&self, x: f64) -> u32 {
        if self.start.is_empty() {
            let n = self.cuts.len() - SCAN;
            return self.cuts[..n].partition_point(|c| *c <= x) as u32;
        }
        // SAFETY: the bucket is at most `top < start.len()`, and `start[b] <= n`, so the
        // `SCAN` values read from it lie in `cuts` (n cuts + SCAN padding).
        let s = *self.start.get_unchecked(self.bucket(x)) as usize;
        let p = self.cuts.as_ptr().add(s);
        let xv = _mm256_set1_pd(x);
        let a = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(_mm256_loadu_pd(p), xv));
        let b = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(_mm256_loadu_pd(p.add(4)), xv));
        s as u32 + (a | b << 4).count_ones()
    }
}

#[cfg(test)]
impl Avx2 {
    /// Whether feature `f`'s ranks come from the bucket table (not the binary search).
    pub(super) fn bucketed(&self, f: usize) -> bool {
        !self.rankers[f].start.is_empty()
    }
}
