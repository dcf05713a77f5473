//! Where a backtest's history comes from: every backend metric's range, read in as few
//! queries as its backend allows and put on one time grid, or a CSV/JSON file.

use super::Progress;
use crate::backends::Span;
use crate::backtest::History;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::offline;
use crate::sources::Shared;
use futures::future::join_all;
use std::path::Path;
use std::time::Duration;

/// A CSV/JSON file's rows, the last `since` of them (up to `until`).
pub(super) fn file_history(
    path: &Path,
    since: Duration,
    until: Option<i64>,
) -> Result<(History, String)> {
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
pub(super) async fn backend_history(
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
