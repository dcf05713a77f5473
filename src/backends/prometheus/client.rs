//! The Prometheus HTTP client: one PromQL instant query per metric per tick, and range
//! queries for baselines. Anything that speaks the Prometheus HTTP API works (Thanos, Mimir,
//! VictoriaMetrics).
//!
//! Every way a query can fail — empty vector, several series where one was expected, NaN,
//! a PromQL error, HTTP 5xx, a timeout, a refused connection — becomes a missing reading
//! with a one-line reason, never a zero and never a crash. What "empty" means is the
//! metric's choice (`on_empty: missing | zero`).

use super::PrometheusConfig;
use crate::redact::{redact, redact_url, url_with_credentials};
use prometheus_http_query::response::Data;
use prometheus_http_query::Error as PromError;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use vz_core::spec::OnEmpty;

pub use crate::backends::Answer;

/// A kept-alive connection idle this long is closed: the queries of one tick reuse the
/// watch's few connections, and between ticks the watch holds none, so Prometheus's
/// `--web.max-connections` (512 by default) counts only the queries in flight across a fleet.
const IDLE_TIMEOUT: Duration = Duration::from_millis(250);

/// First pause before a retry; doubled after each failed attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Prometheus refuses range queries of more points than this per series.
pub const MAX_RANGE_POINTS: f64 = 11_000.0;

/// A connection to one Prometheus server, shared by every query metric of a config.
pub struct PromClient {
    /// The library client; crate-visible so the alert metrics (`sources::prometheus`) can
    /// build queries it has no method for (an instant query `at` a time) inside
    /// [`PromClient::with_retries`].
    pub(crate) client: prometheus_http_query::Client,
    url: String,
    timeout: Duration,
    retries: u32,
    /// `source.prometheus.max_connections` permits: every attempt of every query holds one,
    /// so a watch never has more requests (hence connections) open than that.
    in_flight: Semaphore,
    max_connections: usize,
    /// The URL and header values: redacted, in any encoding, from every error message (a
    /// server may echo the `Authorization` header back in its error body).
    secrets: Vec<String>,
}

/// Why a query gave no usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    /// The server could not be reached (refused, reset, DNS, TLS).
    Unreachable(String),
    /// No complete answer within the timeout.
    Timeout(Duration),
    /// An HTTP error status without a Prometheus error body (a proxy's 502, an auth 401).
    Http(String),
    /// Prometheus answered with an error: `kind` is its `errorType` (`bad_data` for a
    /// PromQL syntax error, `execution`, `timeout`, `unavailable`, …).
    Prometheus { kind: String, message: String },
    /// The answer could not be read, or has a shape this metric cannot use.
    Result(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Unreachable(m) => write!(f, "cannot reach Prometheus: {m}"),
            QueryError::Timeout(d) => write!(
                f,
                "no answer from Prometheus within {}",
                humantime::format_duration(*d)
            ),
            QueryError::Http(m) => write!(f, "Prometheus answered {m}"),
            QueryError::Prometheus { kind, message } => {
                write!(f, "Prometheus rejected the query ({kind}): {message}")
            }
            QueryError::Result(m) => f.write_str(m),
        }
    }
}

impl QueryError {
    /// Whether trying again may help: the server was unreachable, overloaded or restarting.
    /// A PromQL error or a bad result shape will not change on a retry.
    fn retryable(&self) -> bool {
        match self {
            QueryError::Unreachable(_) => true,
            QueryError::Http(m) => m.starts_with("HTTP 5") || m.starts_with("HTTP 429"),
            QueryError::Prometheus { kind, .. } => kind == "unavailable" || kind == "internal",
            QueryError::Timeout(_) | QueryError::Result(_) => false,
        }
    }
}

