//! `backtest`: the configured gate replayed over many past windows of a service's own
//! history. Each window's baseline is the history just before it and its watch is the
//! window itself; every window goes through [`crate::gate::judge`], the replay `analyze`
//! runs, so a backtest window and `analyze` on the same rows decide alike.
//!
//! Pure: the history comes in as plain values, [`mde`] injects shifts into copies.

mod history;
pub mod mde;
mod warn;

pub use history::{metric_of, split_control, History, CONTROL_SUFFIX};
pub use warn::warnings;

use crate::gate::{judge, GatePlan, Tick};
use crate::model::{Reading, Sample, Timestamp};
use crate::policy::Verdict;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where the past windows fall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowPlan {
    /// Length of each window's baseline, just before it (ms).
    pub baseline_ms: i64,
    /// Length of each watched window (ms): the config's `duration`.
    pub watch_ms: i64,
    /// Distance between the ends of two windows (ms).
    pub every_ms: i64,
    /// At most this many windows, the most recent.
    pub max_windows: Option<usize>,
}

/// One past window: the baseline `(baseline_start, start]` and the watch `(start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    pub baseline_start: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Point indices of the baseline and of the watch in the history.
    #[serde(skip)]
    pub baseline: (usize, usize),
    #[serde(skip)]
    pub watch: (usize, usize),
}

/// The windows of `plan` over `history`, oldest first: the last one ends at the last
/// point, each earlier one `every` before; a window whose baseline would begin before the
/// history is left out. An error when not even one fits.
pub fn windows(history: &History, plan: &WindowPlan) -> Result<Vec<Window>, String> {
    if plan.watch_ms <= 0 || plan.baseline_ms <= 0 || plan.every_ms <= 0 {
        return Err("the watch, the baseline and --every must be longer than 0".into());
    }
    let (Some(&first), Some(&last)) = (history.times.first(), history.times.last()) else {
        return Err("the history has no points".into());
    };
    // The first point stands for the step before it too: a grid that starts exactly one
    // baseline before a window gives that window a whole baseline.
    let earliest = first - history.step();
    let mut out = Vec::new();
    let mut end = last;
    while end - plan.watch_ms - plan.baseline_ms >= earliest {
        if plan.max_windows.is_some_and(|n| out.len() >= n) {
            break;
        }
        let start = end - plan.watch_ms;
        let baseline_start = start - plan.baseline_ms;
        out.push(Window {
            baseline_start,
            start,
            end,
            baseline: history.between(baseline_start, start),
            watch: history.between(start, end),
        });
        end -= plan.every_ms;
    }
    if out.is_empty() {
        return Err(format!(
            "the history covers {} but one window needs {} (a baseline of {} before a watch of \
             {}): read a longer history (--since) or shorten --baseline-window",
            fmt_ms(last - earliest),
            fmt_ms(plan.baseline_ms + plan.watch_ms),
            fmt_ms(plan.baseline_ms),
            fmt_ms(plan.watch_ms),
        ));
    }
    out.reverse();
    Ok(out)
}

/// Windows inside one baseline (`check --online`, before any history is kept): watches of
/// `watch_ms` ending at the last point and every half watch before it, at most `max`, each
/// judged against the whole baseline. Empty when the baseline is shorter than one watch.
pub fn windows_within(history: &History, watch_ms: i64, max: usize) -> Vec<Window> {
    let (Some(&first), Some(&last)) = (history.times.first(), history.times.last()) else {
        return Vec::new();
    };
    let step = history.step();
    let whole = (0, history.times.len());
    let mut out = Vec::new();
    let mut end = last;
    while end - watch_ms >= first - step && out.len() < max && watch_ms > 0 {
        let start = end - watch_ms;
        out.push(Window {
            baseline_start: first - step,
            start,
            end,
            baseline: whole,
            watch: history.between(start, end),
        });
        end -= (watch_ms / 2).max(1);
    }
    out.reverse();
    out
}

/// A duration in ms as `1h 15m`.
pub fn fmt_ms(ms: i64) -> String {
    let secs = (ms.max(0) as u64).div_ceil(1000);
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

/// A shift injected into one metric's watched values: each is multiplied by `factor`
/// (`1.2`: 20 % up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift<'a> {
    pub metric: &'a str,
    pub factor: f64,
}

/// What the gate did on one past window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowResult {
    #[serde(flatten)]
    pub window: Window,
    /// Ticks judged (the replay stops at a rollback).
    pub ticks: u32,
    /// `healthy`, `rollback` or `inconclusive`; `None` when the window could not be judged.
    pub verdict: Option<Verdict>,
    /// Whether the gate would have run the rollback (a rollback, or a fail-closed
    /// inconclusive window).
    pub rollback: bool,
    pub decided_at: Option<Timestamp>,
    /// The policy's reasons (or why the window was not judged).
    pub reason: String,
    /// Rules that fired in the window (dry-run rules excluded).
    pub rules: Vec<String>,
    /// What each of them saw: `rule on series: the detector's reason`, in firing order.
    pub findings: Vec<String>,
}

impl WindowResult {
    /// Whether the window was judged at all (it had a baseline for every rule).
    pub fn judged(&self) -> bool {
        self.verdict.is_some()
    }
}

