//! The isolation forest compiled for batch scoring: every tree padded to a complete binary
//! tree of one fixed depth, so a row takes exactly `depth` branch-free steps per tree.
//!
//! Internal nodes sit in heap order (children of `i` at `2i + 1` and `2i + 2`) as two flat
//! arrays, `feature` and `threshold`; the `2^depth` bottom slots hold the path length of the
//! real leaf above them (its depth + c(size), the very number the plain walk returns). A
//! node below an early leaf is a pass-through whose two subtrees end in copies of that leaf,
//! so whichever way a row goes it lands on the same value: the scores are bit-for-bit those
//! of the node-by-node walk, summed over the trees in the same order.

use super::{Node, LEAF};

#[cfg(target_arch = "x86_64")]
#[path = "isolation_forest_avx2.rs"]
mod avx2;

/// Deepest padded tree compiled; deeper forests (huge `sample_size`) use the plain walk.
pub const MAX_DEPTH: usize = 12;

/// Rows walked through one tree in lockstep, so their dependent loads overlap.
const LANES: usize = 8;
/// Rows per block: a block runs through every tree before the next block starts.
const BLOCK: usize = 1024;

/// A forest flattened into complete trees of depth `depth`.
#[derive(Debug, Clone)]
pub struct Compiled {
    depth: usize,
    dims: usize,
    trees: usize,
    /// `trees × (2^depth − 1)` split features (each `< dims`).
    feature: Vec<u8>,
    /// `trees × (2^depth − 1)` split thresholds (a row goes right when `x >= threshold`).
    threshold: Vec<f64>,
    /// `trees × 2^depth` path lengths.
    leaf: Vec<f64>,
    /// The same trees in AVX2 form, when this CPU has it (see `isolation_forest_avx2.rs`).
    #[cfg(target_arch = "x86_64")]
    avx2: Option<avx2::Avx2>,
}

impl Compiled {
    /// Compiles trees given as node lists (node 0 the root), or `None` when a tree is deeper
    /// than [`MAX_DEPTH`] or there are more than 256 features.
    pub(super) fn new(dims: usize, trees: &[Vec<Node>]) -> Option<Compiled> {
        let depth = trees.iter().map(|t| tree_depth(t, 0)).max()?.max(1);
        if depth > MAX_DEPTH || dims > 256 {
            return None;
        }
        let inner = (1usize << depth) - 1;
        let mut c = Compiled {
            depth,
            dims,
            trees: trees.len(),
            feature: vec![0; trees.len() * inner],
            threshold: vec![f64::INFINITY; trees.len() * inner],
            leaf: vec![0.0; trees.len() * (inner + 1)],
            #[cfg(target_arch = "x86_64")]
            avx2: None,
        };
        for (t, tree) in trees.iter().enumerate() {
            c.place(t, tree, 0, 0);
        }
        #[cfg(target_arch = "x86_64")]
        {
            c.avx2 = avx2::Avx2::new(&c);
        }
        Some(c)
    }

    /// Writes node `at` of tree `t` into heap slot `slot` and recurses.
    fn place(&mut self, t: usize, tree: &[Node], at: usize, slot: usize) {
        let inner = (1usize << self.depth) - 1;
        let n = tree[at];
        if n.feature != LEAF {
            assert!(
                (n.feature as usize) < self.dims,
                "split on a feature the rows lack"
            );
            self.feature[t * inner + slot] = n.feature as u8;
            self.threshold[t * inner + slot] = n.split;
            let left = n.left as usize;
            self.place(t, tree, left, 2 * slot + 1);
            self.place(t, tree, left + 1, 2 * slot + 2);
        } else {
            // Every bottom slot under `slot` gets the leaf's path length.
            let (mut lo, mut hi) = (slot, slot);
            while lo < inner {
                lo = 2 * lo + 1;
                hi = 2 * hi + 2;
            }
            let base = t * (inner + 1);
            self.leaf[base + lo - inner..=base + hi - inner].fill(n.split);
        }
    }

    /// Adds each row's total path length over all trees to `acc` (one entry per row), with
    /// AVX2 where the CPU has it.
    pub fn add_path_lengths(&self, data: &[f64], acc: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if let Some(a) = &self.avx2 {
            return a.add_path_lengths(data, acc);
        }
        self.add_path_lengths_portable(data, acc);
    }

    /// With AVX2: whether feature `f`'s ranks come from the bucket table.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(super) fn bucketed(&self, f: usize) -> Option<bool> {
        self.avx2.as_ref().map(|a| a.bucketed(f))
    }

    /// Whether batches are scored with AVX2.
    pub fn uses_avx2(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self.avx2.is_some();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// [`Compiled::add_path_lengths`] on any CPU: the padded trees walked 8 rows in lockstep.
    pub fn add_path_lengths_portable(&self, data: &[f64], acc: &mut [f64]) {
        let dims = self.dims;
        for (b, block) in acc.chunks_mut(BLOCK).enumerate() {
            let rows = &data[b * BLOCK * dims..(b * BLOCK + block.len()) * dims];
            for t in 0..self.trees {
                self.tree_block(t, rows, block);
            }
        }
    }

    /// Runs `rows` through tree `t`, adding path lengths to `acc`.
    fn tree_block(&self, t: usize, rows: &[f64], acc: &mut [f64]) {
        let dims = self.dims;
        let inner = (1usize << self.depth) - 1;
        let feature = &self.feature[t * inner..(t + 1) * inner];
        let threshold = &self.threshold[t * inner..(t + 1) * inner];
        let leaf = &self.leaf[t * (inner + 1)..(t + 1) * (inner + 1)];
        assert_eq!(rows.len(), acc.len() * dims);
        let mut groups = acc.chunks_exact_mut(LANES);
        let mut r = 0;
        for group in &mut groups {
            let x = &rows[r * dims..(r + LANES) * dims];
            let mut idx = [0usize; LANES];
            for _ in 0..self.depth {
                for (l, i) in idx.iter_mut().enumerate() {
                    let n = *i;
                    // SAFETY: `n` is a node of the `depth - 1` levels walked so far, so
                    // `n < 2^depth - 1 = inner = feature.len() = threshold.len()`; every
                    // feature is `< dims` (checked in `new`) and `l < LANES`, so the row
                    // index is `< LANES * dims = x.len()`. Unchecked, as this is the whole
                    // cost of batch scoring and bounds checks nearly double it.
                    unsafe {
                        let v = *x.get_unchecked(l * dims + *feature.get_unchecked(n) as usize);
                        *i = 2 * n + 1 + usize::from(v >= *threshold.get_unchecked(n));
                    }
                }
            }
            for (a, i) in group.iter_mut().zip(idx) {
                *a += leaf[i - inner];
            }
            r += LANES;
        }
        for a in groups.into_remainder() {
            let x = &rows[r * dims..(r + 1) * dims];
            let mut n = 0;
            for _ in 0..self.depth {
                n = 2 * n + 1 + usize::from(x[feature[n] as usize] >= threshold[n]);
            }
            *a += leaf[n - inner];
            r += 1;
        }
    }
}

/// Depth of the deepest leaf under node `at`.
fn tree_depth(tree: &[Node], at: usize) -> usize {
    let n = tree[at];
    if n.feature == LEAF {
        return 0;
    }
    let left = n.left as usize;
    1 + tree_depth(tree, left).max(tree_depth(tree, left + 1))
}
