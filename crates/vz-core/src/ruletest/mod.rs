//! Rule unit tests in the spirit of `promtool test rules`: input series per metric, a
//! baseline, and the anomalies and decision expected. Each case is replayed through the same
//! loop as `watch` and `analyze` ([`crate::gate::replay`]), stopping at the decision.

pub mod series;

use crate::gate::{replay, GatePlan, Tick};
use crate::model::{Sample, Severity, Timestamp};
use crate::policy::{Decision, Verdict};
use serde::{Deserialize, Serialize};
use series::{expand_within, Point, SeriesText};
use std::collections::BTreeMap;
use std::time::Duration;

/// One case: series in, anomalies and decision out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// Pre-deploy series per metric (the rows of one `baseline` run).
    #[serde(default)]
    pub baseline: BTreeMap<String, SeriesText>,
    /// Watched series per metric; tick i of every series is one tick of the gate.
    pub input: BTreeMap<String, SeriesText>,
    /// The control (stable version) per metric over the same ticks as `input`: `baseline`
    /// rules on these metrics compare against it unless they say `against: baseline`.
    #[serde(default)]
    pub control: BTreeMap<String, SeriesText>,
    #[serde(default)]
    pub expect: Expect,
}

/// What the case must produce.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exactly these anomalies fire (until the decision), at these ticks.
    #[serde(default)]
    pub anomalies: Vec<ExpectedAnomaly>,
    /// The verdict: healthy, rollback or inconclusive.
    pub decision: Option<ExpectedVerdict>,
    /// Tick (0-based) at which the policy decided to roll back.
    pub decided_at: Option<usize>,
}

/// An anomaly expected to fire.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAnomaly {
    pub rule: String,
    /// Tick (0-based) at which it fires.
    pub tick: usize,
    pub series: Option<String>,
    pub severity: Option<Severity>,
}

/// A verdict as written in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedVerdict {
    Healthy,
    Rollback,
    Inconclusive,
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub file: String,
    pub name: String,
    pub passed: bool,
    /// Readable differences, one line each (`-` expected, `+` got).
    pub diff: Vec<String>,
}

fn expand_all(
    file: &str,
    case: &str,
    what: &str,
    m: &BTreeMap<String, SeriesText>,
    budget: &mut usize,
) -> Result<BTreeMap<String, Vec<Point>>, String> {
    m.iter()
        .map(|(k, s)| {
            expand_within(s, budget)
                .map(|v| (k.clone(), v))
                .map_err(|e| format!("{file}: test `{case}`: {what}.{k}: {e}"))
        })
        .collect()
}

/// Start of the replayed clock (any fixed instant works: the gate only sees differences).
const T0: Timestamp = 1_700_000_000_000;

/// The rules under test for one case: its baselines and controls given, planned over its
/// ticks, restricted to the metrics it gives as input; Err when a metric is not one of the
/// rules' or a rule lacks the baseline or control it compares with.
fn case_plan(
    file: &str,
    plan: &GatePlan,
    case: &TestCase,
    input: &BTreeMap<String, Vec<Point>>,
    base: &BTreeMap<String, Vec<Point>>,
    control: &BTreeMap<String, Vec<Point>>,
) -> Result<(GatePlan, usize), String> {
    for m in input.keys().chain(base.keys()).chain(control.keys()) {
        if !plan.metrics.iter().any(|s| &s.name == m) {
            return Err(format!(
                "{file}: test `{}`: `{m}` is not a metric of the rules under test",
                case.name
            ));
        }
    }
    let rows = base
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(Point::value).collect()))
        .collect();
    let ticks = input.values().map(Vec::len).max().unwrap_or(0);
    // As `analyze`: only metrics given as input are replayed, and the rules on them.
    let mut plan = plan
        .clone()
        .with_baseline(rows)
        .with_planned_ticks(ticks as u32)
        .with_controls(|m| control.contains_key(m));
    plan.restrict_to(|m| input.contains_key(m));
    if let Some(m) = plan.missing_baseline() {
        return Err(format!(
            "{file}: test `{}`: rule `{}` ({} detector) needs a baseline of `{}`: give `baseline: {{ {}: ... }}`",
            case.name, m.rule, m.detector, m.metric, m.metric
        ));
    }
    if let Some((rule, metric)) = plan.missing_control() {
        return Err(format!(
            "{file}: test `{}`: rule `{rule}` compares against a control: give `control: {{ {metric}: ... }}`",
            case.name
        ));
    }
    Ok((plan, ticks))
}

