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
use crate::observe::Observer;
pub use crate::store::audit::Pruned;
use crate::store::{BaselineSet, Store, StoreError};

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
pub fn observers(config: &Config) -> Vec<Box<dyn Observer>> {
    vec![
        Box::new(observer::AuditObserver::new(
            &config.digest,
            &config.origin(),
        )),
        Box::new(overrides::OverrideObserver::default()),
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
    if let Err(err) = chain::append(store, &e, chain::key_from_env().as_deref()) {
        errln!("warning: audit: could not record the baseline: {err}");
    }
}

/// Deletes samples and audit entries older than `cutoff`, in one transaction that first
/// appends a checkpoint entry carrying the last pruned entry's seq and hash and the counts,
/// so `audit verify` starts from it instead of seeing a gap.
pub fn prune(
    store: &mut Store,
    cutoff: Timestamp,
    retention: &str,
    now: Timestamp,
) -> Result<Pruned, StoreError> {
    let key = chain::key_from_env();
    let seal = chain::seal(key.as_deref());
    let checkpoint =
        |samples_deleted: usize, entries: usize, last: Option<&(i64, String)>| chain::NewEntry {
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
                "through_seq": last.map(|l| l.0),
                "through_hash": last.map(|l| l.1.clone()),
            }),
        };
    store.prune(cutoff, &checkpoint, &seal, &chain::canonical)
}
