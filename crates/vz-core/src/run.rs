//! What a run looked like, as one plain value: the record every output (table, JSON,
//! Markdown, JUnit, HTML, alerts, the store) is rendered from.

use crate::gate::Evaluation;
use crate::model::{Anomaly, Timestamp};
use crate::policy::{Completeness, Decision, Policy};
use serde::Serialize;

/// Whether and how the rollback ran.
#[derive(Debug, Clone, Serialize, Default)]
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

/// Summary of a `watch` or an `analyze` replay: verdict, why, and every rule's explanation.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub deployment: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub ticks: u32,
    pub verdict: String,
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
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TickOverhead {
    pub median: f64,
    pub max: f64,
}

impl RunSummary {
    /// Fills verdict fields from a decision.
    pub fn set_decision(&mut self, d: &Decision) {
        self.verdict = d.verdict.to_string();
        self.decided_at = d.at;
        self.reasons = d.reasons.clone();
    }
}

/// One send attempt (or suppression) as stored and listed.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationAttempt {
    pub run_id: Option<String>,
    pub deployment: String,
    pub ts: Timestamp,
    pub channel: String,
    pub channel_type: String,
    pub event: String,
    pub dedup_key: Option<String>,
    /// `sent`, `failed`, `duplicate`, `cooldown` or `abandoned`.
    pub outcome: String,
    pub attempts: u32,
    pub duration_ms: i64,
    pub detail: String,
}

/// Formats a timestamp as RFC 3339 UTC with milliseconds.
pub fn ts(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| t.to_string())
}
