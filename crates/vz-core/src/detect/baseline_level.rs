//! The per-look significance level of the `baseline` detector: its whole-watch alpha spread
//! over the planned looks (`stats::sequential`), and the sentence saying so.

use super::stats::fmt_p;
use super::stats::sequential::{
    first_useful_look, growing_threshold, look_stride, sliding_threshold, LookPlan, LookThreshold,
};
use crate::model::{fmt_num, Direction};

/// What a rule's looks are held to: its params that set the level (from `BaselineParams`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Looks {
    pub p_value: f64,
    pub plan: LookPlan,
    pub direction: Direction,
    pub min_samples: usize,
}

/// The per-look significance level of one evaluation, and where it comes from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Level {
    /// Nominal p-value below which this look is significant (in the test's own sidedness).
    pub nominal: f64,
    plan: LookPlan,
    threshold: Option<LookThreshold>,
    /// Ticks between two looks (1 unless the watch plans more than `MAX_LOOKS`).
    stride: usize,
}

impl Level {
    /// `reference_len`: baseline values, or
    /// [`GROWING_REFERENCE`](super::stats::sequential::GROWING_REFERENCE) for a control that
    /// grows with the window.
    pub fn of(params: &Looks, reference_len: usize, n: usize) -> Level {
        let plan = params.plan;
        if plan.looks == 0 {
            return Level {
                nominal: params.p_value,
                plan,
                threshold: None,
                stride: 1,
            };
        }
        // Two-sided: half the alpha on each side, the two-sided p against twice the level.
        let sides = if params.direction == Direction::Either {
            2.0
        } else {
            1.0
        };
        let alpha = plan.alpha / sides;
        let planned = plan.looks as usize;
        let (t, stride) = if plan.sliding {
            (sliding_threshold(alpha, planned), 1)
        } else {
            let first = first_useful_look(alpha, planned, params.min_samples.max(1), reference_len);
            (
                growing_threshold(alpha, planned, params.min_samples, reference_len, n),
                look_stride(planned, first),
            )
        };
        Level {
            nominal: t.nominal * sides,
            plan,
            threshold: Some(t),
            stride,
        }
    }

    /// Computes the rule's look boundary ahead of its looks (see
    /// [`super::stats::sequential::prepare_growing`]); `reference_len` as for [`Level::of`].
    pub fn prepare(params: &Looks, reference_len: usize) {
        if params.plan.looks > 0 && !params.plan.sliding {
            Level::of(params, reference_len, params.plan.looks as usize);
        }
    }

    /// What the threshold is, after `p < threshold`.
    pub fn describe(&self, n: usize) -> String {
        let Some(t) = self.threshold else {
            return String::new();
        };
        let (alpha, looks) = (fmt_p(self.plan.alpha), self.plan.looks);
        if self.plan.sliding {
            format!(
                " (whole-watch alpha {alpha} over {looks} planned looks, Bonferroni: \
                 {} per look)",
                fmt_level(self.nominal)
            )
        } else if t.nominal == 0.0 && n > looks as usize {
            format!(" (past the {looks} planned looks: the whole-watch alpha {alpha} is spent)")
        } else if t.nominal == 0.0 && t.spent > 0.0 {
            format!(
                " (not a look: over {looks} planned ticks the rule looks every {} ticks, \
                 whole-watch alpha {alpha})",
                self.stride
            )
        } else if t.nominal == 0.0 {
            format!(
                " (no look yet: {n} values cannot reach the corrected threshold of a whole-watch \
                 alpha {alpha} over {looks} planned looks)"
            )
        } else {
            format!(
                " (the corrected threshold at {n} values of {looks} planned: whole-watch alpha \
                 {alpha}, {} spent by this look; Lan-DeMets power-spending boundary z {})",
                fmt_level(t.spent),
                fmt_num(t.z)
            )
        }
    }
}

/// A threshold or an alpha for a sentence, to two significant digits below 0.001
/// (`2.5e-4`), so a corrected level never prints rounded to another number.
pub(super) fn fmt_level(x: f64) -> String {
    if x > 0.0 && x < 1e-3 {
        format!("{x:.1e}")
    } else {
        fmt_num(x)
    }
}
