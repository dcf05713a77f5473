//! The rollback decision policy: pure code over counts and streaks, no I/O, no clock.

use crate::model::{fmt_num, Severity, SeverityCounts, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Whether an inconclusive run passes (fail-open) or rolls back (fail-closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnInconclusive {
    #[default]
    Pass,
    Fail,
}

/// The rollback decision policy (DESIGN.md defaults). Read back from a stored summary with
/// defaults for whatever an older summary lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Roll back when at least this many anomalies of a severity fired (0 = never).
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    /// Roll back when this metric's latest value is above the bound (percent).
    pub error_rate: Option<ErrorRatePolicy>,
    /// Roll back when a probe has been down longer than this.
    #[serde(with = "humantime_serde_str")]
    pub max_downtime: Duration,
    /// Percent of a metric's ticks that may be missing before the run is inconclusive.
    pub max_missing: f64,
    pub on_inconclusive: OnInconclusive,
    /// Bound on the probability that a watch of an unchanged service is rolled back by the
    /// statistical rules, all rules, series and ticks together (default 0.01).
    pub alpha: f64,
    /// Ticks planned in the watch (duration / interval): the looks statistical rules spread
    /// their alpha over. Set from the config; replays set it to their length.
    pub looks: u32,
}

/// `policy.error_rate`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRatePolicy {
    pub metric: String,
    pub above: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            critical: 1,
            high: 3,
            medium: 0,
            low: 0,
            error_rate: None,
            max_downtime: Duration::from_secs(60),
            max_missing: 20.0,
            on_inconclusive: OnInconclusive::Pass,
            alpha: 0.01,
            looks: 30,
        }
    }
}

impl Policy {
    /// Anomalies of `severity` needed to roll back (0 = this severity never rolls back).
    pub fn limit(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => 0,
        }
    }
}

/// Ticks (and so statistical looks) in a window of `duration` sampled every `interval`: one
/// at the start, then one every interval up to the end. The one count `watch`'s grid, its
/// progress, the gate's early end and the policy's alpha spending all use.
pub fn planned_ticks(duration: Duration, interval: Duration) -> u32 {
    let n = duration.as_nanos() / interval.as_nanos().max(1);
    u32::try_from(n).unwrap_or(u32::MAX - 1).saturating_add(1)
}

mod humantime_serde_str {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The window passed.
    Healthy,
    /// The policy says roll back.
    Rollback,
    /// Too much data missing to decide.
    Inconclusive,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Healthy => "healthy",
            Verdict::Rollback => "rollback",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// A verdict with the tick it was reached at and why, in sentences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub at: Timestamp,
    /// Every trigger that held, one sentence each.
    pub reasons: Vec<String>,
    /// For inconclusive runs: whether the policy turned it into a rollback (fail-closed).
    pub fail_closed: bool,
}

impl Decision {
    /// All reasons joined for one-line output.
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }

    /// Whether this decision means the rollback must run.
    pub fn wants_rollback(&self) -> bool {
        self.verdict == Verdict::Rollback || self.fail_closed
    }
}

/// What the policy looks at after each tick.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput<'a> {
    /// Distinct anomalies fired so far (dry-run rules excluded), by severity.
    pub fired: SeverityCounts,
    /// Latest value of the error-rate metric, if it has one this tick.
    pub error_rate: Option<f64>,
    /// Longest current down streak among the probes: (series, seconds).
    pub longest_down: Option<(&'a str, f64)>,
}

/// Per-metric data completeness at the end of the window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Completeness {
    pub metric: String,
    pub ticks: u32,
    pub missing: u32,
    /// Longest run of consecutive missing samples.
    pub max_consecutive_missing: u32,
    pub consecutive_limit: u32,
}

impl Completeness {
    /// Missing share in percent.
    pub fn missing_percent(&self) -> f64 {
        if self.ticks == 0 {
            100.0
        } else {
            100.0 * self.missing as f64 / self.ticks as f64
        }
    }
}

/// Checked after every tick: Some(rollback decision) as soon as a trigger holds.
pub fn decide(policy: &Policy, input: &PolicyInput, now: Timestamp) -> Option<Decision> {
    let mut reasons = Vec::new();
    for sev in Severity::ALL {
        let limit = policy.limit(sev);
        let n = input.fired.get(sev);
        if limit > 0 && n >= limit {
            reasons.push(format!(
                "{n} {sev} anomal{} (policy: roll back at {limit})",
                if n == 1 { "y" } else { "ies" }
            ));
        }
    }
    if let (Some(er), Some(v)) = (&policy.error_rate, input.error_rate) {
        if v > er.above {
            reasons.push(format!(
                "error rate {} = {}% is above {}%",
                er.metric,
                fmt_num(v),
                fmt_num(er.above)
            ));
        }
    }
    if let Some((series, secs)) = input.longest_down {
        let max = policy.max_downtime.as_secs_f64();
        if secs >= max && max > 0.0 {
            reasons.push(format!(
                "{series} down for {}s (policy: max_downtime {}s)",
                fmt_num(secs),
                fmt_num(max)
            ));
        }
    }
    (!reasons.is_empty()).then_some(Decision {
        verdict: Verdict::Rollback,
        at: now,
        reasons,
        fail_closed: false,
    })
}

