//! `backtest`: the configured gate replayed over many past windows of the service's own
//! history (read once per metric from its backend, or from a file), the false rollbacks it
//! would have had, and per metric the smallest shift the planned watch catches.

mod history;

use super::{load_config, now_ms};
use crate::backtest::{self, mde, History, WindowPlan};
use crate::cli::{BacktestArgs, Global};
use crate::config::Config;
use crate::error::{Error, Exit, Result};
use crate::gate::GatePlan;
use crate::report::backtest::{Backtest, Setup};
use history::{backend_history, file_history};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Reads the history, replays every window, finds each metric's minimum detectable effect,
/// prints the result. Exit 0 when it ran, whatever it found; 2 on bad input.
pub async fn run(g: &Global, a: &BacktestArgs) -> Result<Exit> {
    let config = load_config(g)?;
    let duration = a.duration.unwrap_or(config.duration);
    let interval = a.interval.unwrap_or(config.interval);
    for (flag, d) in [
        ("--duration", duration),
        ("--interval", interval),
        ("--every", a.every),
        ("--since", a.since),
        ("--baseline-window", a.baseline_window),
    ] {
        if d.is_zero() {
            return Err(Error::Usage(format!("{flag} must be greater than 0")));
        }
    }
    let progress = Progress::new();
    let mut notes = Vec::new();
    let (history, source) = match &a.history {
        Some(path) => file_history(path, a.since, a.until)?,
        None => {
            let end = a.until.unwrap_or_else(now_ms);
            backend_history(&config, end, a.since, interval, &progress, &mut notes).await?
        }
    };
    let plan = plan_for(&config, &history, &mut notes)?;
    let windows = backtest::windows(
        &history,
        &WindowPlan {
            baseline_ms: a.baseline_window.as_millis() as i64,
            watch_ms: duration.as_millis() as i64,
            every_ms: a.every.as_millis() as i64,
            max_windows: a.windows,
        },
    )
    .map_err(|e| Error::Input(format!("{source}: {e}")))?;

    progress.phase("replaying windows", windows.len());
    let results = backtest::replay_all(&plan, &history, &windows, || progress.inc());
    let tally = backtest::tally(&results);
    let quiet = match a.mde_windows {
        0 => Vec::new(),
        n => mde::quiet_windows(&results, n),
    };
    let mut mdes = Vec::new();
    if a.mde_windows > 0 {
        progress.phase("minimum detectable effect", plan.metrics.len());
        mdes = all_mdes(&plan, &history, &quiet, &progress);
    }
    progress.done();
    let warnings = backtest::warnings(&plan, &tally, &mdes);
    for w in &warnings {
        errln!("warning: {w}");
    }
    let report = Backtest::new(
        Setup {
            deployment: config.deployment.clone(),
            source,
            duration,
            interval,
            every: a.every,
            baseline_window: a.baseline_window,
            alpha: plan.policy.alpha,
        },
        &history,
        results,
        tally,
        (mdes, quiet.iter().map(|w| w.end).collect()),
        warnings,
        notes,
    );
    out!("{}", report.render(a.output, &history));
    Ok(Exit::Healthy)
}

/// Every metric's minimum detectable effect, the metrics shared out over the cores (each
/// replays its own copies; nothing is shared but the history and the plan, read-only).
fn all_mdes(
    plan: &GatePlan,
    history: &History,
    quiet: &[backtest::Window],
    progress: &Progress,
) -> Vec<mde::Mde> {
    let names: Vec<&str> = plan.metrics.iter().map(|m| m.name.as_str()).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, names.len().max(1));
    let mut found: Vec<(usize, mde::Mde)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let names = &names;
                s.spawn(move || {
                    names
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, m)| {
                            let r = mde::min_detectable_effect(plan, history, quiet, m);
                            progress.inc();
                            (i, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, m)| m).collect()
}

