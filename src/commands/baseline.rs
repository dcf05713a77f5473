//! `baseline`: captures what "normal" looks like before the deploy, and stores it.

use super::{load_config, now_ms, open_store, print_json, write_atomically};
use crate::backends::grid::on_grid;
use crate::backends::{BackendQuery, Range, Span};
use crate::cli::{BaselineArgs, Global};
use crate::config::{Config, Metric};
use crate::detect::stats::dependence::{Lag1, MIN_PAIRS};
use crate::detect::Baseline;
use crate::error::{Error, Exit, Result};
use crate::model::{fmt_num, Reading};
use crate::report::table::{fit, new_table};
use crate::sampler::Sampler;
use crate::sources::prometheus::range_step;
use crate::sources::Shared;
use crate::store::BaselineSet;
use futures::future::join_all;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Takes a range over `--window` per backend metric (step = interval) and `--samples`
/// probe readings `--interval` apart, stores them, optionally writes JSON.
pub async fn run(g: &Global, a: &BaselineArgs) -> Result<Exit> {
    let config = load_config(g)?;
    if a.samples == 0 {
        return Err(Error::Usage("--samples must be at least 1".into()));
    }
    let (format_json, legacy_file) = match a.output.as_str() {
        "table" => (false, None),
        "json" => (true, None),
        path => (false, Some(Path::new(path))),
    };
    let file = a.out.as_deref().or(legacy_file);
    if let Some(path) = file {
        check_target(path)?;
    }
    let deployment = a
        .deployment
        .clone()
        .unwrap_or_else(|| config.deployment.clone());
    let interval = a.interval.unwrap_or(config.interval);
    let mut store = open_store(g, Some(&config))?;
    let mut taken = Taken::default();
    // One client (so one bounded pool) per backend for the baseline's range and the lookback.
    let shared = Shared::new(&config.backends);
    taken.ranges(&config, &shared, a, interval).await;
    taken.lookback(&config, &shared, a, interval).await;
    taken.samples(&config, a, interval).await;
    let Taken {
        series,
        failures,
        sources,
        lookback,
    } = taken;

    let set = BaselineSet {
        deployment: deployment.clone(),
        created_at: now_ms(),
        source: sources.join(" + "),
        config_digest: config.digest.clone(),
        series,
        lookback,
    };
    // The file first: a baseline that could not be written is not stored either.
    if let Some(path) = file {
        let text = serde_json::to_string_pretty(&set).map_err(|e| Error::Input(e.to_string()))?;
        write_atomically(path, &text).map_err(|e| {
            Error::Usage(format!(
                "cannot write the baseline to {}: {e}",
                path.display()
            ))
        })?;
    }
    let id = store.save_baseline(&set)?;
    crate::audit::record_baseline(&mut store, &set, id);

    for (series, (n, why)) in &failures {
        let of = match config.metric(series) {
            Some(m) if sampled(m) => format!(" of {}", a.samples),
            _ => String::new(),
        };
        errln!("warning: {series}: {n}{of} samples failed (last: {why})");
    }
    if format_json {
        print_json(&set)?;
    } else {
        print_table(&config, &set, &failures);
        outln!(
            "baseline #{id} stored for deployment {deployment}{}",
            file.map(|f| format!(", written to {}", f.display()))
                .unwrap_or_default()
        );
    }
    Ok(Exit::Healthy)
}

/// What `baseline` took: values per series in capture order, failures per series (how many,
/// the last reason), and a phrase per way they were taken.
#[derive(Default)]
struct Taken {
    series: BTreeMap<String, Vec<f64>>,
    failures: BTreeMap<String, (u32, String)>,
    sources: Vec<String>,
    /// Per series, the dependence between ticks over `--lookback`.
    lookback: BTreeMap<String, Lag1>,
}

