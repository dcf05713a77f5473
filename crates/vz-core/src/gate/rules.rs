//! One rule on one series, tick by tick: run its detector (or count a missing sample as a
//! failure under `on_missing: fail`), then turn "active" into pending, firing and resolved
//! as Prometheus does with `for`, plus `failure_limit` and `consecutive_failures`.

use super::{Evaluation, Gate, RuleState, RuleStatus, SeriesNote, TickReport};
use crate::detect::{Finding, Input, NoAnswer, Window};
use crate::model::{Anomaly, Expected, Reading, Timestamp};
use crate::spec::{OnMissing, Rule};

impl Gate {
    pub(super) fn step_rule(&mut self, k: usize, now: Timestamp, report: &mut TickReport) {
        let (rule_idx, series_idx) = (self.states[k].rule, self.states[k].series);
        let latest = self.series[series_idx].latest.clone();
        let outcome = if let Some(p) = match &self.rules[rule_idx].detector {
            crate::detect::DetectorSpec::IsolationForest(p) => Some(p.clone()),
            _ => None,
        } {
            self.joint_outcome(rule_idx, &p)
        } else {
            self.point_outcome(rule_idx, series_idx, now)
        };
        let series_name = self.series_names[series_idx].clone();
        self.apply(k, now, outcome, latest.as_ref(), &series_name, report);
    }

    fn point_outcome(
        &self,
        rule_idx: usize,
        series_idx: usize,
        now: Timestamp,
    ) -> crate::detect::Outcome {
        let rule = &self.rules[rule_idx];
        let s = &self.series[series_idx];
        let metric = &self.metrics[s.metric];
        let series_name = &self.series_names[series_idx];
        let latest = s.latest.as_ref();
        match latest {
            Some(Reading::Missing(why))
                if metric.on_missing == OnMissing::Fail && !rule.detector.watches_down() =>
            {
                Ok(Finding {
                    active: true,
                    observed: f64::NAN,
                    expected: Expected::None,
                    score: None,
                    p_value: None,
                    statistic: "missing",
                    reason: format!("no data ({why}); on_missing: fail counts it as a failure"),
                })
            }
            _ => {
                let since = rule.window.map(|w| now - w.as_millis() as Timestamp);
                let start = since.map_or(0, |from| s.times.partition_point(|&t| t <= from));
                let baseline = self
                    .baselines
                    .get(series_name)
                    .or_else(|| self.baselines.get(&rule.metric));
                let input = Input {
                    now,
                    window: Window {
                        times: &s.times[start..],
                        values: &s.values[start..],
                    },
                    latest_is_value: matches!(latest, Some(Reading::Value(_))),
                    baseline,
                    control: self.control_window(series_name, &rule.metric, since),
                    down_since: if matches!(latest, Some(Reading::Down(_))) {
                        s.down_since
                    } else {
                        None
                    },
                };
                rule.detector.evaluate(&input)
            }
        }
    }

