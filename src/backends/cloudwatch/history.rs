//! CloudWatch's history for `backtest`: GetMetricData at the metric's period over stretches
//! that keep every call within 100 800 datapoints (all dimension sets of the call together),
//! every NextToken page followed. The step must be a whole number of periods and the period
//! one CloudWatch keeps for data that old (GetMetricData's rules), else a clear error
//! before any request.

use super::api;
use super::{CloudWatchMetric, DEFAULT_PERIOD};
use crate::backends::grid::stretch;
use crate::backends::{Points, Span};
use std::time::Duration;

/// The history of `m` over `span`.
pub(super) async fn read(cw: &CloudWatchMetric, span: Span) -> Result<Points, String> {
    let period = cw.query.period.unwrap_or(DEFAULT_PERIOD).as_secs() as i64;
    let step = span.step_secs();
    let start = span.end_ms.div_euclid(1000) - span.window.as_secs() as i64;
    history_period(period, step, chrono::Utc::now().timestamp() - start)?;
    let mut out = Points::default();
    let metrics = cw.metrics_counted(&mut out.queries).await?;
    if metrics.is_empty() {
        return Ok(out.zero_filled(&span, &cw.info.name, cw.info.on_empty));
    }
    let (sets, steps) = call_shape(metrics.len(), step, period)?;
    for (first, n) in span.stretches(steps) {
        let until = first + n as i64 * step;
        let results = cw
            .client
            .data_in(&metrics, sets, &cw.query, (first, until), &mut out.queries)
            .await
            .map_err(|e| {
                let last = until - step;
                format!("GetMetricData for {} failed: {e}", stretch(first, last))
            })?;
        for (m, r) in metrics.iter().zip(results) {
            let points = out.series.entry(cw.name(m)).or_default();
            points.extend(r.points.into_iter().map(|(t, v)| (t * 1000, v)));
        }
    }
    for points in out.series.values_mut() {
        points.sort_by_key(|(t, _)| *t);
        points.dedup_by_key(|(t, _)| *t);
    }
    out.series.retain(|_, p| !p.is_empty());
    Ok(out.zero_filled(&span, &cw.info.name, cw.info.on_empty))
}

/// How a history is cut into GetMetricData calls: dimension sets per call and steps per
/// call, so that no call asks more than 100 800 datapoints (one per period per set); an
/// error when one step of one set alone is more.
fn call_shape(metrics: usize, step: i64, period: i64) -> Result<(usize, usize), String> {
    let per_step = (step / period).max(1) as usize;
    if per_step > api::MAX_DATAPOINTS {
        return Err(format!(
            "a step of {step}s holds {per_step} periods of {period}s, more than the {} \
             datapoints CloudWatch gives per call: raise the metric's period",
            api::MAX_DATAPOINTS
        ));
    }
    let sets = metrics
        .clamp(1, api::MAX_QUERIES)
        .min(api::MAX_DATAPOINTS / per_step);
    Ok((sets, api::MAX_DATAPOINTS / (sets * per_step)))
}

/// Whether a history at `step` seconds can be read at `period`, its start `age` seconds ago:
/// the step a multiple of the period (one datapoint per period), and the period one that
/// CloudWatch keeps for data that old (GetMetricData: under 60 s for 3 hours, a multiple of
/// 60 s for 15 days, of 300 s for 63 days, of 3 600 s beyond).
fn history_period(period: i64, step: i64, age: i64) -> Result<(), String> {
    if step % period != 0 {
        return Err(format!(
            "the backtest's step {step}s (--interval) is not a multiple of the metric's period \
             {period}s: CloudWatch gives one datapoint per period; use --interval {period}s or \
             a multiple of it"
        ));
    }
    const HOUR: i64 = 3600;
    const DAY: i64 = 86_400;
    let (needed, kept) = match age {
        a if a > 63 * DAY => (HOUR, "455 days at 1h"),
        a if a > 15 * DAY => (300, "63 days at 5m"),
        a if a > 3 * HOUR => (60, "15 days at 1m"),
        _ => (1, ""),
    };
    if period % needed != 0 {
        return Err(format!(
            "the history starts {} ago, but CloudWatch keeps data that old only at a coarser \
             period than the metric's {period}s (it keeps {kept}): set the metric's period to \
             {needed}s or a multiple, or read a shorter --since",
            humantime::format_duration(Duration::from_secs(age.max(0) as u64))
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_stays_within_100_800_datapoints() {
        // One metric at its period: 100 800 steps (70 days at 60 s) per call.
        assert_eq!(call_shape(1, 60, 60), Ok((1, 100_800)));
        // A step of five periods reads five datapoints per step.
        assert_eq!(call_shape(1, 300, 60), Ok((1, 20_160)));
        // 500 dimension sets share a call: 201 periods each; 1 200 sets, still 500 a call.
        assert_eq!(call_shape(500, 60, 60), Ok((500, 201)));
        assert_eq!(call_shape(1200, 60, 60), Ok((500, 201)));
        // An hour of 1 s periods per step: 28 sets a call, one step each.
        assert_eq!(call_shape(500, 3600, 1), Ok((28, 1)));
        for (m, step, period) in [(3, 60, 60), (77, 120, 60), (500, 3600, 1), (9, 86_400, 1)] {
            let (sets, steps) = call_shape(m, step, period).unwrap();
            let datapoints = sets as i64 * steps as i64 * (step / period);
            assert!(datapoints <= api::MAX_DATAPOINTS as i64, "{m} {step} {period}");
        }
        let e = call_shape(1, 2 * 86_400, 1).unwrap_err();
        assert!(e.contains("172800 periods"), "{e}");
    }

    #[test]
    fn a_history_needs_a_step_of_whole_periods_and_a_period_kept_that_long() {
        assert!(history_period(60, 120, 3600).is_ok());
        assert!(history_period(1, 15, 600).is_ok());
        let e = history_period(60, 90, 3600).unwrap_err();
        assert!(e.contains("step 90s") && e.contains("period 60s"), "{e}");
        // Older than 3 h needs whole minutes; older than 15 days, 5 minutes.
        let e = history_period(10, 60, 4 * 3600).unwrap_err();
        assert!(e.contains("60s or a multiple"), "{e}");
        let e = history_period(60, 60, 20 * 86_400).unwrap_err();
        assert!(e.contains("300s") && e.contains("63 days at 5m"), "{e}");
        assert!(history_period(300, 300, 20 * 86_400).is_ok());
        assert!(history_period(300, 300, 70 * 86_400).is_err());
    }
}