impl PromClient {
    /// A client for `source.prometheus`; fails on a header that is not valid HTTP.
    pub fn new(cfg: &PrometheusConfig) -> Result<PromClient, String> {
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("source.prometheus.headers: `{k}` is not a header name"))?;
            let mut value = HeaderValue::from_str(v).map_err(|_| {
                format!("source.prometheus.headers.{k}: value is not a valid header value")
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(cfg.timeout)
            .pool_max_idle_per_host(cfg.max_connections)
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let client = prometheus_http_query::Client::from(http, &cfg.url)
            .map_err(|e| format!("source.prometheus.url `{}`: {e}", redact_url(&cfg.url)))?;
        Ok(PromClient {
            client,
            url: redact_url(&cfg.url),
            timeout: cfg.timeout,
            retries: cfg.retries,
            in_flight: Semaphore::new(cfg.max_connections.max(1)),
            max_connections: cfg.max_connections.max(1),
            secrets: url_with_credentials(&cfg.url)
                .into_iter()
                .chain(cfg.headers.values().cloned())
                .collect(),
        })
    }

    /// `e` with every secret of this source masked.
    fn redacted(&self, e: QueryError) -> QueryError {
        let r = |m: String| redact(&m, &self.secrets);
        match e {
            QueryError::Unreachable(m) => QueryError::Unreachable(r(m)),
            QueryError::Http(m) => QueryError::Http(r(m)),
            QueryError::Prometheus { kind, message } => QueryError::Prometheus {
                kind: r(kind),
                message: r(message),
            },
            QueryError::Result(m) => QueryError::Result(r(m)),
            t @ QueryError::Timeout(_) => t,
        }
    }

    /// The server's base URL (credentials masked), for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Upper bound on one query, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Queries in flight at most (`source.prometheus.max_connections`).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// An instant query evaluated now.
    pub async fn instant(&self, query: &str) -> Result<Data, QueryError> {
        self.with_retries(|left| {
            self.client
                .query(query)
                .timeout(left.as_millis() as i64)
                .get()
        })
        .await
    }

    /// A range query over `[start, end]` (Unix seconds) every `step`.
    pub async fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: Duration,
    ) -> Result<Data, QueryError> {
        self.with_retries(|left| {
            self.client
                .query_range(query, start, end, step.as_secs_f64())
                .timeout(left.as_millis() as i64)
                .get()
        })
        .await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the timeout is spent. Retries
    /// (`source.prometheus.retries`) back off 100 ms, 200 ms, 400 ms … within the same
    /// deadline, so a tick never waits longer than `timeout` for one metric.
    pub(crate) async fn with_retries<F, Fut>(&self, attempt: F) -> Result<Data, QueryError>
    where
        F: Fn(Duration) -> Fut,
        Fut: std::future::Future<
            Output = Result<prometheus_http_query::response::PromqlResult, PromError>,
        >,
    {
        let deadline = Instant::now() + self.timeout;
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            tries += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let result = tokio::time::timeout(left, async {
                let _permit = self.in_flight.acquire().await;
                attempt(left).await
            })
            .await;
            let err = match result {
                Ok(Ok(r)) => return Ok(r.into_inner().0),
                Ok(Err(e)) => self.redacted(classify(e)),
                Err(_) => return Err(QueryError::Timeout(self.timeout)),
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if tries > self.retries || !err.retryable() || left <= backoff {
                return Err(err);
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
}

/// Turns the client library's error into one honest sentence.
fn classify(e: PromError) -> QueryError {
    match e {
        PromError::Prometheus(p) => QueryError::Prometheus {
            kind: p.error_type().to_string(),
            message: p.message().to_string(),
        },
        PromError::Client(c) => match c.inner() {
            Some(r) if r.is_timeout() || r.is_connect() || r.is_request() => {
                QueryError::Unreachable(root_cause(r))
            }
            Some(r) if r.status().is_some() => {
                let s = r.status().unwrap_or_default();
                QueryError::Http(format!("HTTP {s} (not a Prometheus API answer)"))
            }
            Some(r) => QueryError::Result(format!("{c}: {}", root_cause(r))),
            None => QueryError::Result(c.to_string()),
        },
        other => QueryError::Result(other.to_string()),
    }
}

/// The innermost error message (e.g. "Connection refused (os error 111)"), which says more
/// than reqwest's "error sending request for url (…)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The series name of a result row: `metric{a="x",b="y"}`, labels sorted, `__name__` dropped.
pub fn series_name(metric: &str, labels: &HashMap<String, String>) -> String {
    crate::backends::series_name(metric, labels)
}

/// Reads an instant query's result for `metric`: a vector or a scalar. Several series are an
/// error unless the metric is `per_series`.
pub fn interpret(metric: &str, per_series: bool, data: Data) -> Result<Answer, QueryError> {
    match data {
        Data::Scalar(s) => Ok(Answer::Values(vec![(metric.to_string(), s.value())])),
        Data::Vector(v) if v.is_empty() => Ok(Answer::Empty),
        Data::Vector(v) if v.len() > 1 && !per_series => {
            let mut names: Vec<String> = v.iter().map(|s| series_name("", s.metric())).collect();
            names.sort();
            let shown = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let more = if names.len() > 3 { ", …" } else { "" };
            Err(QueryError::Result(format!(
                "query returned {} series where one was expected ({shown}{more}); aggregate it \
                 (sum, max, …) or set per_series: true",
                names.len()
            )))
        }
        Data::Vector(v) => Ok(Answer::Values(
            v.into_iter()
                .map(|s| {
                    let name = if per_series {
                        series_name(metric, s.metric())
                    } else {
                        metric.to_string()
                    };
                    (name, s.sample().value())
                })
                .collect(),
        )),
        Data::Matrix(_) => Err(QueryError::Result(
            "query returns a range vector (`x[5m]`); wrap it in a function such as rate() or \
             avg_over_time()"
                .into(),
        )),
    }
}

/// The step of a range query: `step`, or coarser when `window / step` passes Prometheus's
/// limit of 11 000 points per series.
pub fn range_step(window: Duration, step: Duration) -> Duration {
    let step = step.max(Duration::from_secs(1));
    let min = Duration::from_secs_f64((window.as_secs_f64() / MAX_RANGE_POINTS).ceil());
    step.max(min)
}

/// Reads a range query's matrix into per-series value lists (the Prometheus backend's `range`).
pub fn range_values(
    metric: &str,
    per_series: bool,
    on_empty: OnEmpty,
    data: Data,
    (start, end, step): (i64, i64, Duration),
) -> Result<(BTreeMap<String, Vec<f64>>, usize), QueryError> {
    let rows = match data {
        Data::Matrix(m) => m,
        Data::Scalar(_) | Data::Vector(_) => {
            return Err(QueryError::Result(
                "range query did not return a matrix".into(),
            ))
        }
    };
    if rows.len() > 1 && !per_series {
        return Err(QueryError::Result(format!(
            "query returned {} series where one was expected; aggregate it (sum, max, …) or \
             set per_series: true",
            rows.len()
        )));
    }
    let step_s = step.as_secs_f64();
    let steps = ((end - start) as f64 / step_s).floor() as usize + 1;
    let mut out = BTreeMap::new();
    let mut dropped = 0;
    if rows.is_empty() && on_empty == OnEmpty::Zero {
        out.insert(metric.to_string(), vec![0.0; steps]);
    }
    for row in rows {
        let name = if per_series {
            series_name(metric, row.metric())
        } else {
            metric.to_string()
        };
        let mut values = match on_empty {
            OnEmpty::Zero => vec![Some(0.0); steps],
            OnEmpty::Missing => vec![None; steps],
        };
        for p in row.samples() {
            let i = ((p.timestamp() - start as f64) / step_s).round();
            if i >= 0.0 && (i as usize) < steps {
                values[i as usize] = Some(p.value());
            }
        }
        let finite: Vec<f64> = values
            .into_iter()
            .flatten()
            .filter(|v| {
                let ok = v.is_finite();
                dropped += usize::from(!ok);
                ok
            })
            .collect();
        out.insert(name, finite);
    }
    Ok((out, dropped))
}