/// The gate of the config, restricted to what the history can feed: rules on metrics it
/// has no values of are left out, and so are rules that compare against a control the
/// history does not hold (a probe, which has no history, or a control whose read failed),
/// each with a note. A control the history holds (`<series> (control)`) reaches the rules
/// as `analyze --control` gives it.
fn plan_for(config: &Config, history: &History, notes: &mut Vec<String>) -> Result<GatePlan> {
    let mut plan = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_controls(|m| history.has_control(m));
    for r in plan.restrict_to(|m| history.has_metric(m)) {
        notes.push(format!(
            "rule `{}` left out: the history has no values of `{}`",
            r.name, r.metric
        ));
    }
    while let Some((rule, metric)) = plan.missing_control() {
        plan.rules.retain(|r| r.name != rule);
        let control = config
            .metrics
            .iter()
            .find(|m| m.name == metric)
            .and_then(|m| m.control.as_ref());
        let why = match control {
            Some(c) if c.backend().is_none() => {
                "whose control is a probe: a probe has no history to replay".to_string()
            }
            _ => format!(
                "but the history has no `{metric}{}` values",
                backtest::CONTROL_SUFFIX
            ),
        };
        notes.push(format!(
            "rule `{rule}` left out: it compares `{metric}` against a control, {why}"
        ));
    }
    if plan.rules.is_empty() {
        return Err(Error::Usage(format!(
            "no rule of the config can run on this history (it has {}): nothing to backtest",
            names(history)
        )));
    }
    Ok(plan)
}

fn names(history: &History) -> String {
    if history.series.is_empty() {
        return "no series".into();
    }
    let v: Vec<&str> = history.series.keys().map(String::as_str).collect();
    v.join(", ")
}

/// A bar on stderr when it is a terminal (a week at 15 s is 40 000 points per series);
/// nothing otherwise, so logs and snapshots stay clean.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg:28} {bar:30} {pos}/{len} {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Progress { bar }
    }

    fn phase(&self, what: &'static str, len: usize) {
        if let Some(b) = &self.bar {
            b.set_message(what);
            b.set_length(len as u64);
            b.set_position(0);
        }
    }

    fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Baseline `check --online` reads for the minimum detectable effect: the range `baseline`
/// takes by default.
pub const CHECK_BASELINE: Duration = Duration::from_secs(3600);

/// Windows inside that baseline the shifts are injected into.
const CHECK_WINDOWS: usize = 12;

/// `check --online`: each metric's minimum detectable effect from the current baseline (the
/// last hour at the config's interval): watches of the config's duration inside it, judged
/// against all of it, with the same injection as `backtest`.
pub(super) async fn current_mde(config: &Config) -> std::result::Result<Vec<mde::Mde>, String> {
    let mut notes = Vec::new();
    let progress = Progress { bar: None };
    let (history, _) = backend_history(
        config,
        now_ms(),
        CHECK_BASELINE,
        config.interval,
        &progress,
        &mut notes,
    )
    .await
    .map_err(|e| e.to_string())?;
    let plan = plan_for(config, &history, &mut notes).map_err(|e| e.to_string())?;
    let windows =
        backtest::windows_within(&history, config.duration.as_millis() as i64, CHECK_WINDOWS);
    if windows.is_empty() {
        return Err(format!(
            "the last {} holds no whole watch of {}",
            humantime::format_duration(CHECK_BASELINE),
            humantime::format_duration(config.duration)
        ));
    }
    let results = backtest::replay_all(&plan, &history, &windows, || {});
    let quiet = mde::quiet_windows(&results, CHECK_WINDOWS);
    Ok(plan
        .metrics
        .iter()
        .map(|m| mde::min_detectable_effect(&plan, &history, &quiet, &m.name))
        .collect())
}

/// One line per metric for `check --online`.
pub(super) fn mde_line(m: &mde::Mde) -> String {
    format!(
        "minimum detectable effect of {}: {}",
        m.metric,
        crate::report::backtest::Backtest::mde_cell(m)
    )
}