/// The healthy verdict's reason when no trigger held (see [`below_policy`] for the reason
/// when rules fired but too few for the policy).
pub const NOTHING_HELD: &str = "no rollback trigger held for the whole window";

/// Why a window whose rules fired still passed, one clause per severity that fired:
/// "2 high fired; the policy rolls back at 3". None when nothing fired.
pub fn below_policy(limit: impl Fn(Severity) -> u32, fired: &SeverityCounts) -> Option<String> {
    let clauses: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| (sev, fired.get(*sev)))
        .filter(|(_, n)| *n > 0)
        .map(|(sev, n)| match limit(*sev) {
            0 => format!("{n} {sev} fired; the policy never rolls back on {sev}"),
            l => format!("{n} {sev} fired; the policy rolls back at {l}"),
        })
        .collect();
    (!clauses.is_empty()).then(|| clauses.join("; "))
}

/// At the end of the window (no rollback decided): healthy, or inconclusive when data is
/// missing beyond `max_missing` or a metric hit its `consecutive_errors` limit.
pub fn conclude(policy: &Policy, completeness: &[Completeness], now: Timestamp) -> Decision {
    let reasons: Vec<String> = completeness
        .iter()
        .filter_map(|c| missing_reason(policy, c, None))
        .collect();
    if reasons.is_empty() {
        return Decision {
            verdict: Verdict::Healthy,
            at: now,
            reasons: vec![NOTHING_HELD.into()],
            fail_closed: false,
        };
    }
    inconclusive(policy, reasons, now)
}

/// During the window: an inconclusive decision as soon as missing data makes the run
/// inconclusive whatever the remaining ticks bring — a metric reached its
/// `consecutive_errors` limit, or more of the `planned` ticks are already missing than
/// `max_missing` allows. Waiting out a 15-minute window would change nothing.
pub fn inconclusive_early(
    policy: &Policy,
    completeness: &[Completeness],
    planned: Option<u32>,
    now: Timestamp,
) -> Option<Decision> {
    let reasons: Vec<String> = completeness
        .iter()
        .filter(|c| c.ticks > 0)
        .filter_map(|c| missing_reason(policy, c, Some(planned.unwrap_or(u32::MAX))))
        .collect();
    (!reasons.is_empty()).then(|| inconclusive(policy, reasons, now))
}

/// Why this metric makes the run inconclusive, if it does. `planned`: judge the share
/// against the whole planned window (during the run) instead of the ticks seen (at the end).
fn missing_reason(policy: &Policy, c: &Completeness, planned: Option<u32>) -> Option<String> {
    if c.ticks == 0 && planned.is_none() {
        return Some(format!("{}: no sample at all", c.metric));
    }
    let over_share = match planned {
        None => c.missing_percent() > policy.max_missing,
        Some(n) => c.missing as f64 * 100.0 > policy.max_missing * n as f64,
    };
    if over_share {
        let of = planned.map_or(c.ticks, |n| n.max(c.ticks));
        let pct = 100.0 * c.missing as f64 / of.max(1) as f64;
        let word = if planned.is_some() { "planned " } else { "" };
        Some(format!(
            "{}: {}/{} {word}samples missing ({}% > max_missing {}%)",
            c.metric,
            c.missing,
            of,
            fmt_num(pct),
            fmt_num(policy.max_missing)
        ))
    } else if c.max_consecutive_missing >= c.consecutive_limit {
        Some(format!(
            "{}: {} samples missing in a row (consecutive_errors {})",
            c.metric, c.max_consecutive_missing, c.consecutive_limit
        ))
    } else {
        None
    }
}

fn inconclusive(policy: &Policy, mut reasons: Vec<String>, now: Timestamp) -> Decision {
    let fail_closed = policy.on_inconclusive == OnInconclusive::Fail;
    reasons.push(if fail_closed {
        "on_inconclusive: fail (fail-closed) → roll back".into()
    } else {
        "on_inconclusive: pass (fail-open) → no rollback".into()
    });
    Decision {
        verdict: Verdict::Inconclusive,
        at: now,
        reasons,
        fail_closed,
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
