//! What `serve` shows of a watch while it lasts: the latest tick's state (tick n of N, every
//! rule's state and value, missing ticks against `max_missing`, the policy counters),
//! written by the watch with every tick, and who and where started the run.

use super::db::{args, Row};
use super::runs::{head, head_columns, RunHead};
use super::{now_ms, Store, StoreError};
use crate::gate::Evaluation;
use crate::model::Timestamp;
use crate::policy::Completeness;
use serde::{Deserialize, Serialize};

/// One policy counter: anomalies of a severity fired so far against the limit that rolls
/// back (0 = that severity never rolls back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    /// `critical`, `high`, `medium`, `low`.
    pub severity: String,
    /// Fired so far (dry-run rules excluded).
    pub fired: u32,
    /// The policy's limit.
    pub limit: u32,
}

/// A watch's state after its latest tick, as stored for the dashboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveState {
    /// Ticks judged so far.
    pub tick: u32,
    /// Ticks the window plans.
    pub planned: u32,
    /// The tick interval (ms).
    pub interval_ms: u64,
    /// When the window ends by the clock (ms).
    pub ends_at: Timestamp,
    /// When this state was written (ms).
    pub at: Timestamp,
    /// Every rule's state and latest value.
    pub rules: Vec<Evaluation>,
    /// Missing ticks per metric so far.
    pub completeness: Vec<Completeness>,
    /// The policy's `max_missing` (percent of ticks).
    pub max_missing: f64,
    /// The policy counters.
    pub counters: Vec<Counter>,
    /// A person's hold in force, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
}

/// A run as the live list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveRun {
    /// Its columns (status `abandoned` once the lease lapsed).
    #[serde(flatten)]
    pub head: RunHead,
    /// Who started it.
    pub actor: Option<String>,
    /// On which machine.
    pub host: Option<String>,
    /// The latest tick's state (none before the first tick, or from an older vz-monitor).
    pub live: Option<LiveState>,
    /// The JSON summary, once ended.
    #[serde(skip)]
    pub summary: Option<String>,
}

fn live_run(r: &Row) -> Result<LiveRun, StoreError> {
    Ok(LiveRun {
        head: head(r)?,
        actor: r.opt_text(10)?,
        host: r.opt_text(11)?,
        live: match r.opt_text(12)? {
            Some(text) => serde_json::from_str(&text).ok(),
            None => None,
        },
        summary: r.opt_text(13)?,
    })
}

impl Store {
    /// Records who started the run and where.
    pub fn set_origin(&mut self, run_id: &str, actor: &str, host: &str) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE runs SET actor = ?2, host = ?3 WHERE id = ?1",
            args![run_id, actor, host],
        )?;
        Ok(())
    }

    /// Stores the run's state after a tick (replacing the previous one).
    pub fn record_live(&mut self, run_id: &str, state: &LiveState) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE runs SET live = ?2 WHERE id = ?1",
            args![run_id, serde_json::to_string(state)?],
        )?;
        Ok(())
    }

    /// Watches in progress (and abandoned ones), and those that ended at or after
    /// `ended_since` (ms) having started at most a day before it, newest first, at most
    /// `limit`. Both halves come from an index (status; start time).
    pub fn live_runs(
        &self,
        ended_since: Timestamp,
        limit: usize,
    ) -> Result<Vec<LiveRun>, StoreError> {
        let sql = format!(
            "SELECT {}, r.actor, r.host, r.live, r.summary FROM runs r
             WHERE r.kind = 'watch' AND (r.status = 'running' OR r.key IN
                 (SELECT x.key FROM runs x WHERE x.started_at >= ?4 AND x.ended_at >= ?2))
             ORDER BY r.started_at DESC, r.key DESC LIMIT ?3",
            head_columns()
        );
        self.db
            .query(
                &sql,
                args![
                    now_ms(),
                    ended_since,
                    limit.max(1),
                    ended_since - 86_400_000
                ],
            )?
            .iter()
            .map(live_run)
            .collect()
    }

    /// One run with its origin and latest live state.
    pub fn live_run(&self, run_id: &str) -> Result<Option<LiveRun>, StoreError> {
        let sql = format!(
            "SELECT {}, r.actor, r.host, r.live, r.summary FROM runs r WHERE r.id = ?2",
            head_columns()
        );
        let rows = self.db.query(&sql, args![now_ms(), run_id])?;
        rows.first().map(live_run).transpose()
    }
}
