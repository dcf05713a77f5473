//! The reads of `serve`: runs with who ran them and how their rollback went, per-deployment
//! change-failure figures, one run's rollbacks and anomalies, anomalies and notification
//! attempts across runs, the audit chain a page at a time, and the store's health. Every
//! listing is bounded (`LIMIT`) and driven by an index, so a page costs the same on a store
//! of 100 runs as on one of 100,000.

use super::audit::{AuditRow, Entry};
use super::db::{args, scalar, Row, Val};
use super::notify::Attempt;
use super::runs::{head, head_columns, stored_run, RunFilter, RunHead, StoredRun};
use super::{now_ms, RollbackRecord, Store, StoreError, Trigger};
use crate::model::Timestamp;
use crate::run::RunVerdict;
use serde::Serialize;

/// A run as the runs page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ListedRun {
    /// Its columns.
    #[serde(flatten)]
    pub head: RunHead,
    /// Who started it.
    pub actor: Option<String>,
    /// On which machine.
    pub host: Option<String>,
    /// Anomalies that fired.
    pub anomalies: i64,
    /// `None`: no rollback ran; `Some(true)`: it succeeded; `Some(false)`: it failed.
    pub rollback_ok: Option<bool>,
}

/// A deployment's change-failure figures over its last runs.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentStats {
    /// The deployment.
    pub deployment: String,
    /// Runs counted (its newest, at most the window asked for).
    pub runs: usize,
    /// Of those, runs that judged the change bad (rollback, rolled back, rollback failed).
    pub failed: usize,
    /// `failed / runs`, in percent (none without runs with a verdict).
    pub change_failure_percent: Option<f64>,
    /// Median time from a run's start to the end of its successful rollback (ms).
    pub median_time_to_rollback_ms: Option<i64>,
}

/// An anomaly with the run it fired in: its columns, and what its stored body adds (a
/// body that does not parse leaves those out rather than the row).
#[derive(Debug, Clone, Serialize)]
pub struct ListedAnomaly {
    /// Row id (pages go by it).
    pub id: i64,
    /// The run.
    pub run_id: String,
    /// Its deployment.
    pub deployment: String,
    pub rule: String,
    pub series: String,
    pub kind: String,
    pub severity: String,
    pub fired_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The value that fired it.
    pub observed: Option<f64>,
    /// Why, in one sentence.
    pub reason: String,
    /// A dry-run rule's anomaly (never counted by the policy).
    pub dry_run: bool,
}

/// Filters of the alerts page.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this deployment.
    pub deployment: Option<String>,
    /// Only this severity (anomalies).
    pub severity: Option<String>,
    /// Only this outcome (notification attempts: sent, failed, duplicate, cooldown …).
    pub outcome: Option<String>,
    /// Only this event (notification attempts: firing, escalated, resolved …).
    pub event: Option<String>,
    /// At most this many of each.
    pub limit: usize,
}

/// Filters of the audit page.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this run.
    pub run_id: Option<String>,
    /// Only entries before this seq (the next page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

/// A hold in force.
#[derive(Debug, Clone, Serialize)]
pub struct HeldDeployment {
    /// The deployment.
    pub deployment: String,
    /// Who placed it.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// When (ms).
    pub since: Timestamp,
}

/// Run counts of the health page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunCounts {
    /// Watches whose lease holds.
    pub running: i64,
    /// `running`, with a lapsed lease.
    pub abandoned: i64,
    /// Every run stored.
    pub total: i64,
}

fn listed(r: &Row) -> Result<ListedRun, StoreError> {
    Ok(ListedRun {
        head: head(r)?,
        actor: r.opt_text(10)?,
        host: r.opt_text(11)?,
        anomalies: r.int(12)?,
        rollback_ok: r.opt_int(13)?.map(|v| v != 0),
    })
}

fn is_failure(verdict: Option<RunVerdict>) -> bool {
    matches!(
        verdict,
        Some(RunVerdict::Rollback | RunVerdict::RolledBack | RunVerdict::RollbackFailed)
    )
}

fn audit_row(r: &Row) -> Result<AuditRow, StoreError> {
    let details = r.text(6)?;
    let (value, bad) = match serde_json::from_str(&details) {
        Ok(v) => (v, None),
        Err(_) => (serde_json::Value::Null, Some(details)),
    };
    Ok(AuditRow {
        entry: Entry {
            seq: r.int(0)?,
            ts: r.int(1)?,
            deployment: r.text(2)?,
            actor: r.text(3)?,
            action: r.text(4)?,
            run_id: r.opt_text(5)?,
            details: value,
            alg: r.text(7)?,
            prev_hash: r.text(8)?,
            hash: r.text(9)?,
        },
        bad_details: bad,
    })
}

