//! One rollback per deployment across processes and runners (DESIGN.md "Rollback"): before
//! running the command, a watch claims the deployment. The claim is one row per deployment,
//! written by an atomic upsert that both engines serialize on the row (SQLite under `BEGIN
//! IMMEDIATE`, PostgreSQL by the row lock of `ON CONFLICT … DO UPDATE`): a claim older than
//! the claiming run belongs to an earlier deploy and is taken over; a newer one means
//! another run already rolled this deploy back.

use super::db::{args, Lock};
use super::{Store, StoreError};
use crate::model::Timestamp;

/// The answer to a rollback claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This run holds the claim: run the command.
    Won,
    /// Another run claimed the deployment after this run started: it ran (or is running)
    /// the rollback; do not run it again.
    Lost {
        /// The run that holds the claim.
        by: String,
        /// When it claimed (ms).
        at: Timestamp,
    },
}

impl Store {
    /// Claims the rollback of `deployment` for `run_id` (started at `started_at`) at `now`,
    /// and extends the run's lease to `lease_until` so the run is not taken for abandoned
    /// while its command runs.
    pub fn claim_rollback(
        &mut self,
        deployment: &str,
        run_id: &str,
        started_at: Timestamp,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, StoreError> {
        let claim = self.tx(Lock::Write, |db| {
            db.exec(
                "INSERT INTO rollback_claims (deployment, run_id, claimed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (deployment) DO UPDATE SET run_id = excluded.run_id, claimed_at = excluded.claimed_at
                 WHERE rollback_claims.claimed_at < ?4 AND rollback_claims.run_id <> excluded.run_id",
                args![deployment, run_id, now, started_at],
            )?;
            let rows = db.query(
                "SELECT run_id, claimed_at FROM rollback_claims WHERE deployment = ?1",
                args![deployment],
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
}
