//! One rollback per deploy across processes and runners (DESIGN.md "Rollback"): before
//! running the command, a run claims the deploy. The claim is one row per deploy key —
//! `deployment@revision` when the pipeline names the deploy (`--revision`), else the
//! deployment alone — written by an atomic upsert that both engines serialize on the row
//! (SQLite under `BEGIN IMMEDIATE`, PostgreSQL by the row lock of `ON CONFLICT … DO
//! UPDATE`). A named deploy's claim is never taken by start time: every watch and manual
//! rollback of it shares the one claim. Without a revision, a claim older than the claiming
//! run belongs to an earlier deploy and is taken over (the documented fallback).
//!
//! The claim is held through its run's lease, renewed every [`CLAIM_HEARTBEAT`] while the
//! command runs. A holder that stops renewing before recording its rollback (kill -9, OOM, a
//! lost runner) leaves an outcome nobody knows: [`Holder::Lapsed`]. The claim is taken over
//! from it ([`Store::take_over_claim`]) only when the command is declared idempotent.

use super::db::{args, Lock};
use super::{Store, StoreError};
use crate::model::Timestamp;
use std::time::Duration;

/// How long a claim outlives its claimer's last heartbeat: after this, a claimer that has not
/// recorded its rollback is taken for dead.
pub const CLAIM_LEASE: Duration = Duration::from_secs(10);

/// How often a watch running the rollback command renews its claim's lease.
pub const CLAIM_HEARTBEAT: Duration = Duration::from_secs(2);

/// Where the run holding a rollback claim stands, for a run that lost the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Running its command, lease renewed: wait for it.
    Live,
    /// Still `running` in the store with a lapsed lease and no recorded rollback: it died
    /// and nobody knows how far its command got.
    Lapsed,
    /// It recorded its rollback or ended: `ok` is the rollback's outcome (`None`: unknown —
    /// the run is gone from the store, or ended without a rollback or an exit code saying).
    Done {
        /// Whether the rollback succeeded, when known.
        ok: Option<bool>,
    },
}

/// The answer to a rollback claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This run holds the claim: run the command.
    Won,
    /// Another run holds this deploy's claim: it ran (or is running) the rollback; do not
    /// run it again.
    Lost {
        /// The run that holds the claim.
        by: String,
        /// When it claimed (ms).
        at: Timestamp,
    },
}

impl Store {
    /// Claims the rollback of the deploy `key` for `run_id` at `now`, and extends the run's
    /// lease to `lease_until` so the run is not taken for abandoned while its command runs.
    /// `earlier_before`: without a revision, a claim made before this time (the run's start)
    /// belongs to an earlier deploy and is taken over; `None` (a named deploy): never.
    pub fn claim_rollback(
        &mut self,
        key: &str,
        run_id: &str,
        earlier_before: Option<Timestamp>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, StoreError> {
        let earlier = earlier_before.unwrap_or(i64::MIN);
        let claim = self.tx(Lock::Write, |db| {
            db.exec(
                "INSERT INTO rollback_claims (deployment, run_id, claimed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (deployment) DO UPDATE SET run_id = excluded.run_id, claimed_at = excluded.claimed_at
                 WHERE rollback_claims.run_id <> excluded.run_id AND rollback_claims.claimed_at < ?4",
                args![key, run_id, now, earlier],
            )?;
            let rows = db.query(
                "SELECT run_id, claimed_at FROM rollback_claims WHERE deployment = ?1",
                args![key],
            )?;
            let Some(r) = rows.first() else {
                return Err(StoreError::Column("the rollback claim vanished".into()));
            };
            let (by, at) = (r.text(0)?, r.int(1)?);
            Ok(if by == run_id {
                Claim::Won
            } else {
                Claim::Lost { by, at }
            })
        })?;
        if claim == Claim::Won {
            self.extend_lease(run_id, lease_until)?;
        }
        Ok(claim)
    }

    /// Takes the claim of `key` over from `from` (a holder that died, [`Holder::Lapsed`]) for
    /// `run_id`: only for a command declared idempotent. False when another run was faster.
    pub fn take_over_claim(
        &mut self,
        key: &str,
        from: &str,
        run_id: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let taken = self.tx(Lock::Write, |db| {
            db.exec(
                "UPDATE rollback_claims SET run_id = ?3, claimed_at = ?4 WHERE deployment = ?1 AND run_id = ?2",
                args![key, from, run_id, now],
            )
        })? == 1;
        if taken {
            self.extend_lease(run_id, lease_until)?;
        }
        Ok(taken)
    }

    /// The run holding the rollback claim of a deployment, if any.
    pub fn rollback_claim(
        &self,
        deployment: &str,
    ) -> Result<Option<(String, Timestamp)>, StoreError> {
        let rows = self.db.query(
            "SELECT run_id, claimed_at FROM rollback_claims WHERE deployment = ?1",
            args![deployment],
        )?;
        match rows.first() {
            Some(r) => Ok(Some((r.text(0)?, r.int(1)?))),
            None => Ok(None),
        }
    }

    /// Where `run_id`, holding a rollback claim, stands at `now`, with its rollback's outcome
    /// once it has one: the recorded rollback, else the exit code it ended with (4 failed;
    /// 0 or 1 rolled back).
    pub fn claim_holder(&self, run_id: &str, now: Timestamp) -> Result<Holder, StoreError> {
        let rows = self.db.query(
            "SELECT h.status, COALESCE(h.lease_until, ?2), (SELECT MAX(b.ok) FROM rollbacks b WHERE b.run_key = h.key), h.exit_code
             FROM runs h WHERE h.id = ?1",
            args![run_id, now],
        )?;
        let Some(r) = rows.first() else {
            return Ok(Holder::Done { ok: None });
        };
        if let Some(ok) = r.opt_int(2)? {
            return Ok(Holder::Done { ok: Some(ok != 0) });
        }
        Ok(if r.text(0)? != "running" {
            let ok = match r.opt_int(3)? {
                Some(4) => Some(false),
                Some(0 | 1) => Some(true),
                _ => None,
            };
            Holder::Done { ok }
        } else if r.int(1)? < now {
            Holder::Lapsed
        } else {
            Holder::Live
        })
    }
}
