//! InfluxDB's history for `backtest`: statements of at most 10 000 steps (`$interval` = the
//! step), one after the other. InfluxDB 1.x answers at most `max-row-limit` rows and marks a
//! longer answer `partial`: such a stretch is asked again in halves, down to one step, so
//! no row is lost silently. Null rows are missing, or 0 with `on_empty: zero` (as for a
//! baseline).

use super::influxql::{self, Series};
use super::InfluxMetric;
use crate::backends::grid::stretch;
use crate::backends::{Points, Span};
use std::time::Duration;
use vz_core::spec::OnEmpty;

/// InfluxDB 1.x's default `max-row-limit`: a history asks at most this many rows (steps)
/// per statement, fewer when an answer comes back cut short (more series than one).
const MAX_ROWS: usize = 10_000;

/// The history of `im` over `span`.
pub(super) async fn read(im: &InfluxMetric, span: Span) -> Result<Points, String> {
    let steps = span.steps();
    let step = Duration::from_secs(span.step_secs() as u64);
    let mut out = Points::default();
    let (mut at, mut per) = (0, MAX_ROWS - 1);
    while at < steps.len() {
        let n = per.min(steps.len() - at);
        let from = steps[at].div_euclid(1000);
        let last = from + (n as i64 - 1) * span.step_secs();
        let statement = influxql::stretch(&im.query.query, from, n, step);
        out.queries += 1;
        let series = im
            .client
            .run(im.database(), &statement)
            .await
            .map_err(|e| format!("the query for {} failed: {e}", stretch(from, last)))?;
        if series.iter().any(|s| s.partial) {
            if n == 1 {
                return Err(format!(
                    "InfluxDB cut short its answer for the single step at {} (partial: more \
                     rows than its max-row-limit): raise max-row-limit in the [http] section \
                     of influxdb.conf, or drop GROUP BY tags",
                    stretch(from, last)
                ));
            }
            per = n / 2;
            continue;
        }
        collect(im, series, &mut out)?;
        at += n;
    }
    if out.series.is_empty() {
        // No series at all: 0 at every step with on_empty: zero, as a tick reads it.
        return Ok(out.zero_filled(&span, &im.info.name, im.info.on_empty));
    }
    for points in out.series.values_mut() {
        points.sort_by_key(|(t, _)| *t);
    }
    Ok(out)
}

/// One stretch's rows added to a history: null rows missing (0 with `on_empty: zero`),
/// NaN and ±Inf dropped and counted.
fn collect(im: &InfluxMetric, series: Vec<Series>, out: &mut Points) -> Result<(), String> {
    for (name, s) in im.named(series)? {
        let points = out.series.entry(name).or_default();
        for (t, v) in s.points {
            match (v, im.info.on_empty) {
                (Some(v), _) if v.is_finite() => points.push((t * 1000, v)),
                (Some(_), _) => out.dropped += 1,
                (None, OnEmpty::Zero) => points.push((t * 1000, 0.0)),
                (None, OnEmpty::Missing) => {}
            }
        }
    }
    Ok(())
}
