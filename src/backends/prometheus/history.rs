//! A long history for `backtest`: range queries at the requested step, each at most
//! Prometheus's 11 000 points per series, one after the other, merged per series.

use super::client::{series_name, PromClient, MAX_RANGE_POINTS};
use crate::backends::{Points, Span};
use prometheus_http_query::response::Data;
use std::time::Duration;

/// Whole seconds between two points (Prometheus steps are seconds; 1 s at least).
fn step_secs(step: Duration) -> i64 {
    (step.as_secs() as i64).max(1)
}

/// The `[start, end]` (Unix seconds, inclusive) of each query covering `span` at its step.
pub fn chunks(span: Span) -> Vec<(i64, i64)> {
    let step = step_secs(span.step);
    let end = span.end_ms.div_euclid(1000);
    let start = end - span.window.as_secs() as i64;
    let per = (MAX_RANGE_POINTS as i64 - 1) * step;
    let mut out = Vec::new();
    let mut from = start;
    while from <= end {
        let to = (from + per).min(end);
        out.push((from, to));
        from = to + step;
    }
    out
}

/// Reads `query` over `span` chunk by chunk. A refused chunk ends the read with the
/// server's reason and the stretch it was asked for.
pub async fn read(
    client: &PromClient,
    query: &str,
    metric: &str,
    per_series: bool,
    span: Span,
) -> Result<Points, String> {
    let step = Duration::from_secs(step_secs(span.step) as u64);
    let mut out = Points::default();
    for (from, to) in chunks(span) {
        let data = client.range(query, from, to, step).await.map_err(|e| {
            format!(
                "the range query for {} – {} failed: {e}",
                crate::report::ts(from * 1000),
                crate::report::ts(to * 1000)
            )
        })?;
        out.queries += 1;
        let Data::Matrix(rows) = data else {
            return Err("the range query did not return a matrix".into());
        };
        if rows.len() > 1 && !per_series {
            return Err(format!(
                "the query returned {} series where one was expected; aggregate it (sum, \
                 max, …) or set per_series: true",
                rows.len()
            ));
        }
        for row in rows {
            let name = if per_series {
                series_name(metric, row.metric())
            } else {
                metric.to_string()
            };
            let points = out.series.entry(name).or_default();
            for p in row.samples() {
                if p.value().is_finite() {
                    points.push(((p.timestamp() * 1000.0).round() as i64, p.value()));
                } else {
                    out.dropped += 1;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_at_15s_takes_four_queries_that_neither_overlap_nor_leave_a_step_out() {
        let span = Span {
            end_ms: 1_700_000_000_000,
            window: Duration::from_secs(7 * 86_400),
            step: Duration::from_secs(15),
        };
        let c = chunks(span);
        // 40 321 points at 15 s; 11 000 per query.
        assert_eq!(c.len(), 4, "{c:?}");
        assert_eq!(c[0].0, 1_700_000_000 - 7 * 86_400);
        assert_eq!(c.last().unwrap().1, 1_700_000_000);
        let points: i64 = c.iter().map(|(a, b)| (b - a) / 15 + 1).sum();
        assert_eq!(points, 7 * 86_400 / 15 + 1);
        for w in c.windows(2) {
            assert_eq!(w[1].0 - w[0].1, 15);
            assert!((w[0].1 - w[0].0) / 15 < 11_000);
        }
    }
}
