//! Puts every run's start, config change, decision, rollback and finish in the audit chain.
//! A failing audit write is a warning: it never changes the gate's decision.

use super::{actor, chain};
use crate::observe::{At, Observer};
use crate::policy::Decision;
use crate::run::RunSummary;
use crate::store::{RollbackRecord, StoreError};
use futures::future::BoxFuture;
use serde_json::{json, Value};

/// Appends one entry per event of the run to the chain in the run's store.
pub struct AuditObserver {
    key: Option<Vec<u8>>,
    actor: String,
    digest: String,
    origin: String,
}

impl AuditObserver {
    /// Writes through the run's store handle; `digest` is the run's config digest.
    pub fn new(digest: &str, origin: &str) -> AuditObserver {
        AuditObserver {
            key: chain::key_from_env(),
            actor: actor(),
            digest: digest.into(),
            origin: origin.into(),
        }
    }

    /// Appends `action` at `at.now`; what the store cannot take is spooled for the next start.
    fn append(&mut self, at: &mut At<'_>, action: &str, details: Value) {
        let e = chain::NewEntry {
            ts: at.now,
            deployment: at.ctx.deployment.clone(),
            actor: self.actor.clone(),
            action: action.into(),
            run_id: Some(at.ctx.run_id.clone()),
            details,
        };
        if let Err(err) = chain::append(at.store, &e, self.key.as_deref()) {
            errln!("warning: audit: could not record {action}: {err}");
            crate::lifecycle::spool::keep(
                &at.ctx.store_path,
                &crate::lifecycle::spool::Spooled::audit(&e),
            );
        }
    }

    /// The config digest of the deployment's previous run, if any.
    fn previous_digest(at: &At<'_>) -> Result<Option<String>, StoreError> {
        at.store.previous_digest(&at.ctx.deployment, &at.ctx.run_id)
    }
}

impl Observer for AuditObserver {
    fn on_start(&mut self, at: &mut At<'_>) {
        let details = json!({ "kind": at.ctx.kind, "dry_run": at.ctx.dry_run, "config_digest": self.digest, "config": self.origin });
        self.append(at, "run_start", details);
        match Self::previous_digest(at) {
            Ok(Some(prev)) if prev != self.digest => {
                let details = json!({ "from": prev, "to": self.digest, "config": self.origin });
                self.append(at, "config_change", details);
            }
            Ok(_) => {}
            Err(e) => errln!("warning: audit: could not compare config digests: {e}"),
        }
    }

    fn on_decision(&mut self, at: &mut At<'_>, d: &Decision) {
        let details = json!({ "verdict": d.verdict.to_string(), "at": d.at, "reasons": d.reasons, "fail_closed": d.fail_closed });
        self.append(at, "decision", details);
    }

    fn on_rollback(&mut self, at: &mut At<'_>, r: &RollbackRecord) {
        let details = json!({ "trigger": r.trigger, "ok": r.ok, "attempts": r.attempts, "exit_status": r.exit_status, "argv": r.argv, "reason": r.reason });
        self.append(at, "rollback", details);
    }

    fn on_finish<'a>(&'a mut self, mut at: At<'a>, s: &'a RunSummary) -> BoxFuture<'a, ()> {
        let details = json!({
            "verdict": s.verdict,
            "exit_code": s.exit_code,
            "interrupted": s.interrupted,
            "ticks": s.ticks,
            "anomalies": s.anomalies.len(),
            "reasons": s.reasons,
            "rollback": { "needed": s.rollback.needed, "ran": s.rollback.ran, "ok": s.rollback.ok, "note": s.rollback.note },
        });
        self.append(&mut at, "run_finish", details);
        Box::pin(async {})
    }
}
