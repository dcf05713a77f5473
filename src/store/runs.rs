//! Runs: start (ticks are in `ticks.rs`), the lease a running watch renews every tick,
//! decisions, rollbacks, the end, and the listings `history` and `report` read.
//!
//! A run is `running`, `finished` or `interrupted` as stored; a `running` run whose lease
//! has lapsed (its process died: kill -9, OOM, a lost runner) reads back as `abandoned`.

use super::db::{args, scalar, Row, Val};
use super::{now_ms, Store, StoreError};
use crate::model::Timestamp;
use crate::policy::Decision;
use crate::run::{RollbackRecord, RunVerdict};
use serde::Serialize;
use std::time::Duration;

/// The lease a run gets until its watch says otherwise: a run silent for this long is
/// abandoned.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// The status as read back: lapsed leases are `abandoned` (`?N` is now, in ms).
pub(super) fn status_sql(now_param: usize) -> String {
    format!("CASE WHEN r.status = 'running' AND r.lease_until < ?{now_param} THEN 'abandoned' ELSE r.status END")
}

/// Where a run stands, as stored and read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Its process is (or was, until its lease lapses) still watching.
    Running,
    /// Ended with a verdict.
    Finished,
    /// A signal ended it before the window did.
    Interrupted,
    /// `running`, but its lease lapsed: the process died (kill -9, OOM, a lost runner).
    Abandoned,
}

impl RunStatus {
    /// As the `runs.status` column spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Abandoned => "abandoned",
        }
    }

    fn parse(name: &str) -> Result<RunStatus, StoreError> {
        [
            RunStatus::Running,
            RunStatus::Finished,
            RunStatus::Interrupted,
            RunStatus::Abandoned,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| StoreError::Column(format!("run status `{name}`")))
    }
}

/// A run's own columns: what, when, and how it stands. Both listings carry it.
#[derive(Debug, Clone, Serialize)]
pub struct RunHead {
    /// The run's UUID.
    pub id: String,
    /// Its deployment.
    pub deployment: String,
    /// `watch` or `manual_rollback`.
    pub kind: String,
    /// Start (ms).
    pub started_at: Timestamp,
    /// End (ms), once ended.
    pub ended_at: Option<Timestamp>,
    pub status: RunStatus,
    /// The verdict, once decided.
    pub verdict: Option<RunVerdict>,
    /// Why.
    pub reason: Option<String>,
    /// The process's exit code, once ended.
    pub exit_code: Option<i64>,
    /// `--dry-run`.
    pub dry_run: bool,
}

/// The columns of [`RunHead`], in its order (`r` is `runs`; the status as read back).
pub(super) fn head_columns() -> String {
    format!(
        "r.id, r.deployment, r.kind, r.started_at, r.ended_at, {}, r.verdict, r.reason, r.exit_code, r.dry_run",
        status_sql(1)
    )
}

pub(super) fn head(r: &Row) -> Result<RunHead, StoreError> {
    Ok(RunHead {
        id: r.text(0)?,
        deployment: r.text(1)?,
        kind: r.text(2)?,
        started_at: r.int(3)?,
        ended_at: r.opt_int(4)?,
        status: RunStatus::parse(&r.text(5)?)?,
        verdict: match r.opt_text(6)? {
            None => None,
            Some(v) => Some(
                RunVerdict::parse(&v)
                    .ok_or_else(|| StoreError::Column(format!("run verdict `{v}`")))?,
            ),
        },
        reason: r.opt_text(7)?,
        exit_code: r.opt_int(8)?,
        dry_run: r.flag(9)?,
    })
}

/// A run as listed by `history`: its columns, flat in JSON, and two counts.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    #[serde(flatten)]
    pub head: RunHead,
    /// Anomalies that fired.
    pub anomalies: i64,
    /// Whether a rollback of this run succeeded.
    pub rolled_back: bool,
}

/// A run with its stored JSON summary, as `report` reads it.
#[derive(Debug, Clone)]
pub struct StoredRun {
    pub head: RunHead,
    /// The JSON summary as `--output json` printed it.
    pub summary: Option<String>,
}

/// How a run ended, as stored.
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    /// End (ms).
    pub ended_at: Timestamp,
    /// `finished` or `interrupted`.
    pub status: RunStatus,
    /// The verdict, if one was reached.
    pub verdict: Option<RunVerdict>,
    /// Why.
    pub reason: &'a str,
    /// The exit code.
    pub exit_code: i32,
    /// The JSON summary as `--output json` prints it.
    pub summary: &'a str,
}

/// Filters for `history`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only this deployment.
    pub deployment: Option<String>,
    /// Only this verdict.
    pub verdict: Option<RunVerdict>,
    /// Only runs started at or after this (ms).
    pub since: Option<Timestamp>,
    /// At most this many (at least 1).
    pub limit: usize,
}

