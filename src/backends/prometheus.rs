//! The Prometheus backend: `source.prometheus:` (or `VZ_PROMETHEUS_URL` alone) and a PromQL
//! `query:` per metric — an instant query each tick, a range query for baselines. Anything
//! that speaks the Prometheus HTTP API works (Thanos, Mimir, VictoriaMetrics).
//!
//! The HTTP client (retries, the connection bound, error classification) is
//! [`client::PromClient`], shared with the alerting-rule metrics of `sources::prometheus`.

pub mod client;
pub mod history;

use super::{Answer, Backend, Env, Invalid, Kind, MetricInfo, Points, Range, Span};
use client::{interpret, range_step, range_values, PromClient};
use futures::future::BoxFuture;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use vz_core::spec::OnEmpty;
use vz_core::units as dur;

/// Connections one watch may hold to Prometheus when the config does not say: 200 watches
/// then hold at most 400, under Prometheus's default `--web.max-connections=512`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2;

/// More would defeat the purpose of the bound (Prometheus evaluates 20 queries at a time by
/// default, `--query.max-concurrency`; more sockets only queue there).
const MAX_CONNECTIONS_LIMIT: u64 = 64;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_RETRIES: u32 = 2;

/// `source.prometheus:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrometheus {
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    /// Queries in flight and connections kept, per watch.
    pub max_connections: Option<u64>,
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

/// The Prometheus backend.
pub struct Prometheus;

impl Kind for Prometheus {
    type Raw = RawPrometheus;
    type Settings = PrometheusConfig;
    /// The PromQL text (usually written as the metric's `query:`).
    type Query = String;
    type Client = PromClient;
    const SERIES: bool = true;

    /// `raw` with `VZ_PROMETHEUS_URL` overriding its URL; the variable alone gives a source
    /// with every default.
    fn settings(raw: Option<RawPrometheus>, env: Env) -> Result<Option<PrometheusConfig>, Invalid> {
        let env_url = env("VZ_PROMETHEUS_URL").filter(|u| !u.is_empty());
        let Some(p) = raw else {
            return Ok(env_url.map(|url| PrometheusConfig {
                url,
                headers: BTreeMap::new(),
                timeout: DEFAULT_TIMEOUT,
                retries: DEFAULT_RETRIES,
                max_connections: DEFAULT_MAX_CONNECTIONS,
            }));
        };
        let url = env_url
            .or(p.url)
            .ok_or_else(|| Invalid::new("url", "missing (or set VZ_PROMETHEUS_URL)"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Invalid::new(
                "url",
                format!("`{url}` is not an http(s) URL"),
            ));
        }
        let max_connections = match p.max_connections {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => n as usize,
            Some(n) => {
                return Err(Invalid::new(
                    "max_connections",
                    format!(
                        "{n} is not between 1 and {MAX_CONNECTIONS_LIMIT} (connections one \
                         watch may hold; every watch counts against Prometheus's \
                         --web.max-connections, 512 by default)"
                    ),
                ))
            }
        };
        Ok(Some(PrometheusConfig {
            url,
            headers: p.headers,
            timeout: p.timeout.unwrap_or(DEFAULT_TIMEOUT),
            retries: p.retries.unwrap_or(DEFAULT_RETRIES),
            max_connections,
        }))
    }

    fn validate(query: &String, settings: Option<&PrometheusConfig>) -> Result<(), Invalid> {
        if query.trim().is_empty() {
            return Err(Invalid::new("", "must not be empty"));
        }
        if settings.is_none() {
            return Err(Invalid::new(
                "",
                "a PromQL query needs source.prometheus.url (or VZ_PROMETHEUS_URL)",
            ));
        }
        Ok(())
    }

    fn connect(settings: Option<&PrometheusConfig>) -> Result<PromClient, String> {
        match settings {
            Some(s) => PromClient::new(s),
            None => Err("no source.prometheus configured".into()),
        }
    }

    fn metric(query: &String, metric: &MetricInfo, client: Arc<PromClient>) -> Box<dyn Backend> {
        Box::new(PromQuery {
            query: query.clone(),
            name: metric.name.clone(),
            per_series: metric.per_series,
            on_empty: metric.on_empty,
            client,
        })
    }

    fn describe(query: &String) -> String {
        query.clone()
    }
}

/// One metric's PromQL on the shared client.
struct PromQuery {
    query: String,
    name: String,
    per_series: bool,
    on_empty: OnEmpty,
    client: Arc<PromClient>,
}

impl Backend for PromQuery {
    fn sample(&self) -> BoxFuture<'_, Result<Answer, String>> {
        Box::pin(async move {
            let data = self
                .client
                .instant(&self.query)
                .await
                .map_err(|e| e.to_string())?;
            interpret(&self.name, self.per_series, data).map_err(|e| e.to_string())
        })
    }

    /// One range query; steps coarsened to Prometheus's 11 000 points per series.
    fn range(&self, span: Span) -> BoxFuture<'_, Result<Range, String>> {
        Box::pin(async move {
            let step = range_step(span.window, span.step);
            let end = span.end_ms.div_euclid(1000);
            let start = end - span.window.as_secs() as i64;
            let data = self
                .client
                .range(&self.query, start, end, step)
                .await
                .map_err(|e| e.to_string())?;
            let shape = (start, end, step);
            let (series, dropped) =
                range_values(&self.name, self.per_series, self.on_empty, data, shape)
                    .map_err(|e| e.to_string())?;
            Ok(Range { series, dropped })
        })
    }

    /// Range queries of at most 11 000 points each, one after the other; with `on_empty:
    /// zero` a step no series has a point at is 0 (no 5xx series means 0 %).
    fn history(&self, span: Span) -> BoxFuture<'_, Result<Points, String>> {
        Box::pin(async move {
            let points =
                history::read(&self.client, &self.query, &self.name, self.per_series, span)
                    .await?;
            Ok(points.zero_filled(&span, &self.name, self.on_empty))
        })
    }

    fn timeout(&self) -> Duration {
        self.client.timeout()
    }

    fn max_connections(&self) -> usize {
        self.client.max_connections()
    }
}
