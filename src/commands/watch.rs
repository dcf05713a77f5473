//! `watch`: samples every interval for the window, runs the gate each tick, and rolls back
//! as soon as the policy says so. The window is measured by the clock, not by tick count.

use super::{
    anomalies_file, load_config, now_ms, open_store, print_json, store_path, write_anomalies_file,
};
use crate::cli::{Format, Global, WatchArgs};
use crate::config::Config;
use crate::decide::{Decision, Verdict};
use crate::detect::Baseline;
use crate::error::{Error, Exit, Result};
use crate::gate::Gate;
use crate::model::Reading;
use crate::observe::{self, Observer, Override, RunContext};
use crate::report::{table, RollbackOutcome, RunSummary, TickOverhead};
use crate::rollback::{self, RollbackPlan};
use crate::sampler::Sampler;
use crate::store::{BaselineSet, RunEnd, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

/// Runs one watch and returns its exit code.
pub async fn run(g: &Global, a: &WatchArgs) -> Result<Exit> {
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
    let mut store = open_store(g, Some(&config))?;
    let baselines = resolve_baselines(&config, a.baseline.as_deref(), &store)?;
    let sampler = Sampler::new(&config);

    let run_id = uuid::Uuid::new_v4().to_string();
    let started_at = now_ms();
    store.start_run(
        &run_id,
        &config.deployment,
        "watch",
        started_at,
        a.dry_run,
        &config.digest,
    )?;
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
    let mut observers = observe::observers(&config, &ctx);
    for o in observers.iter_mut() {
        o.on_start(&ctx);
    }
    errln!(
        "watching {} for {} every {} ({} metrics, {} rules; config: {}; run {})",
        config.deployment,
        humantime::format_duration(config.duration),
        humantime::format_duration(config.interval),
        config.metrics.len(),
        config.rules.len(),
        config.origin(),
        run_id
    );

    let mut gate = Gate::new(
        config.rules.clone(),
        config.metrics.clone(),
        config.policy.clone(),
        baselines.summaries,
    )
    .with_baseline_rows(baselines.rows);
    let progress = Progress::new(&config);
    let mut overheads: Vec<f64> = Vec::new();
    let mut ticks = 0u32;

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let start = tokio::time::Instant::now();
    let end = start + config.duration;
    let mut interrupted = false;
    let mut decision: Option<Decision> = None;
    let mut hold: Option<String> = None;
    loop {
        let tick_at = now_ms();
        let samples = tokio::select! {
            s = sampler.take() => s,
            _ = &mut shutdown => { interrupted = true; break; }
        };
        let t0 = Instant::now();
        gate.set_notes(sampler.notes());
        let report = gate.tick(tick_at, &samples);
        if let Err(e) =
            store.record_tick(&run_id, tick_at, &samples, &report.fired, &report.resolved)
        {
            errln!("warning: could not store tick: {e}");
        }
        overheads.push(t0.elapsed().as_secs_f64() * 1000.0);
        ticks += 1;
        progress.tick(ticks, &samples, &report, &gate);
        for o in observers.iter_mut() {
            o.on_tick(&ctx, tick_at, &report, &gate);
        }
        // A person's hold or abort, noticed within one tick.
        for o in observers.iter_mut() {
            match o.poll_override(&ctx) {
                Some(Override::Hold { by, reason }) if hold.is_none() => {
                    errln!("on hold by {by}: {reason} (no automatic rollback)");
                    hold = Some(format!("on hold by {by}: {reason}"));
                }
                Some(Override::Release { by }) if hold.is_some() => {
                    errln!("hold released by {by}: automatic rollback allowed again");
                    hold = None;
                }
                Some(Override::Abort { by, reason }) if decision.is_none() => {
                    let d = Decision {
                        verdict: Verdict::Rollback,
                        at: tick_at,
                        reasons: vec![format!("aborted by {by}: {reason}")],
                        fail_closed: false,
                    };
                    gate.force(d.clone());
                    decision = Some(d);
                    hold = None;
                }
                _ => {}
            }
        }
        if let Some(d) = report.decision.or_else(|| decision.clone()) {
            decision = Some(d);
            break;
        }
        // Next tick on the clock grid; ticks missed by a slow one are skipped, not bunched.
        let now = tokio::time::Instant::now();
        let k = ((now - start).as_secs_f64() / config.interval.as_secs_f64()).floor() as u32 + 1;
        let next = start + config.interval * k;
        if next > end {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = &mut shutdown => { interrupted = true; break; }
        }
    }
    progress.finish();

    let ended_at = now_ms();
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        deployment: config.deployment.clone(),
        started_at,
        ended_at,
        ticks,
        verdict: "interrupted".into(),
        decided_at: ended_at,
        reasons: vec![
            "interrupted by a signal before the window ended; no rollback started".into(),
        ],
        exit_code: Exit::Interrupted.code(),
        dry_run: a.dry_run,
        interrupted,
        rollback: RollbackOutcome::default(),
        policy: config.policy.clone(),
        anomalies: Vec::new(),
        rules: Vec::new(),
        completeness: gate.completeness(),
        notifications: Vec::new(),
        tick_overhead_ms: overhead(&mut overheads),
    };
    let exit = if interrupted {
        Exit::Interrupted
    } else {
        let d = match decision {
            Some(d) => d,
            None => gate.finish(ended_at),
        };
        summary.set_decision(&d);
        if let Err(e) = store.record_decision(&run_id, &d) {
            errln!("warning: could not store decision: {e}");
        }
        for o in observers.iter_mut() {
            o.on_decision(&ctx, &d);
        }
        let exit = act(
            &config,
            a,
            &ctx,
            hold.as_deref(),
            &d,
            &gate,
            &mut store,
            &mut summary,
            &mut observers,
        )
        .await;
        summary.exit_code = exit.code();
        exit
    };
    summary.anomalies = gate.anomalies().to_vec();
    summary.rules = gate.evaluations();
    // Observers finish first (notifications are awaited, bounded), so the stored and
    // printed summary carry every send attempt and its outcome.
    for o in observers.iter_mut() {
        o.on_finish(&ctx, &summary).await;
    }
    let filter = crate::notify::state::AttemptFilter {
        run_id: Some(run_id.clone()),
        deployment: None,
        limit: 10_000,
    };
    match crate::notify::state::attempts(store.connection(), &filter) {
        Ok(mut attempts) => {
            attempts.reverse();
            summary.notifications = attempts;
        }
        Err(e) => errln!("warning: could not read notification attempts: {e}"),
    }

    let json = serde_json::to_string(&summary).unwrap_or_default();
    let status = if interrupted {
        "interrupted"
    } else {
        "finished"
    };
    let verdict = (!interrupted).then_some(summary.verdict.as_str());
    let reason = summary.reasons.join("; ");
    let end = RunEnd {
        ended_at: now_ms(),
        status,
        verdict,
        reason: &reason,
        exit_code: exit.code() as i32,
        summary: &json,
    };
    if let Err(e) = store.finish_run(&run_id, &end) {
        errln!("warning: could not store the run: {e}");
    }
    match a.output {
        Format::Json => print_json(&summary)?,
        Format::Table => out!("{}", table::summary(&summary)),
    }
    Ok(exit)
}

