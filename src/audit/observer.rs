//! Puts every run's start, config change, decision, rollback and finish in the audit chain.
//! A failing audit write is a warning: it never changes the gate's decision.

use super::{actor, chain};
use crate::decide::Decision;
use crate::observe::{Observer, RunContext};
use crate::run::RunSummary;
use crate::store::{RollbackRecord, Store, StoreError};
use futures::future::BoxFuture;
use serde_json::{json, Value};

/// Appends one entry per event of the run to the chain in the run's store.
pub struct AuditObserver {
    store: Option<Store>,
    key: Option<Vec<u8>>,
    actor: String,
    digest: String,
    origin: String,
}

impl AuditObserver {
    /// Opens its own connection to the run's store; `digest` is the run's config digest.
    pub fn new(ctx: &RunContext, digest: &str, origin: &str) -> AuditObserver {
        let store = Store::open(&ctx.store_path)
            .map_err(|e| errln!("warning: audit log unavailable: {e}"))
            .ok();
        AuditObserver {
            store,
            key: chain::key_from_env(),
            actor: actor(),
            digest: digest.into(),
            origin: origin.into(),
        }
    }

    fn append(&mut self, ctx: &RunContext, action: &str, details: Value) {
        let e = chain::NewEntry {
            ts: chrono::Utc::now().timestamp_millis(),
            deployment: ctx.deployment.clone(),
            actor: self.actor.clone(),
            action: action.into(),
            run_id: Some(ctx.run_id.clone()),
            details,
        };
        let Some(store) = self.store.as_mut() else {
            crate::lifecycle::spool::keep(
                &ctx.store_path,
                &crate::lifecycle::spool::Spooled::audit(&e),
            );
            return;
        };
        if let Err(err) = chain::append(store, &e, self.key.as_deref()) {
            errln!("warning: audit: could not record {action}: {err}");
            crate::lifecycle::spool::keep(
                &ctx.store_path,
                &crate::lifecycle::spool::Spooled::audit(&e),
            );
        }
    }

    /// The config digest of the deployment's previous run, if any.
    fn previous_digest(&mut self, ctx: &RunContext) -> Result<Option<String>, StoreError> {
        let Some(store) = self.store.as_ref() else {
            return Ok(None);
        };
        store.previous_digest(&ctx.deployment, &ctx.run_id)
    }
}

impl Observer for AuditObserver {
    fn on_start(&mut self, ctx: &RunContext) {
        let details = json!({ "kind": ctx.kind, "dry_run": ctx.dry_run, "config_digest": self.digest, "config": self.origin });
        self.append(ctx, "run_start", details);
        match self.previous_digest(ctx) {
            Ok(Some(prev)) if prev != self.digest => {
                let details = json!({ "from": prev, "to": self.digest, "config": self.origin });
                self.append(ctx, "config_change", details);
            }
            Ok(_) => {}
            Err(e) => errln!("warning: audit: could not compare config digests: {e}"),
        }
    }

    fn on_decision(&mut self, ctx: &RunContext, d: &Decision) {
        let details = json!({ "verdict": d.verdict.to_string(), "at": d.at, "reasons": d.reasons, "fail_closed": d.fail_closed });
        self.append(ctx, "decision", details);
    }

    fn on_rollback(&mut self, ctx: &RunContext, r: &RollbackRecord) {
        let details = json!({ "trigger": r.trigger, "ok": r.ok, "attempts": r.attempts, "exit_status": r.exit_status, "argv": r.argv, "reason": r.reason });
        self.append(ctx, "rollback", details);
    }

    fn on_finish<'a>(&'a mut self, ctx: &'a RunContext, s: &'a RunSummary) -> BoxFuture<'a, ()> {
        let details = json!({
            "verdict": s.verdict,
            "exit_code": s.exit_code,
            "interrupted": s.interrupted,
            "ticks": s.ticks,
            "anomalies": s.anomalies.len(),
            "reasons": s.reasons,
            "rollback": { "needed": s.rollback.needed, "ran": s.rollback.ran, "ok": s.rollback.ok, "note": s.rollback.note },
        });
        self.append(ctx, "run_finish", details);
        Box::pin(async {})
    }
}
