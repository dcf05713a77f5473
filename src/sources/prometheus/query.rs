//! One `query` metric: its PromQL asked every tick through the shared client, as a [`Source`].

use super::{interpret, range_step, range_values, Answer, PromClient, QueryError};
use crate::model::{fmt_num, Reading, Sample};
use crate::sources::MissingLog;
use crate::sources::Source;
use crate::sources::{Metric, MetricSource};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vz_core::spec::OnEmpty;

/// A value as a reading: NaN and ±Inf are missing, with the reason.
fn reading_of(v: f64) -> Reading {
    if v.is_finite() {
        Reading::Value(v)
    } else {
        Reading::Missing(format!(
            "query returned {} (e.g. a division by zero with no traffic)",
            fmt_num(v)
        ))
    }
}

/// One query metric: its PromQL, what empty means, and which series it has shown so far.
pub struct QueryMetric {
    name: String,
    query: String,
    on_empty: OnEmpty,
    per_series: bool,
    client: Arc<PromClient>,
    /// Series seen so far (per-series metrics): an error or an empty answer makes each of
    /// them missing (or zero), so a failing source never silently shrinks the watch.
    known: Mutex<BTreeSet<String>>,
    /// Missing samples logged when they start or change reason, and when data returns.
    logged: MissingLog,
    /// Set when the metric runs a Prometheus alert.
    alert: Option<super::alerts::AlertState>,
}

impl QueryMetric {
    /// The query metric for `metric`, or None for a probe.
    pub fn new(metric: &Metric, client: Arc<PromClient>) -> Option<QueryMetric> {
        let MetricSource::Query(q) = &metric.source else {
            return None;
        };
        Some(QueryMetric {
            name: metric.name.clone(),
            query: q.clone(),
            on_empty: metric.on_empty,
            per_series: metric.per_series,
            client,
            known: Mutex::new(BTreeSet::new()),
            logged: MissingLog::default(),
            alert: metric.alert.clone().map(super::alerts::AlertState::new),
        })
    }

    /// The PromQL text.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Runs the instant query once and reads its shape (used by `check --online` as is).
    pub async fn ask(&self) -> Result<Answer, QueryError> {
        let data = self.client.instant(&self.query).await?;
        interpret(&self.name, self.per_series, data)
    }

    /// One tick: a sample per series (one for a plain metric), each a value or a missing
    /// reading with its reason. Missing readings are logged to stderr when they start or
    /// change, and the recovery when they end.
    pub async fn read(&self) -> Vec<Sample> {
        if let Some(alert) = &self.alert {
            let samples = alert.sample(&self.name, &self.client, &self.known).await;
            self.logged.log(&samples);
            return samples;
        }
        let answer = self.ask().await;
        let samples = self.samples_of(answer);
        self.logged.log(&samples);
        samples
    }

    pub(super) fn samples_of(&self, answer: Result<Answer, QueryError>) -> Vec<Sample> {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let sample = |series: &str, reading: Reading| Sample {
            metric: self.name.clone(),
            series: series.to_string(),
            reading,
            control: false,
        };
        let empty = || match self.on_empty {
            OnEmpty::Zero => Reading::Value(0.0),
            OnEmpty::Missing => Reading::Missing(
                "empty result: the query matched no series (set on_empty: zero if that means 0)"
                    .into(),
            ),
        };
        let everyone = |known: &BTreeSet<String>| -> Vec<String> {
            if known.is_empty() || !self.per_series {
                vec![self.name.clone()]
            } else {
                known.iter().cloned().collect()
            }
        };
        match answer {
            Err(e) => everyone(&known)
                .iter()
                .map(|s| sample(s, Reading::Missing(e.to_string())))
                .collect(),
            Ok(Answer::Empty) => everyone(&known)
                .iter()
                .map(|s| sample(s, empty()))
                .collect(),
            Ok(Answer::Values(values)) => {
                let mut out: Vec<Sample> = values
                    .iter()
                    .map(|(s, v)| sample(s, reading_of(*v)))
                    .collect();
                if self.per_series {
                    let present: BTreeSet<&String> = values.iter().map(|(s, _)| s).collect();
                    for gone in known.iter().filter(|s| !present.contains(s)) {
                        let reading = match self.on_empty {
                            OnEmpty::Zero => Reading::Value(0.0),
                            OnEmpty::Missing => {
                                Reading::Missing("series absent from this result".into())
                            }
                        };
                        out.push(sample(gone, reading));
                    }
                    known.extend(values.into_iter().map(|(s, _)| s));
                }
                out
            }
        }
    }

    /// The values over `[end − window, end]` every `step` (Unix ms `end`), keyed by series.
    /// Steps without a point are skipped, or count as 0 with `on_empty: zero`. NaN/Inf points
    /// are dropped and counted in the second element.
    pub async fn range(
        &self,
        end_ms: i64,
        window: Duration,
        step: Duration,
    ) -> Result<(BTreeMap<String, Vec<f64>>, usize), QueryError> {
        let step = range_step(window, step);
        let end = end_ms.div_euclid(1000);
        let start = end - window.as_secs() as i64;
        let data = self.client.range(&self.query, start, end, step).await?;
        range_values(
            &self.name,
            self.per_series,
            self.on_empty,
            data,
            (start, end, step),
        )
    }
}

impl Source for QueryMetric {
    /// `metric` is this query's own metric: the series are named from it at construction.
    fn sample<'a>(&'a self, _metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        Box::pin(self.read())
    }

    /// Upper bound on one sample: the client's timeout.
    fn timeout(&self) -> Duration {
        self.client.timeout()
    }

    /// An alert's series of the latest tick: value, rendered summary, labels.
    fn notes(&self) -> Vec<(String, crate::gate::SeriesNote)> {
        self.alert.as_ref().map(|a| a.notes()).unwrap_or_default()
    }
}