/// Notes in `diff` where the decision, or the tick it was reached at, is not the expected.
fn diff_decision(
    case: &TestCase,
    decision: &Decision,
    decided_tick: Option<usize>,
    diff: &mut Vec<String>,
) {
    let verdict = match decision.verdict {
        Verdict::Healthy => ExpectedVerdict::Healthy,
        Verdict::Rollback => ExpectedVerdict::Rollback,
        Verdict::Inconclusive => ExpectedVerdict::Inconclusive,
    };
    if let Some(want) = case.expect.decision {
        if want != verdict {
            diff.push(format!(
                "decision: - {} + {} ({})",
                lower(want),
                lower(verdict),
                decision.reason()
            ));
        }
    }
    if let Some(want) = case.expect.decided_at {
        if decided_tick != Some(want) {
            let got = decided_tick.map_or("never".into(), |t| format!("tick {t}"));
            diff.push(format!("decided_at: - tick {want} + {got}"));
        }
    }
}

/// Runs one case against `plan` (the rules under test, with the policy), one tick every
/// `interval`. Err: the case itself is unusable (bad series, unknown metric, no baseline).
pub fn run_case(
    file: &str,
    plan: &GatePlan,
    interval: Duration,
    case: &TestCase,
) -> Result<CaseResult, String> {
    // One budget for every series of the case: memory stays bounded however many there are.
    let mut budget = series::MAX_POINTS;
    let input = expand_all(file, &case.name, "input", &case.input, &mut budget)?;
    let base = expand_all(file, &case.name, "baseline", &case.baseline, &mut budget)?;
    let control = expand_all(file, &case.name, "control", &case.control, &mut budget)?;
    let (plan, ticks) = case_plan(file, plan, case, &input, &base, &control)?;
    let mut gate = plan.build();
    let step = interval.as_millis() as Timestamp;
    let at = |i: usize| T0 + i as Timestamp * step;
    let driven = replay(
        &mut gate,
        (0..ticks).map(|i| Tick {
            at: at(i),
            samples: input
                .iter()
                .filter_map(|(m, v)| v.get(i).map(|p| Sample::new(m, p.reading())))
                .chain(
                    control
                        .iter()
                        .filter_map(|(m, v)| v.get(i).map(|p| Sample::of_control(m, p.reading()))),
                )
                .collect(),
        }),
    );
    let decision = driven.conclude(&mut gate, at(ticks.saturating_sub(1)));
    let decided_tick = driven.decided_tick.map(|t| t as usize);
    let tick_of = |t: Timestamp| ((t - T0) / step.max(1)) as usize;
    let got: Vec<(String, String, usize, Severity)> = gate
        .anomalies()
        .iter()
        .map(|a| {
            (
                a.rule.clone(),
                a.series.clone(),
                tick_of(a.fired_at),
                a.severity,
            )
        })
        .collect();
    let mut diff = Vec::new();
    diff_anomalies(&case.expect.anomalies, &got, &mut diff);
    diff_decision(case, &decision, decided_tick, &mut diff);
    Ok(CaseResult {
        file: file.to_string(),
        name: case.name.clone(),
        passed: diff.is_empty(),
        diff,
    })
}

fn lower(v: ExpectedVerdict) -> &'static str {
    match v {
        ExpectedVerdict::Healthy => "healthy",
        ExpectedVerdict::Rollback => "rollback",
        ExpectedVerdict::Inconclusive => "inconclusive",
    }
}

fn diff_anomalies(
    want: &[ExpectedAnomaly],
    got: &[(String, String, usize, Severity)],
    diff: &mut Vec<String>,
) {
    let mut used = vec![false; got.len()];
    let mut missing = Vec::new();
    for w in want {
        let hit = got.iter().enumerate().position(|(i, g)| {
            !used[i]
                && g.0 == w.rule
                && g.2 == w.tick
                && w.series.as_ref().is_none_or(|s| *s == g.1)
                && w.severity.is_none_or(|s| s == g.3)
        });
        match hit {
            Some(i) => used[i] = true,
            None => missing.push(w),
        }
    }
    for w in missing {
        let also = got
            .iter()
            .filter(|g| g.0 == w.rule)
            .map(|g| format!("tick {}", g.2))
            .collect::<Vec<_>>();
        let note = if also.is_empty() {
            "never fired".to_string()
        } else {
            format!("fired at {}", also.join(", "))
        };
        let sev = w
            .severity
            .map_or(String::new(), |s| format!(" {}", s.as_str()));
        diff.push(format!(
            "anomaly: - {}{} at tick {}{sev} ({note})",
            w.rule,
            w.series
                .as_ref()
                .map_or(String::new(), |s| format!(" on {s}")),
            w.tick
        ));
    }
    for (g, _) in got.iter().zip(&used).filter(|(_, u)| !**u) {
        diff.push(format!(
            "anomaly: + {} on {} at tick {} {} (not expected)",
            g.0,
            g.1,
            g.2,
            g.3.as_str()
        ));
    }
}
