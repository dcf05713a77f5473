//! One rollback per deployment across processes and runners (DESIGN.md "Rollback"): before
//! running the command, a watch claims the deployment. The claim is one row per deployment,
//! written by an atomic upsert that both engines serialize on the row (SQLite under `BEGIN
//! IMMEDIATE`, PostgreSQL by the row lock of `ON CONFLICT … DO UPDATE`): a claim older than
//! the claiming run belongs to an earlier deploy and is taken over; a newer one means
//! another run already rolled this deploy back.
//!
//! The claim is held through its run's lease, renewed every [`CLAIM_HEARTBEAT`] while the
//! command runs: a claimer killed between its claim and its recorded rollback (kill -9, OOM,
//! a lost runner) stops renewing, and once its lease has lapsed the next contender takes the
//! claim over and runs the command itself.

use super::db::{args, Db, Lock};
use super::{Store, StoreError};
use crate::model::Timestamp;
use std::time::Duration;

/// How long a claim outlives its claimer's last heartbeat: after this, a claimer that has not
/// recorded its rollback is taken for dead.
pub const CLAIM_LEASE: Duration = Duration::from_secs(10);

/// How often a watch running the rollback command renews its claim's lease.
pub const CLAIM_HEARTBEAT: Duration = Duration::from_secs(2);

/// Where the run holding a rollback claim stands, for a watch that lost the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Running its command, lease renewed: wait for it.
    Live,
    /// Still `running` in the store with a lapsed lease and no recorded rollback: it died;
    /// the claim can be taken over.
    Lapsed,
    /// It recorded its rollback or ended (or is unknown): nothing to wait for.
    Done,
}

/// The answer to a rollback claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This run holds the claim: run the command.
    Won,
    /// This run holds the claim, taken over from `from`, which claimed first but whose lease
    /// lapsed before it recorded a rollback (it died): run the command.
    TookOver { from: String },
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
            let holder = |db: &dyn Db| -> Result<Option<(String, i64)>, StoreError> {
                let rows = db.query(
                    "SELECT run_id, claimed_at FROM rollback_claims WHERE deployment = ?1",
                    args![deployment],
                )?;
                rows.first().map(|r| Ok((r.text(0)?, r.int(1)?))).transpose()
            };
            let before = holder(&*db)?;
            // Taken over when it belongs to an earlier deploy (claimed before this run
            // started), or when its run is still `running` with a lapsed lease and no
            // recorded rollback: the claimer died before finishing.
            db.exec(
                "INSERT INTO rollback_claims (deployment, run_id, claimed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (deployment) DO UPDATE SET run_id = excluded.run_id, claimed_at = excluded.claimed_at
                 WHERE rollback_claims.run_id <> excluded.run_id AND (rollback_claims.claimed_at < ?4
                   OR EXISTS (SELECT 1 FROM runs h WHERE h.id = rollback_claims.run_id
                       AND h.status = 'running' AND h.lease_until < ?3
                       AND NOT EXISTS (SELECT 1 FROM rollbacks b WHERE b.run_key = h.key)))",
                args![deployment, run_id, now, started_at],
            )?;
            let Some((by, at)) = holder(&*db)? else {
                return Err(StoreError::Column("the rollback claim vanished".into()));
            };
            Ok(match before {
                _ if by != run_id => Claim::Lost { by, at },
                Some((from, was)) if from != run_id && was >= started_at => {
                    Claim::TookOver { from }
                }
                _ => Claim::Won,
            })
        })?;
        if !matches!(claim, Claim::Lost { .. }) {
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

    /// Where `run_id`, holding a rollback claim, stands at `now`.
    pub fn claim_holder(&self, run_id: &str, now: Timestamp) -> Result<Holder, StoreError> {
        let rows = self.db.query(
            "SELECT h.status, COALESCE(h.lease_until, ?2), (SELECT COUNT(*) FROM rollbacks b WHERE b.run_key = h.key)
             FROM runs h WHERE h.id = ?1",
            args![run_id, now],
        )?;
        let Some(r) = rows.first() else {
            return Ok(Holder::Done);
        };
        Ok(if r.text(0)? != "running" || r.int(2)? > 0 {
            Holder::Done
        } else if r.int(1)? < now {
            Holder::Lapsed
        } else {
            Holder::Live
        })
    }
}
