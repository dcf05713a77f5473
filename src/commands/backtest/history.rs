//! Where a backtest's history comes from: every backend metric's range, read in as few
//! queries as its backend allows and put on one time grid, or a CSV/JSON file.

use super::Progress;
use crate::backends::Span;
use crate::backtest::{split_control, History, CONTROL_SUFFIX};
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

/// One read of a history: a metric's query, or the query of its `control:` (kept under
/// `<series> (control)`, the name `watch` stores a control's readings under).
struct Read<'a> {
    metric: &'a crate::config::Metric,
    query: crate::backends::BackendQuery,
    control: bool,
}

impl Read<'_> {
    fn what(&self) -> String {
        let of = if self.control { " control" } else { "" };
        format!("metric `{}`{of} ({})", self.metric.name, self.query.name())
    }
}

/// What the history reads: every backend metric, and every `control:` that is a backend
/// query; a probe (metric or control) has no history, which a note says.
fn reads<'a>(config: &'a Config, notes: &mut Vec<String>) -> Vec<Read<'a>> {
    let mut out = Vec::new();
    for m in &config.metrics {
        match m.source.backend() {
            Some(query) => out.push(Read {
                metric: m,
                query,
                control: false,
            }),
            None => notes.push(format!(
                "metric `{}` is a probe: it has no history to replay",
                m.name
            )),
        }
        if let Some(query) = m.control.as_ref().and_then(|c| c.backend()) {
            out.push(Read {
                metric: m,
                query,
                control: true,
            });
        }
    }
    out
}

/// Every backend metric's history (and its control's) over `since` before `end` (aligned
/// to the step), each in as few range queries as its backend allows, all at once; onto one
/// time grid. A metric whose backend fails (or gives no history) is left out with a note;
/// none left is an error.
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
    let queried = reads(config, notes);
    if !queried.iter().any(|r| !r.control) {
        return Err(Error::Usage(
            "no metric of the config is read from a backend (Prometheus, …): there is no \
             history to replay; give one with --history FILE"
                .into(),
        ));
    }
    progress.phase("reading history", queried.len());
    let shared = Shared::new(&config.backends);
    let results = join_all(queried.iter().map(|read| {
        let backend = read.query.connect(&read.metric.info(), &shared.backends);
        async move {
            let r = match backend {
                Ok(b) => b.history(span).await,
                Err(e) => Err(e),
            };
            progress.inc();
            (read, r)
        }
    }))
    .await;
    let mut history = History {
        times: span.steps(),
        series: Default::default(),
    };
    let mut failures = Vec::new();
    let mut queries = 0;
    for (read, r) in results {
        match r {
            Ok(points) => {
                queries += points.queries;
                onto_grid(&mut history, points, read.control, step_ms);
            }
            Err(e) => failures.push(format!("{}: {e}", read.what())),
        }
    }
    notes.extend(failures.iter().map(|f| format!("left out: {f}")));
    if !history.series.keys().any(|s| !split_control(s).1) {
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

/// A read's points on the history's time grid: each point at the first step at or after it
/// (what a tick at that step reads: the newest point), NaN where a step has none. The
/// backend has already applied `on_empty` (0 where nothing means 0).
fn onto_grid(history: &mut History, points: crate::backends::Points, control: bool, step_ms: i64) {
    let n = history.times.len();
    let start = history.times.first().copied().unwrap_or(0);
    for (name, pts) in points.series {
        let values = crate::backends::grid::on_grid(&pts, start, step_ms, n);
        let name = match control {
            true => format!("{name}{CONTROL_SUFFIX}"),
            false => name,
        };
        history.series.insert(name, values);
    }
}
