//! Acting, the one way every command that acts does it (`watch` after its decision, a
//! manual `rollback`): the deploy claimed once across processes, the anomalies file written,
//! the command run through signals (the first lets it finish, a second ends its group), the
//! claim kept alive by a heartbeat, the record stored (or spooled) and observed. Nothing here
//! waits on the store: a store that fails only loses its record, never the rollback.

use super::{claim, spool, Claimed, Deploy, Signals};
use crate::commands::{now_ms, write_anomalies_file};
use crate::config::Config;
use crate::exit::RollbackResult;
use crate::model::Anomaly;
use crate::observe::{At, Observer, RunContext};
use crate::report::RollbackOutcome;
use crate::rollback::{self, RollbackPlan};
use crate::store::{RollbackRecord, Store, Trigger, CLAIM_HEARTBEAT, CLAIM_LEASE};
use std::path::{Path, PathBuf};

/// What the caller must know about how acting went.
pub struct Acted {
    pub result: RollbackResult,
    pub outcome: RollbackOutcome,
    /// A signal arrived while the rollback ran (it was let finish).
    pub interrupted_during_rollback: bool,
    pub store_failed: bool,
}

/// Why a wanted rollback is withheld, if it is: dry run, a hold, or rollback switched off.
pub fn withheld(
    config: &Config,
    dry_run: bool,
    no_rollback: bool,
    hold: Option<&str>,
) -> Option<String> {
    if dry_run {
        Some("--dry-run: evaluate and report, never act".into())
    } else if let Some(why) = hold {
        // A hold stops automatic rollbacks; a person's abort overrides it (it cleared the hold).
        Some(format!("{why}: detect and report only"))
    } else if no_rollback || !config.rollback.enabled {
        Some("rollback disabled (detect and report only)".into())
    } else {
        None
    }
}

/// A rollback to run: why, what triggered it, the anomalies behind it.
pub struct Wanted<'a> {
    pub trigger: Trigger,
    pub reason: String,
    pub anomalies: &'a [Anomaly],
}

impl Acted {
    /// No rollback was asked for.
    pub fn not_needed() -> Acted {
        Acted {
            result: RollbackResult::NotNeeded,
            outcome: RollbackOutcome::default(),
            interrupted_during_rollback: false,
            store_failed: false,
        }
    }

    /// A rollback was asked for and deliberately not run (`note` says why).
    pub fn withheld(note: String) -> Acted {
        let mut acted = Acted::needed();
        acted.outcome.note = note;
        acted.result = RollbackResult::Withheld;
        acted
    }

    fn needed() -> Acted {
        Acted {
            result: RollbackResult::NotNeeded,
            outcome: RollbackOutcome {
                needed: true,
                ..Default::default()
            },
            interrupted_during_rollback: false,
            store_failed: false,
        }
    }
}