    /// Turns one tick's finding into rule state: pending, firing, resolved.
    pub(super) fn apply(
        &mut self,
        k: usize,
        now: Timestamp,
        outcome: crate::detect::Outcome,
        latest: Option<&Reading>,
        series_name: &str,
        report: &mut TickReport,
    ) {
        let rule = &self.rules[self.states[k].rule];
        let state = &mut self.states[k];
        let mut eval = blank_evaluation(rule, series_name, state.ever_fired);
        match outcome {
            Err(no) => no_answer(&mut eval, state, no, latest),
            Ok(f) => {
                eval.observed = Some(f.observed);
                eval.expected = f.expected.clone();
                eval.statistic = f.statistic.to_string();
                eval.score = f.score;
                eval.p_value = f.p_value;
                eval.reason = f.reason.clone();
                // A note (an alert series' value and summary) explains a quiet series too: one
                // already firing before the deploy shows its value, not the 0 the gate sees.
                let note = self.notes.get(series_name);
                if let Some(n) = note {
                    eval.observed = Some(n.observed);
                    eval.reason = n.reason.clone();
                    // The detector's bound is on the 1/0 the gate sees, not on this value:
                    // `0 > 0` next to FIRING would only mislead.
                    eval.expected = crate::model::Expected::None;
                    if let Some(sev) = n.severity {
                        eval.severity = sev;
                    }
                }
                if f.active {
                    state.consecutive += 1;
                    state.total += 1;
                    let since = *state.streak_start.get_or_insert(now);
                    let held = now - since >= rule.for_.as_millis() as Timestamp;
                    let ready = held
                        && state.total > rule.failure_limit
                        && state.consecutive >= rule.consecutive_failures;
                    if state.firing.is_none() && ready {
                        let anomaly = fire(rule, series_name, f, note, now);
                        if !state.ever_fired && !rule.dry_run {
                            self.counted.add(anomaly.severity);
                        }
                        state.ever_fired = true;
                        state.firing = Some(self.anomalies.len());
                        report.fired.push(anomaly.clone());
                        self.anomalies.push(anomaly);
                    }
                    eval.status = if state.firing.is_some() {
                        RuleStatus::Firing
                    } else {
                        RuleStatus::Pending
                    };
                } else {
                    state.consecutive = 0;
                    state.streak_start = None;
                    if let Some(a) = state.firing.take() {
                        self.anomalies[a].resolved_at = Some(now);
                        report.resolved.push(self.anomalies[a].clone());
                    }
                    eval.status = RuleStatus::Ok;
                }
            }
        }
        eval.fired = state.ever_fired;
        state.last = Some(eval);
    }
}

/// A rule's evaluation on one series before its outcome is known.
fn blank_evaluation(rule: &Rule, series_name: &str, fired: bool) -> Evaluation {
    Evaluation {
        rule: rule.name.clone(),
        series: series_name.to_string(),
        detector: rule.detector.name().into(),
        kind: rule.kind.clone(),
        severity: rule.severity,
        status: RuleStatus::NoData,
        fired,
        observed: None,
        expected: Expected::None,
        statistic: String::new(),
        score: None,
        p_value: None,
        reason: String::new(),
        dry_run: rule.dry_run,
    }
}

/// A tick the detector could not answer (`no`): why, and the last known value.
fn no_answer(eval: &mut Evaluation, state: &RuleState, no: NoAnswer, latest: Option<&Reading>) {
    // Could not measure: neither advances nor resets the rule; a firing rule stays firing.
    eval.status = if state.firing.is_some() {
        RuleStatus::Firing
    } else {
        RuleStatus::NoData
    };
    eval.reason = match (no, latest) {
        (_, Some(Reading::Missing(why))) => format!("no data this tick: {why}"),
        (_, Some(Reading::Down(why))) => format!("target down: {why}"),
        (NoAnswer::NoBaseline, _) => {
            "no baseline for this metric: run `vz-monitor baseline` first".into()
        }
        (NoAnswer::NotEnoughData(why), _) => why,
    };
    // The bound still holds; the last value only beside a rule still firing on
    // it — a row reading "no data" with a value beside it misleads (issue 25.6).
    if let Some(prev) = &state.last {
        if eval.status == RuleStatus::Firing {
            eval.observed = prev.observed;
        }
        eval.expected = prev.expected.clone();
    }
}

/// The anomaly `rule` fires with on `series_name` now; a note (an alert series) gives its
/// value, reason, severity and annotations.
fn fire(
    rule: &Rule,
    series_name: &str,
    f: Finding,
    note: Option<&SeriesNote>,
    now: Timestamp,
) -> Anomaly {
    let severity = note.and_then(|n| n.severity).unwrap_or(rule.severity);
    let mut annotations = rule.annotations.clone();
    if let Some(n) = note {
        annotations.extend(n.annotations.clone());
    }
    Anomaly {
        rule: rule.name.clone(),
        metric: rule.metric.clone(),
        series: series_name.to_string(),
        kind: rule.kind.clone(),
        severity,
        detector: rule.detector.name().into(),
        observed: note.map_or(f.observed, |n| n.observed),
        expected: f.expected,
        statistic: f.statistic.to_string(),
        score: f.score,
        p_value: f.p_value,
        reason: note.map_or(f.reason, |n| n.reason.clone()),
        fired_at: now,
        resolved_at: None,
        dry_run: rule.dry_run,
        annotations,
    }
}
