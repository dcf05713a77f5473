//! One isolation tree: its nodes, how it is grown from a sample of rows, and how far a row
//! walks down it.

use super::{c_factor, SplitMix64};

/// The `feature` of a leaf node.
pub(super) const LEAF: u32 = u32::MAX;

/// One node: an internal split (`feature`, `split`, children at `left`, `left + 1`) or a
/// leaf (`feature == LEAF`, `split` = depth + c(size), the path length it contributes).
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    pub(super) split: f64,
    pub(super) feature: u32,
    pub(super) left: u32,
}

#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub(super) fn grow(
    rows: &[&[f64]],
    sample: &mut [usize],
    at: usize,
    depth: usize,
    limit: usize,
    dims: usize,
    rng: &mut SplitMix64,
    nodes: &mut Vec<Node>,
) {
    let leaf = |n: usize| Node {
        split: depth as f64 + c_factor(n),
        feature: LEAF,
        left: 0,
    };
    if depth >= limit || sample.len() <= 1 {
        nodes[at] = leaf(sample.len());
        return;
    }
    // A random feature among those not constant here (as scikit-learn's extra-trees splitter).
    let mut candidates: Vec<(usize, f64, f64)> = Vec::with_capacity(dims);
    for d in 0..dims {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &i in sample.iter() {
            lo = lo.min(rows[i][d]);
            hi = hi.max(rows[i][d]);
        }
        if hi > lo {
            candidates.push((d, lo, hi));
        }
    }
    if candidates.is_empty() {
        nodes[at] = leaf(sample.len());
        return;
    }
    let (d, lo, hi) = candidates[rng.below(candidates.len())];
    let mut split = lo + rng.next_f64() * (hi - lo);
    if split <= lo {
        split = f64::from_bits(lo.to_bits() + 1).min(hi);
    }
    // Partition in place: values < split to the left.
    let mut k = 0;
    for j in 0..sample.len() {
        if rows[sample[j]][d] < split {
            sample.swap(j, k);
            k += 1;
        }
    }
    let left = nodes.len();
    nodes.push(leaf(0));
    nodes.push(leaf(0));
    nodes[at] = Node {
        split,
        feature: d as u32,
        left: left as u32,
    };
    let (l, r) = sample.split_at_mut(k);
    grow(rows, l, left, depth + 1, limit, dims, rng, nodes);
    grow(rows, r, left + 1, depth + 1, limit, dims, rng, nodes);
}

#[inline]
pub(super) fn path_length(tree: &[Node], row: &[f64]) -> f64 {
    let mut i = 0usize;
    loop {
        let n = tree[i];
        if n.feature == LEAF {
            return n.split;
        }
        i = n.left as usize + usize::from(row[n.feature as usize] >= n.split);
    }
}
