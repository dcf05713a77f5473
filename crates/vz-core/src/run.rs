//! What a run looked like, as one plain value: the record every output (table, JSON,
//! Markdown, JUnit, HTML, alerts, the store) is rendered from.

use crate::gate::{Evaluation, RuleStatus};
use crate::model::{fmt_num, Anomaly, Severity, SeverityCounts, Timestamp};
use crate::policy::{self, Completeness, Decision, OnInconclusive, Policy, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a run ended, or where it stands: a watch's [`Verdict`], a manual rollback's result,
/// or no verdict yet. The one spelling JSON, the store, reports and `history --verdict` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// The window passed.
    Healthy,
    /// The policy said roll back.
    Rollback,
    /// Too much data missing to decide (also what an unreadable verdict reads as).
    #[default]
    Inconclusive,
    /// A signal ended the watch before the window did.
    Interrupted,
    /// A manual `rollback` whose command succeeded.
    RolledBack,
    /// A manual `rollback` whose command failed.
    RollbackFailed,
    /// Still running: no verdict yet.
    Running,
    /// Its runner stopped renewing its lease before a verdict.
    Abandoned,
}

impl RunVerdict {
    /// The verdict's name, as JSON and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Healthy => "healthy",
            RunVerdict::Rollback => "rollback",
            RunVerdict::Inconclusive => "inconclusive",
            RunVerdict::Interrupted => "interrupted",
            RunVerdict::RolledBack => "rolled_back",
            RunVerdict::RollbackFailed => "rollback_failed",
            RunVerdict::Running => "running",
            RunVerdict::Abandoned => "abandoned",
        }
    }

    /// Every verdict.
    pub const ALL: [RunVerdict; 8] = [
        RunVerdict::Healthy,
        RunVerdict::Rollback,
        RunVerdict::Inconclusive,
        RunVerdict::Interrupted,
        RunVerdict::RolledBack,
        RunVerdict::RollbackFailed,
        RunVerdict::Running,
        RunVerdict::Abandoned,
    ];

    /// The verdict spelled `name`, if it is one.
    pub fn parse(name: &str) -> Option<RunVerdict> {
        RunVerdict::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

/// Tolerant: a verdict this version does not know reads as inconclusive rather than making
/// the whole stored summary unreadable.
impl<'de> Deserialize<'de> for RunVerdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(RunVerdict::parse(&name).unwrap_or_default())
    }
}

impl From<Verdict> for RunVerdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Healthy => RunVerdict::Healthy,
            Verdict::Rollback => RunVerdict::Rollback,
            Verdict::Inconclusive => RunVerdict::Inconclusive,
        }
    }
}

impl fmt::Display for RunVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The policy, during a watch.
    Auto,
    /// A person, with `vz-monitor rollback`.
    Manual,
}

impl Trigger {
    /// `auto` or `manual`, as the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Auto => "auto",
            Trigger::Manual => "manual",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rollback executor did: the one record of a rollback. The store keeps it,
/// observers (audit, Grafana) get it, and a run's [`RollbackOutcome`] is derived from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollbackRecord {
    pub trigger: Trigger,
    #[serde(default)]
    pub started_at: Timestamp,
    #[serde(default)]
    pub ended_at: Timestamp,
    /// Attempts made.
    #[serde(default)]
    pub attempts: u32,
    /// The command.
    #[serde(default)]
    pub argv: Vec<String>,
    /// Exit status of the last attempt.
    pub exit_status: Option<i32>,
    #[serde(default)]
    pub ok: bool,
    /// Tail of its stdout.
    #[serde(default)]
    pub stdout: String,
    /// Tail of its stderr.
    #[serde(default)]
    pub stderr: String,
    /// Why it ended as it did.
    #[serde(default)]
    pub reason: String,
}

/// Whether and how the rollback ran.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RollbackOutcome {
    /// The policy asked for a rollback.
    pub needed: bool,
    /// The command was run.
    pub ran: bool,
    pub ok: bool,
    pub attempts: u32,
    pub exit_status: Option<i32>,
    /// Why it was not run (dry run, disabled) or how it failed.
    pub note: String,
}

impl RollbackOutcome {
    /// The outcome of a rollback that ran, from its record.
    pub fn ran(r: &RollbackRecord) -> RollbackOutcome {
        RollbackOutcome {
            needed: true,
            ran: true,
            ok: r.ok,
            attempts: r.attempts,
            exit_status: r.exit_status,
            note: r.reason.clone(),
        }
    }
}

/// Summary of a `watch` or an `analyze` replay: verdict, why, and every rule's explanation.
/// Stored as JSON and read back tolerant of older or partial summaries (every field has a
/// default), so a live and a stored run render through the same value.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RunSummary {
    pub run_id: String,
    pub deployment: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub ticks: u32,
    pub verdict: RunVerdict,
    /// When the policy decided (the tick of the rollback decision, or the window's end).
    pub decided_at: Timestamp,
    pub reasons: Vec<String>,
    pub exit_code: u8,
    pub dry_run: bool,
    pub interrupted: bool,
    pub rollback: RollbackOutcome,
    pub policy: Policy,
    pub anomalies: Vec<Anomaly>,
    pub rules: Vec<Evaluation>,
    pub completeness: Vec<Completeness>,
    /// Every notification attempt of the run and its outcome (sent, failed, cooldown, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<NotificationAttempt>,
    /// Median and max time vz-monitor itself spent per tick (detect + decide + store), in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick_overhead_ms: Option<TickOverhead>,
}

