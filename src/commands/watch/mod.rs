//! `watch`: samples every interval for the window, runs the gate each tick through the one
//! replay loop ([`crate::gate::drive`]), and rolls back as soon as the policy says so.
//! Signal handlers are installed before anything is recorded; the exit code is decided from
//! what happened ([`crate::exit::Outcome`]), whatever the store or the terminal did.

mod baseline;
mod live;
mod progress;

use super::{load_config, now_ms, open_store, store_path};
use crate::cli::{Global, WatchArgs};
use crate::config::Config;
use crate::error::{Error, Exit, Result};
use crate::exit::{Concluded, Outcome, RollbackResult};
use crate::gate::{drive, Driven, Gate, GatePlan};
use crate::lifecycle::act::{self, Acted, Wanted};
use crate::lifecycle::{Deploy, Run, Signals};
use crate::observe::RunContext;
use crate::report::{RunSummary, RunVerdict, TickOverhead};
use crate::sampler::Sampler;
use crate::store::Trigger;
use live::{Clock, LiveFeed};
pub use progress::planned_ticks;
use progress::Progress;

/// More planned ticks than this is no watch (1 ms for 24 h): refused before any work.
pub const MAX_PLANNED_TICKS: u32 = 100_000;

/// Runs one watch and returns its exit code.
pub async fn run(g: &Global, a: &WatchArgs) -> Result<Exit> {
    // First of all, so no signal can leave a recorded run behind as `running`.
    let mut signals = Signals::install().map_err(|e| Error::io("installing signal handlers", e))?;
    let (config, planned) = settings(g, a)?;
    let store = open_store(g, Some(&config))?;
    let base = baseline::resolve(&config, a.baseline.as_deref(), &store, now_ms())?;
    let plan = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_baseline(base.rows)
    .with_lookback(base.lookback)
    .with_planned_ticks(planned);
    if let Some(m) = plan.missing_baseline() {
        return Err(Error::Usage(format!(
            "rule `{}` ({} detector) needs a baseline of `{}`, but the baseline ({}) has none: run `vz-monitor baseline` first or pass --baseline FILE",
            m.rule, m.detector, m.metric, base.described
        )));
    }
    // The policy the gate runs with (its looks set from the planned ticks), printed as is.
    let policy = plan.policy.clone();
    // Sequential boundaries over many planned ticks take a while: off the runtime, and a
    // signal meanwhile ends the watch before anything is recorded.
    let building = tokio::task::spawn_blocking(move || plan.build());
    let mut gate = tokio::select! {
        built = building => built.map_err(|e| Error::Usage(format!("building the gate failed: {e}")))?,
        _ = signals.recv() => {
            errln!("interrupted while preparing the watch: nothing was recorded or run");
            return Ok(Exit::Interrupted);
        }
    };
    let sampler = Sampler::with_controls(&config);
    let deploy = Deploy::new(&config.deployment, a.revision.as_deref());

    let run_id = uuid::Uuid::new_v4().to_string();
    let started_at = now_ms();
    let ctx = RunContext {
        run_id: run_id.clone(),
        deployment: config.deployment.clone(),
        started_at,
        kind: "watch".into(),
        dry_run: a.dry_run,
        store_path: store_path(g, Some(&config)),
        pushgateway: a.export.pushgateway.clone(),
        listen: a.listen.clone(),
        grafana_url: a.export.grafana_url.clone(),
    };
    // Lease (store::runs): renewed by every stored tick; lapsed means abandoned.
    let lease = (config.interval * 3).max(crate::store::runs::DEFAULT_LEASE);
    let mut run = Run::start(&config, ctx, deploy, store, signals, lease)?;
    errln!(
        "watching {} for {} every {} ({} metrics, {} rules; config: {}; baseline: {}; run {})",
        config.deployment,
        humantime::format_duration(config.duration),
        humantime::format_duration(config.interval),
        config.metrics.len(),
        config.rules.len(),
        config.origin(),
        base.described,
        run_id
    );

    let progress = Progress::new(config.duration, config.interval);
    let clock = Clock::start(started_at, config.interval, planned);
    let mut feed = LiveFeed::new(
        &sampler,
        &mut run.signals,
        &mut run.store,
        &mut run.observers,
        &run.ctx,
        &progress,
        clock,
    );
    let driven = drive(&mut gate, &mut feed).await;
    progress.finish();
    let interrupted = feed.interrupted && driven.decision.is_none();
    let hold = feed.hold.take();
    let store_failed = feed.store_failed;
    let mut overheads = std::mem::take(&mut feed.overheads);
    drop(feed);
    run.store_failed |= store_failed;

    let ended_at = now_ms();
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        deployment: config.deployment.clone(),
        started_at,
        ended_at,
        ticks: driven.ticks,
        verdict: RunVerdict::Interrupted,
        decided_at: ended_at,
        reasons: vec![
            "interrupted by a signal before the window ended; no rollback started".into(),
        ],
        exit_code: Exit::Interrupted.code(),
        dry_run: a.dry_run,
        interrupted,
        rollback: Default::default(),
        policy,
        anomalies: Vec::new(),
        rules: Vec::new(),
        completeness: gate.completeness(),
        notifications: Vec::new(),
        tick_overhead_ms: overhead(&mut overheads),
    };
    let outcome = if interrupted {
        Outcome::new(Concluded::Interrupted, RollbackResult::NotNeeded)
    } else {
        let end = End {
            driven,
            ended_at,
            hold,
        };
        decide_and_act(&mut run, &config, a, &mut gate, end, &mut summary).await
    };
    let exit = outcome.exit();
    summary.exit_code = exit.code();
    summary.anomalies = gate.anomalies().to_vec();
    summary.rules = gate.evaluations();
    // "1 high fired; the policy rolls back at 3" in every output, JSON and store included.
    summary.explain_below_policy();
    let verdict = (!interrupted).then_some(summary.verdict);
    run.finish(&mut summary, verdict).await;
    super::print_run(a.output, &summary);
    Ok(exit)
}

