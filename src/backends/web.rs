//! The `web` backend: any HTTP endpoint that answers JSON (Argo Rollouts' `web` provider,
//! plus what its users still ask for). Each metric names a URL, a method, headers, a body
//! and a JSONPath (RFC 9535) selecting one or many values, reduced to one number.
//!
//! ```yaml
//! metrics:
//!   error_rate:
//!     backend:
//!       web:
//!         url: "https://metrics.example.com/api/v1/query?query=errors&time={{now}}"
//!         headers: { X-Api-Key: "${API_KEY}" }         # values never printed
//!         json_path: "$.data.result[*].value[1]"
//!         reduce: max                                   # last, mean, min, max, sum, count
//!         auth: { oauth2: { token_url: …, client_id: …, client_secret: "${SECRET}" } }
//!         ca_file: ca.pem                               # client_cert/client_key: mTLS
//!         range:                                        # baselines: one request per window
//!           url: "…/query_range?query=errors&start={{start}}&end={{end}}&step={{step}}"
//!           json_path: "$.data.result[0].values[*][1]"
//! ```
//!
//! A non-2xx answer is an error; a selection that holds no number (nothing, `null`, a
//! string, an object) is missing data, never a pass. Among several selected values a `null`
//! is a gap and is skipped by `mean`/`min`/`max`/`sum`/`count`; for `last` a trailing null
//! is missing data (never the point before it). Without `range:`, `baseline` takes
//! `--samples` readings `--interval` apart, as for a probe. Placeholders in `url` and
//! `body`: `{{now}}`, `{{now_ms}}`, `{{start}}`, `{{start_ms}}` (now − `lookback`); in
//! `range:` `{{start}}`, `{{end}}`, `{{start_ms}}`, `{{end_ms}}`, `{{step}}` (seconds).

mod client;
mod select;
mod spec;

use super::grid::stretch;
use super::{Answer, Backend, Env, Invalid, Kind, MetricInfo, Points, Range, Span};
use crate::redact::redact;
use client::{Tls, WebClient};
use futures::future::BoxFuture;
use select::Selected;
use serde_json::Value;
use serde_json_path::JsonPath;
pub(crate) use spec::shown_url;
use spec::{fill, method_of, secrets_of};
pub use spec::{Auth, Basic, OAuth2, RawWeb, WebQuery, WebRange, WebSettings};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use vz_core::spec::OnEmpty;

/// Requests in flight at most, over every `web` metric of a run, when `source.web` does not say.
const DEFAULT_MAX_CONNECTIONS: usize = 4;
const MAX_CONNECTIONS_LIMIT: u64 = 64;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_LOOKBACK: Duration = Duration::from_secs(60);
/// An answer larger than this is refused: a JSON metric is small, and memory stays bounded.
const MAX_BODY: usize = 16 << 20;
/// A history is asked in requests of at most this many steps each (Prometheus-like APIs
/// refuse more than 11 000 points per series).
const HISTORY_STEPS: usize = 10_000;

/// The `web` backend.
pub struct Web;

impl Kind for Web {
    type Raw = RawWeb;
    type Settings = WebSettings;
    type Query = WebQuery;
    type Client = WebClient;
    const SERIES: bool = false;

    fn settings(raw: Option<RawWeb>, _env: Env) -> Result<Option<WebSettings>, Invalid> {
        let max_connections = match raw.and_then(|r| r.max_connections) {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => n as usize,
            Some(n) => {
                return Err(Invalid::new(
                    "max_connections",
                    format!("{n} is not between 1 and {MAX_CONNECTIONS_LIMIT}"),
                ))
            }
        };
        Ok(Some(WebSettings { max_connections }))
    }

    fn validate(q: &WebQuery, _settings: Option<&WebSettings>) -> Result<(), Invalid> {
        spec::validate(q)
    }

    fn connect(settings: Option<&WebSettings>) -> Result<WebClient, String> {
        let max = settings.map_or(DEFAULT_MAX_CONNECTIONS, |s| s.max_connections);
        Ok(WebClient::new(max))
    }

    fn metric(q: &WebQuery, metric: &MetricInfo, client: Arc<WebClient>) -> Box<dyn Backend> {
        Box::new(WebMetric {
            // Validated when the config loaded.
            path: select::parse(&q.json_path).ok(),
            range_path: q
                .range
                .as_ref()
                .and_then(|r| select::parse(&r.json_path).ok()),
            time_path: q
                .range
                .as_ref()
                .and_then(|r| select::parse(r.time_path.as_deref()?).ok()),
            secrets: secrets_of(q),
            query: q.clone(),
            name: metric.name.clone(),
            on_empty: metric.on_empty,
            client,
        })
    }

    fn can_range(q: &WebQuery) -> bool {
        q.range.is_some()
    }

    fn describe(q: &WebQuery) -> String {
        let method = q.method.as_deref().unwrap_or("GET").to_uppercase();
        format!("{method} {} → {}", shown_url(&q.url), q.json_path)
    }
}

