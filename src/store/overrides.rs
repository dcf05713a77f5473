//! Holds, releases and aborts placed by hand, each with its audit entry in the same
//! transaction; a running watch on any runner polls them every tick.

use super::audit::{append_in, Canon, Entry, NewEntry, Seal};
use super::db::{args, scalar, Lock};
use super::{Store, StoreError};
use crate::model::Timestamp;
use serde_json::json;

/// Who placed an override, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The actor.
    pub by: String,
    /// The reason given.
    pub reason: String,
}

impl Store {
    /// Records a hold, release or abort for a deployment, and its audit entry.
    #[allow(clippy::too_many_arguments)]
    pub fn place_override(
        &mut self,
        kind: &str,
        deployment: &str,
        actor: &str,
        reason: &str,
        now: Timestamp,
        seal: Seal,
        canon: Canon,
    ) -> Result<Entry, StoreError> {
        self.tx(Lock::Chain, |db| {
            db.exec(
                "INSERT INTO overrides (deployment, kind, actor, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![deployment, kind, actor, reason, now],
            )?;
            let e = NewEntry {
                ts: now,
                deployment: deployment.into(),
                actor: actor.into(),
                action: kind.into(),
                run_id: None,
                details: json!({ "reason": reason }),
            };
            append_in(db, &e, seal, canon)
        })
    }

    /// The hold in force for a deployment (the latest hold not followed by a release).
    pub fn active_hold(&self, deployment: &str) -> Result<Option<Placed>, StoreError> {
        let rows = self.db.query(
            "SELECT kind, actor, reason FROM overrides WHERE deployment = ?1 AND kind IN ('hold', 'release') ORDER BY id DESC LIMIT 1",
            args![deployment],
        )?;
        match rows.first() {
            Some(r) if r.text(0)? == "hold" => Ok(Some(Placed {
                by: r.text(1)?,
                reason: r.text(2)?,
            })),
            _ => Ok(None),
        }
    }

    /// Who placed the deployment's latest release.
    pub fn last_release_by(&self, deployment: &str) -> Result<Option<String>, StoreError> {
        let rows = self.db.query(
            "SELECT actor FROM overrides WHERE deployment = ?1 AND kind = 'release' ORDER BY id DESC LIMIT 1",
            args![deployment],
        )?;
        rows.first().map(|r| r.text(0)).transpose()
    }

    /// Takes (marks consumed by `run_id`) the oldest abort for `deployment` placed at or
    /// after `since` that no run has acted on yet, and records that in the chain. Only one
    /// run, on any runner, can take a given abort.
    pub fn take_abort(
        &mut self,
        deployment: &str,
        since: Timestamp,
        run_id: &str,
        now: Timestamp,
        seal: Seal,
        canon: Canon,
    ) -> Result<Option<Placed>, StoreError> {
        let sql = "SELECT id, actor, reason FROM overrides WHERE deployment = ?1 AND kind = 'abort' AND created_at >= ?2 AND consumed_by IS NULL ORDER BY id LIMIT 1";
        // A plain read every tick; a transaction only when there is an abort to take.
        if scalar(&self.db.query(sql, args![deployment, since])?)?.is_none() {
            return Ok(None);
        }
        self.tx(Lock::Chain, |db| {
            let rows = db.query(sql, args![deployment, since])?;
            let Some(r) = rows.first() else {
                return Ok(None);
            };
            let (id, placed) = (
                r.int(0)?,
                Placed {
                    by: r.text(1)?,
                    reason: r.text(2)?,
                },
            );
            // The condition makes the take atomic on PostgreSQL too: of two runs that read
            // the same abort, only one updates the row.
            let taken = db.exec(
                "UPDATE overrides SET consumed_by = ?2, consumed_at = ?3 WHERE id = ?1 AND consumed_by IS NULL",
                args![id, run_id, now],
            )?;
            if taken == 0 {
                return Ok(None);
            }
            let e = NewEntry {
                ts: now,
                deployment: deployment.into(),
                actor: placed.by.clone(),
                action: "override_seen".into(),
                run_id: Some(run_id.into()),
                details: json!({ "override": "abort", "reason": placed.reason }),
            };
            append_in(db, &e, seal, canon)?;
            Ok(Some(placed))
        })
    }
}
