//! The sampled values of each judged series, and what a chart of one shows: the watched
//! values, the baseline, each rule's threshold or control band, where each anomaly fired
//! and where the decision fell. Shared by the HTML page and the Mermaid step summary.

use super::RunSummary;
use crate::gate::Evaluation;
use crate::model::{Anomaly, Expected, Timestamp};
use crate::units::unit_of_name;
use std::collections::BTreeMap;

/// The samples of one series over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesSamples {
    /// The series judged: the metric name, or `metric{label="…"}` for per-series queries.
    pub series: String,
    /// (time, value) in time order; None where the sample was missing or the probe down.
    pub points: Vec<(Timestamp, Option<f64>)>,
    /// The times the probe answered "down": an outage, which a chart must not draw as a gap.
    pub down: Vec<Timestamp>,
    /// The pre-deploy values of the series (NaN where a baseline tick had none).
    pub baseline: Vec<f64>,
    /// The unit of its values (`ms`, `%`), when known, for the value axis.
    pub unit: Option<String>,
}

impl SeriesSamples {
    /// An empty series named `series`, its unit what its name says ([`unit_of_name`]).
    pub fn named(series: &str) -> SeriesSamples {
        SeriesSamples {
            series: series.to_string(),
            unit: unit_of_name(series).map(String::from),
            ..Default::default()
        }
    }

    /// Adds one tick's reading: a value, a gap where it was missing, a gap and a `down`
    /// mark where the probe was down.
    pub fn push(&mut self, at: Timestamp, value: Option<f64>, down: bool) {
        self.points.push((at, value.filter(|v| v.is_finite())));
        if down {
            self.down.push(at);
        }
    }
}

/// One stored sample: time, series, value (None when missing or down), and whether the
/// probe was down.
pub type Row = (Timestamp, String, Option<f64>, bool);

/// Groups rows (as the store returns them) by series, in order of first appearance, and
/// attaches each series' baseline values.
pub fn group(rows: Vec<Row>, baseline: &BTreeMap<String, Vec<f64>>) -> Vec<SeriesSamples> {
    let mut out: Vec<SeriesSamples> = Vec::new();
    for (ts, series, value, down) in rows {
        let i = match out.iter().position(|s| s.series == series) {
            Some(i) => i,
            None => {
                out.push(SeriesSamples {
                    baseline: baseline.get(&series).cloned().unwrap_or_default(),
                    ..SeriesSamples::named(&series)
                });
                out.len() - 1
            }
        };
        out[i].push(ts, value, down);
    }
    out
}

/// A line or band a rule judges against, drawn across the chart.
#[derive(Debug, Clone, PartialEq)]
pub enum Guide {
    /// A fixed bound (`> 5`): a dashed line.
    Threshold { label: String, value: f64 },
    /// An accepted range (control band): a shaded band.
    Band { label: String, low: f64, high: f64 },
    /// A baseline statistic the rule compares against: a dotted line.
    Level { label: String, value: f64 },
}

/// Everything one chart shows.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// The series' name.
    pub series: &'a str,
    /// The rules that judged it.
    pub rules: Vec<&'a Evaluation>,
    /// The watched values (empty when no sample was stored).
    pub points: &'a [(Timestamp, Option<f64>)],
    /// When the probe answered "down".
    pub down: &'a [Timestamp],
    /// The values' unit, when known.
    pub unit: Option<&'a str>,
    /// The pre-deploy values.
    pub baseline: &'a [f64],
    /// Thresholds and bands of the rules.
    pub guides: Vec<Guide>,
    /// Anomalies fired on this series.
    pub anomalies: Vec<&'a Anomaly>,
    /// The window.
    pub start: Timestamp,
    /// End of the window (or the last sample, if later).
    pub end: Timestamp,
    /// When the policy decided, and what.
    pub decided_at: Timestamp,
    /// The verdict (`rollback`, `healthy`, …).
    pub verdict: &'a str,
    /// Stretches marked along the time axis (a backtest's replayed windows).
    pub spans: Vec<(Timestamp, Timestamp)>,
}