/// Turns a decision into action: rollback (once), or why not, and the exit code.
#[allow(clippy::too_many_arguments)]
async fn act(
    config: &Config,
    a: &WatchArgs,
    ctx: &RunContext,
    hold: Option<&str>,
    d: &Decision,
    gate: &Gate,
    store: &mut Store,
    summary: &mut RunSummary,
    observers: &mut [Box<dyn Observer>],
) -> Exit {
    let run_id = ctx.run_id.as_str();
    if !d.wants_rollback() {
        return match d.verdict {
            Verdict::Inconclusive => Exit::Inconclusive,
            _ => Exit::Healthy,
        };
    }
    summary.rollback.needed = true;
    if a.dry_run {
        summary.rollback.note = "--dry-run: evaluate and report, never act".into();
        return Exit::Unhealthy;
    }
    // A hold stops automatic rollbacks; a person's abort overrides it (it cleared `hold`).
    if let Some(why) = hold {
        summary.rollback.note = format!("{why}: detect and report only");
        return Exit::Unhealthy;
    }
    if a.no_rollback || !config.rollback.enabled {
        summary.rollback.note = "rollback disabled (detect and report only)".into();
        return Exit::Unhealthy;
    }
    let file = anomalies_file(&ctx.store_path, run_id);
    let body = serde_json::json!({ "run_id": run_id, "deployment": config.deployment, "reason": d.reason(), "anomalies": gate.anomalies() });
    if let Err(e) = write_anomalies_file(&file, &body) {
        errln!("warning: {e}");
    }
    errln!("rolling back {}: {}", config.deployment, d.reason());
    let plan = RollbackPlan {
        config: &config.rollback,
        deployment: &config.deployment,
        run_id,
        reason: &d.reason(),
        anomalies_file: &file,
        trigger: "auto",
    };
    let record = rollback::execute(&plan, now_ms).await;
    if let Err(e) = store.record_rollback(run_id, &record) {
        errln!("warning: could not store the rollback: {e}");
    }
    for o in observers.iter_mut() {
        o.on_rollback(ctx, &record);
    }
    summary.rollback = RollbackOutcome {
        needed: true,
        ran: true,
        ok: record.ok,
        attempts: record.attempts,
        exit_status: record.exit_status,
        note: record.reason.clone(),
    };
    if record.ok {
        Exit::Unhealthy
    } else {
        errln!(
            "error: rollback failed: {} — a human must act",
            record.reason
        );
        Exit::RollbackFailed
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

/// Resolves when SIGINT or SIGTERM arrives.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The baseline of a watch: per-series summaries for the univariate detectors, and the
/// values in capture order (NaN where a tick had none) for `isolation_forest` rules.
pub struct ResolvedBaseline {
    pub summaries: HashMap<String, Baseline>,
    pub rows: HashMap<String, Vec<f64>>,
}

/// Loads the baseline from `--baseline FILE` or the store, and checks every rule that
/// compares against one has its metrics in it.
pub fn resolve_baselines(
    config: &Config,
    file: Option<&Path>,
    store: &Store,
) -> Result<ResolvedBaseline> {
    let (set, origin) = match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| Error::io(format!("reading baseline {}", f.display()), e))?;
            let set: BaselineSet = serde_json::from_str(&text).map_err(|e| {
                Error::Input(format!(
                    "{}:{}:{}: not a baseline JSON file: {e}",
                    f.display(),
                    e.line(),
                    e.column()
                ))
            })?;
            (Some(set), f.display().to_string())
        }
        None => (
            store.latest_baseline(&config.deployment)?,
            format!("the store (deployment {})", config.deployment),
        ),
    };
    let rows: HashMap<String, Vec<f64>> = set
        .map(|s| s.series.into_iter().collect())
        .unwrap_or_default();
    let map: HashMap<String, Baseline> = rows
        .iter()
        .filter_map(|(k, v)| Baseline::from_values(v).map(|b| (k.clone(), b)))
        .collect();
    for rule in config.rules.iter().filter(|r| r.detector.needs_baseline()) {
        let needed = match rule.detector.joint_metrics() {
            Some(ms) => ms.to_vec(),
            None => vec![rule.metric.clone()],
        };
        let Some(metric) = needed.iter().find(|m| {
            let prefix = format!("{m}{{");
            !map.keys().any(|k| k == *m || k.starts_with(&prefix))
        }) else {
            continue;
        };
        {
            return Err(Error::Usage(format!(
                "rule `{}` ({} detector) needs a baseline of `{}`, but {origin} has none: run `vz-monitor baseline` first or pass --baseline FILE",
                rule.name,
                rule.detector.name(),
                metric
            )));
        }
    }
    Ok(ResolvedBaseline {
        summaries: map,
        rows,
    })
}

