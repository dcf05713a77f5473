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
use prometheus_http_query::response::{Data, PromqlResult};
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

/// The largest answer read: a range of 11,000 points for a few hundred series fits; a body
/// that never ends (a broken proxy, a hostile server) stops here instead of filling memory
/// (issue 24: 2.9 GB in 8 s before).
pub const MAX_BODY: usize = 64 << 20;

/// A connection to one Prometheus server, shared by every query metric of a config.
pub struct PromClient {
    /// The library client: it builds the requests; [`read`] reads the answers, bounded.
    client: prometheus_http_query::Client,
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
    /// The server could not be reached (refused, reset, DNS, TLS): `URL: why`.
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
            QueryError::Unreachable(m) => write!(f, "cannot reach Prometheus at {m}"),
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
        self.instant_at(query, None).await
    }

    /// An instant query evaluated at `at` (Unix seconds), or now.
    pub async fn instant_at(&self, query: &str, at: Option<i64>) -> Result<Data, QueryError> {
        self.with_retries(|left| {
            let q = self.client.query(query).timeout(left.as_millis() as i64);
            let q = match at {
                Some(t) => q.at(t),
                None => q,
            };
            async move { read(q.get_raw().await).await }
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
            let q = self
                .client
                .query_range(query, start, end, step.as_secs_f64())
                .timeout(left.as_millis() as i64);
            async move { read(q.get_raw().await).await }
        })
        .await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the timeout is spent. Retries
    /// (`source.prometheus.retries`) back off 100 ms, 200 ms, 400 ms … within the same
    /// deadline, so a tick never waits longer than `timeout` for one metric.
    async fn with_retries<F, Fut>(&self, attempt: F) -> Result<Data, QueryError>
    where
        F: Fn(Duration) -> Fut,
        Fut: std::future::Future<Output = Result<Data, QueryError>>,
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
                Ok(Ok(data)) => return Ok(data),
                // Which server, after redaction (the URL is a secret to mask in bodies, and
                // `url` is already masked): "connection refused" alone did not say (25.7).
                Ok(Err(e)) => match self.redacted(e) {
                    QueryError::Unreachable(m) => {
                        QueryError::Unreachable(format!("{}: {m}", self.url))
                    }
                    other => other,
                },
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

/// What Prometheus's API answers: the library's result types inside its status envelope.
#[derive(serde::Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Envelope {
    Success {
        data: PromqlResult,
    },
    Error {
        #[serde(rename = "errorType")]
        error_type: String,
        error: String,
    },
}

/// Reads one answer, at most [`MAX_BODY`] bytes of it, and turns it into data or one honest
/// sentence. The library's own reader has no bound, so only its request building is used.
async fn read(sent: Result<reqwest::Response, PromError>) -> Result<Data, QueryError> {
    let mut resp = match sent {
        Ok(r) => r,
        Err(PromError::Client(c)) => {
            return Err(match c.inner() {
                Some(r) => QueryError::Unreachable(root_cause(r)),
                None => QueryError::Unreachable(c.to_string()),
            })
        }
        Err(other) => return Err(QueryError::Result(other.to_string())),
    };
    let status = resp.status();
    let json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(QueryError::Result(format!(
                        "the answer is larger than {} MiB: narrow the query (fewer series, a \
                         shorter range or a longer step)",
                        MAX_BODY >> 20
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(QueryError::Unreachable(root_cause(&e))),
        }
    }
    let not_api = || QueryError::Http(format!("HTTP {status} (not a Prometheus API answer)"));
    if !json {
        return Err(if status.is_success() {
            QueryError::Result(
                "failed to parse response from server due to invalid media type".into(),
            )
        } else {
            not_api()
        });
    }
    match serde_json::from_slice::<Envelope>(&body) {
        Ok(Envelope::Success { data }) => Ok(data.into_inner().0),
        Ok(Envelope::Error { error_type, error }) => Err(QueryError::Prometheus {
            kind: error_type,
            message: error,
        }),
        Err(_) if !status.is_success() => Err(not_api()),
        Err(e) => Err(QueryError::Result(format!(
            "failed to parse JSON response from server: {e}"
        ))),
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
