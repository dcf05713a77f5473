//! The second series of a metric with a `control:` (the stable version, sampled over the
//! same ticks), which `baseline` rules compare the canary with; and the minimum request
//! volume under which a tick's reading of a rate metric is "not enough data".

use super::Gate;
use crate::detect::against::Against;
use crate::detect::Window;
use crate::model::{fmt_num, Reading, Sample, Timestamp};
use crate::spec::{MetricSpec, Rule};

/// The values of one control series, oldest first: only ticks that produced a number.
#[derive(Debug, Default)]
pub(super) struct ControlTrack {
    times: Vec<Timestamp>,
    values: Vec<f64>,
}

/// Resolves each `baseline` rule's `against`: as written, else control when its metric has
/// one and baseline otherwise.
pub(super) fn resolve_against(rules: &mut [Rule], metrics: &[MetricSpec]) {
    for rule in rules.iter_mut() {
        let has_control = metrics.iter().any(|m| m.name == rule.metric && m.control);
        if let Some(p) = rule.detector.statistical_mut() {
            p.set_compare(p.against().unwrap_or(if has_control {
                Against::Control
            } else {
                Against::Baseline
            }));
        }
    }
}

/// The rules that compare against a control their metric does not have (rule, metric).
pub(super) fn missing_control(rules: &[Rule], metrics: &[MetricSpec]) -> Option<(String, String)> {
    rules.iter().find_map(|r| {
        (r.detector.against_control() && !metrics.iter().any(|m| m.name == r.metric && m.control))
            .then(|| (r.name.clone(), r.metric.clone()))
    })
}

impl Gate {
    /// Keeps one control reading (`sample.control`); missing and down readings add nothing.
    pub(super) fn record_control(&mut self, now: Timestamp, sample: &Sample) {
        if let Reading::Value(v) = sample.reading {
            if v.is_finite() {
                let t = self.controls.entry(sample.series.clone()).or_default();
                t.times.push(now);
                t.values.push(v);
            }
        }
    }

    /// Whether this tick has no usable control reading (a number) for the canary `sample`
    /// while a rule of its metric compares against the control: a control that answers an
    /// error, garbage, nothing or NaN (or does not answer) is a missing sample of those rules,
    /// counted toward `max_missing` and `consecutive_errors` like a missing canary reading,
    /// so a dead control can never let a deploy pass. The control reading of a series is
    /// the control sample of the same series name, else of the metric's one series.
    pub(super) fn lacks_control(&self, samples: &[Sample], sample: &Sample) -> bool {
        let against_control = self
            .rules
            .iter()
            .any(|r| r.metric == sample.metric && r.detector.against_control());
        against_control
            && !samples.iter().any(|c| {
                c.control
                    && c.metric == sample.metric
                    && (c.series == sample.series || c.series == sample.metric)
                    && matches!(c.reading, Reading::Value(v) if v.is_finite())
            })
    }

    /// The control values of `series` (or of its metric's one control series) after `start`
    /// (exclusive; `None`: from the start of the watch), for a rule's window.
    pub(super) fn control_window(
        &self,
        series: &str,
        metric: &str,
        start: Option<Timestamp>,
    ) -> Option<Window<'_>> {
        let t = self
            .controls
            .get(series)
            .or_else(|| self.controls.get(metric))?;
        let from = start.map_or(0, |s| t.times.partition_point(|&x| x <= s));
        Some(Window {
            times: &t.times[from..],
            values: &t.values[from..],
        })
    }
}

/// Turns the readings of metrics with a `min_volume` into missing samples ("not enough
/// data") at ticks whose volume reading is below the minimum or absent: a rate over a
/// handful of requests is noise, neither a pass nor a fail. The volume of a series is the
/// volume metric's series of the same labels, else its single series.
pub(super) fn apply_min_volume(metrics: &[MetricSpec], samples: &[Sample]) -> Option<Vec<Sample>> {
    if !metrics.iter().any(|m| m.min_volume.is_some()) {
        return None;
    }
    let volume_of = |metric: &str, series: &str, control: bool| -> Option<f64> {
        let suffix = series.strip_prefix(metric).unwrap_or("");
        let of = |name: &str| {
            samples
                .iter()
                .find(|s| s.metric == metric && s.series == name && s.control == control)
                .and_then(|s| s.reading.value())
        };
        of(&format!("{metric}{suffix}")).or_else(|| of(metric))
    };
    let out = samples
        .iter()
        .map(|s| {
            let Some(mv) = metrics
                .iter()
                .find(|m| m.name == s.metric)
                .and_then(|m| m.min_volume.as_ref())
            else {
                return s.clone();
            };
            let volume_has_control = samples.iter().any(|x| x.control && x.metric == mv.metric);
            if !matches!(s.reading, Reading::Value(_)) || s.control && !volume_has_control {
                return s.clone();
            }
            let suffix = s.series.strip_prefix(&s.metric).unwrap_or("");
            let series = format!("{}{suffix}", mv.metric);
            let why = match volume_of(&mv.metric, &series, s.control) {
                Some(v) if v >= mv.min => return s.clone(),
                Some(v) => format!(
                    "not enough data: request volume {} ({}) is below min_volume {}",
                    fmt_num(v),
                    mv.metric,
                    fmt_num(mv.min)
                ),
                None => format!(
                    "not enough data: no request volume ({}) this tick for min_volume {}",
                    mv.metric,
                    fmt_num(mv.min)
                ),
            };
            Sample {
                reading: Reading::Missing(why),
                ..s.clone()
            }
        })
        .collect();
    Some(out)
}
