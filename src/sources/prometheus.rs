//! Prometheus metrics as sources: the alerting-rule metrics (`alerts.rs`, `alerting/`) and
//! the query metric they run on. The HTTP client and the reading of its answers live in the
//! Prometheus backend ([`crate::backends::prometheus::client`]), re-exported here.

pub mod alerting;
pub mod alerts;
mod query;

pub use crate::backends::prometheus::client::{
    interpret, range_step, range_values, series_name, Answer, PromClient, QueryError,
};
pub use crate::backends::prometheus::PrometheusConfig;
pub use query::QueryMetric;

#[cfg(test)]
use prometheus_http_query::response::Data;
#[cfg(test)]
use std::collections::{BTreeMap, HashMap};
#[cfg(test)]
use std::time::Duration;
#[cfg(test)]
use vz_core::spec::OnEmpty;

#[cfg(test)]
mod tests;
