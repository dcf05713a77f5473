//! What each metric is read from, validated: the sources' own config types (config reads
//! and checks them, and never imports the running sources).

use super::ProbeSpec;
pub use crate::backends::prometheus::PrometheusConfig;
use crate::backends::{BackendQuery, MetricInfo};
use vz_core::spec::{OnEmpty, OnMissing};

/// Where a metric's samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    /// A PromQL instant query giving one number (or one per series with `per_series`).
    Query(String),
    /// A local probe.
    Probe(ProbeSpec),
    /// A query on another backend (`backend: { web: … }`).
    Backend(BackendQuery),
}

/// One watched metric.
#[derive(Debug, Clone)]
pub struct Metric {
    pub name: String,
    pub source: MetricSource,
    /// The stable version of the metric, sampled over the same ticks during `watch`.
    pub control: Option<MetricSource>,
    /// The request volume a tick needs for this metric's reading to count.
    pub min_volume: Option<vz_core::spec::MinVolume>,
    pub on_missing: OnMissing,
    pub on_empty: OnEmpty,
    /// After this many missing samples in a row the metric is inconclusive (as Argo Rollouts).
    pub consecutive_errors: u32,
    pub per_series: bool,
    /// The Prometheus alert this metric runs (its series are the alert's label sets).
    pub alert: Option<std::sync::Arc<super::prometheus::alerting::alert::AlertSpec>>,
}

impl Metric {
    /// What its backend query needs to know of the metric.
    pub fn info(&self) -> MetricInfo {
        MetricInfo {
            name: self.name.clone(),
            per_series: self.per_series,
            on_empty: self.on_empty,
        }
    }

    /// The unit of its values, for chart axes: the probe's, else what its name says
    /// (`p95_latency_ms`); None when neither says.
    pub fn unit(&self) -> Option<&'static str> {
        match &self.source {
            MetricSource::Probe(p) => p.probe().unit(),
            _ => None,
        }
        .or_else(|| vz_core::units::unit_of_name(&self.name))
    }
}

impl MetricSource {
    /// The backend query behind this source: a PromQL `query:` is Prometheus's; None for a
    /// probe.
    pub fn backend(&self) -> Option<BackendQuery> {
        match self {
            MetricSource::Query(q) => Some(BackendQuery::Prometheus(Box::new(q.clone()))),
            MetricSource::Backend(b) => Some(b.clone()),
            MetricSource::Probe(_) => None,
        }
    }

    /// What is asked, in one line with no secret: the query, or `probe`.
    pub fn describe(&self) -> String {
        match self.backend() {
            Some(b) => b.describe(),
            None => "probe".into(),
        }
    }
}