/// Claims the deploy and, holding the claim, runs the rollback; else takes the claimed
/// rollback's outcome.
pub async fn roll_back(
    config: &Config,
    ctx: &RunContext,
    deploy: &Deploy,
    wanted: &Wanted<'_>,
    store: &mut Store,
    observers: &mut [Box<dyn Observer>],
    signals: &mut Signals,
) -> Acted {
    let mut acted = Acted::needed();
    let run_id = ctx.run_id.as_str();
    match claim::claim(
        store,
        deploy,
        run_id,
        ctx.started_at,
        config.rollback.idempotent,
        signals,
    )
    .await
    {
        Claimed::Run { .. } => {}
        claimed => {
            let (result, note) = by_other(&claimed, &config.deployment);
            acted.outcome.note = note;
            acted.result = result;
            return acted;
        }
    }
    let reason = wanted.reason.clone();
    let body = serde_json::json!({ "run_id": run_id, "deployment": config.deployment, "reason": reason, "anomalies": wanted.anomalies });
    let file = anomalies_file_written(&ctx.store_path, run_id, &body);
    errln!("rolling back {}: {reason}", config.deployment);
    let plan = RollbackPlan {
        config: &config.rollback,
        deployment: &config.deployment,
        run_id,
        reason: &reason,
        anomalies_file: &file,
        trigger: wanted.trigger,
    };
    // The claim lives as long as this heartbeat: a kill -9 stops it, and another watch
    // takes the rollback over once the lease lapses.
    let record = {
        let run = run_through_signals(&plan, signals, &mut acted);
        tokio::pin!(run);
        let mut beat = tokio::time::interval(CLAIM_HEARTBEAT);
        loop {
            tokio::select! {
                r = &mut run => break r,
                _ = beat.tick() => {
                    let _ = store.extend_lease(run_id, now_ms() + CLAIM_LEASE.as_millis() as i64);
                }
            }
        }
    };
    if let Err(e) = store.record_rollback(run_id, &record) {
        acted.store_failed = true;
        errln!("warning: could not store the rollback: {e}");
        let entry = spool::Spooled::Rollback {
            run_id: run_id.into(),
            record: record.clone(),
        };
        spool::keep(&ctx.store_path, &entry);
    }
    let mut at = At::new(ctx, &mut *store, record.ended_at);
    for o in observers.iter_mut() {
        o.on_rollback(&mut at, &record);
    }
    acted.outcome = RollbackOutcome::ran(&record);
    acted.result = if record.ok {
        RollbackResult::Succeeded
    } else {
        errln!(
            "error: rollback failed: {} — a human must act",
            record.reason
        );
        RollbackResult::Failed
    };
    acted
}

/// The result of a run that did not run the command itself, and its note: the claimed
/// rollback's outcome (1 if it succeeded, 4 if it failed or nobody knows).
pub fn by_other(claimed: &Claimed, deployment: &str) -> (RollbackResult, String) {
    match claimed {
        Claimed::ByOther { by, ok: true } => {
            errln!("{deployment} was rolled back by run {by}: not running the command again");
            (
                RollbackResult::DoneByOtherRun,
                format!("rolled back by run {by}"),
            )
        }
        Claimed::ByOther { by, ok: false } => {
            errln!("error: {deployment} was rolled back by run {by}, and that rollback failed — a human must act");
            (
                RollbackResult::Failed,
                format!("rolled back by run {by}, which failed: a human must act"),
            )
        }
        Claimed::Unknown { why, .. } => {
            errln!("error: {why} — a human must act");
            (RollbackResult::Failed, format!("{why}: a human must act"))
        }
        Claimed::Run { .. } => (RollbackResult::NotNeeded, String::new()),
    }
}

/// A rollback, once started, is never abandoned half-way by an interrupt: the first
/// SIGINT/SIGTERM lets it finish within its timeout; a second one ends its whole process
/// group and no retry starts (exit 4).
async fn run_through_signals(
    plan: &RollbackPlan<'_>,
    signals: &mut Signals,
    acted: &mut Acted,
) -> RollbackRecord {
    let first = std::cell::Cell::new(false);
    let cancel = async {
        signals.recv().await;
        first.set(true);
        errln!("signal received: letting the rollback finish (a second signal stops it)");
        signals.recv().await;
        errln!("second signal: stopping the rollback — a human must act");
    };
    let record = rollback::execute_until(plan, now_ms, cancel).await;
    acted.interrupted_during_rollback = first.get();
    record
}

/// Writes the anomalies file the rollback command reads through `VZ_ANOMALIES_FILE`, before
/// the command starts, at an absolute path: beside the store, or in the temp folder when
/// that fails (a full or read-only disk must not leave the variable pointing nowhere).
fn anomalies_file_written(store_path: &Path, run_id: &str, body: &serde_json::Value) -> PathBuf {
    let absolute = |p: PathBuf| {
        if p.is_absolute() {
            p
        } else {
            std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
        }
    };
    let file = absolute(crate::commands::anomalies_file(store_path, run_id));
    match write_anomalies_file(&file, body) {
        Ok(()) => file,
        Err(e) => {
            let tmp = std::env::temp_dir().join(format!("vz-{run_id}.anomalies.json"));
            errln!(
                "warning: {e}; writing the anomalies file to {} instead",
                tmp.display()
            );
            if let Err(e) = write_anomalies_file(&tmp, body) {
                errln!("warning: {e}");
            }
            tmp
        }
    }
}
