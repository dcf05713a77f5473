//! The gate engine: feeds each tick's samples through every rule's detector, turns active
//! conditions into fired anomalies (`for`, failure limits), and asks the policy. Pure: the
//! caller passes `now`, so `watch` (live), `analyze` (replay) and `test` see the same thing.

use crate::detect::Baseline;
use crate::model::{Anomaly, Expected, Reading, Sample, SeverityCounts, Timestamp};
use crate::policy::{self as decide, Completeness, Decision, Policy, PolicyInput};
use crate::spec::{MetricSpec as Metric, OnMissing, Rule};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// State of one rule on one series after the latest tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Condition not active.
    #[default]
    Ok,
    /// Active, waiting for `for` / failure limits.
    Pending,
    /// Fired and still active.
    Firing,
    /// The detector could not answer (no data, no baseline, too few points).
    NoData,
}

/// The latest word of one rule on one series: the explanation shown in tables and JSON (and
/// read back from a stored summary, with defaults for what an older one lacks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    pub rule: String,
    #[serde(default)]
    pub series: String,
    #[serde(default)]
    pub detector: String,
    #[serde(default)]
    pub kind: String,
    pub severity: crate::model::Severity,
    #[serde(default)]
    pub status: RuleStatus,
    /// Whether the rule fired at any point in the run.
    #[serde(default)]
    pub fired: bool,
    pub observed: Option<f64>,
    #[serde(default)]
    pub expected: Expected,
    #[serde(default)]
    pub statistic: String,
    pub score: Option<f64>,
    pub p_value: Option<f64>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub dry_run: bool,
}

/// What a source knows about one series beyond its reading (a Prometheus alert series: its
/// value, rendered summary and labels), used when that series fires.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesNote {
    /// The value to report as observed (the alert expression's, not the 1 the gate sees).
    pub observed: f64,
    /// Replaces the detector's reason (the rendered summary).
    pub reason: String,
    /// Added to the rule's annotations.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// The series' own severity (an alert's templated `severity` label), over the rule's.
    pub severity: Option<crate::model::Severity>,
}

/// What one tick changed.
#[derive(Debug, Clone, Default)]
pub struct TickReport {
    /// Anomalies that started firing at this tick.
    pub fired: Vec<Anomaly>,
    /// Anomalies whose condition cleared at this tick.
    pub resolved: Vec<Anomaly>,
    /// Set when the policy decided to roll back at this tick.
    pub decision: Option<Decision>,
}

#[derive(Debug, Default)]
struct SeriesState {
    metric: usize,
    times: Vec<Timestamp>,
    values: Vec<f64>,
    latest: Option<Reading>,
    /// The tick `latest` was read at.
    latest_at: Timestamp,
    down_since: Option<Timestamp>,
    ticks: u32,
    missing: u32,
    missing_run: u32,
    max_missing_run: u32,
}

impl SeriesState {
    /// Keeps one tick's reading: a number joins the window (unless the control it needs is
    /// missing: then it also counts as missing), a missing reading counts when the metric
    /// says so, a down reading starts or continues a down run.
    fn record(
        &mut self,
        now: Timestamp,
        reading: &Reading,
        counts_missing: bool,
        no_control: bool,
    ) {
        self.ticks += 1;
        match reading {
            Reading::Value(v) if v.is_finite() && no_control => {
                self.times.push(now);
                self.values.push(*v);
                self.down_since = None;
                if counts_missing {
                    self.missing += 1;
                    self.missing_run += 1;
                    self.max_missing_run = self.max_missing_run.max(self.missing_run);
                }
            }
            Reading::Value(v) if v.is_finite() => {
                self.times.push(now);
                self.values.push(*v);
                self.down_since = None;
                self.missing_run = 0;
            }
            Reading::Value(_) | Reading::Missing(_) => {
                if counts_missing {
                    self.missing += 1;
                    self.missing_run += 1;
                    self.max_missing_run = self.max_missing_run.max(self.missing_run);
                }
            }
            Reading::Down(_) => {
                self.down_since.get_or_insert(now);
                self.missing_run = 0;
            }
        }
        self.latest_at = now;
        self.latest = Some(match reading {
            Reading::Value(v) if !v.is_finite() => Reading::Missing(format!("value is {v}")),
            r => r.clone(),
        });
    }
}

#[derive(Debug)]
struct RuleState {
    rule: usize,
    series: usize,
    streak_start: Option<Timestamp>,
    consecutive: u32,
    total: u32,
    firing: Option<usize>,
    ever_fired: bool,
    last: Option<Evaluation>,
}

