//! `baseline`: has a statistic of the watched window moved more than X% from the baseline's,
//! in the watched direction, and is the shift significant (Mann-Whitney U, as Kayenta does)?
//!
//! A window statistic, not a point test: it answers even when the latest tick was missing,
//! from the values the window holds.

pub use super::against::Against;
use super::against::Reference;
use super::baseline_level::{fmt_level, Level, Looks};
use super::stats::dependence::Dependence;
use super::stats::effect::{hodges_lehmann, quantile_bound, Shift, Side, QUANTILE_CONFIDENCE};
use super::stats::sequential::{LookPlan, GROWING_REFERENCE};
use super::stats::{
    finite_values, fmt_apart, fmt_p, mann_whitney_u_both_sorted, side, sort_values, watched_only,
    Alternative, Stat,
};
use super::{Finding, Input, NoAnswer, Outcome};
use crate::model::{fmt_num, Direction};
use serde::{Deserialize, Serialize};

/// Below this magnitude a baseline statistic counts as zero: relative change is undefined
/// and the change is judged absolutely against `min_delta`.
pub const ZERO_BASELINE: f64 = 1e-9;

/// Config of the `baseline` detector:
/// `{ stat: p95, direction: increase, max_change: "20%", p_value: 0.01, min_delta: 0,
/// min_samples: 3 }` (the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineParams {
    /// Statistic compared (default `p95`, the latency-regression case DESIGN.md shows).
    #[serde(default = "default_stat")]
    pub stat: Stat,
    /// Which way of moving counts (default `increase`).
    #[serde(default = "default_direction")]
    pub direction: Direction,
    /// Largest tolerated relative change, in percent (default 20; `20` or `"20%"`).
    #[serde(
        default = "default_max_change",
        deserialize_with = "crate::units::percent"
    )]
    pub max_change: f64,
    /// Whole-watch false-alarm probability of this rule (default 0.01): the chance that it
    /// fires at any tick of a watch of an unchanged service. The gate caps it at the rule's
    /// share of `policy.alpha` and spreads it over the planned looks (see [`LookPlan`]).
    #[serde(default = "default_p_value")]
    pub p_value: f64,
    /// Smallest absolute change that counts (default 0); the only yardstick for a zero baseline.
    #[serde(default)]
    pub min_delta: f64,
    /// Window values needed before answering (default 3): fewer is "not enough data".
    #[serde(default = "default_min_samples")]
    pub min_samples: usize,
    /// What the window is compared with: `baseline` (pre-deploy) or `control` (the
    /// metric's `control:` over the same ticks). Unset: control when the metric has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against: Option<Against>,
    /// Whether consecutive ticks may depend on each other (`auto`, the default: the
    /// dependence is estimated from the baseline or control and discounted) or are known to
    /// be independent (`none`: e.g. probes of separate requests; more power, and a false
    /// rollback bound that holds only if they really are).
    #[serde(default, skip_serializing_if = "DependenceMode::is_auto")]
    pub dependence: DependenceMode,
    /// `against` resolved by the gate from the metric (never written in config).
    #[serde(skip)]
    pub compare: Against,
    /// How the rule's whole-watch alpha is spread over its looks: filled in by the gate
    /// (`policy.alpha`, the planned watch), never written in config. Left at its default
    /// (no plan) `p_value` is a fixed-sample level applied to each look on its own.
    #[serde(skip)]
    pub plan: LookPlan,
}

fn default_stat() -> Stat {
    Stat::P95
}
fn default_direction() -> Direction {
    Direction::Increase
}
fn default_max_change() -> f64 {
    20.0
}
fn default_p_value() -> f64 {
    0.01
}
fn default_min_samples() -> usize {
    3
}

impl Default for BaselineParams {
    fn default() -> Self {
        BaselineParams {
            stat: default_stat(),
            direction: default_direction(),
            max_change: default_max_change(),
            p_value: default_p_value(),
            min_delta: 0.0,
            min_samples: default_min_samples(),
            against: None,
            dependence: DependenceMode::Auto,
            compare: Against::Baseline,
            plan: LookPlan::default(),
        }
    }
}

/// `dependence:` of the `baseline` detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependenceMode {
    /// Estimate the dependence between ticks and discount it.
    #[default]
    Auto,
    /// Treat ticks as independent.
    None,
}

impl DependenceMode {
    fn is_auto(&self) -> bool {
        *self == DependenceMode::Auto
    }
}

