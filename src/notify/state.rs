//! The notify tables (migration 2): alert state for dedup, cooldown and escalation across
//! runs, and every send attempt.

use crate::model::{Anomaly, Timestamp};
use crate::store::StoreError;
use rusqlite::{params, Connection};

/// One alert's state: (deployment, rule, series).
#[derive(Debug, Clone)]
pub struct AlertState {
    pub deployment: String,
    pub rule: String,
    pub series: String,
    pub dedup_key: String,
    /// Open (the anomaly fires) or resolved.
    pub firing: bool,
    /// Whether the current firing was told to anyone.
    pub notified: bool,
    pub fired_at: Timestamp,
    /// The last firing alert sent (cooldown counts from here).
    pub last_sent_at: Option<Timestamp>,
    /// Bitmask of escalation stages sent for the current firing.
    pub stages: u64,
    /// Channels told of the current firing (its resolve goes to them).
    pub channels: Vec<String>,
    pub run_id: String,
    pub anomaly: Anomaly,
}

/// Every alert of a deployment.
pub fn load(conn: &Connection, deployment: &str) -> Result<Vec<AlertState>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT rule, series, dedup_key, firing, notified, fired_at, last_sent_at, stages, channels, run_id, anomaly
         FROM notify_alerts WHERE deployment = ?1",
    )?;
    let rows = stmt.query_map([deployment], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, String>(9)?,
            r.get::<_, String>(10)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            rule,
            series,
            dedup_key,
            firing,
            notified,
            fired_at,
            last_sent_at,
            stages,
            ch,
            run_id,
            a,
        ) = row?;
        out.push(AlertState {
            deployment: deployment.to_string(),
            rule,
            series,
            dedup_key,
            firing,
            notified,
            fired_at,
            last_sent_at,
            stages: stages as u64,
            channels: serde_json::from_str(&ch)?,
            run_id,
            anomaly: serde_json::from_str(&a)?,
        });
    }
    Ok(out)
}

/// Writes one alert's state.
pub fn save(conn: &Connection, s: &AlertState) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO notify_alerts (deployment, rule, series, dedup_key, firing, notified, fired_at, last_sent_at, stages, channels, run_id, anomaly)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (deployment, rule, series) DO UPDATE SET
           dedup_key = excluded.dedup_key, firing = excluded.firing, notified = excluded.notified,
           fired_at = excluded.fired_at, last_sent_at = excluded.last_sent_at, stages = excluded.stages,
           channels = excluded.channels, run_id = excluded.run_id, anomaly = excluded.anomaly",
        params![
            s.deployment,
            s.rule,
            s.series,
            s.dedup_key,
            s.firing,
            s.notified,
            s.fired_at,
            s.last_sent_at,
            s.stages as i64,
            serde_json::to_string(&s.channels)?,
            s.run_id,
            serde_json::to_string(&s.anomaly)?,
        ],
    )?;
    Ok(())
}

/// One send attempt (or suppression) as stored and listed.
pub use vz_core::run::NotificationAttempt as Attempt;

/// Stores one attempt.
pub fn record(conn: &Connection, a: &Attempt) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO notifications (run_id, deployment, ts, channel, channel_type, event, dedup_key, outcome, attempts, duration_ms, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            a.run_id,
            a.deployment,
            a.ts,
            a.channel,
            a.channel_type,
            a.event,
            a.dedup_key,
            a.outcome,
            a.attempts,
            a.duration_ms,
            a.detail
        ],
    )?;
    Ok(())
}

/// Filters for listing attempts.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub run_id: Option<String>,
    pub deployment: Option<String>,
    pub limit: usize,
}

/// Stored attempts, newest first.
pub fn attempts(conn: &Connection, f: &AttemptFilter) -> Result<Vec<Attempt>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT run_id, deployment, ts, channel, channel_type, event, dedup_key, outcome, attempts, duration_ms, detail
         FROM notifications
         WHERE (?1 IS NULL OR run_id = ?1 OR run_id LIKE ?1 || '%') AND (?2 IS NULL OR deployment = ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![f.run_id, f.deployment, f.limit.max(1) as i64],
        |r| {
            Ok(Attempt {
                run_id: r.get(0)?,
                deployment: r.get(1)?,
                ts: r.get(2)?,
                channel: r.get(3)?,
                channel_type: r.get(4)?,
                event: r.get(5)?,
                dedup_key: r.get(6)?,
                outcome: r.get(7)?,
                attempts: r.get(8)?,
                duration_ms: r.get(9)?,
                detail: r.get(10)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
