//! What each metric is read from, validated: the sources' own config types (config reads
//! and checks them, and never imports the running sources).

use super::ProbeSpec;
use std::collections::BTreeMap;
use std::time::Duration;
use vz_core::spec::{OnEmpty, OnMissing};

/// Where a metric's samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    /// A PromQL instant query giving one number (or one per series with `per_series`).
    Query(String),
    /// A local probe.
    Probe(ProbeSpec),
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

/// `source.prometheus:` validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusConfig {
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub timeout: Duration,
    pub retries: u32,
    /// At most this many queries in flight, and connections open, per watch.
    pub max_connections: usize,
}
