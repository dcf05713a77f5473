//! `backtest`: the configured gate replayed over many past windows of the service's own
//! history (read once per metric from its backend, or from a file), the false rollbacks it
//! would have had, and per metric the smallest shift the planned watch catches.

use super::{load_config, now_ms};
use crate::backends::Span;
use crate::backtest::{self, mde, History, WindowPlan};
use crate::cli::{BacktestArgs, Global};
use crate::config::Config;
use crate::error::{Error, Exit, Result};
use crate::gate::GatePlan;
use crate::offline;
use crate::report::backtest::{Backtest, Setup};
use crate::sources::Shared;
use futures::future::join_all;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
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
        let metrics: Vec<String> = plan.metrics.iter().map(|m| m.name.clone()).collect();
        progress.phase("minimum detectable effect", metrics.len());
        for m in metrics {
            mdes.push(mde::min_detectable_effect(&plan, &history, &quiet, &m));
            progress.inc();
        }
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

/// The gate of the config, restricted to what the history can feed: rules on metrics it
/// has no values of are left out, and so are rules that need a control (a backtest reads
/// no control), each with a note.
fn plan_for(config: &Config, history: &History, notes: &mut Vec<String>) -> Result<GatePlan> {
    let mut plan = GatePlan::new(
        config.rules.clone(),
        config.metric_specs(),
        config.policy.clone(),
    )
    .with_controls(|_| false);
    for r in plan.restrict_to(|m| history.has_metric(m)) {
        notes.push(format!(
            "rule `{}` left out: the history has no values of `{}`",
            r.name, r.metric
        ));
    }
    while let Some((rule, metric)) = plan.missing_control() {
        plan.rules.retain(|r| r.name != rule);
        notes.push(format!(
            "rule `{rule}` left out: it compares `{metric}` against a control, which a \
             backtest does not read"
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

/// A CSV/JSON file's rows, the last `since` of them (up to `until`).
fn file_history(path: &Path, since: Duration, until: Option<i64>) -> Result<(History, String)> {
    let f = offline::read(path).map_err(Error::Input)?;
    let mut h = History::from_file(&f);
    let end = until.or(h.times.last().copied()).unwrap_or(0);
    let from = end - since.as_millis() as i64;
    let keep: Vec<bool> = h.times.iter().map(|t| *t >= from && *t <= end).collect();
    h.times.retain(|t| *t >= from && *t <= end);
    for v in h.series.values_mut() {
        let mut i = 0;
        v.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    let h = h.fill_gaps();
    if h.times.is_empty() {
        return Err(Error::Input(format!(
            "{}: no rows in the {} before {}",
            path.display(),
            humantime::format_duration(since),
            crate::report::ts(end)
        )));
    }
    Ok((h, path.display().to_string()))
}

/// Every backend metric's history over `since` before `end` (aligned to the step), each in
/// as few range queries as its backend allows, all metrics at once; onto one time grid.
/// A metric whose backend fails (or gives no history) is left out with a note; none left
/// is an error.
async fn backend_history(
    config: &Config,
    end: i64,
    since: Duration,
    interval: Duration,
    progress: &Progress,
    notes: &mut Vec<String>,
) -> Result<(History, String)> {
    let step_ms = (interval.as_secs().max(1) * 1000) as i64;
    let end = end.div_euclid(step_ms) * step_ms;
    let span = Span {
        end_ms: end,
        window: since,
        step: Duration::from_millis(step_ms as u64),
    };
    let queried: Vec<_> = config
        .metrics
        .iter()
        .filter_map(|m| Some((m, m.source.backend()?)))
        .collect();
    for m in config
        .metrics
        .iter()
        .filter(|m| m.source.backend().is_none())
    {
        notes.push(format!(
            "metric `{}` is a probe: it has no history to replay",
            m.name
        ));
    }
    if queried.is_empty() {
        return Err(Error::Usage(
            "no metric of the config is read from a backend (Prometheus, …): there is no \
             history to replay; give one with --history FILE"
                .into(),
        ));
    }
    progress.phase("reading history", queried.len());
    let shared = Shared::new(&config.backends);
    let results = join_all(queried.iter().map(|(m, query)| {
        let backend = query.connect(&m.info(), &shared.backends);
        async move {
            let r = match backend {
                Ok(b) => b.history(span).await,
                Err(e) => Err(e),
            };
            progress.inc();
            (m, query.name(), r)
        }
    }))
    .await;
    let start = end - since.as_millis() as i64;
    let n = (since.as_millis() as i64 / step_ms) as usize + 1;
    let mut history = History {
        times: (0..n as i64).map(|i| start + i * step_ms).collect(),
        series: Default::default(),
    };
    let mut failures = Vec::new();
    let mut queries = 0;
    for (m, backend, r) in results {
        match r {
            Ok(points) => {
                queries += points.queries;
                let zero = m.info().on_empty == vz_core::spec::OnEmpty::Zero;
                onto_grid(&mut history, &m.name, points, zero, step_ms);
            }
            Err(e) => failures.push(format!("metric `{}` ({backend}): {e}", m.name)),
        }
    }
    notes.extend(failures.iter().map(|f| format!("left out: {f}")));
    if history.series.is_empty() {
        let why = failures
            .first()
            .cloned()
            .unwrap_or_else(|| "every query matched no series".into());
        return Err(Error::Input(format!(
            "no history to replay over the {} before {}: {why}",
            humantime::format_duration(since),
            crate::report::ts(end)
        )));
    }
    let source = format!(
        "{} range queries over {} every {}",
        queries,
        humantime::format_duration(since),
        humantime::format_duration(Duration::from_millis(step_ms as u64))
    );
    Ok((history, source))
}

/// A metric's points on the history's time grid: NaN where a step has no point (0 for an
/// `on_empty: zero` metric, as its baseline and watch read it).
fn onto_grid(
    history: &mut History,
    metric: &str,
    points: crate::backends::Points,
    zero: bool,
    step_ms: i64,
) {
    let n = history.times.len();
    let start = history.times.first().copied().unwrap_or(0);
    let fill = if zero { 0.0 } else { f64::NAN };
    if points.series.is_empty() && zero {
        history.series.insert(metric.to_string(), vec![0.0; n]);
    }
    for (name, pts) in points.series {
        let mut values = vec![fill; n];
        for (t, v) in pts {
            let i = ((t - start) as f64 / step_ms as f64).round();
            if i >= 0.0 && (i as usize) < n {
                values[i as usize] = v;
            }
        }
        history.series.insert(name, values);
    }
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
