//! One watch tick in the store: its samples (integer run key, time, integer series id,
//! value), the anomalies that fired or resolved, and the renewal of the run's lease, in one
//! transaction.

use super::db::{args, scalar, Db, Lock, Val};
use super::live::LiveState;
use super::{now_ms, Store, StoreError};
use crate::model::{Anomaly, Reading, Sample, Timestamp};
use std::collections::HashMap;

/// Samples per INSERT statement.
const SAMPLES_PER_STATEMENT: usize = 100;

impl Store {
    /// Stores one tick — its samples and the anomalies that fired or resolved — and renews
    /// the run's lease, in one transaction.
    pub fn record_tick(
        &mut self,
        run_id: &str,
        ts: Timestamp,
        samples: &[Sample],
        fired: &[Anomaly],
        resolved: &[Anomaly],
    ) -> Result<(), StoreError> {
        self.record_tick_live(run_id, ts, samples, fired, resolved, None)
    }

    /// [`Store::record_tick`], also replacing the run's live state (what `serve` shows of
    /// it) in the same transaction and statement as the lease: no extra round trip.
    pub fn record_tick_live(
        &mut self,
        run_id: &str,
        ts: Timestamp,
        samples: &[Sample],
        fired: &[Anomaly],
        resolved: &[Anomaly],
        live: Option<&LiveState>,
    ) -> Result<(), StoreError> {
        let live = live.map(serde_json::to_string).transpose()?;
        let key = self.run_key(run_id)?;
        self.db.begin(Lock::Write)?;
        let tick = Tick {
            key,
            ts,
            samples,
            fired,
            resolved,
            live: live.as_deref(),
        };
        match write_tick(self.db.as_ref(), &mut self.series, &tick) {
            Ok(()) => self.db.commit(),
            Err(e) => {
                self.db.rollback();
                // Series added by the rolled-back transaction are gone again.
                self.series.clear();
                Err(e)
            }
        }
    }
}

/// `samples.status` of a `down` reading.
pub(super) const STATUS_DOWN: i64 = 1;

fn status_code(r: &Reading) -> i64 {
    match r {
        Reading::Value(_) => 0,
        Reading::Down(_) => STATUS_DOWN,
        Reading::Missing(_) => 2,
    }
}

/// One tick to store.
struct Tick<'a> {
    key: i64,
    ts: Timestamp,
    samples: &'a [Sample],
    fired: &'a [Anomaly],
    resolved: &'a [Anomaly],
    /// The live state as JSON, when the watch gives one.
    live: Option<&'a str>,
}

/// Ids of `names` in the `series` table, adding the new ones (inside a transaction).
fn series_ids(
    db: &dyn Db,
    cache: &mut HashMap<String, i64>,
    names: &[&str],
) -> Result<Vec<i64>, StoreError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if let Some(id) = cache.get(*name) {
            out.push(*id);
            continue;
        }
        db.exec(
            "INSERT INTO series (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
            args![*name],
        )?;
        let rows = db.query("SELECT id FROM series WHERE name = ?1", args![*name])?;
        let id = scalar(&rows)?.ok_or_else(|| StoreError::Column("no series id".into()))?;
        cache.insert(name.to_string(), id);
        out.push(id);
    }
    Ok(out)
}

/// The statements of one tick, inside the caller's transaction.
fn write_tick(db: &dyn Db, cache: &mut HashMap<String, i64>, t: &Tick) -> Result<(), StoreError> {
    // A control reading is kept as its own series beside the canary's.
    let stored: Vec<String> = t
        .samples
        .iter()
        .map(|s| match s.control {
            true => format!("{} (control)", s.series),
            false => s.series.clone(),
        })
        .collect();
    let names: Vec<&str> = stored.iter().map(String::as_str).collect();
    let ids = series_ids(db, cache, &names)?;
    let rows: Vec<(&Sample, i64)> = t.samples.iter().zip(ids).collect();
    for chunk in rows.chunks(SAMPLES_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO samples (run_key, ts, series_id, value, status, detail) VALUES ",
        );
        let mut params: Vec<Val> = Vec::with_capacity(chunk.len() * 6);
        for (i, (s, id)) in chunk.iter().enumerate() {
            let n = i * 6;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
            let detail = match &s.reading {
                Reading::Down(d) | Reading::Missing(d) => Some(d.as_str()),
                Reading::Value(_) => None,
            };
            params.extend([
                Val::Int(t.key),
                Val::Int(t.ts),
                Val::Int(*id),
                Val::from(s.reading.value()),
                Val::Int(status_code(&s.reading)),
                Val::from(detail),
            ]);
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        db.exec(&sql, &params)?;
    }
    for a in t.fired {
        db.exec(
            "INSERT INTO anomalies (run_key, rule, series, kind, severity, fired_at, resolved_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
            args![t.key, &a.rule, &a.series, &a.kind, a.severity.as_str(), a.fired_at, serde_json::to_string(a)?],
        )?;
    }
    for a in t.resolved {
        db.exec(
            "UPDATE anomalies SET resolved_at = ?1, body = ?2 WHERE run_key = ?3 AND rule = ?4 AND series = ?5 AND fired_at = ?6",
            args![a.resolved_at, serde_json::to_string(a)?, t.key, &a.rule, &a.series, a.fired_at],
        )?;
    }
    db.exec(
        "UPDATE runs SET lease_until = ?2 + lease_ms, live = COALESCE(?3, live) WHERE key = ?1 AND status = 'running'",
        args![t.key, now_ms(), t.live],
    )?;
    Ok(())
}
