//! A service's history as a backtest reads it: one time axis, every series on it.

use crate::model::Timestamp;
use crate::offline::SeriesFile;
use std::collections::BTreeMap;

/// A service's history on one time axis: each series' values at `times` (NaN where the
/// history has no point).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Unix milliseconds, increasing.
    pub times: Vec<Timestamp>,
    /// Values by series name (`metric` or `metric{label="…"}`), one per time.
    pub series: BTreeMap<String, Vec<f64>>,
}

/// How a control series is named: the canary's series and this suffix
/// (`error_rate (control)`, `requests{code="500"} (control)`), as `watch` stores it.
pub const CONTROL_SUFFIX: &str = " (control)";

/// The series a history column holds and whether it is the control's reading of it.
pub fn split_control(name: &str) -> (&str, bool) {
    match name.strip_suffix(CONTROL_SUFFIX) {
        Some(series) => (series, true),
        None => (name, false),
    }
}

/// The metric a series belongs to: `requests` of `requests{code="200"}` (and of its
/// control, `requests{code="200"} (control)`).
pub fn metric_of(series: &str) -> &str {
    let series = split_control(series).0;
    series.split('{').next().unwrap_or(series)
}

impl History {
    /// The rows of a CSV/JSON file (`--history FILE`): its columns, NaN where a cell is
    /// empty or `down`.
    pub fn from_file(f: &SeriesFile) -> History {
        History {
            times: f.rows.iter().map(|r| r.at).collect(),
            series: f.aligned().into_iter().collect(),
        }
    }

    /// The same history with a point (NaN in every series) at each step where a row is
    /// missing: a gap in a file is missing samples, as it is on a backend's grid, never
    /// a shorter window.
    pub fn fill_gaps(self) -> History {
        let step = self.step();
        if step <= 0 {
            return self;
        }
        let mut times = Vec::with_capacity(self.times.len());
        let mut at = Vec::with_capacity(self.times.len());
        for (i, t) in self.times.iter().enumerate() {
            if let Some(&prev) = times.last() {
                let mut missing: Timestamp = prev + step;
                // Up to half a step of jitter is the same step.
                while *t - missing >= step / 2 {
                    times.push(missing);
                    at.push(None);
                    missing += step;
                }
            }
            times.push(*t);
            at.push(Some(i));
        }
        let series = self
            .series
            .into_iter()
            .map(|(k, v)| {
                let filled = at.iter().map(|i| i.map_or(f64::NAN, |i| v[i])).collect();
                (k, filled)
            })
            .collect();
        History { times, series }
    }

    /// The typical distance between two points (the median step), 0 with fewer than two.
    pub fn step(&self) -> Timestamp {
        let mut d: Vec<Timestamp> = self.times.windows(2).map(|w| w[1] - w[0]).collect();
        if d.is_empty() {
            return 0;
        }
        let mid = d.len() / 2;
        *d.select_nth_unstable(mid).1
    }

    /// Indices of the points with `after < t <= until`.
    pub(super) fn between(&self, after: Timestamp, until: Timestamp) -> (usize, usize) {
        let a = self.times.partition_point(|t| *t <= after);
        let b = self.times.partition_point(|t| *t <= until);
        (a, b)
    }

    /// Whether a metric (or one of its series) has values here (its control aside).
    pub fn has_metric(&self, metric: &str) -> bool {
        self.series
            .keys()
            .any(|s| !split_control(s).1 && metric_of(s) == metric)
    }

    /// Whether the history holds the control of a metric (`<series> (control)`).
    pub fn has_control(&self, metric: &str) -> bool {
        self.series
            .keys()
            .any(|s| split_control(s).1 && metric_of(s) == metric)
    }
}