/// The one-sided test matching a direction (two-sided for `either`).
pub fn alternative(direction: Direction) -> Alternative {
    match direction {
        Direction::Increase => Alternative::Greater,
        Direction::Decrease => Alternative::Less,
        Direction::Either => Alternative::TwoSided,
    }
}

/// Compares the window's statistic with the baseline's, and both distributions with
/// Mann-Whitney U held to the rule's whole-watch boundary ([`LookPlan`]). A p95/p99 change
/// counts only when a 95 % distribution-free confidence bound on the window's quantile is
/// past `max_change` too, so one lone outlier in a short window is not a regression. Every
/// significant shift is reported with its Hodges–Lehmann estimate and 95 % interval.
/// Non-finite window values are dropped.
pub fn evaluate(params: &BaselineParams, input: &Input) -> Outcome {
    let needed = params.min_samples.max(1);
    let reference = Reference::of(params.compare, input, needed)?;
    let mut window = finite_values(input.window.values);
    if window.len() < needed {
        return Err(NoAnswer::NotEnoughData(format!(
            "{needed} window values needed, {} so far",
            window.len()
        )));
    }
    sort_values(&mut window);
    let stat = params.stat;
    let cur = stat.of_sorted(&window);
    let base = reference.stat(stat);
    let alt = alternative(params.direction);
    let dependence = dependence_of(params.dependence, &reference, input);
    let p = rank_test(&reference, &window, alt, &dependence);
    let reference_len = if reference.grows() {
        GROWING_REFERENCE
    } else {
        reference.sorted.len()
    };
    let level = Level::of(&params.looks(), reference_len, window.len());
    let significant = p < level.nominal;
    let delta = cur - base;
    let admitted = params.direction.admits(delta);
    let (judged, bound) = judged_value(stat, &window, cur, delta);
    let judged_delta = if delta == 0.0 { 0.0 } else { judged - base };
    let moved = Moved {
        name: stat.as_str(),
        against: reference.against.as_str(),
        cur,
        base,
        delta,
        judged_delta,
        bound,
    };
    let m = if base.abs() < ZERO_BASELINE {
        moved.absolute(params)
    } else {
        moved.relative(params)
    };
    let (change, big_enough) = (m.change, m.big_enough);

    let active = admitted && big_enough && significant;
    let (p_text, level_text) = fmt_apart(p, level.nominal, fmt_p, fmt_level);
    let mut test = format!(
        "Mann-Whitney U p={p_text} {} {level_text}{}",
        if significant { "<" } else { "≥" },
        level.describe(window.len())
    );
    if significant {
        if let Some(shift) = hodges_lehmann(&reference.sorted, &window, 0.95) {
            test.push_str(&format!("; {}", describe_shift(&shift)));
        }
    }
    if params.dependence == DependenceMode::Auto {
        test.push_str(&describe_dependence(&dependence, &reference, window.len()));
    }
    test.push_str(&reference.describe(stat, base));
    let reason = if active {
        format!("{change}, and the shift is significant: {test}")
    } else if delta != 0.0 && !admitted {
        format!("{change}, but {}; {test}", watched_only(params.direction))
    } else if !big_enough {
        format!("{change}, {}; {test}", m.why)
    } else {
        format!("{change}, but the shift is not significant: {test}")
    };
    Ok(Finding {
        active,
        observed: cur,
        expected: reference.expected(stat, base),
        score: Some(m.score),
        p_value: Some(p),
        statistic: moved.name,
        reason,
    })
}

/// A window statistic against the reference's: `judged_delta` is the change of its
/// confidence bound (`bound` names it; the point change when there is none).
struct Moved<'a> {
    name: &'static str,
    against: &'a str,
    cur: f64,
    base: f64,
    delta: f64,
    judged_delta: f64,
    bound: Option<String>,
}

/// How far the statistic moved, in words, and whether that is far enough to count (if not,
/// `why`).
struct Magnitude {
    score: f64,
    change: String,
    big_enough: bool,
    why: String,
}