pub(super) fn stored_run(r: &Row) -> Result<StoredRun, StoreError> {
    Ok(StoredRun {
        head: head(r)?,
        summary: r.opt_text(10)?,
    })
}

impl Store {
    /// Records the start of a run, with the default lease.
    pub fn start_run(
        &mut self,
        id: &str,
        deployment: &str,
        kind: &str,
        started_at: Timestamp,
        dry_run: bool,
        digest: &str,
    ) -> Result<(), StoreError> {
        let lease = DEFAULT_LEASE.as_millis() as i64;
        let rows = self.db.query(
            "INSERT INTO runs (id, deployment, kind, started_at, status, dry_run, config_digest, lease_ms, lease_until) VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8) RETURNING key",
            args![id, deployment, kind, started_at, dry_run, digest, lease, started_at + lease],
        )?;
        if let Some(key) = scalar(&rows)? {
            self.run_keys.insert(id.to_string(), key);
        }
        Ok(())
    }

    /// Sets how long the run may stay silent before it counts as abandoned, and renews its
    /// lease from now. A watch sets max(3 intervals, 10 s) and renews it every tick.
    pub fn set_lease(&mut self, run_id: &str, lease: Duration) -> Result<(), StoreError> {
        let ms = lease.as_millis().min(i64::MAX as u128 / 2) as i64;
        self.db.exec(
            "UPDATE runs SET lease_ms = ?2, lease_until = ?3 WHERE id = ?1",
            args![run_id, ms, now_ms() + ms],
        )?;
        Ok(())
    }

