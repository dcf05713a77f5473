//! The CloudWatch backend: `source.cloudwatch:` (region, `endpoint_url`) with credentials
//! from the usual AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`), and one metric (namespace, name,
//! dimensions, statistic, period) per vz-monitor metric: GetMetricData over the lookback for
//! a tick (the newest datapoint), over the window for a baseline, signed with SigV4.
//! Series are dimension sets: with `per_series`, a dimension written `"*"` matches every
//! value (found with ListMetrics), and each set is named `metric{Dim="…"}`.

pub mod api;
mod history;
pub mod sigv4;
mod client;
mod settings;

use super::fetch::{self, Fetcher};
use super::{series_name, Answer, Backend, MetricInfo, Points, Range, Span};
use api::MetricId;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use vz_core::units as dur;

/// CloudWatch's standard resolution: one point a minute.
const DEFAULT_PERIOD: Duration = Duration::from_secs(60);
/// Datapoints arrive a minute or more late: a tick looks five minutes back by default.
const DEFAULT_LOOKBACK: Duration = Duration::from_secs(300);
/// The dimension value that matches any value (with `per_series`).
const ANY: &str = "*";

/// `source.cloudwatch:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudWatch {
    /// Else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// Else `https://monitoring.<region>.amazonaws.com` (a local or private endpoint here).
    pub endpoint_url: Option<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    /// Requests in flight and connections kept, per watch.
    pub max_connections: Option<u64>,
    /// How far back a tick looks for the newest datapoint (default 5m).
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
}

/// `source.cloudwatch:` validated, with the credentials read from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchConfig {
    pub region: String,
    pub endpoint: String,
    /// None when the environment has none: every query then says so.
    pub credentials: Option<sigv4::Credentials>,
    pub http: fetch::Http,
    pub lookback: Duration,
}

/// `metrics.<m>.backend.cloudwatch:`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchQuery {
    pub namespace: String,
    /// The metric's name (`MetricName`).
    pub metric: String,
    /// Dimension name → value; `"*"` (with `per_series`) matches every value.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// `Average` (default), `Sum`, `Minimum`, `Maximum`, `SampleCount`, or `pNN`/`pNN.N`.
    #[serde(default = "default_stat")]
    pub stat: String,
    /// Seconds per datapoint (default 60s; 1, 5, 10, 30 or a multiple of 60).
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub period: Option<Duration>,
    /// Overrides `source.cloudwatch.lookback`.
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
}

fn default_stat() -> String {
    "Average".into()
}

/// The CloudWatch backend.
pub struct CloudWatch;

/// The shared client: one HTTP pool, the endpoint and the signing key.
pub struct CloudWatchClient {
    config: CloudWatchConfig,
    credentials: sigv4::Credentials,
    /// `host[:port]` as the request carries it (it is signed).
    host: String,
    fetcher: Fetcher,
}


/// One metric's CloudWatch metric (or dimension sets) on the shared client.
struct CloudWatchMetric {
    query: CloudWatchQuery,
    info: MetricInfo,
    client: Arc<CloudWatchClient>,
}

impl CloudWatchMetric {
    /// The CloudWatch metrics this metric reads: the one written, or (with `per_series`)
    /// every dimension set that matches.
    async fn metrics(&self) -> Result<Vec<MetricId>, String> {
        if self.info.per_series {
            return self.client.list(&self.query).await;
        }
        if let Some((k, _)) = self.query.dimensions.iter().find(|(_, v)| *v == ANY) {
            return Err(format!(
                "dimension {k}: \"*\" matches every value: set per_series: true (or name one value)"
            ));
        }
        Ok(vec![MetricId {
            namespace: self.query.namespace.clone(),
            metric_name: self.query.metric.clone(),
            dimensions: self.query.dimensions.clone(),
        }])
    }

    /// [`CloudWatchMetric::metrics`], counting the ListMetrics calls it takes in `calls`.
    async fn metrics_counted(&self, calls: &mut usize) -> Result<Vec<MetricId>, String> {
        if self.info.per_series {
            return self.client.list_counted(&self.query, calls).await;
        }
        self.metrics().await
    }

    fn name(&self, m: &MetricId) -> String {
        if self.info.per_series {
            series_name(&self.info.name, &m.dimensions)
        } else {
            self.info.name.clone()
        }
    }
}

impl Backend for CloudWatchMetric {
    /// The newest datapoint within the lookback, per dimension set. No datapoint at all is
    /// an empty answer (`on_empty` decides); a `per_series` set without one is absent.
    fn sample(&self) -> BoxFuture<'_, Result<Answer, String>> {
        Box::pin(async move {
            let metrics = self.metrics().await?;
            if metrics.is_empty() {
                return Ok(Answer::Empty);
            }
            let now = chrono::Utc::now().timestamp();
            let lookback = self.query.lookback.unwrap_or(self.client.config.lookback);
            let span = (now - lookback.as_secs() as i64, now + 1);
            let results = self.client.data(&metrics, &self.query, span, &mut 0).await?;
            let values: Vec<(String, f64)> = metrics
                .iter()
                .zip(&results)
                .filter_map(|(m, r)| r.latest().map(|(_, v)| (self.name(m), v)))
                .collect();
            if values.is_empty() {
                return Ok(Answer::Empty);
            }
            Ok(Answer::Values(values))
        })
    }

    /// Every datapoint of the window at the metric's period, oldest first, per set.
    fn range(&self, span: Span) -> BoxFuture<'_, Result<Range, String>> {
        Box::pin(async move {
            let metrics = self.metrics().await?;
            let end = span.end_ms.div_euclid(1000);
            let start = end - span.window.as_secs() as i64;
            let results = self
                .client
                .data(&metrics, &self.query, (start, end + 1), &mut 0)
                .await?;
            let mut out = Range::default();
            for (m, r) in metrics.iter().zip(results) {
                let mut points = r.points;
                points.sort_by_key(|(t, _)| *t);
                let values = points.into_iter().map(|(_, v)| v);
                out.series.entry(self.name(m)).or_default().extend(values);
            }
            Ok(out)
        })
    }

    /// GetMetricData at the metric's period, every call within 100 800 datapoints (see
    /// [`history`]).
    fn history(&self, span: Span) -> BoxFuture<'_, Result<Points, String>> {
        Box::pin(history::read(self, span))
    }

    fn timeout(&self) -> Duration {
        self.client.fetcher.timeout()
    }

    fn max_connections(&self) -> usize {
        self.client.fetcher.max_connections()
    }

    fn empty_reason(&self) -> String {
        let lookback = self.query.lookback.unwrap_or(self.client.config.lookback);
        format!(
            "CloudWatch has no datapoint of {}/{} in the last {} (check namespace, metric \
             and dimensions; set on_empty: zero if no data means 0)",
            self.client.fetcher.clean(&self.query.namespace),
            self.client.fetcher.clean(&self.query.metric),
            humantime::format_duration(lookback)
        )
    }
}