impl Moved<'_> {
    /// Against a zero reference: the change is judged absolutely, against `min_delta`.
    fn absolute(&self, params: &BaselineParams) -> Magnitude {
        let Moved {
            name,
            against,
            delta,
            judged_delta,
            ..
        } = *self;
        let (cur_s, base_s) = (fmt_num(self.cur), fmt_num(self.base));
        let min_delta = fmt_num(params.min_delta);
        let change = if delta == 0.0 {
            format!("{name} {cur_s} equals {against} {base_s}")
        } else {
            format!(
                "{name} {cur_s} is {} {} {against} {base_s}",
                fmt_num(delta.abs()),
                side(delta)
            )
        };
        let change = format!(
            "{change} ({against} is 0, relative change undefined; compared absolutely, \
             min_delta {min_delta})"
        );
        let big = judged_delta.abs() > params.min_delta && same_way(judged_delta, delta);
        let why = match &self.bound {
            Some(b) if delta.abs() > params.min_delta => {
                format!("but {b} is not more than min_delta {min_delta} away")
            }
            _ => format!("no more than min_delta {min_delta}"),
        };
        Magnitude {
            score: delta,
            change,
            big_enough: big,
            why,
        }
    }

    /// Against a nonzero reference: the relative change against `max_change`, and the
    /// absolute one against `min_delta`.
    fn relative(&self, params: &BaselineParams) -> Magnitude {
        let Moved {
            name,
            against,
            base,
            delta,
            judged_delta,
            ..
        } = *self;
        let (cur_s, base_s) = (fmt_num(self.cur), fmt_num(base));
        let min_delta = fmt_num(params.min_delta);
        let rel = delta / base.abs() * 100.0;
        let judged_rel = judged_delta / base.abs() * 100.0;
        let change = if delta == 0.0 {
            format!("{name} {cur_s} equals {against} {base_s}")
        } else {
            format!(
                "{name} {cur_s} is {}% {} {against} {base_s}",
                fmt_num(rel.abs()),
                side(delta)
            )
        };
        let limits = if params.min_delta > 0.0 {
            format!("max {}%, min_delta {min_delta}", fmt_num(params.max_change))
        } else {
            format!("max {}%", fmt_num(params.max_change))
        };
        let change = match &self.bound {
            Some(b) if judged_delta != 0.0 => format!(
                "{change} ({limits}; {b} is {}% {})",
                fmt_num(judged_rel.abs()),
                side(judged_delta)
            ),
            Some(b) => format!("{change} ({limits}; {b})"),
            None => format!("{change} ({limits})"),
        };
        let big_rel = judged_rel.abs() > params.max_change && same_way(judged_delta, delta);
        let big_abs = judged_delta.abs() >= params.min_delta;
        let why = if rel.abs() <= params.max_change {
            "within the allowed change".to_string()
        } else if !big_rel {
            "but the confidence bound is within the allowed change (too few values to tell \
             one outlier from a regression)"
                .to_string()
        } else {
            format!(
                "but the change {} is below min_delta {min_delta}",
                fmt_num(judged_delta.abs())
            )
        };
        Magnitude {
            score: rel,
            change,
            big_enough: big_rel && big_abs,
            why,
        }
    }
}

impl BaselineParams {
    /// Computes the look boundary this rule's looks will use against a reference of
    /// `reference_len` values (or [`GROWING_REFERENCE`] for a control), before the watch.
    pub fn prepare(&self, reference_len: usize) {
        Level::prepare(&self.looks(), reference_len);
    }

    fn looks(&self) -> Looks {
        Looks {
            p_value: self.p_value,
            plan: self.plan,
            direction: self.direction,
            min_samples: self.min_samples,
        }
    }
}

/// The dependence a look is judged with: estimated from what the deploy cannot have touched
/// (the baseline's ticks, a control's), never from the watched ticks — a regression that
/// steps or ramps through the window would read as dependence and hide itself. A reference
/// too short to show it (a 10-sample probe baseline) leaves it unknown: the ticks are then
/// taken as independent, and the reason, `baseline` and `check` say so.
fn dependence_of(mode: DependenceMode, reference: &Reference, input: &Input) -> Dependence {
    if mode == DependenceMode::None {
        return Dependence::NONE;
    }
    reference.lag1(input).dependence()
}

/// The one-sided (two-sided for `either`) Mann-Whitney p-value of the window against the
/// reference, its variance inflated by the dependence between ticks on both sides.
fn rank_test(reference: &Reference, window: &[f64], alt: Alternative, d: &Dependence) -> f64 {
    let mwu = mann_whitney_u_both_sorted(&reference.sorted, window, alt);
    let inflation = if reference.grows() {
        d.against_growing(window.len())
    } else {
        d.inflation(reference.sorted.len(), window.len())
    };
    discount(mwu.p_value, alt, inflation)
}

/// `; lag-1 autocorrelation ≤ 0.82: 30 ticks ≈ 3.6 effective samples (baseline 240 ≈ 29)`.
fn describe_dependence(d: &Dependence, reference: &Reference, n: usize) -> String {
    let mut s = format!("; {}", d.describe(n));
    if !reference.grows() && !d.unknown {
        let m = reference.sorted.len();
        s.push_str(&format!(
            " (baseline {m} ≈ {})",
            super::stats::dependence::fmt_eff(d.effective(m))
        ));
    }
    s
}