/// The innermost error message ("Connection refused (os error 111)", "invalid peer
/// certificate: UnknownIssuer"), which says more than "error sending request".
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// One request as sent: method, URL and body with placeholders filled.
struct Request {
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
}

/// One `web` metric.
struct WebMetric {
    query: WebQuery,
    path: Option<JsonPath>,
    range_path: Option<JsonPath>,
    time_path: Option<JsonPath>,
    secrets: Vec<String>,
    /// The metric's name: its one series.
    name: String,
    on_empty: OnEmpty,
    client: Arc<WebClient>,
}

impl WebMetric {
    fn timeout(&self) -> Duration {
        self.query.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    fn tls(&self) -> Tls {
        Tls {
            ca_file: self.query.ca_file.clone(),
            client_cert: self.query.client_cert.clone(),
            client_key: self.query.client_key.clone(),
            insecure: self.query.insecure,
        }
    }

    /// The request, sent within the metric's timeout; its JSON answer, or why there is none.
    async fn fetch(&self, req: Request) -> Result<Value, String> {
        let shown = shown_url(&req.url);
        let limit = self.timeout();
        let answer = tokio::time::timeout(limit, self.send(&req, &shown)).await;
        let result = answer.unwrap_or_else(|_| {
            Err(format!(
                "no answer from {shown} within {} (raise timeout: if the server is slow)",
                humantime::format_duration(limit)
            ))
        });
        let mut secrets = self.secrets.clone();
        if self.query.auth.as_ref().is_some_and(|a| a.oauth2.is_some()) {
            secrets.extend(self.client.tokens().await);
        }
        result.map_err(|e| crate::output::sanitize_line(&redact(&e, &secrets)))
    }

    async fn send(&self, req: &Request, shown: &str) -> Result<Value, String> {
        let http = self.client.http(&self.tls())?;
        let _permit = self.client.in_flight.acquire().await;
        let mut b = http.request(req.method.clone(), &req.url);
        for (k, v) in &self.query.headers {
            let mut value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| format!("headers.{k}: not a valid header value"))?;
            value.set_sensitive(true);
            b = b.header(k.as_str(), value);
        }
        if let Some(a) = &self.query.auth {
            if let Some(basic) = &a.basic {
                b = b.basic_auth(&basic.username, Some(&basic.password));
            }
            if let Some(token) = &a.bearer {
                b = b.bearer_auth(token);
            }
            if let Some(o) = &a.oauth2 {
                b = b.bearer_auth(self.client.token(&http, o).await?);
            }
        }
        let has_type = self
            .query
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"));
        match &req.body {
            None => {}
            Some(Value::String(s)) => b = b.body(s.clone()),
            Some(json) => {
                if !has_type {
                    b = b.header("Content-Type", "application/json");
                }
                b = b.body(json.to_string());
            }
        }
        let mut resp = b.send().await.map_err(|e| unreachable(shown, &e))?;
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("{shown}: the answer broke off: {}", root_cause(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!(
                    "{shown}: the answer is larger than {} MiB",
                    MAX_BODY >> 20
                ));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(http_error(shown, status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| {
            let start = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
            format!("the answer from {shown} is not JSON ({e}): {start}")
        })
    }

    fn instant_request(&self) -> Request {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let lookback = self.query.lookback.unwrap_or(DEFAULT_LOOKBACK).as_millis() as i64;
        let start_ms = now_ms - lookback;
        let values = [
            ("now", now_ms / 1000),
            ("now_ms", now_ms),
            ("start", start_ms / 1000),
            ("start_ms", start_ms),
        ];
        Request {
            method: method_of("", self.query.method.as_deref()).unwrap_or(reqwest::Method::GET),
            url: fill(&self.query.url, &values),
            body: self.query.body.as_ref().map(|b| fill_json(b, &values)),
        }
    }
}

impl WebMetric {
    /// The `range:` request over `[start_ms, end_ms]` every `step` seconds.
    fn range_request(&self, r: &WebRange, start_ms: i64, end_ms: i64, step: i64) -> Request {
        let values = [
            ("start", start_ms / 1000),
            ("start_ms", start_ms),
            ("end", end_ms / 1000),
            ("end_ms", end_ms),
            ("step", step),
        ];
        let method = r.method.as_deref().or(self.query.method.as_deref());
        let body = r.body.as_ref().or(self.query.body.as_ref());
        Request {
            method: method_of("", method).unwrap_or(reqwest::Method::GET),
            url: fill(r.url.as_ref().unwrap_or(&self.query.url), &values),
            body: body.map(|b| fill_json(b, &values)),
        }
    }
}

/// `{{name}}` filled in every string of a JSON body.
fn fill_json(body: &Value, values: &[(&str, i64)]) -> Value {
    match body {
        Value::String(s) => Value::String(fill(s, values)),
        Value::Array(a) => Value::Array(a.iter().map(|v| fill_json(v, values)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), fill_json(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A request that got no answer: refused, DNS, TLS — each with what to check.
fn unreachable(shown: &str, e: &reqwest::Error) -> String {
    let cause = root_cause(e);
    let lower = cause.to_lowercase();
    let fix = if ["certificate", "tls", "handshake", "unknownissuer", "alert"]
        .iter()
        .any(|w| lower.contains(w))
    {
        "TLS failed: set ca_file to the CA that signed the server's certificate, or \
         client_cert/client_key if the server asks for one"
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
        "the host name does not resolve: check url"
    } else {
        "is the server up, and url right?"
    };
    format!("cannot reach {shown}: {cause} ({fix})")
}

/// A non-2xx answer: the status, what it usually means, and the start of the body.
fn http_error(shown: &str, status: reqwest::StatusCode, body: &[u8]) -> String {
    let hint = match status.as_u16() {
        401 | 403 => ": check the credentials (auth:, headers:)",
        404 => ": check url",
        429 => ": rate limited; lengthen interval",
        _ => "",
    };
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let text = text.trim();
    let said = if text.is_empty() {
        String::new()
    } else {
        format!(" — {text}")
    };
    format!("{shown} answered HTTP {status}{hint}{said}")
}

impl Backend for WebMetric {
    fn sample(&self) -> BoxFuture<'_, Result<Answer, String>> {
        Box::pin(async move {
            let Some(path) = &self.path else {
                return Err(format!("json_path `{}` is invalid", self.query.json_path));
            };
            let doc = self.fetch(self.instant_request()).await?;
            match select::select(&doc, path, self.query.reduce) {
                Ok(Selected::Value(v)) => Ok(Answer::Values(vec![(self.name.clone(), v)])),
                Ok(Selected::Nothing) if self.on_empty == OnEmpty::Zero => Ok(Answer::Empty),
                Ok(Selected::Nothing) => Err(format!(
                    "json_path `{}` selected nothing in the answer ({}): fix the path, or set \
                     on_empty: zero if nothing means 0",
                    self.query.json_path,
                    select::outline(&doc)
                )),
                Err(e) => Err(format!("json_path `{}` {e}", self.query.json_path)),
            }
            .map_err(|e| crate::output::sanitize_line(&redact(&e, &self.secrets)))
        })
    }

    fn range(&self, span: Span) -> BoxFuture<'_, Result<Range, String>> {
        Box::pin(async move {
            let (Some(r), Some(path)) = (&self.query.range, &self.range_path) else {
                return Err("no `range:` request: baseline samples this metric instead".into());
            };
            let start_ms = span.end_ms - span.window.as_millis() as i64;
            let step = span.step.as_secs().max(1) as i64;
            let doc = self.fetch(self.range_request(r, start_ms, span.end_ms, step)).await?;
            let (mut points, dropped) = select::points(&doc, path);
            if points.is_empty() && dropped == 0 && self.on_empty == OnEmpty::Zero {
                // Nothing in the window means 0 at every step, as for Prometheus.
                let steps = span.window.as_secs() / span.step.as_secs().max(1) + 1;
                points = vec![0.0; steps as usize];
            }
            let mut series = BTreeMap::new();
            series.insert(self.name.clone(), points);
            Ok(Range { series, dropped })
        })
    }

    /// The `range:` request in stretches of at most 10 000 steps, one after the other, each
    /// point timed by `range.time_path`. With `on_empty: zero` a step without a point is 0.
    fn history(&self, span: Span) -> BoxFuture<'_, Result<Points, String>> {
        Box::pin(async move {
            let (Some(r), Some(path)) = (&self.query.range, &self.range_path) else {
                return Err("no `range:` request, so no history: add one (with \
                            range.time_path), or export the series to CSV and run backtest \
                            --history FILE"
                    .into());
            };
            let Some(times) = &self.time_path else {
                return Err("a history needs each point's timestamp: set range.time_path (e.g. \
                            `$.data.result[0].values[*][0]` beside json_path \
                            `$.data.result[0].values[*][1]`)"
                    .into());
            };
            let step = span.step_secs();
            let mut out = Points::default();
            let mut points = Vec::new();
            for (first, n) in span.stretches(HISTORY_STEPS) {
                let last = first + (n as i64 - 1) * step;
                out.queries += 1;
                let req = self.range_request(r, first * 1000, last * 1000, step);
                let doc = self.fetch(req).await.map_err(|e| {
                    format!("the range request for {} failed: {e}", stretch(first, last))
                })?;
                let (got, dropped) = select::timed_points(&doc, times, path)
                    .map_err(|e| crate::output::sanitize_line(&redact(&e, &self.secrets)))?;
                points.extend(got);
                out.dropped += dropped;
            }
            points.sort_by_key(|(t, _)| *t);
            points.dedup_by_key(|(t, _)| *t);
            if !points.is_empty() {
                out.series.insert(self.name.clone(), points);
            }
            Ok(out.zero_filled(&span, &self.name, self.on_empty))
        })
    }

    fn timeout(&self) -> Duration {
        self.timeout()
    }

    fn max_connections(&self) -> usize {
        self.client.max_connections
    }

    fn empty_reason(&self) -> String {
        format!("json_path `{}` selected nothing", self.query.json_path)
    }
}
