//! Notification state: one row per alert (deployment, rule, series) for dedup, cooldown and
//! escalation across runs and runners, and every send attempt.

use super::db::{args, Row};
use super::{Store, StoreError};
use crate::model::{Anomaly, Timestamp};
use crate::run::SendOutcome;

/// One alert's state: (deployment, rule, series).
#[derive(Debug, Clone)]
pub struct AlertState {
    /// The deployment.
    pub deployment: String,
    /// The rule that fired.
    pub rule: String,
    /// The series it fired on.
    pub series: String,
    /// The key receivers deduplicate on.
    pub dedup_key: String,
    /// Open (the anomaly fires) or resolved.
    pub firing: bool,
    /// Whether the current firing was told to anyone.
    pub notified: bool,
    /// Start of the current firing (ms).
    pub fired_at: Timestamp,
    /// The last firing alert sent (cooldown counts from here).
    pub last_sent_at: Option<Timestamp>,
    /// Bitmask of escalation stages sent for the current firing.
    pub stages: u64,
    /// Channels told of the current firing (its resolve goes to them).
    pub channels: Vec<String>,
    /// The run that last saw it.
    pub run_id: String,
    /// The anomaly as last seen.
    pub anomaly: Anomaly,
}

/// One send attempt (or suppression) as stored and listed (the type is the core's).
pub use vz_core::run::NotificationAttempt as Attempt;

/// Filters for listing attempts.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    /// Only this run (or id prefix).
    pub run_id: Option<String>,
    /// Only this deployment.
    pub deployment: Option<String>,
    /// At most this many (at least 1).
    pub limit: usize,
}

fn alert(deployment: &str, r: &Row) -> Result<AlertState, StoreError> {
    Ok(AlertState {
        deployment: deployment.to_string(),
        rule: r.text(0)?,
        series: r.text(1)?,
        dedup_key: r.text(2)?,
        firing: r.flag(3)?,
        notified: r.flag(4)?,
        fired_at: r.int(5)?,
        last_sent_at: r.opt_int(6)?,
        stages: r.int(7)? as u64,
        channels: serde_json::from_str(&r.text(8)?)?,
        run_id: r.text(9)?,
        anomaly: serde_json::from_str(&r.text(10)?)?,
    })
}

/// One stored attempt row (`run_id, deployment, ts, channel, channel_type, event, dedup_key,
/// outcome, attempts, duration_ms, detail`).
pub(super) fn attempt(r: &Row) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        run_id: r.opt_text(0)?,
        deployment: r.text(1)?,
        ts: r.int(2)?,
        channel: r.text(3)?,
        channel_type: r.text(4)?,
        event: r.text(5)?,
        dedup_key: r.opt_text(6)?,
        outcome: {
            let o = r.text(7)?;
            SendOutcome::parse(&o)
                .ok_or_else(|| StoreError::Column(format!("notification outcome `{o}`")))?
        },
        attempts: r.int(8)? as u32,
        duration_ms: r.int(9)?,
        detail: r.text(10)?,
    })
}

impl Store {
    /// Every alert of a deployment.
    pub fn alerts(&self, deployment: &str) -> Result<Vec<AlertState>, StoreError> {
        self.db
            .query(
                "SELECT rule, series, dedup_key, firing, notified, fired_at, last_sent_at, stages, channels, run_id, anomaly
                 FROM notify_alerts WHERE deployment = ?1",
                args![deployment],
            )?
            .iter()
            .map(|r| alert(deployment, r))
            .collect()
    }

    /// Writes one alert's state.
    pub fn save_alert(&mut self, s: &AlertState) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO notify_alerts (deployment, rule, series, dedup_key, firing, notified, fired_at, last_sent_at, stages, channels, run_id, anomaly)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (deployment, rule, series) DO UPDATE SET
               dedup_key = excluded.dedup_key, firing = excluded.firing, notified = excluded.notified,
               fired_at = excluded.fired_at, last_sent_at = excluded.last_sent_at, stages = excluded.stages,
               channels = excluded.channels, run_id = excluded.run_id, anomaly = excluded.anomaly",
            args![
                &s.deployment,
                &s.rule,
                &s.series,
                &s.dedup_key,
                s.firing,
                s.notified,
                s.fired_at,
                s.last_sent_at,
                s.stages as i64,
                serde_json::to_string(&s.channels)?,
                &s.run_id,
                serde_json::to_string(&s.anomaly)?,
            ],
        )?;
        Ok(())
    }

    /// Stores one send attempt.
    pub fn record_attempt(&mut self, a: &Attempt) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO notifications (run_id, deployment, ts, channel, channel_type, event, dedup_key, outcome, attempts, duration_ms, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            args![
                &a.run_id,
                &a.deployment,
                a.ts,
                &a.channel,
                &a.channel_type,
                &a.event,
                &a.dedup_key,
                a.outcome.as_str(),
                a.attempts,
                a.duration_ms,
                &a.detail
            ],
        )?;
        Ok(())
    }

    /// Stored attempts, newest first.
    pub fn attempts(&self, f: &AttemptFilter) -> Result<Vec<Attempt>, StoreError> {
        self.db
            .query(
                "SELECT run_id, deployment, ts, channel, channel_type, event, dedup_key, outcome, attempts, duration_ms, detail
                 FROM notifications
                 WHERE (CAST(?1 AS TEXT) IS NULL OR run_id = ?1 OR run_id LIKE ?1 || '%') AND (CAST(?2 AS TEXT) IS NULL OR deployment = ?2)
                 ORDER BY id DESC LIMIT ?3",
                args![&f.run_id, &f.deployment, f.limit.max(1)],
            )?
            .iter()
            .map(attempt)
            .collect()
    }
}