    /// Extends the run's lease to at least `until` (ms), e.g. across a rollback command
    /// that may run longer than the lease.
    pub fn extend_lease(&mut self, run_id: &str, until: Timestamp) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE runs SET lease_until = ?2 WHERE id = ?1 AND status = 'running' AND (lease_until IS NULL OR lease_until < ?2)",
            args![run_id, until],
        )?;
        Ok(())
    }

    /// The integer key of a run (cached).
    pub(crate) fn run_key(&mut self, run_id: &str) -> Result<i64, StoreError> {
        if let Some(k) = self.run_keys.get(run_id) {
            return Ok(*k);
        }
        let rows = self
            .db
            .query("SELECT key FROM runs WHERE id = ?1", args![run_id])?;
        let key = scalar(&rows)?
            .ok_or_else(|| StoreError::Column(format!("no run {run_id} in the store")))?;
        self.run_keys.insert(run_id.to_string(), key);
        Ok(key)
    }

    /// Records a decision.
    pub fn record_decision(&mut self, run_id: &str, d: &Decision) -> Result<(), StoreError> {
        self.record_verdict(run_id, d.at, &d.verdict.to_string(), &d.reason())
    }

    /// Records a decision from its parts (a spooled one, replayed).
    pub fn record_verdict(
        &mut self,
        run_id: &str,
        at: Timestamp,
        verdict: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let key = self.run_key(run_id)?;
        self.db.exec(
            "INSERT INTO decisions (run_key, ts, verdict, reason) VALUES (?1, ?2, ?3, ?4)",
            args![key, at, verdict, reason],
        )?;
        Ok(())
    }

    /// Whether a rollback of `run_id` is recorded.
    pub fn has_rollback(&mut self, run_id: &str) -> Result<bool, StoreError> {
        let key = self.run_key(run_id)?;
        let rows = self.db.query(
            "SELECT COUNT(*) FROM rollbacks WHERE run_key = ?1",
            args![key],
        )?;
        Ok(scalar(&rows)?.unwrap_or(0) > 0)
    }

    /// Records a rollback attempt series.
    pub fn record_rollback(&mut self, run_id: &str, r: &RollbackRecord) -> Result<(), StoreError> {
        let key = self.run_key(run_id)?;
        self.db.exec(
            "INSERT INTO rollbacks (run_key, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            args![key, r.trigger.as_str(), r.started_at, r.ended_at, r.attempts, serde_json::to_string(&r.argv)?, r.exit_status, r.ok, &r.stdout, &r.stderr, &r.reason],
        )?;
        Ok(())
    }

    /// Closes a run with its verdict and JSON summary. The live state of its last tick is
    /// dropped: the summary says all of it, and a store of 100,000 runs keeps no copy.
    pub fn finish_run(&mut self, id: &str, end: &RunEnd) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE runs SET ended_at = ?2, status = ?3, verdict = ?4, reason = ?5, exit_code = ?6, summary = ?7, live = NULL WHERE id = ?1",
            args![id, end.ended_at, end.status.as_str(), end.verdict.map(RunVerdict::as_str), end.reason, end.exit_code, end.summary],
        )?;
        Ok(())
    }

    /// Past runs, newest first. Costs the same on 10 runs as on 100,000: the runs come from
    /// an index in order, and each row's counts from the indexed `run_key` of its children.
    pub fn runs(&self, f: &RunFilter) -> Result<Vec<RunRow>, StoreError> {
        let mut params = vec![Val::Int(now_ms()), Val::from(f.limit.max(1))];
        let mut filter = String::new();
        for (column, op, value) in [
            ("deployment", "=", Val::from(&f.deployment)),
            ("verdict", "=", Val::from(f.verdict.map(RunVerdict::as_str))),
            ("started_at", ">=", Val::from(f.since)),
        ] {
            if value != Val::Null {
                params.push(value);
                filter.push_str(&format!(" AND r.{column} {op} ?{}", params.len()));
            }
        }
        let sql = format!(
            "SELECT {},
                    (SELECT COUNT(*) FROM anomalies a WHERE a.run_key = r.key),
                    EXISTS (SELECT 1 FROM rollbacks b WHERE b.run_key = r.key AND b.ok = 1)
             FROM runs r WHERE 1 = 1{filter}
             ORDER BY r.started_at DESC, r.key DESC LIMIT ?2",
            head_columns()
        );
        self.db
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(RunRow {
                    head: head(r)?,
                    anomalies: r.int(10)?,
                    rolled_back: r.flag(11)?,
                })
            })
            .collect()
    }

    /// The newest run (of `deployment`, if given), with its summary.
    pub fn latest_run(&self, deployment: Option<&str>) -> Result<Option<StoredRun>, StoreError> {
        let sql = format!(
            "SELECT {}, r.summary
             FROM runs r WHERE (CAST(?2 AS TEXT) IS NULL OR r.deployment = ?2) ORDER BY r.started_at DESC, r.key DESC LIMIT 1",
            head_columns()
        );
        let rows = self.db.query(&sql, args![now_ms(), deployment])?;
        rows.first().map(stored_run).transpose()
    }

    /// Runs whose id starts with `prefix` (the exact match first), at most `limit`.
    pub fn runs_by_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<StoredRun>, StoreError> {
        let sql = format!(
            "SELECT {}, r.summary
             FROM runs r WHERE substr(r.id, 1, length(?2)) = ?2 ORDER BY (r.id = ?2) DESC, r.started_at DESC LIMIT ?3",
            head_columns()
        );
        let rows = self.db.query(&sql, args![now_ms(), prefix, limit])?;
        rows.iter().map(stored_run).collect()
    }

    /// Watches of `deployment` that are live: running, with a lease that has not lapsed.
    pub fn live_watches(&self, deployment: &str) -> Result<i64, StoreError> {
        let rows = self.db.query(
            "SELECT COUNT(*) FROM runs WHERE deployment = ?1 AND status = 'running' AND kind = 'watch' AND (lease_until IS NULL OR lease_until >= ?2)",
            args![deployment, now_ms()],
        )?;
        Ok(scalar(&rows)?.unwrap_or(0))
    }

    /// The config digest of the deployment's newest run other than `run_id`.
    pub fn previous_digest(
        &self,
        deployment: &str,
        run_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let rows = self.db.query(
            "SELECT config_digest FROM runs WHERE deployment = ?1 AND id <> ?2 ORDER BY started_at DESC, key DESC LIMIT 1",
            args![deployment, run_id],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    /// A run's samples in time order: (time, series, value — None when missing or down,
    /// whether the probe was down), for the charts of `report --output html`.
    pub fn run_samples(
        &mut self,
        run_id: &str,
    ) -> Result<Vec<crate::report::series::Row>, StoreError> {
        let key = self.run_key(run_id)?;
        let rows = self.db.query(
            "SELECT s.ts, n.name, s.value, s.status FROM samples s JOIN series n ON n.id = s.series_id WHERE s.run_key = ?1 ORDER BY s.ts, n.name",
            args![key],
        )?;
        rows.iter()
            .map(|r| {
                let down = r.int(3)? == super::ticks::STATUS_DOWN;
                Ok((r.int(0)?, r.text(1)?, r.opt_real(2)?, down))
            })
            .collect()
    }

    /// Samples stored for a run.
    pub fn sample_count(&mut self, run_id: &str) -> Result<i64, StoreError> {
        let key = self.run_key(run_id)?;
        let rows = self.db.query(
            "SELECT COUNT(*) FROM samples WHERE run_key = ?1",
            args![key],
        )?;
        Ok(scalar(&rows)?.unwrap_or(0))
    }
}
