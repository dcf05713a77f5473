//! `rollback`: runs the configured rollback now, by hand, recorded like an automatic one.

use super::{
    anomalies_file, load_config, now_ms, open_store, print_json, store_path, write_anomalies_file,
};
use crate::cli::{Format, Global, RollbackArgs};
use crate::error::{Error, Exit, Result};
use crate::lifecycle::spool::{self, Spooled};
use crate::lifecycle::{claim, Claimed, Deploy, Signals};
use crate::observe::RunContext;
use crate::report::{RollbackOutcome, RunSummary, RunVerdict};
use crate::rollback::{self, RollbackPlan};
use crate::store::RunEnd;

/// Runs the rollback command with `--reason`; exit 0 when it succeeded, 4 when it failed.
pub async fn run(g: &Global, a: &RollbackArgs) -> Result<Exit> {
    let mut signals = Signals::install().map_err(|e| Error::io("installing signal handlers", e))?;
    let mut config = load_config(g)?;
    if let Some(d) = &a.deployment {
        config.deployment = d.clone();
    }
    if config.rollback.command.is_empty() {
        return Err(Error::Usage(format!(
            "{}: rollback.command is not configured",
            config.origin()
        )));
    }
    if a.reason.trim().is_empty() {
        return Err(Error::Usage("--reason must not be empty".into()));
    }
    if signals.arrived().await {
        errln!("interrupted before the rollback started: nothing was run");
        return Ok(Exit::Interrupted);
    }
    let mut store = open_store(g, Some(&config))?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let started = now_ms();
    store.start_run(
        &run_id,
        &config.deployment,
        "manual_rollback",
        started,
        false,
        &config.digest,
    )?;
    // The command may outlast the default lease: keep the run live (not abandoned) for it.
    let budget =
        (config.rollback.timeout.as_millis() as i64 + 5_000) * (config.rollback.retries as i64 + 1);
    if let Err(e) = store.extend_lease(&run_id, started + budget) {
        errln!("warning: could not extend the run's lease: {e}");
    }
    let file = anomalies_file(&store_path(g, Some(&config)), &run_id);
    let reason = format!("manual: {}", a.reason);
    write_anomalies_file(
        &file,
        &serde_json::json!({ "run_id": run_id, "deployment": config.deployment, "reason": reason, "anomalies": [] }),
    )?;
    let plan = RollbackPlan {
        config: &config.rollback,
        deployment: &config.deployment,
        run_id: &run_id,
        reason: &reason,
        anomalies_file: &file,
        trigger: crate::store::Trigger::Manual,
    };
    let ctx = RunContext {
        run_id: run_id.clone(),
        deployment: config.deployment.clone(),
        started_at: started,
        kind: "manual_rollback".into(),
        dry_run: false,
        store_path: store_path(g, Some(&config)),
        pushgateway: a.export.pushgateway.clone(),
        listen: None,
        grafana_url: a.export.grafana_url.clone(),
    };
    let mut observers = super::observers(&config, &ctx);
    for o in observers.iter_mut() {
        o.on_start(&ctx);
    }
    // One rollback per deploy: a watch (or another person) already rolling it back wins.
    let deploy = Deploy::new(&config.deployment, a.revision.as_deref());
    let idempotent = config.rollback.idempotent;
    let claimed = claim::claim(
        &mut store,
        &deploy,
        &run_id,
        started,
        idempotent,
        &mut signals,
    )
    .await;
    if !matches!(claimed, Claimed::Run { .. }) {
        let (result, note) = super::watch::by_other(&claimed, &config.deployment);
        let exit = if result == crate::exit::RollbackResult::DoneByOtherRun {
            Exit::Healthy
        } else {
            Exit::RollbackFailed
        };
        let end = RunEnd {
            ended_at: now_ms(),
            status: crate::store::RunStatus::Finished,
            verdict: None,
            reason: &note,
            exit_code: exit.code() as i32,
            summary: "{}",
        };
        if let Err(e) = store.finish_run(&run_id, &end) {
            errln!("warning: could not store the run: {e}");
        }
        match a.output {
            Format::Json => print_json(
                &serde_json::json!({ "run_id": run_id, "deployment": config.deployment, "note": note, "exit_code": exit.code() }),
            )?,
            Format::Table => outln!("{}: {note}", config.deployment),
        }
        return Ok(exit);
    }
    let record = rollback::execute(&plan, now_ms).await;
    if let Err(e) = store.record_rollback(&run_id, &record) {
        errln!("warning: could not store the rollback: {e}");
        let entry = Spooled::Rollback {
            run_id: run_id.clone(),
            record: record.clone(),
        };
        spool::keep(&ctx.store_path, &entry);
    }
    for o in observers.iter_mut() {
        o.on_rollback(&ctx, &record);
    }
    let exit = if record.ok {
        Exit::Healthy
    } else {
        Exit::RollbackFailed
    };
    let verdict = if record.ok {
        RunVerdict::RolledBack
    } else {
        RunVerdict::RollbackFailed
    };
    let body = serde_json::to_string(&record).unwrap_or_default();
    let end = RunEnd {
        ended_at: now_ms(),
        status: crate::store::RunStatus::Finished,
        verdict: Some(verdict),
        reason: &reason,
        exit_code: exit.code() as i32,
        summary: &body,
    };
    if let Err(e) = store.finish_run(&run_id, &end) {
        errln!("warning: could not store the run: {e}");
        spool::keep(&ctx.store_path, &Spooled::finish(&run_id, &end));
    }
    let summary = RunSummary {
        run_id: run_id.clone(),
        deployment: config.deployment.clone(),
        started_at: started,
        ended_at: end.ended_at,
        ticks: 0,
        verdict,
        decided_at: started,
        reasons: vec![reason.clone()],
        exit_code: exit.code(),
        dry_run: false,
        interrupted: false,
        rollback: RollbackOutcome::ran(&record),
        policy: config.policy.clone(),
        anomalies: Vec::new(),
        rules: Vec::new(),
        completeness: Vec::new(),
        notifications: Vec::new(),
        tick_overhead_ms: None,
    };
    for o in observers.iter_mut() {
        o.on_finish(&ctx, &summary).await;
    }
    match a.output {
        Format::Json => print_json(
            &serde_json::json!({ "run_id": run_id, "deployment": config.deployment, "rollback": record, "exit_code": exit.code() }),
        )?,
        Format::Table => {
            if record.ok {
                outln!(
                    "rolled back {} (run {run_id}, {} attempt(s)): {reason}",
                    config.deployment,
                    record.attempts
                );
            } else {
                outln!(
                    "ROLLBACK FAILED for {} (run {run_id}): {} — a human must act",
                    config.deployment,
                    record.reason
                );
            }
        }
    }
    Ok(exit)
}
