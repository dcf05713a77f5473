//! One run that acts, from its recorded start to its recorded end: the run type `watch` and
//! `rollback` share. It owns what every such run needs — its context, the deploy it acts on,
//! the store, the observers and the signal handlers — and does the steps they have in
//! common: start (record, lease, observers), decide (record or spool, observers), act (one
//! claimed rollback, [`super::act`]) and finish (observers, notification attempts, record
//! or spool). The commands keep only what differs: a watch's ticks, a manual reason.

use super::act::{self, Acted, Wanted};
use super::spool::{self, Spooled};
use super::{Deploy, Signals};
use crate::config::Config;
use crate::error::Result;
use crate::observe::{At, Observer, RunContext};
use crate::policy::Decision;
use crate::report::{RunSummary, RunVerdict};
use crate::store::{RunEnd, RunStatus, Store};
use std::time::Duration;

/// A run that acts, started and recorded.
pub struct Run {
    pub ctx: RunContext,
    pub deploy: Deploy,
    pub store: Store,
    pub observers: Vec<Box<dyn Observer>>,
    pub signals: Signals,
    /// A store call failed during the run (reported; never changes what happened).
    pub store_failed: bool,
}

/// Where the run happens: the CI runner's name (`RUNNER_NAME`, `CI_RUNNER_DESCRIPTION`), else
/// the machine's host name, else `unknown`.
pub fn host() -> String {
    let named = ["RUNNER_NAME", "CI_RUNNER_DESCRIPTION", "HOSTNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty());
    named
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown".into())
}

impl Run {
    /// Records the start of `ctx`'s run with a lease of `lease` (a lapsed lease reads as
    /// abandoned), and tells the observers. A store that cannot record the start stops the
    /// run here: nothing was run (exit 2).
    pub fn start(
        config: &Config,
        ctx: RunContext,
        deploy: Deploy,
        mut store: Store,
        signals: Signals,
        lease: Duration,
    ) -> Result<Run> {
        store.start_run(
            &ctx.run_id,
            &ctx.deployment,
            &ctx.kind,
            ctx.started_at,
            ctx.dry_run,
            &config.digest,
        )?;
        if let Err(e) = store.set_lease(&ctx.run_id, lease) {
            errln!("warning: could not set the run's lease: {e}");
        }
        if let Err(e) = store.set_origin(&ctx.run_id, &crate::audit::actor(), &host()) {
            errln!("warning: could not record who started the run: {e}");
        }
        let mut observers = crate::commands::observers(config, &ctx);
        let mut at = At::now(&ctx, &mut store);
        for o in observers.iter_mut() {
            o.on_start(&mut at);
        }
        Ok(Run {
            ctx,
            deploy,
            store,
            observers,
            signals,
            store_failed: false,
        })
    }

    /// Records the gate's decision (or spools it) and tells the observers.
    pub fn decided(&mut self, d: &Decision) {
        if let Err(e) = self.store.record_decision(&self.ctx.run_id, d) {
            self.store_failed = true;
            errln!("warning: could not store decision: {e}");
            let entry = Spooled::Decision {
                run_id: self.ctx.run_id.clone(),
                at: d.at,
                verdict: d.verdict.to_string(),
                reason: d.reason(),
            };
            spool::keep(&self.ctx.store_path, &entry);
        }
        let mut at = At::new(&self.ctx, &mut self.store, d.at);
        for o in self.observers.iter_mut() {
            o.on_decision(&mut at, d);
        }
    }

    /// Rolls the deploy back once across processes ([`act::roll_back`]).
    pub async fn roll_back(&mut self, config: &Config, wanted: &Wanted<'_>) -> Acted {
        let acted = act::roll_back(
            config,
            &self.ctx,
            &self.deploy,
            wanted,
            &mut self.store,
            &mut self.observers,
            &mut self.signals,
        )
        .await;
        self.store_failed |= acted.store_failed;
        acted
    }

    /// Ends the run: observers finish first (notifications awaited, bounded), so the stored
    /// summary carries every send attempt; then the end is recorded, or spooled.
    pub async fn finish(&mut self, summary: &mut RunSummary, verdict: Option<RunVerdict>) {
        let now = chrono::Utc::now().timestamp_millis();
        for o in self.observers.iter_mut() {
            o.on_finish(At::new(&self.ctx, &mut self.store, now), summary)
                .await;
        }
        let filter = crate::notify::state::AttemptFilter {
            run_id: Some(self.ctx.run_id.clone()),
            deployment: None,
            limit: 10_000,
        };
        match self.store.attempts(&filter) {
            Ok(mut attempts) => {
                attempts.reverse();
                summary.notifications = attempts;
            }
            Err(e) => errln!("warning: could not read notification attempts: {e}"),
        }
        let json = serde_json::to_string(&*summary).unwrap_or_default();
        let reason = summary.reasons.join("; ");
        let end = RunEnd {
            ended_at: chrono::Utc::now().timestamp_millis(),
            status: if summary.interrupted {
                RunStatus::Interrupted
            } else {
                RunStatus::Finished
            },
            verdict,
            reason: &reason,
            exit_code: summary.exit_code as i32,
            summary: &json,
        };
        if let Err(e) = self.store.finish_run(&self.ctx.run_id, &end) {
            errln!("warning: could not store the run: {e}");
            spool::keep(
                &self.ctx.store_path,
                &Spooled::finish(&self.ctx.run_id, &end),
            );
        }
    }
}