/// The running gate of one watch (or one replay).
pub struct Gate {
    rules: Vec<Rule>,
    metrics: Vec<Metric>,
    policy: Policy,
    baselines: HashMap<String, Baseline>,
    series: Vec<SeriesState>,
    series_index: HashMap<String, usize>,
    series_names: Vec<String>,
    states: Vec<RuleState>,
    anomalies: Vec<Anomaly>,
    counted: SeverityCounts,
    decision: Option<Decision>,
    /// Baseline values in capture order, per series, for multivariate (joint) detectors.
    baseline_rows: HashMap<String, Vec<f64>>,
    /// Trained isolation forests by rule index (`None`: no baseline rows for every metric).
    forests: HashMap<usize, Option<Result<crate::detect::isolation_forest::Forest, String>>>,
    /// Composite rule states (series `usize::MAX`), in evaluation order (references first).
    composites: Vec<usize>,
    /// The latest notes of series whose source gives them, by series name.
    notes: HashMap<String, SeriesNote>,
    /// Ticks the window will have, when known (see [`GatePlan::planned_ticks`]).
    planned_ticks: Option<u32>,
    /// Control readings by series name, for `baseline` rules against a control.
    controls: HashMap<String, control::ControlTrack>,
}

impl Gate {
    /// A gate over validated rules and metrics; `baselines` keyed by series (or metric) name.
    pub fn new(
        rules: Vec<Rule>,
        metrics: Vec<Metric>,
        policy: Policy,
        baselines: HashMap<String, Baseline>,
    ) -> Gate {
        let mut rules = rules;
        control::resolve_against(&mut rules, &metrics);
        alpha::plan(&mut rules, &policy, &baselines);
        Gate {
            rules,
            metrics,
            policy,
            baselines,
            series: Vec::new(),
            series_index: HashMap::new(),
            series_names: Vec::new(),
            states: Vec::new(),
            anomalies: Vec::new(),
            counted: SeverityCounts::default(),
            decision: None,
            baseline_rows: HashMap::new(),
            forests: HashMap::new(),
            composites: Vec::new(),
            notes: HashMap::new(),
            planned_ticks: None,
            controls: HashMap::new(),
        }
        .with_composites()
    }

