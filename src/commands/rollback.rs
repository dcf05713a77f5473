//! `rollback`: runs the configured rollback now, by hand, recorded like an automatic one —
//! through the same lifecycle as a watch's ([`crate::lifecycle::act`]): signals first, one
//! claim per deploy (a watch already rolling it back wins), the command run through
//! signals, the record stored or spooled.

use super::{load_config, now_ms, open_store, print_json, store_path};
use crate::cli::{Format, Global, RollbackArgs};
use crate::config::Config;
use crate::error::{Error, Exit, Result};
use crate::exit::RollbackResult;
use crate::lifecycle::act::Wanted;
use crate::lifecycle::{Deploy, Run, Signals};
use crate::observe::RunContext;
use crate::report::{RunSummary, RunVerdict};
use crate::store::Trigger;

/// Runs the rollback command with `--reason`; exit 0 when it succeeded (here or in the run
/// that holds the deploy's claim), 4 when it failed or its outcome is unknown, 130 when a
/// signal came before it started.
pub async fn run(g: &Global, a: &RollbackArgs) -> Result<Exit> {
    let mut signals = Signals::install().map_err(|e| Error::io("installing signal handlers", e))?;
    let config = manual_config(g, a)?;
    if signals.arrived().await {
        errln!("interrupted before the rollback started: nothing was run");
        return Ok(Exit::Interrupted);
    }
    let store = open_store(g, Some(&config))?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let started = now_ms();
    let reason = format!("manual: {}", a.reason);
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
    // The command may outlast the default lease: keep the run live (not abandoned) for it.
    let budget = (config.rollback.timeout + std::time::Duration::from_secs(5))
        * (config.rollback.retries + 1);
    let deploy = Deploy::new(&config.deployment, a.revision.as_deref());
    let mut run = Run::start(&config, ctx, deploy, store, signals, budget)?;
    let wanted = Wanted {
        trigger: Trigger::Manual,
        reason: reason.clone(),
        anomalies: &[],
    };
    let acted = run.roll_back(&config, &wanted).await;
    let ok = matches!(
        acted.result,
        RollbackResult::Succeeded | RollbackResult::DoneByOtherRun
    );
    let (exit, verdict) = if ok {
        (Exit::Healthy, RunVerdict::RolledBack)
    } else {
        (Exit::RollbackFailed, RunVerdict::RollbackFailed)
    };
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        deployment: config.deployment.clone(),
        started_at: started,
        ended_at: now_ms(),
        ticks: 0,
        verdict,
        decided_at: started,
        reasons: vec![reason.clone()],
        exit_code: exit.code(),
        dry_run: false,
        interrupted: acted.interrupted_during_rollback,
        rollback: acted.outcome,
        policy: config.policy.clone(),
        anomalies: Vec::new(),
        rules: Vec::new(),
        completeness: Vec::new(),
        notifications: Vec::new(),
        tick_overhead_ms: None,
    };
    if acted.interrupted_during_rollback {
        summary
            .reasons
            .push("a signal arrived during the rollback; it was let finish".into());
    }
    run.finish(&mut summary, Some(verdict)).await;
    show(a.output, &config, &run_id, &reason, ok, exit, &summary)?;
    Ok(exit)
}

/// The config with `--deployment` applied; a usage error without a rollback command or a
/// reason.
fn manual_config(g: &Global, a: &RollbackArgs) -> Result<Config> {
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
    Ok(config)
}

/// What the manual rollback did, as `--output` asks.
fn show(
    output: Format,
    config: &Config,
    run_id: &str,
    reason: &str,
    ok: bool,
    exit: Exit,
    summary: &RunSummary,
) -> Result<()> {
    let r = &summary.rollback;
    match output {
        Format::Json => print_json(
            &serde_json::json!({ "run_id": run_id, "deployment": config.deployment, "rollback": r, "exit_code": exit.code() }),
        )?,
        Format::Table if ok && r.ran => outln!(
            "rolled back {} (run {run_id}, {} attempt(s)): {reason}",
            config.deployment,
            r.attempts
        ),
        Format::Table if ok => outln!("{}: {}", config.deployment, r.note),
        Format::Table => outln!(
            "ROLLBACK FAILED for {} (run {run_id}): {} — a human must act",
            config.deployment,
            r.note
        ),
    }
    Ok(())
}