impl Store {
    /// Runs newest first, after skipping `offset`, with origin and rollback outcome.
    pub fn listed_runs(&self, f: &RunFilter, offset: usize) -> Result<Vec<ListedRun>, StoreError> {
        let mut params = vec![
            Val::Int(now_ms()),
            Val::from(f.limit.max(1)),
            Val::from(offset),
        ];
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
            "SELECT {}, r.actor, r.host,
                    (SELECT COUNT(*) FROM anomalies a WHERE a.run_key = r.key),
                    (SELECT MAX(b.ok) FROM rollbacks b WHERE b.run_key = r.key)
             FROM runs r WHERE 1 = 1{filter}
             ORDER BY r.started_at DESC, r.key DESC LIMIT ?2 OFFSET ?3",
            head_columns()
        );
        self.db.query(&sql, &params)?.iter().map(listed).collect()
    }

    /// Change-failure rate and median time to rollback of `deployment` over its newest
    /// `window` runs (watches and manual rollbacks alike).
    pub fn deployment_stats(
        &self,
        deployment: &str,
        window: usize,
    ) -> Result<DeploymentStats, StoreError> {
        let rows = self.db.query(
            "SELECT r.verdict, r.started_at,
                    (SELECT MIN(b.ended_at) FROM rollbacks b WHERE b.run_key = r.key AND b.ok = 1)
             FROM runs r WHERE r.deployment = ?1 ORDER BY r.started_at DESC, r.key DESC LIMIT ?2",
            args![deployment, window.max(1)],
        )?;
        let mut judged = 0;
        let mut failed = 0;
        let mut to_rollback = Vec::new();
        for r in &rows {
            let verdict = r.opt_text(0)?.and_then(|v| RunVerdict::parse(&v));
            if verdict.is_some() {
                judged += 1;
            }
            if is_failure(verdict) {
                failed += 1;
            }
            if let Some(end) = r.opt_int(2)? {
                to_rollback.push(end - r.int(1)?);
            }
        }
        to_rollback.sort_unstable();
        Ok(DeploymentStats {
            deployment: deployment.to_string(),
            runs: rows.len(),
            failed,
            change_failure_percent: (judged > 0).then(|| 100.0 * failed as f64 / judged as f64),
            median_time_to_rollback_ms: to_rollback.get(to_rollback.len() / 2).copied(),
        })
    }

    /// Every rollback recorded for a run, oldest first.
    pub fn run_rollbacks(&mut self, run_id: &str) -> Result<Vec<RollbackRecord>, StoreError> {
        let key = self.run_key(run_id)?;
        let rows = self.db.query(
            "SELECT trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason FROM rollbacks WHERE run_key = ?1 ORDER BY id",
            args![key],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RollbackRecord {
                    trigger: if r.text(0)? == "manual" {
                        Trigger::Manual
                    } else {
                        Trigger::Auto
                    },
                    started_at: r.int(1)?,
                    ended_at: r.int(2)?,
                    attempts: r.int(3)? as u32,
                    argv: serde_json::from_str(&r.text(4)?).unwrap_or_default(),
                    exit_status: r.opt_int(5)?.map(|v| v as i32),
                    ok: r.flag(6)?,
                    stdout: r.text(7)?,
                    stderr: r.text(8)?,
                    reason: r.text(9)?,
                })
            })
            .collect()
    }

    /// Anomalies across runs, newest first.
    pub fn listed_anomalies(&self, f: &AlertFilter) -> Result<Vec<ListedAnomaly>, StoreError> {
        let rows = self.db.query(
            "SELECT a.id, r.id, r.deployment, a.rule, a.series, a.kind, a.severity, a.fired_at, a.resolved_at, a.body
             FROM anomalies a JOIN runs r ON r.key = a.run_key
             WHERE (CAST(?1 AS TEXT) IS NULL OR r.deployment = ?1) AND (CAST(?2 AS TEXT) IS NULL OR a.severity = ?2)
             ORDER BY a.id DESC LIMIT ?3",
            args![&f.deployment, &f.severity, f.limit.max(1)],
        )?;
        rows.iter()
            .map(|r| {
                let body: serde_json::Value = serde_json::from_str(&r.text(9)?).unwrap_or_default();
                Ok(ListedAnomaly {
                    id: r.int(0)?,
                    run_id: r.text(1)?,
                    deployment: r.text(2)?,
                    rule: r.text(3)?,
                    series: r.text(4)?,
                    kind: r.text(5)?,
                    severity: r.text(6)?,
                    fired_at: r.int(7)?,
                    resolved_at: r.opt_int(8)?,
                    observed: body["observed"].as_f64(),
                    reason: body["reason"].as_str().unwrap_or_default().to_string(),
                    dry_run: body["dry_run"].as_bool().unwrap_or(false),
                })
            })
            .collect()
    }

    /// A run by its exact id, or else by a unique prefix of it (`None`: no such run, or
    /// the prefix is ambiguous). The exact id is one index lookup; a prefix is a range of
    /// the same index.
    pub fn run_by_id(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let sql = format!(
            "SELECT {}, r.summary FROM runs r WHERE r.id >= ?2 AND r.id < ?3 ORDER BY r.id LIMIT 2",
            head_columns()
        );
        let exact = self.db.query(
            &format!(
                "SELECT {}, r.summary FROM runs r WHERE r.id = ?2",
                head_columns()
            ),
            args![now_ms(), id],
        )?;
        if let Some(r) = exact.first() {
            return stored_run(r).map(Some);
        }
        let rows = self
            .db
            .query(&sql, args![now_ms(), id, format!("{id}\u{10FFFF}")])?;
        match rows.as_slice() {
            [one] => stored_run(one).map(Some),
            [] => {
                // A collation that does not sort the bound last (PostgreSQL's ICU ones may
                // not): the plain prefix search.
                let mut found = self.runs_by_prefix(id, 2)?;
                Ok((found.len() == 1).then(|| found.remove(0)))
            }
            _ => Ok(None),
        }
    }

    /// Notification attempts across runs (or of one run), newest first.
    pub fn listed_attempts(
        &self,
        f: &AlertFilter,
        run_id: Option<&str>,
    ) -> Result<Vec<Attempt>, StoreError> {
        let rows = self.db.query(
            "SELECT run_id, deployment, ts, channel, channel_type, event, dedup_key, outcome, attempts, duration_ms, detail
             FROM notifications
             WHERE (CAST(?1 AS TEXT) IS NULL OR deployment = ?1) AND (CAST(?2 AS TEXT) IS NULL OR outcome = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR run_id = ?3) AND (CAST(?5 AS TEXT) IS NULL OR event = ?5)
             ORDER BY id DESC LIMIT ?4",
            args![&f.deployment, &f.outcome, run_id, f.limit.max(1), &f.event],
        )?;
        rows.iter().map(super::notify::attempt).collect()
    }

    /// Audit entries newest first, filtered, a page at a time.
    pub fn audit_page(&self, f: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        self.db
            .query(
                "SELECT seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash FROM audit
                 WHERE (CAST(?1 AS TEXT) IS NULL OR actor = ?1) AND (CAST(?2 AS TEXT) IS NULL OR action = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR run_id = ?3) AND (CAST(?4 AS BIGINT) IS NULL OR seq < ?4)
                 ORDER BY seq DESC LIMIT ?5",
                args![&f.actor, &f.action, &f.run_id, f.before, f.limit.max(1)],
            )?
            .iter()
            .map(audit_row)
            .collect()
    }

    /// Deployments on hold now (their latest hold not followed by a release).
    pub fn holds_in_force(&self) -> Result<Vec<HeldDeployment>, StoreError> {
        let rows = self.db.query(
            "SELECT o.deployment, o.actor, o.reason, o.created_at FROM overrides o
             WHERE o.kind = 'hold' AND o.id = (SELECT MAX(x.id) FROM overrides x
                 WHERE x.deployment = o.deployment AND x.kind IN ('hold', 'release'))
             ORDER BY o.deployment",
            args![],
        )?;
        rows.iter()
            .map(|r| {
                Ok(HeldDeployment {
                    deployment: r.text(0)?,
                    actor: r.text(1)?,
                    reason: r.text(2)?,
                    since: r.int(3)?,
                })
            })
            .collect()
    }

    /// Runs live, abandoned, and in all.
    pub fn run_counts(&self) -> Result<RunCounts, StoreError> {
        let count = |sql: &str, args: &[Val]| -> Result<i64, StoreError> {
            Ok(scalar(&self.db.query(sql, args)?)?.unwrap_or(0))
        };
        let now = now_ms();
        Ok(RunCounts {
            running: count(
                "SELECT COUNT(*) FROM runs WHERE status = 'running' AND (lease_until IS NULL OR lease_until >= ?1)",
                args![now],
            )?,
            abandoned: count(
                "SELECT COUNT(*) FROM runs WHERE status = 'running' AND lease_until < ?1",
                args![now],
            )?,
            total: count("SELECT COUNT(*) FROM runs", args![])?,
        })
    }

    /// The newest run of every deployment, most recent first (at most `limit`).
    pub fn last_run_per_deployment(&self, limit: usize) -> Result<Vec<RunHead>, StoreError> {
        let sql = format!(
            "SELECT {} FROM runs r WHERE r.key IN (
                 SELECT (SELECT x.key FROM runs x WHERE x.deployment = d.deployment
                         ORDER BY x.started_at DESC, x.key DESC LIMIT 1)
                 FROM (SELECT DISTINCT deployment FROM runs) d)
             ORDER BY r.started_at DESC LIMIT ?2",
            head_columns()
        );
        self.db
            .query(&sql, args![now_ms(), limit.max(1)])?
            .iter()
            .map(head)
            .collect()
    }
}