/// One chart per judged series (in the order the rules table lists them).
pub fn charts<'a>(view: &'a RunSummary, samples: &'a [SeriesSamples]) -> Vec<Chart<'a>> {
    let mut names: Vec<&str> = Vec::new();
    for r in &view.rules {
        if !names.contains(&r.series.as_str()) {
            names.push(&r.series);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let rules: Vec<&Evaluation> = view.rules.iter().filter(|r| r.series == name).collect();
            let found = samples.iter().find(|s| s.series == name);
            let points = found.map(|s| s.points.as_slice()).unwrap_or_default();
            let last = points.last().map(|p| p.0).unwrap_or(view.ended_at);
            Chart {
                series: name,
                guides: rules.iter().filter_map(|r| guide(r)).collect(),
                rules,
                points,
                down: found.map(|s| s.down.as_slice()).unwrap_or_default(),
                unit: found.and_then(|s| s.unit.as_deref()),
                baseline: found.map(|s| s.baseline.as_slice()).unwrap_or_default(),
                anomalies: view.anomalies.iter().filter(|a| a.series == name).collect(),
                start: view.started_at,
                end: view.ended_at.max(last),
                decided_at: view.decided_at,
                verdict: view.verdict.as_str(),
                spans: Vec::new(),
            }
        })
        .collect()
}

fn guide(r: &Evaluation) -> Option<Guide> {
    let label = format!("{} ({})", r.rule, r.expected);
    match &r.expected {
        Expected::Bound { value, .. } => Some(Guide::Threshold {
            label,
            value: *value,
        }),
        Expected::Range { low, high } => Some(Guide::Band {
            label: format!("{}: control band {}", r.rule, r.expected),
            low: *low,
            high: *high,
        }),
        Expected::Value { value } => Some(Guide::Level {
            label: format!("{}: baseline {}", r.rule, r.expected),
            value: *value,
        }),
        Expected::Control {
            low: Some(low),
            high: Some(high),
            ..
        } => Some(Guide::Band {
            label: format!("{}: {}", r.rule, r.expected),
            low: *low,
            high: *high,
        }),
        Expected::Control { value, .. } => Some(Guide::Level {
            label: format!("{}: {}", r.rule, r.expected),
            value: *value,
        }),
        Expected::None => None,
    }
    .filter(|g| match g {
        Guide::Band { low, high, .. } => low.is_finite() && high.is_finite(),
        Guide::Threshold { value, .. } | Guide::Level { value, .. } => value.is_finite(),
    })
}

impl Chart<'_> {
    /// The value range the chart must show: samples, baseline and guides, padded by 8 %.
    pub fn y_range(&self) -> (f64, f64) {
        let mut vals: Vec<f64> = self.points.iter().filter_map(|p| p.1).collect();
        vals.extend(self.baseline.iter().copied().filter(|v| v.is_finite()));
        for g in &self.guides {
            match g {
                Guide::Threshold { value, .. } | Guide::Level { value, .. } => vals.push(*value),
                Guide::Band { low, high, .. } => vals.extend([*low, *high]),
            }
        }
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            return (0.0, 1.0);
        }
        let pad = if hi > lo {
            (hi - lo) * 0.08
        } else {
            lo.abs().max(1.0) * 0.1
        };
        // Non-negative data (rates, percentages, latencies) keeps its axis at or above 0.
        let bottom = if lo >= 0.0 {
            (lo - pad).max(0.0)
        } else {
            lo - pad
        };
        (bottom, hi + pad)
    }

    /// Minimum and maximum of the finite baseline values.
    pub fn baseline_range(&self) -> Option<(f64, f64)> {
        let vals: Vec<f64> = self
            .baseline
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
    }

    /// The value axis' title: the series, with its unit when known (`p95 (ms)`).
    pub fn axis_title(&self) -> String {
        match self.unit {
            Some(u) => format!("{} ({u})", self.series),
            None => self.series.to_string(),
        }
    }

    /// Whether the decision fell inside this chart's window and is worth marking.
    pub fn marks_decision(&self) -> bool {
        self.decided_at >= self.start && self.decided_at <= self.end && self.decided_at > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_rows_by_series_keeping_gaps() {
        let base = BTreeMap::from([("cpu".to_string(), vec![1.0, 2.0])]);
        let g = group(
            vec![
                (0, "cpu".into(), Some(1.0), false),
                (0, "mem_bytes".into(), Some(5.0), false),
                (10, "cpu".into(), None, true),
                (20, "cpu".into(), Some(f64::NAN), false),
            ],
            &base,
        );
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].points, vec![(0, Some(1.0)), (10, None), (20, None)]);
        assert_eq!(
            g[0].down,
            vec![10],
            "a down reading is an outage, not a gap"
        );
        assert_eq!(g[0].unit, None);
        assert_eq!(g[1].unit.as_deref(), Some("bytes"));
        assert_eq!(g[0].baseline, vec![1.0, 2.0]);
        assert!(g[1].baseline.is_empty());
    }
}