/// Replays one window through the gate of `plan` (optionally with `shift` injected into
/// its watched values). `plan` must already be restricted to the history's metrics.
pub fn replay_window(
    plan: &GatePlan,
    history: &History,
    w: &Window,
    shift: Option<Shift>,
) -> WindowResult {
    let (b0, b1) = w.baseline;
    let (s0, s1) = w.watch;
    // The baseline is the canary's own history; a control is read over the watch's ticks.
    let rows: HashMap<String, Vec<f64>> = history
        .series
        .iter()
        .filter(|(k, _)| !split_control(k).1)
        .map(|(k, v)| (k.clone(), v[b0..b1].to_vec()))
        .collect();
    let mut result = WindowResult {
        window: *w,
        ticks: 0,
        verdict: None,
        rollback: false,
        decided_at: None,
        reason: String::new(),
        rules: Vec::new(),
        findings: Vec::new(),
    };
    if s1 == s0 {
        result.reason = "no point of the history in this window (a gap)".into();
        return result;
    }
    let plan = plan
        .clone()
        .with_baseline(rows)
        .with_planned_ticks((s1 - s0) as u32);
    if let Some(m) = plan.missing_baseline() {
        result.reason = format!(
            "no baseline: `{}` has no value in the {} before the window (a gap), which rule `{}` \
             needs",
            m.metric,
            fmt_ms(w.start - w.baseline_start),
            m.rule
        );
        return result;
    }
    let judged = judge(plan, ticks(history, s0, s1, shift), history.times[s0]);
    let d = judged.decision;
    result.ticks = judged.driven.ticks;
    result.verdict = Some(d.verdict);
    result.rollback = d.wants_rollback();
    result.decided_at = judged.driven.decided_tick.map(|_| d.at);
    result.reason = d.reason();
    let fired: Vec<_> = judged
        .gate
        .anomalies()
        .iter()
        .filter(|a| !a.dry_run)
        .collect();
    result.findings = fired
        .iter()
        .map(|a| format!("{} on {}: {}", a.rule, a.series, a.reason))
        .collect();
    let mut rules: Vec<String> = fired.iter().map(|a| a.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    result.rules = rules;
    result
}

/// The ticks of points `s0..s1`: every series' value (NaN: a missing sample, as an empty
/// cell of an `analyze` file), `shift` applied to its metric's series (never to its control:
/// the shift is a regression of the new version). A `<series> (control)` column is the
/// control's reading of that series, as `analyze --control` gives it.
fn ticks<'a>(
    history: &'a History,
    s0: usize,
    s1: usize,
    shift: Option<Shift<'a>>,
) -> impl Iterator<Item = Tick> + 'a {
    (s0..s1).map(move |i| Tick {
        at: history.times[i],
        samples: history
            .series
            .iter()
            .map(|(name, values)| {
                let (series, control) = split_control(name);
                let metric = metric_of(series);
                let factor = shift
                    .filter(|s| s.metric == metric && !control)
                    .map_or(1.0, |s| s.factor);
                let v = values[i];
                let reading = if v.is_finite() {
                    Reading::Value(v * factor)
                } else {
                    Reading::Missing("empty cell".into())
                };
                Sample {
                    metric: metric.to_string(),
                    series: series.to_string(),
                    reading,
                    control,
                }
            })
            .collect(),
    })
}

/// Every window replayed, `progress` called after each.
pub fn replay_all(
    plan: &GatePlan,
    history: &History,
    windows: &[Window],
    mut progress: impl FnMut(),
) -> Vec<WindowResult> {
    windows
        .iter()
        .map(|w| {
            let r = replay_window(plan, history, w, None);
            progress();
            r
        })
        .collect()
}

/// The false-rollback count of a backtest: windows judged, windows that would have rolled
/// back, and per rule the rolled-back windows it fired in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tally {
    pub windows: usize,
    pub judged: usize,
    pub rollbacks: usize,
    pub inconclusive: usize,
    /// `rollbacks / judged` (0 with nothing judged).
    pub rate: f64,
    /// The rules that fired in rolled-back windows, most first.
    pub by_rule: Vec<RuleCount>,
}

/// How many rolled-back windows a rule fired in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCount {
    pub rule: String,
    pub windows: usize,
}

/// Counts the results.
pub fn tally(results: &[WindowResult]) -> Tally {
    let judged = results.iter().filter(|r| r.judged()).count();
    let rollbacks = results.iter().filter(|r| r.rollback).count();
    let inconclusive = results
        .iter()
        .filter(|r| r.verdict == Some(Verdict::Inconclusive))
        .count();
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.rollback) {
        for rule in &r.rules {
            *by.entry(rule.clone()).or_default() += 1;
        }
    }
    let mut by_rule: Vec<RuleCount> = by
        .into_iter()
        .map(|(rule, windows)| RuleCount { rule, windows })
        .collect();
    by_rule.sort_by(|a, b| b.windows.cmp(&a.windows).then(a.rule.cmp(&b.rule)));
    Tally {
        windows: results.len(),
        judged,
        rollbacks,
        inconclusive,
        rate: if judged == 0 {
            0.0
        } else {
            rollbacks as f64 / judged as f64
        },
        by_rule,
    }
}

#[cfg(test)]
mod tests;
