//! The embedded store: SQLite (bundled) in WAL mode with a busy timeout, so several
//! vz-monitor processes can share one database file without corrupting or losing writes.

mod migrations;

use crate::decide::Decision;
use crate::model::{Anomaly, Sample, Timestamp};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// A store failure (cannot open, locked past the busy timeout, disk full …).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create folder for store {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store holds malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("store {path} has schema version {found}, newer than this vz-monitor ({known}); upgrade vz-monitor")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
}

/// Switches the database to WAL. SQLite answers SQLITE_BUSY at once, without consulting the
/// busy handler, when another process holds a lock while the journal mode changes (several
/// vz-monitor processes opening a new store together), so retry within the busy timeout.
fn enable_wal(conn: &Connection) -> Result<(), rusqlite::Error> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut pause = Duration::from_millis(5);
    loop {
        let mode =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0));
        match mode {
            Ok(m) if m.eq_ignore_ascii_case("wal") => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            // Some file systems cannot do WAL; SQLite then keeps its rollback journal, which
            // is still safe with the busy timeout, only slower under concurrency.
            Ok(_) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// A captured baseline: per-series values from before the deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSet {
    pub deployment: String,
    pub created_at: Timestamp,
    /// `probes (N samples every D)` or `prometheus (range 1h, step 30s)`.
    pub source: String,
    pub config_digest: String,
    /// Values in capture order; a tick without a value is NaN (JSON `null`).
    #[serde(deserialize_with = "nullable_series")]
    pub series: BTreeMap<String, Vec<f64>>,
}

/// Reads `{series: [number | null]}`, null meaning "no value at that tick" (NaN).
fn nullable_series<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<f64>>, D::Error> {
    let raw = BTreeMap::<String, Vec<Option<f64>>>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
        .collect())
}

/// Parses a stored baseline body (`{series: [number | null]}`).
fn parse_series(body: &str) -> Result<BTreeMap<String, Vec<f64>>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(body);
    nullable_series(&mut de)
}

/// A run as listed by `history`.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: String,
    pub deployment: String,
    pub kind: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub status: String,
    pub verdict: Option<String>,
    pub reason: Option<String>,
    pub exit_code: Option<i64>,
    pub dry_run: bool,
    pub anomalies: i64,
    pub rolled_back: bool,
}

/// What the rollback executor did, to be stored.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackRecord {
    pub trigger: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub attempts: u32,
    pub argv: Vec<String>,
    pub exit_status: Option<i32>,
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
    pub reason: String,
}

/// How a run ended, as stored.
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    pub ended_at: Timestamp,
    /// `finished` or `interrupted`.
    pub status: &'a str,
    pub verdict: Option<&'a str>,
    pub reason: &'a str,
    pub exit_code: i32,
    /// The JSON summary as `--output json` prints it.
    pub summary: &'a str,
}

/// Filters for `history`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub deployment: Option<String>,
    pub verdict: Option<String>,
    pub since: Option<Timestamp>,
    pub limit: usize,
}

