//! The audit chain's rows: appends serialized across every process (SQLite `BEGIN
//! IMMEDIATE`, PostgreSQL an advisory lock held to commit), so `seq` and `prev_hash` are
//! read and written under one lock and concurrent runners still build one verifiable
//! chain; and retention, which prunes behind a checkpoint entry. How an entry is hashed is
//! the audit module's business: it passes a [`Seal`].

use super::db::{args, scalar, Db, Lock};
use super::{Store, StoreError};
use crate::model::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// `prev_hash` of the very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append; `seq`, `prev_hash`, `alg` and `hash` are assigned on append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// When (ms).
    pub ts: Timestamp,
    /// The deployment (`*` for store-wide events).
    pub deployment: String,
    /// Who.
    pub actor: String,
    /// What (baseline, run_start, decision, rollback, hold …).
    pub action: String,
    /// The run, if any.
    pub run_id: Option<String>,
    /// Details, stored as canonical JSON.
    pub details: Value,
}

/// One stored entry of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (ms).
    pub ts: Timestamp,
    /// The deployment.
    pub deployment: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// The run, if any.
    pub run_id: Option<String>,
    /// Details.
    pub details: Value,
    /// `sha256` or `hmac-sha256`.
    pub alg: String,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A stored row as read back: `details` may not even be JSON if someone edited it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// The entry.
    pub entry: Entry,
    /// The `details` column as stored, when it is not valid JSON.
    pub bad_details: Option<String>,
}

/// Fills in `alg` and `hash` of an entry whose other fields are final.
pub type Seal<'a> = &'a dyn Fn(&mut Entry);
/// Writes `details` as stored (canonical JSON).
pub type Canon<'a> = &'a dyn Fn(&Value) -> String;
/// Builds the checkpoint entry of a prune from (samples deleted, entries deleted, the last
/// pruned entry's seq and hash).
pub type Checkpoint<'a> = &'a dyn Fn(usize, usize, Option<&(i64, String)>) -> NewEntry;

/// What `prune` did.
#[derive(Debug, Clone, Serialize)]
pub struct Pruned {
    /// Everything older than this was pruned (ms).
    pub cutoff: Timestamp,
    /// Samples deleted.
    pub samples_deleted: usize,
    /// Audit entries deleted.
    pub entries_deleted: usize,
    /// Last pruned audit entry (the checkpoint carries it and its hash).
    pub through_seq: Option<i64>,
    /// `seq` of the checkpoint entry written.
    pub checkpoint_seq: i64,
}

/// Appends inside the caller's chain-locked transaction.
pub(super) fn append_in(
    db: &dyn Db,
    e: &NewEntry,
    seal: Seal,
    canon: Canon,
) -> Result<Entry, StoreError> {
    let last = db.query(
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        args![],
    )?;
    let (seq, prev_hash) = match last.first() {
        Some(r) => (r.int(0)? + 1, r.text(1)?),
        None => (1, GENESIS.to_string()),
    };
    let mut entry = Entry {
        seq,
        ts: e.ts,
        deployment: e.deployment.clone(),
        actor: e.actor.clone(),
        action: e.action.clone(),
        run_id: e.run_id.clone(),
        details: e.details.clone(),
        alg: String::new(),
        prev_hash,
        hash: String::new(),
    };
    seal(&mut entry);
    db.exec(
        "INSERT INTO audit (seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        args![
            entry.seq,
            entry.ts,
            &entry.deployment,
            &entry.actor,
            &entry.action,
            &entry.run_id,
            canon(&entry.details),
            &entry.alg,
            &entry.prev_hash,
            &entry.hash
        ],
    )?;
    Ok(entry)
}

impl Store {
    /// Appends one entry in its own chain-locked transaction (safe with other processes
    /// and other runners).
    pub fn append_audit(
        &mut self,
        e: &NewEntry,
        seal: Seal,
        canon: Canon,
    ) -> Result<Entry, StoreError> {
        self.tx(Lock::Chain, |db| append_in(db, e, seal, canon))
    }

    /// Every entry, in `seq` order.
    pub fn audit_rows(&self) -> Result<Vec<AuditRow>, StoreError> {
        self.db
            .query(
                "SELECT seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash FROM audit ORDER BY seq",
                args![],
            )?
            .iter()
            .map(|r| {
                let details = r.text(6)?;
                let (value, bad) = match serde_json::from_str::<Value>(&details) {
                    Ok(v) => (v, None),
                    Err(_) => (Value::Null, Some(details)),
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
            })
            .collect()
    }

    /// Deletes samples and audit entries older than `cutoff` in one chain-locked
    /// transaction that first appends the checkpoint `checkpoint(samples_deleted,
    /// entries_deleted, last pruned (seq, hash))` builds, so `audit verify` starts from it
    /// instead of seeing a gap.
    pub fn prune(
        &mut self,
        cutoff: Timestamp,
        checkpoint: Checkpoint,
        seal: Seal,
        canon: Canon,
    ) -> Result<Pruned, StoreError> {
        self.tx(Lock::Chain, |db| {
            let rows = db.query(
                "SELECT seq, hash FROM audit WHERE seq = (SELECT MAX(seq) FROM audit WHERE ts < ?1)",
                args![cutoff],
            )?;
            let last = match rows.first() {
                Some(r) => Some((r.int(0)?, r.text(1)?)),
                None => None,
            };
            let entries = match &last {
                Some((seq, _)) => scalar(&db.query(
                    "SELECT COUNT(*) FROM audit WHERE seq <= ?1",
                    args![*seq],
                )?)?
                .unwrap_or(0) as usize,
                None => 0,
            };
            let samples_deleted =
                db.exec("DELETE FROM samples WHERE ts < ?1", args![cutoff])? as usize;
            let entry = checkpoint(samples_deleted, entries, last.as_ref());
            let written = append_in(db, &entry, seal, canon)?;
            if let Some((seq, _)) = &last {
                db.exec("DELETE FROM audit WHERE seq <= ?1", args![*seq])?;
            }
            Ok(Pruned {
                cutoff,
                samples_deleted,
                entries_deleted: entries,
                through_seq: last.map(|l| l.0),
                checkpoint_seq: written.seq,
            })
        })
    }
}