/// The config as this watch runs it (`--deployment`, `--duration` and `--interval`
/// applied) and its planned ticks; a plan no watch can keep is refused before any work.
fn settings(g: &Global, a: &WatchArgs) -> Result<(Config, u32)> {
    let mut config = load_config(g)?;
    if let Some(d) = &a.deployment {
        config.deployment = d.clone();
    }
    config.duration = a.duration.unwrap_or(config.duration);
    config.interval = a.interval.unwrap_or(config.interval);
    if config.duration.is_zero() || config.interval.is_zero() {
        return Err(Error::Usage(
            "--duration and --interval must be greater than 0".into(),
        ));
    }
    let planned = planned_ticks(config.duration, config.interval);
    if planned > MAX_PLANNED_TICKS {
        return Err(Error::Usage(format!(
            "a watch of {} every {} plans {planned} ticks; at most {MAX_PLANNED_TICKS}: raise --interval or shorten --duration",
            humantime::format_duration(config.duration),
            humantime::format_duration(config.interval),
        )));
    }
    Ok((config, planned))
}

/// How the window ended: what the loop saw, when, and a person's hold in force.
struct End {
    driven: Driven,
    ended_at: i64,
    hold: Option<String>,
}

/// The decision at the end of the window, recorded, and the rollback it asks for unless a
/// dry run, `--no-rollback`, the config or a hold withholds it (through the run's claim).
async fn decide_and_act(
    run: &mut Run,
    config: &Config,
    a: &WatchArgs,
    gate: &mut Gate,
    end: End,
    summary: &mut RunSummary,
) -> Outcome {
    let d = end.driven.conclude(gate, end.ended_at);
    summary.set_decision(&d);
    run.decided(&d);
    let why_not = act::withheld(config, a.dry_run, a.no_rollback, end.hold.as_deref());
    let acted = match why_not {
        _ if !d.wants_rollback() => Acted::not_needed(),
        Some(note) => Acted::withheld(note),
        None => {
            let wanted = Wanted {
                trigger: Trigger::Auto,
                reason: d.reason(),
                anomalies: gate.anomalies(),
            };
            run.roll_back(config, &wanted).await
        }
    };
    summary.rollback = acted.outcome;
    if acted.interrupted_during_rollback {
        summary.interrupted = true;
        summary
            .reasons
            .push("a signal arrived during the rollback; it was let finish".into());
    }
    Outcome {
        concluded: Concluded::of(&d),
        rollback: acted.result,
        interrupted_during_rollback: acted.interrupted_during_rollback,
        store_failed: run.store_failed,
    }
}

fn overhead(v: &mut [f64]) -> Option<TickOverhead> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(TickOverhead {
        median,
        max: v[n - 1],
    })
}
