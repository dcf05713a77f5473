//! Manual overrides (hold, release, abort): stored by the commands, polled by a running
//! watch every tick through [`OverrideObserver`]. Each one is also an audit entry.

use super::chain::{self, NewEntry};
use crate::model::Timestamp;
use crate::observe::{Observer, Override, RunContext};
use crate::store::{Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// Records a hold, release or abort for a deployment, and its audit entry, in one transaction.
pub fn place(
    conn: &mut Connection,
    kind: &str,
    deployment: &str,
    actor: &str,
    reason: &str,
    now: Timestamp,
) -> Result<chain::Entry, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO overrides (deployment, kind, actor, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![deployment, kind, actor, reason, now],
    )?;
    let entry = chain::append_in(
        &tx,
        &NewEntry {
            ts: now,
            deployment: deployment.into(),
            actor: actor.into(),
            action: kind.into(),
            run_id: None,
            details: serde_json::json!({ "reason": reason }),
        },
        chain::key_from_env().as_deref(),
    )?;
    tx.commit()?;
    Ok(entry)
}

/// The hold in force for a deployment (the latest hold not followed by a release).
pub fn active_hold(
    conn: &Connection,
    deployment: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let latest: Option<(String, String, String)> = conn
        .query_row(
            "SELECT kind, actor, reason FROM overrides WHERE deployment = ?1 AND kind IN ('hold', 'release') ORDER BY id DESC LIMIT 1",
            [deployment],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(latest
        .filter(|(k, _, _)| k == "hold")
        .map(|(_, by, reason)| (by, reason)))
}

/// Takes (marks consumed by `run_id`) the oldest abort for `deployment` placed at or after
/// `since` that no run has acted on yet. Only one run can take a given abort.
pub fn take_abort(
    conn: &mut Connection,
    deployment: &str,
    since: Timestamp,
    run_id: &str,
    now: Timestamp,
) -> Result<Option<(String, String)>, StoreError> {
    let sql = "SELECT id, actor, reason FROM overrides WHERE deployment = ?1 AND kind = 'abort' AND created_at >= ?2 AND consumed_by IS NULL ORDER BY id LIMIT 1";
    // A plain read every tick; the write lock only when there is an abort to take.
    let pending: Option<i64> = conn
        .query_row(sql, params![deployment, since], |r| r.get(0))
        .optional()?;
    if pending.is_none() {
        return Ok(None);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(i64, String, String)> = tx
        .query_row(sql, params![deployment, since], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((id, by, reason)) = found else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE overrides SET consumed_by = ?2, consumed_at = ?3 WHERE id = ?1",
        params![id, run_id, now],
    )?;
    chain::append_in(
        &tx,
        &NewEntry {
            ts: now,
            deployment: deployment.into(),
            actor: by.clone(),
            action: "override_seen".into(),
            run_id: Some(run_id.into()),
            details: serde_json::json!({ "override": "abort", "reason": reason }),
        },
        chain::key_from_env().as_deref(),
    )?;
    tx.commit()?;
    Ok(Some((by, reason)))
}

/// Runs of a deployment still marked `running`.
pub fn running_watches(conn: &Connection, deployment: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM runs WHERE deployment = ?1 AND status = 'running' AND kind = 'watch'",
        [deployment],
        |r| r.get(0),
    )?)
}

/// Polls the overrides table for the run's deployment every tick.
pub struct OverrideObserver {
    store: Option<Store>,
    /// Whether this run was last told it is on hold.
    held: bool,
}

impl OverrideObserver {
    /// Opens its own connection to the run's store.
    pub fn new(ctx: &RunContext) -> OverrideObserver {
        let store = Store::open(&ctx.store_path)
            .map_err(|e| errln!("warning: overrides cannot be read: {e}"))
            .ok();
        OverrideObserver { store, held: false }
    }

    fn poll(&mut self, ctx: &RunContext) -> Result<Option<Override>, StoreError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(None);
        };
        let conn = store.connection();
        let now = chrono::Utc::now().timestamp_millis();
        if let Some((by, reason)) =
            take_abort(conn, &ctx.deployment, ctx.started_at, &ctx.run_id, now)?
        {
            return Ok(Some(Override::Abort { by, reason }));
        }
        match (active_hold(conn, &ctx.deployment)?, self.held) {
            (Some((by, reason)), false) => {
                self.held = true;
                note_seen(conn, ctx, &by, "hold", &reason, now);
                Ok(Some(Override::Hold { by, reason }))
            }
            (None, true) => {
                self.held = false;
                let by = conn
                    .query_row(
                        "SELECT actor FROM overrides WHERE deployment = ?1 AND kind = 'release' ORDER BY id DESC LIMIT 1",
                        [&ctx.deployment],
                        |r| r.get::<_, String>(0),
                    )
                    .optional()?
                    .unwrap_or_else(|| "unknown".into());
                note_seen(conn, ctx, &by, "release", "", now);
                Ok(Some(Override::Release { by }))
            }
            _ => Ok(None),
        }
    }
}

/// Records that this run acted on a hold or release.
fn note_seen(
    conn: &mut Connection,
    ctx: &RunContext,
    by: &str,
    what: &str,
    reason: &str,
    now: Timestamp,
) {
    let e = NewEntry {
        ts: now,
        deployment: ctx.deployment.clone(),
        actor: by.into(),
        action: "override_seen".into(),
        run_id: Some(ctx.run_id.clone()),
        details: serde_json::json!({ "override": what, "reason": reason }),
    };
    if let Err(err) = chain::append(conn, &e, chain::key_from_env().as_deref()) {
        errln!("warning: audit: {err}");
    }
}

impl Observer for OverrideObserver {
    fn poll_override(&mut self, ctx: &RunContext) -> Option<Override> {
        self.poll(ctx)
            .map_err(|e| errln!("warning: could not read overrides: {e}"))
            .ok()
            .flatten()
    }
}