/// The p-value of a test whose statistic's variance is `inflation` times what the
/// independent-ticks p-value assumed: z shrinks by √inflation (two-sided: per side).
fn discount(p: f64, alt: Alternative, inflation: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) || inflation <= 1.0 {
        return p;
    }
    let sides = if alt == Alternative::TwoSided {
        2.0
    } else {
        1.0
    };
    let normal = statrs::distribution::Normal::standard();
    use statrs::distribution::ContinuousCDF;
    let z = -normal.inverse_cdf((p / sides).min(0.5));
    (normal.cdf(-z / inflation.sqrt()) * sides).min(1.0)
}

/// Whether a bound's change points the same way as the point estimate's.
fn same_way(judged: f64, point: f64) -> bool {
    judged != 0.0 && judged.signum() == point.signum()
}

/// The value a change is judged by: the point statistic, or for p95/p99 the one-sided 95 %
/// confidence bound on the window's quantile nearest the baseline (a lower bound for a rise,
/// an upper bound for a fall), with a phrase naming it. No bound (too few values): the
/// quantile cannot be shown to have moved, so it is judged at no change.
fn judged_value(stat: Stat, window: &[f64], cur: f64, delta: f64) -> (f64, Option<String>) {
    let q = match stat {
        Stat::P95 | Stat::P99 if delta != 0.0 => stat.quantile().unwrap_or(0.5),
        _ => return (cur, None),
    };
    let pct = fmt_num(QUANTILE_CONFIDENCE * 100.0);
    let (side, word) = if delta > 0.0 {
        (Side::Lower, "lower")
    } else {
        (Side::Upper, "upper")
    };
    match quantile_bound(window, q, QUANTILE_CONFIDENCE, side) {
        Some(b) => {
            let b = if delta > 0.0 { b.min(cur) } else { b.max(cur) };
            (
                b,
                Some(format!("its {pct}% {word} confidence bound {}", fmt_num(b))),
            )
        }
        None => (
            cur - delta,
            Some(format!(
                "no {pct}% {word} confidence bound from {} values",
                window.len()
            )),
        ),
    }
}

/// `Hodges–Lehmann shift +40.5 (95% CI +36 to +45)`.
pub fn describe_shift(s: &Shift) -> String {
    let signed = |v: f64| {
        if v == f64::INFINITY {
            "∞".to_string()
        } else if v == f64::NEG_INFINITY {
            "−∞".to_string()
        } else if v > 0.0 {
            format!("+{}", fmt_num(v))
        } else {
            fmt_num(v)
        }
    };
    format!(
        "Hodges–Lehmann shift {} ({}% CI {} to {})",
        signed(s.estimate),
        fmt_num(s.confidence * 100.0),
        signed(s.low),
        signed(s.high)
    )
}

impl super::Detector for BaselineParams {
    fn name(&self) -> &'static str {
        "baseline"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if !(self.p_value > 0.0 && self.p_value <= 1.0) {
            return super::invalid("p_value", "must be in (0, 1]");
        }
        if !(self.max_change >= 0.0 && self.max_change.is_finite()) {
            return super::invalid("max_change", "must be 0% or more");
        }
        if self.min_samples == 0 {
            return super::invalid("min_samples", "must be at least 1");
        }
        Ok(())
    }

    fn evaluate(&self, input: &Input) -> Outcome {
        evaluate(self, input)
    }

    fn needs_baseline(&self) -> bool {
        self.compare == Against::Baseline
    }

    fn statistical(&self) -> Option<&dyn super::Statistical> {
        Some(self)
    }

    fn statistical_mut(&mut self) -> Option<&mut dyn super::Statistical> {
        Some(self)
    }
}

impl super::Statistical for BaselineParams {
    fn p_value(&self) -> f64 {
        self.p_value
    }

    fn set_plan(&mut self, plan: LookPlan) {
        self.plan = plan;
    }

    fn prepare(&self, reference_len: usize) {
        BaselineParams::prepare(self, reference_len);
    }

    fn against(&self) -> Option<Against> {
        self.against
    }

    fn compare(&self) -> Against {
        self.compare
    }

    fn set_compare(&mut self, against: Against) {
        self.compare = against;
    }
}

#[cfg(test)]
#[path = "baseline_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "baseline_control_tests.rs"]
mod control_tests;

#[cfg(test)]
#[path = "baseline_dependence_tests.rs"]
mod dependence_tests;