/// Progress on a terminal (indicatif), one plain line per tick otherwise. Always stderr.
struct Progress {
    bar: Option<ProgressBar>,
    expected: u64,
}

impl Progress {
    fn new(config: &Config) -> Progress {
        let expected =
            (config.duration.as_secs_f64() / config.interval.as_secs_f64()).floor() as u64 + 1;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(expected);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} ticks {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress { bar, expected }
    }

    fn tick(
        &self,
        n: u32,
        samples: &[crate::model::Sample],
        report: &crate::gate::TickReport,
        gate: &Gate,
    ) {
        let down = samples
            .iter()
            .filter(|s| matches!(s.reading, Reading::Down(_)))
            .count();
        let missing = samples
            .iter()
            .filter(|s| matches!(s.reading, Reading::Missing(_)))
            .count();
        let firing = gate
            .evaluations()
            .iter()
            .filter(|e| e.status == crate::gate::RuleStatus::Firing)
            .count();
        let msg = format!(
            "{} ok, {down} down, {missing} missing, {firing} firing",
            samples.len() - down - missing
        );
        for a in &report.fired {
            let line = format!(
                "FIRED {} {} `{}` on {}: {}",
                a.severity, a.kind, a.rule, a.series, a.reason
            );
            match &self.bar {
                Some(b) => b.println(line),
                None => errln!("{line}"),
            }
        }
        for a in &report.resolved {
            let line = format!("resolved `{}` on {}", a.rule, a.series);
            match &self.bar {
                Some(b) => b.println(line),
                None => errln!("{line}"),
            }
        }
        match &self.bar {
            Some(b) => {
                b.set_position(n as u64);
                b.set_message(msg);
            }
            None => errln!("tick {n}/{}: {msg}", self.expected),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
