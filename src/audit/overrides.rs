//! Manual overrides (hold, release, abort): stored by the commands, polled by a running
//! watch every tick through [`OverrideObserver`]. Each one is also an audit entry. The SQL
//! is the store's (`store::overrides`); this module says what they mean to a watch.

use super::chain::{self, NewEntry};
use crate::model::Timestamp;
use crate::observe::{At, Observer, Override, RunContext};
use crate::store::{Store, StoreError};

/// Records a hold, release or abort for a deployment, and its audit entry, in one transaction.
pub fn place(
    store: &mut Store,
    kind: &str,
    deployment: &str,
    actor: &str,
    reason: &str,
    now: Timestamp,
) -> Result<chain::Entry, StoreError> {
    let key = chain::key_from_env();
    let seal = chain::seal(key.as_deref());
    store.place_override(
        kind,
        deployment,
        actor,
        reason,
        now,
        &seal,
        &chain::canonical,
    )
}

/// The hold in force for a deployment (the latest hold not followed by a release): who, why.
pub fn active_hold(
    store: &Store,
    deployment: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(store.active_hold(deployment)?.map(|p| (p.by, p.reason)))
}

/// Takes the oldest abort for `deployment` placed at or after `since` that no run has acted
/// on yet. Only one run can take a given abort.
pub fn take_abort(
    store: &mut Store,
    deployment: &str,
    since: Timestamp,
    run_id: &str,
    now: Timestamp,
) -> Result<Option<(String, String)>, StoreError> {
    let key = chain::key_from_env();
    let seal = chain::seal(key.as_deref());
    Ok(store
        .take_abort(deployment, since, run_id, now, &seal, &chain::canonical)?
        .map(|p| (p.by, p.reason)))
}

/// Watches of a deployment that are live (running, lease not lapsed): abandoned runs whose
/// process died are not counted.
pub fn running_watches(store: &Store, deployment: &str) -> Result<i64, StoreError> {
    store.live_watches(deployment)
}

/// Polls the overrides table for the run's deployment every tick, through the run's store.
#[derive(Default)]
pub struct OverrideObserver {
    /// Whether this run was last told it is on hold.
    held: bool,
}

impl OverrideObserver {
    fn poll(&mut self, at: &mut At<'_>) -> Result<Option<Override>, StoreError> {
        let (ctx, store, now) = (at.ctx, &mut *at.store, at.now);
        if let Some((by, reason)) =
            take_abort(store, &ctx.deployment, ctx.started_at, &ctx.run_id, now)?
        {
            return Ok(Some(Override::Abort { by, reason }));
        }
        match (active_hold(store, &ctx.deployment)?, self.held) {
            (Some((by, reason)), false) => {
                self.held = true;
                note_seen(store, ctx, &by, "hold", &reason, now);
                Ok(Some(Override::Hold { by, reason }))
            }
            (None, true) => {
                self.held = false;
                let by = store
                    .last_release_by(&ctx.deployment)?
                    .unwrap_or_else(|| "unknown".into());
                note_seen(store, ctx, &by, "release", "", now);
                Ok(Some(Override::Release { by }))
            }
            _ => Ok(None),
        }
    }
}

/// Records that this run acted on a hold or release.
fn note_seen(
    store: &mut Store,
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
    if let Err(err) = chain::append(store, &e, chain::key_from_env().as_deref()) {
        errln!("warning: audit: {err}");
    }
}

impl Observer for OverrideObserver {
    fn poll_override(&mut self, at: &mut At<'_>) -> Option<Override> {
        self.poll(at)
            .map_err(|e| errln!("warning: could not read overrides: {e}"))
            .ok()
            .flatten()
    }
}