/// Per-tick overhead figures, excluding the wait for probes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TickOverhead {
    pub median: f64,
    pub max: f64,
}

impl RunSummary {
    /// Fills verdict fields from a decision.
    pub fn set_decision(&mut self, d: &Decision) {
        self.verdict = d.verdict.into();
        self.decided_at = d.at;
        self.reasons = d.reasons.clone();
    }
}

/// How one notification attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    /// The channel accepted it.
    Sent,
    /// Every try failed.
    Failed,
    /// Not sent: the same alert is already open (dedup).
    Duplicate,
    /// Not sent: the alert fired again within its cooldown.
    Cooldown,
    /// Still in flight when the run's deadline for notifications passed.
    Abandoned,
}

impl SendOutcome {
    /// As the store keeps it and `notify history` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            SendOutcome::Sent => "sent",
            SendOutcome::Failed => "failed",
            SendOutcome::Duplicate => "duplicate",
            SendOutcome::Cooldown => "cooldown",
            SendOutcome::Abandoned => "abandoned",
        }
    }

    /// The outcome spelled `name`, if it is one.
    pub fn parse(name: &str) -> Option<SendOutcome> {
        [
            SendOutcome::Sent,
            SendOutcome::Failed,
            SendOutcome::Duplicate,
            SendOutcome::Cooldown,
            SendOutcome::Abandoned,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }

    /// Meant to reach someone and did not.
    pub fn failed(self) -> bool {
        matches!(self, SendOutcome::Failed | SendOutcome::Abandoned)
    }
}

impl fmt::Display for SendOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One send attempt (or suppression) as stored and listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationAttempt {
    pub run_id: Option<String>,
    pub deployment: String,
    pub ts: Timestamp,
    pub channel: String,
    pub channel_type: String,
    pub event: String,
    pub dedup_key: Option<String>,
    pub outcome: SendOutcome,
    pub attempts: u32,
    pub duration_ms: i64,
    pub detail: String,
}

impl RunSummary {
    /// A healthy window whose rules fired below the policy says so ("2 high fired; the
    /// policy rolls back at 3") instead of "no rollback trigger held".
    pub fn explain_below_policy(&mut self) {
        if self.verdict != RunVerdict::Healthy || self.reasons != [policy::NOTHING_HELD] {
            return;
        }
        let mut fired = SeverityCounts::default();
        let mut seen = std::collections::BTreeSet::new();
        for a in self.anomalies.iter().filter(|a| !a.dry_run) {
            if seen.insert((a.rule.as_str(), a.series.as_str())) {
                fired.add(a.severity);
            }
        }
        let limit = |s: Severity| self.policy.limit(s);
        if let Some(why) = policy::below_policy(limit, &fired) {
            self.reasons = vec![why];
        }
    }

    /// "N anomaly"/"N anomalies".
    pub fn anomaly_count(&self) -> String {
        plural(self.anomalies.len(), "anomaly", "anomalies")
    }

    /// `on_inconclusive` as fail-open / fail-closed words.
    pub fn fail_mode(&self) -> &'static str {
        match self.policy.on_inconclusive {
            OnInconclusive::Pass => "pass (fail-open)",
            OnInconclusive::Fail => "fail (fail-closed)",
        }
    }

    /// One line on what the rollback did.
    pub fn rollback_line(&self) -> Option<String> {
        let r = &self.rollback;
        if !(r.needed || r.ran) {
            return None;
        }
        Some(if r.ran && r.ok {
            format!("ran, succeeded after {} attempt(s)", r.attempts)
        } else if r.ran {
            format!(
                "ran, FAILED after {} attempt(s): {} — a human must act",
                r.attempts, r.note
            )
        } else {
            format!("not run: {}", r.note)
        })
    }
}

impl Evaluation {
    /// Status as a person reads it: FIRING, fired (resolved), pending, no data, ok.
    pub fn status_text(&self) -> String {
        let s = match (self.status, self.fired) {
            (RuleStatus::Firing, _) => "FIRING",
            (_, true) => "fired, resolved",
            (RuleStatus::Pending, _) => "pending",
            (RuleStatus::NoData, _) => "no data",
            _ => "ok",
        };
        if self.dry_run {
            format!("{s} (dry-run)")
        } else {
            s.to_string()
        }
    }

    /// Score and p-value together, `-` when neither.
    pub fn score_text(&self) -> String {
        let p = |p: f64| {
            if p < 1e-4 {
                format!("{p:.1e}")
            } else {
                fmt_num(p)
            }
        };
        match (self.score, self.p_value) {
            (Some(s), Some(v)) => format!("{} / p={}", fmt_num(s), p(v)),
            (Some(s), None) => fmt_num(s),
            (None, Some(v)) => format!("p={}", p(v)),
            (None, None) => "-".into(),
        }
    }

    /// The observed value, `-` when none.
    pub fn observed_text(&self) -> String {
        self.observed.map(fmt_num).unwrap_or_else(|| "-".into())
    }

    /// The rule fired during the run (whether or not it still fires).
    pub fn has_fired(&self) -> bool {
        self.fired || self.status == RuleStatus::Firing
    }
}

/// `1 anomaly`, `2 anomalies`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Formats a timestamp as RFC 3339 UTC with milliseconds.
pub fn ts(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| t.to_string())
}