impl Taken {
    /// Backend metrics (PromQL and every other backend): one range each over `--window`
    /// before now, all at once, on one shared client per backend.
    async fn ranges(
        &mut self,
        config: &Config,
        shared: &Shared,
        a: &BaselineArgs,
        interval: Duration,
    ) {
        let queried = ranged(config);
        if !queried.is_empty() {
            let span = Span {
                end_ms: now_ms(),
                window: a.window,
                step: interval,
            };
            let results = join_all(queried.iter().map(|(m, query)| {
                let backend = query.connect(&m.info(), &shared.backends);
                async move {
                    match backend {
                        Ok(b) => (m.name.clone(), b.range(span).await),
                        Err(e) => (m.name.clone(), Err(e)),
                    }
                }
            }))
            .await;
            for (name, r) in results {
                match r {
                    Err(e) => note(&mut self.failures, name, e),
                    Ok(Range {
                        series: found,
                        dropped,
                    }) => {
                        if found.values().all(Vec::is_empty) {
                            note(
                                &mut self.failures,
                                name.clone(),
                                "no data in the window".into(),
                            );
                        }
                        if dropped > 0 {
                            let e = self.failures.entry(name).or_insert((0, String::new()));
                            e.0 += dropped as u32;
                            e.1 = "NaN or Inf points dropped".into();
                        }
                        self.series
                            .extend(found.into_iter().filter(|(_, v)| !v.is_empty()));
                    }
                }
            }
            // "Prometheus range over …", "Prometheus, Web range over …".
            let mut names: Vec<String> =
                queried.iter().map(|(_, q)| capitalized(q.name())).collect();
            names.sort_unstable();
            names.dedup();
            self.sources.push(format!(
                "{} range over {} every {}",
                names.join(", "),
                humantime::format_duration(a.window),
                humantime::format_duration(range_step(a.window, interval))
            ));
            errln!("baseline: {} range queries done", queried.len());
        }
    }

    /// Backend metrics with a history: the dependence between ticks over `--lookback` at
    /// the watch interval, each series cut into hour-long stretches ([`Lag1::of_chunks`]).
    /// A metric whose backend gives no history, or fails, keeps its baseline's own ticks
    /// (the table's `lag-1 ≤` says how many values it came from); never an error.
    async fn lookback(
        &mut self,
        config: &Config,
        shared: &Shared,
        a: &BaselineArgs,
        interval: Duration,
    ) {
        if a.lookback.is_zero() {
            return;
        }
        let queried = ranged(config);
        if queried.is_empty() {
            return;
        }
        let step_ms = (interval.as_millis() as i64).max(1000);
        let span = Span {
            end_ms: now_ms().div_euclid(step_ms) * step_ms,
            window: a.lookback,
            step: Duration::from_millis(step_ms as u64),
        };
        let chunk = (3_600_000 / step_ms).max(MIN_PAIRS as i64 + 1) as usize;
        let steps = span.steps();
        let (start, grid_ms) = (steps.first().copied().unwrap_or(0), span.step_secs() * 1000);
        let results = join_all(queried.iter().map(|(m, query)| {
            let backend = query.connect(&m.info(), &shared.backends);
            async move {
                match backend {
                    Ok(b) => (m.name.clone(), b.history(span).await),
                    Err(e) => (m.name.clone(), Err(e)),
                }
            }
        }))
        .await;
        let mut read = 0;
        for (name, r) in results {
            match r {
                Ok(points) => {
                    read += 1;
                    for (series, pts) in points.series {
                        let values = on_grid(&pts, start, grid_ms, steps.len());
                        self.lookback
                            .insert(series, Lag1::of_chunks(&values, chunk));
                    }
                }
                Err(e) => errln!(
                    "note: {name}: no lookback for the dependence between ticks ({e}); its \
                     baseline's own ticks are used"
                ),
            }
        }
        if read > 0 {
            self.sources.push(format!(
                "dependence over {} every {}",
                humantime::format_duration(a.lookback),
                humantime::format_duration(span.step)
            ));
        }
    }

    /// Probes, and backend metrics with no range (a `web` metric without `range:`):
    /// `--samples` readings `--interval` apart.
    async fn samples(&mut self, config: &Config, a: &BaselineArgs, interval: Duration) {
        let sampler = Sampler::of(config, sampled);
        if !sampler.is_empty() {
            let start = tokio::time::Instant::now();
            for i in 0..a.samples {
                if i > 0 {
                    tokio::time::sleep_until(start + interval * i).await;
                }
                for s in sampler.take().await {
                    // Values stay in capture order, NaN (stored as null) where a tick had none,
                    // so multivariate rules can pair the metrics of one tick by index.
                    let values = self
                        .series
                        .entry(s.series.clone())
                        .or_insert_with(|| vec![f64::NAN; i as usize]);
                    match s.reading {
                        Reading::Value(v) if v.is_finite() => values.push(v),
                        Reading::Value(v) => {
                            values.push(f64::NAN);
                            note(&mut self.failures, s.series, format!("value is {v}"))
                        }
                        Reading::Down(d) | Reading::Missing(d) => {
                            values.push(f64::NAN);
                            note(&mut self.failures, s.series, d)
                        }
                    }
                }
                errln!("baseline: sample {}/{} taken", i + 1, a.samples);
            }
            self.sources.push(format!(
                "samples ({} every {})",
                a.samples,
                humantime::format_duration(interval)
            ));
        }
    }
}

