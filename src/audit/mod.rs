//! The audit log: an append-only hash chain in the store (DESIGN.md "Store and audit"),
//! manual overrides, and retention that never silently breaks the chain.
//!
//! Entry: seq, ts, deployment, actor, action, run_id, details (JSON), alg, prev_hash, hash,
//! where hash = SHA-256 (or HMAC-SHA256 keyed by `VZ_AUDIT_KEY`) of the canonical JSON of
//! all other fields. Actions: baseline, run_start, config_change, decision, rollback,
//! run_finish, hold, release, abort, override_seen, checkpoint.

pub mod chain;
pub mod observer;
pub mod overrides;
pub mod verify;

use crate::config::Config;
use crate::model::Timestamp;
use crate::observe::{Observer, RunContext};
use crate::store::{BaselineSet, Store, StoreError};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

/// Who acts: `VZ_ACTOR`, else `GITHUB_ACTOR`, else `$USER` (`$LOGNAME`, `$USERNAME`),
/// else the process's uid (`uid 1000`, as in a container without a login), else `unknown`.
pub fn actor() -> String {
    ["VZ_ACTOR", "GITHUB_ACTOR", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .or_else(uid)
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(unix)]
fn uid() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .ok()
        .map(|m| format!("uid {}", m.uid()))
}

#[cfg(not(unix))]
fn uid() -> Option<String> {
    None
}

/// The observers of this module: the audit trail and the override poller.
pub fn observers(config: &Config, ctx: &RunContext) -> Vec<Box<dyn Observer>> {
    vec![
        Box::new(observer::AuditObserver::new(
            ctx,
            &config.digest,
            &config.origin(),
        )),
        Box::new(overrides::OverrideObserver::new(ctx)),
    ]
}

/// Records a stored baseline in the chain; a failure is a warning, never an error.
pub fn record_baseline(store: &mut Store, b: &BaselineSet, id: i64) {
    let e = chain::NewEntry {
        ts: b.created_at,
        deployment: b.deployment.clone(),
        actor: actor(),
        action: "baseline".into(),
        run_id: None,
        details: serde_json::json!({
            "baseline_id": id,
            "source": b.source,
            "config_digest": b.config_digest,
            "series": b.series.iter().map(|(k, v)| (k.clone(), v.len())).collect::<std::collections::BTreeMap<_, _>>(),
        }),
    };
    if let Err(err) = chain::append(store.connection(), &e, chain::key_from_env().as_deref()) {
        errln!("warning: audit: could not record the baseline: {err}");
    }
}

/// What `prune` did.
#[derive(Debug, Clone, Serialize)]
pub struct Pruned {
    /// Everything older than this was pruned (ms).
    pub cutoff: Timestamp,
    pub samples_deleted: usize,
    pub entries_deleted: usize,
    /// Last pruned audit entry (the checkpoint carries it and its hash).
    pub through_seq: Option<i64>,
    /// `seq` of the checkpoint entry written.
    pub checkpoint_seq: i64,
}

/// Deletes samples and audit entries older than `cutoff`, in one `BEGIN IMMEDIATE`
/// transaction that first appends a checkpoint entry carrying the last pruned entry's seq
/// and hash and the counts, so `audit verify` starts from it instead of seeing a gap.
pub fn prune(
    store: &mut Store,
    cutoff: Timestamp,
    retention: &str,
    now: Timestamp,
) -> Result<Pruned, StoreError> {
    let key = chain::key_from_env();
    let tx = store
        .connection()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit WHERE seq = (SELECT MAX(seq) FROM audit WHERE ts < ?1)",
            [cutoff],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let entries: usize = match &last {
        Some((seq, _)) => {
            tx.query_row("SELECT COUNT(*) FROM audit WHERE seq <= ?1", [seq], |r| {
                r.get::<_, i64>(0)
            })? as usize
        }
        None => 0,
    };
    let samples_deleted = tx.execute("DELETE FROM samples WHERE ts < ?1", [cutoff])?;
    let checkpoint = chain::append_in(
        &tx,
        &chain::NewEntry {
            ts: now,
            deployment: "*".into(),
            actor: actor(),
            action: "checkpoint".into(),
            run_id: None,
            details: serde_json::json!({
                "cutoff": cutoff,
                "retention": retention,
                "samples_deleted": samples_deleted,
                "entries_deleted": entries,
                "through_seq": last.as_ref().map(|l| l.0),
                "through_hash": last.as_ref().map(|l| l.1.clone()),
            }),
        },
        key.as_deref(),
    )?;
    if let Some((seq, _)) = &last {
        tx.execute("DELETE FROM audit WHERE seq <= ?1", params![seq])?;
    }
    tx.commit()?;
    Ok(Pruned {
        cutoff,
        samples_deleted,
        entries_deleted: entries,
        through_seq: last.map(|l| l.0),
        checkpoint_seq: checkpoint.seq,
    })
}