    /// Every anomaly fired so far, in firing order.
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }

    /// How many rule-series are firing now.
    pub fn firing(&self) -> usize {
        self.states.iter().filter(|s| s.firing.is_some()).count()
    }

    /// The latest evaluation of every rule on every series it watches.
    pub fn evaluations(&self) -> Vec<Evaluation> {
        let mut out: Vec<Evaluation> = self.states.iter().filter_map(|s| s.last.clone()).collect();
        // Rules that never saw a sample still appear, so a report lists every rule.
        for rule in &self.rules {
            if !out.iter().any(|e| e.rule == rule.name) {
                out.push(Evaluation {
                    rule: rule.name.clone(),
                    series: rule.metric.clone(),
                    detector: rule.detector.name().into(),
                    kind: rule.kind.clone(),
                    severity: rule.severity,
                    status: RuleStatus::NoData,
                    fired: false,
                    observed: None,
                    expected: Expected::None,
                    statistic: String::new(),
                    score: None,
                    p_value: None,
                    reason: "no sample of this metric yet".into(),
                    dry_run: rule.dry_run,
                });
            }
        }
        out
    }

    /// What each series read at the tick `now`, by series name, in first-seen order: the
    /// sampled value itself (a `down` or `Missing` reading too), not a rule's statistic.
    pub fn readings_at(&self, now: Timestamp) -> Vec<(&str, &Reading)> {
        self.series_names
            .iter()
            .zip(&self.series)
            .filter(|(_, s)| s.latest_at == now)
            .filter_map(|(name, s)| Some((name.as_str(), s.latest.as_ref()?)))
            .collect()
    }

    fn series_slot(&mut self, sample: &Sample) -> Option<usize> {
        if let Some(&i) = self.series_index.get(&sample.series) {
            return Some(i);
        }
        let metric = self.metrics.iter().position(|m| m.name == sample.metric)?;
        let i = self.series.len();
        self.series.push(SeriesState {
            metric,
            ..Default::default()
        });
        self.series_index.insert(sample.series.clone(), i);
        self.series_names.push(sample.series.clone());
        for (r, rule) in self.rules.iter().enumerate() {
            if rule.metric == sample.metric && rule.detector.composite().is_none() {
                self.states.push(RuleState {
                    rule: r,
                    series: i,
                    streak_start: None,
                    consecutive: 0,
                    total: 0,
                    firing: None,
                    ever_fired: false,
                    last: None,
                });
            }
        }
        Some(i)
    }

    /// Replaces the notes of the series named in `notes` (call before [`Gate::tick`]).
    pub fn set_notes(&mut self, notes: impl IntoIterator<Item = (String, SeriesNote)>) {
        self.notes.extend(notes);
    }

    /// Feeds one tick. Samples of unknown metrics are ignored.
    pub fn tick(&mut self, now: Timestamp, samples: &[Sample]) -> TickReport {
        let judged = control::apply_min_volume(&self.metrics, samples);
        let samples = judged.as_deref().unwrap_or(samples);
        let mut touched = vec![false; self.series.len() + samples.len()];
        for sample in samples {
            if sample.control {
                self.record_control(now, sample);
                continue;
            }
            let Some(i) = self.series_slot(sample) else {
                continue;
            };
            let counts_missing =
                self.metrics[self.series[i].metric].on_missing == OnMissing::Inconclusive;
            // A dead control is a missing sample of the rules that compare against it.
            let no_control = self.lacks_control(samples, sample);
            self.series[i].record(now, &sample.reading, counts_missing, no_control);
            if i >= touched.len() {
                touched.resize(i + 1, false);
            }
            touched[i] = true;
        }

        let mut report = TickReport::default();
        for k in 0..self.states.len() {
            if touched.get(self.states[k].series).copied().unwrap_or(false) {
                self.step_rule(k, now, &mut report);
            }
        }
        self.step_composites(now, &mut report);

        if self.decision.is_none() {
            let input = self.policy_input(now);
            let early = || {
                decide::inconclusive_early(
                    &self.policy,
                    &self.completeness(),
                    self.planned_ticks,
                    now,
                )
            };
            if let Some(d) = decide::decide(&self.policy, &input, now).or_else(early) {
                self.decision = Some(d.clone());
                report.decision = Some(d);
            }
        }
        report
    }

    fn policy_input(&self, now: Timestamp) -> PolicyInput<'_> {
        let error_rate = self.policy.error_rate.as_ref().and_then(|er| {
            self.series
                .iter()
                .filter(|s| self.metrics[s.metric].name == er.metric)
                .filter_map(|s| s.latest.as_ref().and_then(Reading::value))
                .reduce(f64::max)
        });
        let longest_down = self
            .series
            .iter()
            .zip(&self.series_names)
            .filter(|(s, _)| matches!(s.latest, Some(Reading::Down(_))))
            .filter_map(|(s, name)| {
                s.down_since
                    .map(|t| (name.as_str(), (now - t) as f64 / 1000.0))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        PolicyInput {
            fired: self.counted,
            error_rate,
            longest_down,
        }
    }

    /// The policy this gate decides by.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Distinct anomalies fired so far that count toward the policy (dry-run rules
    /// excluded), by severity: the counters the policy compares with its limits.
    pub fn fired_counts(&self) -> SeverityCounts {
        self.counted
    }

    /// Data completeness of every metric a rule watches.
    pub fn completeness(&self) -> Vec<Completeness> {
        let mut out = Vec::new();
        for (m, metric) in self.metrics.iter().enumerate() {
            if metric.on_missing != OnMissing::Inconclusive
                || !self.rules.iter().any(|r| r.metric == metric.name)
            {
                continue;
            }
            let mut any = false;
            for (s, name) in self
                .series
                .iter()
                .zip(&self.series_names)
                .filter(|(s, _)| s.metric == m)
            {
                any = true;
                out.push(Completeness {
                    metric: name.clone(),
                    ticks: s.ticks,
                    missing: s.missing,
                    max_consecutive_missing: s.max_missing_run,
                    consecutive_limit: metric.consecutive_errors,
                });
            }
            if !any {
                out.push(Completeness {
                    metric: metric.name.clone(),
                    ticks: 0,
                    missing: 0,
                    max_consecutive_missing: 0,
                    consecutive_limit: metric.consecutive_errors,
                });
            }
        }
        out
    }

    /// Ends the window: the rollback decision if one was taken, else healthy or inconclusive.
    pub fn finish(&mut self, now: Timestamp) -> Decision {
        if let Some(d) = &self.decision {
            return d.clone();
        }
        let d = decide::conclude(&self.policy, &self.completeness(), now);
        self.decision = Some(d.clone());
        d
    }

    /// Records a decision taken outside the rules (a person's `abort`).
    pub fn force(&mut self, decision: Decision) {
        self.decision = Some(decision);
    }
}

mod alpha;
mod composite;
mod control;
mod joint;
mod plan;
mod replay;
mod rules;

pub use plan::{GatePlan, MissingBaseline};
pub use replay::{drive, judge, replay, Driven, Feed, Judged, Rows, Tick};