/// An open store.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating folder and file if needed) and migrates the store.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: path.display().to_string(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        enable_wal(&conn).map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let mut store = Store { conn };
        store.migrate(path)?;
        Ok(store)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), StoreError> {
        let known = migrations::MIGRATIONS.len() as i64;
        // IMMEDIATE takes the write lock up front, so two processes never migrate at once.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > known {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found: version,
                known,
            });
        }
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(version as usize)
        {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Stores a baseline; returns its id.
    pub fn save_baseline(&mut self, b: &BaselineSet) -> Result<i64, StoreError> {
        let body = serde_json::to_string(&b.series)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO baselines (deployment, created_at, source, config_digest, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![b.deployment, b.created_at, b.source, b.config_digest, body],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// The newest baseline of a deployment.
    pub fn latest_baseline(&self, deployment: &str) -> Result<Option<BaselineSet>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT created_at, source, config_digest, body FROM baselines WHERE deployment = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
                [deployment],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)),
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((created_at, source, config_digest, body)) => Ok(Some(BaselineSet {
                deployment: deployment.to_string(),
                created_at,
                source,
                config_digest,
                series: parse_series(&body)?,
            })),
        }
    }

    /// Records the start of a run.
    pub fn start_run(
        &mut self,
        id: &str,
        deployment: &str,
        kind: &str,
        started_at: Timestamp,
        dry_run: bool,
        digest: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO runs (id, deployment, kind, started_at, status, dry_run, config_digest) VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
            params![id, deployment, kind, started_at, dry_run, digest],
        )?;
        Ok(())
    }

    /// Stores one tick: its samples and the anomalies that fired or resolved, in one transaction.
    pub fn record_tick(
        &mut self,
        run_id: &str,
        ts: Timestamp,
        samples: &[Sample],
        fired: &[Anomaly],
        resolved: &[Anomaly],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut ins = tx.prepare_cached("INSERT INTO samples (run_id, ts, series, value, status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for s in samples {
                let detail = match &s.reading {
                    crate::model::Reading::Down(d) | crate::model::Reading::Missing(d) => {
                        Some(d.as_str())
                    }
                    _ => None,
                };
                ins.execute(params![
                    run_id,
                    ts,
                    s.series,
                    s.reading.value(),
                    s.reading.status(),
                    detail
                ])?;
            }
            let mut add = tx.prepare_cached("INSERT INTO anomalies (run_id, rule, series, kind, severity, fired_at, resolved_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)")?;
            for a in fired {
                add.execute(params![
                    run_id,
                    a.rule,
                    a.series,
                    a.kind,
                    a.severity.as_str(),
                    a.fired_at,
                    serde_json::to_string(a)?
                ])?;
            }
            let mut res = tx.prepare_cached("UPDATE anomalies SET resolved_at = ?1, body = ?2 WHERE run_id = ?3 AND rule = ?4 AND series = ?5 AND fired_at = ?6")?;
            for a in resolved {
                res.execute(params![
                    a.resolved_at,
                    serde_json::to_string(a)?,
                    run_id,
                    a.rule,
                    a.series,
                    a.fired_at
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a decision.
    pub fn record_decision(&mut self, run_id: &str, d: &Decision) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO decisions (run_id, ts, verdict, reason) VALUES (?1, ?2, ?3, ?4)",
            params![run_id, d.at, d.verdict.to_string(), d.reason()],
        )?;
        Ok(())
    }

    /// Records a rollback attempt series.
    pub fn record_rollback(&mut self, run_id: &str, r: &RollbackRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO rollbacks (run_id, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![run_id, r.trigger, r.started_at, r.ended_at, r.attempts, serde_json::to_string(&r.argv)?, r.exit_status, r.ok, r.stdout, r.stderr, r.reason],
        )?;
        Ok(())
    }

    /// Closes a run with its verdict and JSON summary.
    pub fn finish_run(&mut self, id: &str, end: &RunEnd) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET ended_at = ?2, status = ?3, verdict = ?4, reason = ?5, exit_code = ?6, summary = ?7 WHERE id = ?1",
            params![id, end.ended_at, end.status, end.verdict, end.reason, end.exit_code, end.summary],
        )?;
        Ok(())
    }

    /// Past runs, newest first.
    pub fn runs(&self, f: &RunFilter) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.deployment, r.kind, r.started_at, r.ended_at, r.status, r.verdict, r.reason, r.exit_code, r.dry_run,
                    (SELECT COUNT(*) FROM anomalies a WHERE a.run_id = r.id),
                    EXISTS (SELECT 1 FROM rollbacks b WHERE b.run_id = r.id AND b.ok = 1)
             FROM runs r
             WHERE (?1 IS NULL OR r.deployment = ?1) AND (?2 IS NULL OR r.verdict = ?2) AND (?3 IS NULL OR r.started_at >= ?3)
             ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![f.deployment, f.verdict, f.since, f.limit.max(1) as i64],
            |r| {
                Ok(RunRow {
                    id: r.get(0)?,
                    deployment: r.get(1)?,
                    kind: r.get(2)?,
                    started_at: r.get(3)?,
                    ended_at: r.get(4)?,
                    status: r.get(5)?,
                    verdict: r.get(6)?,
                    reason: r.get(7)?,
                    exit_code: r.get(8)?,
                    dry_run: r.get(9)?,
                    anomalies: r.get(10)?,
                    rolled_back: r.get(11)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Count of rows in a table (for tests and `check`).
    pub fn count(&self, table: &str) -> Result<i64, StoreError> {
        let allowed = [
            "baselines",
            "runs",
            "samples",
            "anomalies",
            "decisions",
            "rollbacks",
        ];
        let table = allowed
            .iter()
            .find(|t| **t == table)
            .copied()
            .unwrap_or("runs");
        Ok(self
            .conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    }

    /// A run's samples in time order: (time, series, value — None when missing or down),
    /// for the charts of `report --format html`.
    pub fn run_samples(
        &self,
        run_id: &str,
    ) -> Result<Vec<(Timestamp, String, Option<f64>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT ts, series, value FROM samples WHERE run_id = ?1 ORDER BY ts, rowid",
        )?;
        let rows = stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The raw connection, for modules that own their own tables.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reading;

    #[test]
    fn migrates_and_round_trips_a_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/vz.db");
        let mut s = Store::open(&path).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            migrations::MIGRATIONS.len() as i64
        );
        let mut series = BTreeMap::new();
        series.insert("cpu".to_string(), vec![1.0, 2.5]);
        let b = BaselineSet {
            deployment: "d".into(),
            created_at: 5,
            source: "probes".into(),
            config_digest: "x".into(),
            series,
        };
        s.save_baseline(&b).unwrap();
        let mut newer = b.clone();
        newer.created_at = 9;
        newer.series.insert("mem".into(), vec![3.0]);
        s.save_baseline(&newer).unwrap();
        assert_eq!(s.latest_baseline("d").unwrap(), Some(newer));
        assert_eq!(s.latest_baseline("other").unwrap(), None);
        drop(s);
        // Reopening does not re-run migrations.
        let s = Store::open(&path).unwrap();
        assert_eq!(s.count("baselines").unwrap(), 2);
    }

    #[test]
    fn records_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("vz.db")).unwrap();
        s.start_run("r1", "d", "watch", 1, false, "x").unwrap();
        s.record_tick(
            "r1",
            1,
            &[
                Sample::new("cpu", Reading::Value(3.0)),
                Sample::new("h", Reading::Down("refused".into())),
            ],
            &[],
            &[],
        )
        .unwrap();
        let end = RunEnd {
            ended_at: 2,
            status: "finished",
            verdict: Some("healthy"),
            reason: "ok",
            exit_code: 0,
            summary: "{}",
        };
        s.finish_run("r1", &end).unwrap();
        let runs = s
            .runs(&RunFilter {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].verdict.as_deref(), Some("healthy"));
        assert_eq!(s.count("samples").unwrap(), 2);
        let filtered = s
            .runs(&RunFilter {
                verdict: Some("rollback".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(filtered.is_empty());
    }
}