/// The backend metrics whose backend can give a range (and so a history): what `baseline`
/// reads over `--window` and over `--lookback`.
fn ranged(config: &Config) -> Vec<(&Metric, BackendQuery)> {
    config
        .metrics
        .iter()
        .filter_map(|m| Some((m, m.source.backend().filter(|b| b.can_range())?)))
        .collect()
}

/// One row per series (a metric's own name, or each `metric{…}` of a per-series one) with
/// its statistics, the dependence its statistical rules will judge with, and its failures.
fn print_table(config: &Config, set: &BaselineSet, failures: &BTreeMap<String, (u32, String)>) {
    let mut t = new_table(&[
        "series",
        "n",
        "mean",
        "p50",
        "p95",
        "min",
        "max",
        "lag-1 ≤",
        "effective n",
        "failed",
    ]);
    let mut short = Vec::new();
    // One row per series: a metric's own name, or each `metric{…}` of a per-series one.
    let mut rows: Vec<String> = Vec::new();
    for m in &config.metrics {
        let prefix = format!("{}{{", m.name);
        let own: Vec<String> = set
            .series
            .keys()
            .filter(|k| **k == m.name || k.starts_with(&prefix))
            .cloned()
            .collect();
        if own.is_empty() {
            rows.push(m.name.clone());
        }
        rows.extend(own);
    }
    for name in &rows {
        let values = set.series.get(name);
        let failed = failures.get(name).map(|f| f.0).unwrap_or(0).to_string();
        match values.and_then(|v| Baseline::from_values(v)) {
            Some(mut b) => {
                if let Some(l) = set.lookback.get(name) {
                    b.lag1 = b.lag1.or_longer(*l);
                }
                let (lag, effective) = dependence_cells(&b);
                if !b.lag1.enough() {
                    short.push(name.clone());
                }
                t.add_row(vec![
                    name.clone(),
                    b.sorted.len().to_string(),
                    fmt_num(b.mean),
                    fmt_num(b.quantile(0.5)),
                    fmt_num(b.quantile(0.95)),
                    fmt_num(b.sorted[0]),
                    fmt_num(*b.sorted.last().unwrap_or(&f64::NAN)),
                    lag,
                    effective,
                    failed,
                ])
            }
            None => t.add_row(vec![
                name.clone(),
                "0".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                failed,
            ]),
        };
    }
    fit(&mut t);
    outln!("{t}");
    if !short.is_empty() {
        errln!(
            "note: {}: too few consecutive values to show how much ticks depend on each \
             other (at least {} needed): statistical rules take these ticks as \
             independent, and their false-rollback bound holds only if they are. Take a \
             longer baseline (--samples 60, or a longer --window).",
            short.join(", "),
            crate::detect::stats::dependence::MIN_PAIRS + 1
        );
    }
}

/// The lag-1 autocorrelation of the baseline's ranks the statistical rules judge with (its
/// 84 % upper bound) and the effective independent samples it leaves (`0.82`, `6.1`): what
/// its ticks are worth to them (issue 19).
fn dependence_cells(b: &Baseline) -> (String, String) {
    use crate::detect::stats::dependence::fmt_eff;
    let d = b.lag1.dependence();
    if d.unknown {
        return ("-".into(), "-".into());
    }
    (format!("{:.2}", d.rho), fmt_eff(d.effective(b.len())))
}

/// Refuses, before any sampling, a target whose folder does not exist or is a folder itself.
fn check_target(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "cannot write the baseline to {}: it is a folder",
            path.display()
        )));
    }
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "cannot write the baseline to {}: folder {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// Whether `baseline` samples the metric repeatedly (a probe, or a backend with no range).
fn sampled(m: &Metric) -> bool {
    match m.source.backend() {
        Some(b) => !b.can_range(),
        None => true,
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn note(failures: &mut BTreeMap<String, (u32, String)>, series: String, why: String) {
    let e = failures.entry(series).or_insert((0, String::new()));
    e.0 += 1;
    e.1 = why;
}
