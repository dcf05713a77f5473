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

use super::fetch::{self, Fetcher};
use super::{series_name, Answer, Backend, Env, Invalid, Kind, MetricInfo, Points, Range, Span};
use api::{DataResult, MetricId};
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
/// Statistics CloudWatch computes besides percentiles (`p99`, `p99.9`) and the like.
const STATS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

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

impl Kind for CloudWatch {
    type Raw = RawCloudWatch;
    type Settings = CloudWatchConfig;
    type Query = CloudWatchQuery;
    type Client = CloudWatchClient;
    const SERIES: bool = true;

    /// A config without `source.cloudwatch:` still has CloudWatch settings when the
    /// environment names a region (a metric may then use `backend: { cloudwatch: … }`).
    fn settings(raw: Option<RawCloudWatch>, env: Env) -> Result<Option<CloudWatchConfig>, Invalid> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let env_region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let raw = match (raw, &env_region) {
            (None, None) => return Ok(None),
            (r, _) => r.unwrap_or_default(),
        };
        let region = raw
            .region
            .or(env_region)
            .ok_or_else(|| Invalid::new("region", "missing (or set AWS_REGION)"))?;
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(Invalid::new(
                "region",
                format!("`{region}` is not an AWS region"),
            ));
        }
        let endpoint = raw
            .endpoint_url
            .unwrap_or_else(|| format!("https://monitoring.{region}.amazonaws.com"));
        fetch::check_url(&endpoint).map_err(|m| Invalid::new("endpoint_url", m))?;
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some(sigv4::Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => None,
        };
        Ok(Some(CloudWatchConfig {
            region,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            credentials,
            http: fetch::Http::new(raw.timeout, raw.retries, raw.max_connections)?,
            lookback: raw.lookback.unwrap_or(DEFAULT_LOOKBACK),
        }))
    }

    fn validate(
        query: &CloudWatchQuery,
        settings: Option<&CloudWatchConfig>,
    ) -> Result<(), Invalid> {
        if query.namespace.trim().is_empty() {
            return Err(Invalid::new("namespace", "must not be empty"));
        }
        if query.metric.trim().is_empty() {
            return Err(Invalid::new(
                "metric",
                "must not be empty (CloudWatch's MetricName)",
            ));
        }
        if !valid_stat(&query.stat) {
            return Err(Invalid::new(
                "stat",
                format!("`{}` is not a CloudWatch statistic (Average, Sum, Minimum, Maximum, SampleCount, p99, …)", query.stat),
            ));
        }
        let period = query.period.unwrap_or(DEFAULT_PERIOD).as_secs();
        if !(matches!(period, 1 | 5 | 10 | 30) || (period > 0 && period % 60 == 0)) {
            return Err(Invalid::new(
                "period",
                format!("{period}s: CloudWatch periods are 1s, 5s, 10s, 30s or a multiple of 60s"),
            ));
        }
        if query.lookback.is_some_and(|l| l.as_secs() == 0) {
            return Err(Invalid::new("lookback", "must be at least 1s"));
        }
        if settings.is_none() {
            return Err(Invalid::new(
                "",
                "a CloudWatch metric needs source.cloudwatch (or AWS_REGION) for its region",
            ));
        }
        Ok(())
    }

    fn connect(settings: Option<&CloudWatchConfig>) -> Result<CloudWatchClient, String> {
        let config = settings.ok_or("no source.cloudwatch configured")?.clone();
        let credentials = config.credentials.clone().ok_or(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
             AWS_SESSION_TOKEN for temporary credentials)",
        )?;
        let url = url::Url::parse(&config.endpoint).map_err(|e| e.to_string())?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err("endpoint_url has no host".into()),
        };
        let mut secrets = vec![credentials.secret_access_key.clone()];
        secrets.extend(credentials.session_token.iter().cloned());
        secrets.extend(crate::redact::url_with_credentials(&config.endpoint));
        let fetcher = Fetcher::new(&config.http, secrets)?;
        Ok(CloudWatchClient {
            config,
            credentials,
            host,
            fetcher,
        })
    }

    fn metric(
        query: &CloudWatchQuery,
        metric: &MetricInfo,
        client: Arc<CloudWatchClient>,
    ) -> Box<dyn Backend> {
        Box::new(CloudWatchMetric {
            query: query.clone(),
            info: metric.clone(),
            client,
        })
    }

    fn describe(query: &CloudWatchQuery) -> String {
        let dims: Vec<String> = query
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let dims = if dims.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", dims.join(","))
        };
        format!(
            "cloudwatch: {}/{}{dims} {}",
            query.namespace, query.metric, query.stat
        )
    }
}

fn valid_stat(s: &str) -> bool {
    STATS.contains(&s)
        || s.strip_prefix('p')
            .or_else(|| s.strip_prefix("tm"))
            .or_else(|| s.strip_prefix("wm"))
            .or_else(|| s.strip_prefix("tc"))
            .or_else(|| s.strip_prefix("ts"))
            .is_some_and(|n| n.parse::<f64>().is_ok_and(|n| (0.0..=100.0).contains(&n)))
}

impl CloudWatchClient {
    /// Calls `operation` with a JSON body, signed afresh for each attempt.
    async fn call(&self, operation: &str, body: serde_json::Value) -> Result<String, String> {
        let body = body.to_string();
        let target = format!("{}.{operation}", api::TARGET_PREFIX);
        let url = format!("{}/", self.config.endpoint);
        let answer = self
            .fetcher
            .send(|c| {
                let headers = vec![
                    ("host".to_string(), self.host.clone()),
                    ("content-type".to_string(), api::CONTENT_TYPE.to_string()),
                    ("x-amz-target".to_string(), target.clone()),
                ];
                let req = sigv4::Request {
                    method: "POST",
                    path: "/",
                    query: &[],
                    headers: &headers,
                    body: body.as_bytes(),
                };
                let now = chrono::Utc::now().timestamp();
                let signed = sigv4::sign(
                    &req,
                    &self.credentials,
                    &self.config.region,
                    "monitoring",
                    now,
                );
                let mut r = c
                    .post(&url)
                    .header("content-type", api::CONTENT_TYPE)
                    .header("x-amz-target", &target)
                    .body(body.clone());
                for (k, v) in signed {
                    r = r.header(k, v);
                }
                r
            })
            .await;
        answer.map_err(|e| {
            // The AWS error code and message say more than the status alone.
            if let fetch::FetchError::Status { code, body, .. } = &e {
                if let Some(aws) = api::error_of(body) {
                    let detail = self.fetcher.snippet(&aws);
                    let body = String::new();
                    return fetch::FetchError::Status {
                        code: *code,
                        detail,
                        body,
                    }
                    .describe("CloudWatch");
                }
            }
            e.describe("CloudWatch")
        })
    }

    /// Every metric named `metric` in `namespace` whose dimensions match (`*`: any value).
    async fn list(&self, q: &CloudWatchQuery) -> Result<Vec<MetricId>, String> {
        self.list_counted(q, &mut 0).await
    }

    /// [`CloudWatchClient::list`], counting its calls in `calls`.
    async fn list_counted(
        &self,
        q: &CloudWatchQuery,
        calls: &mut usize,
    ) -> Result<Vec<MetricId>, String> {
        let filters: BTreeMap<String, Option<String>> = q
            .dimensions
            .iter()
            .map(|(k, v)| (k.clone(), (v != ANY).then(|| v.clone())))
            .collect();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = api::list_metrics(&q.namespace, &q.metric, &filters, token.as_deref());
            *calls += 1;
            let answer = self.call("ListMetrics", body).await?;
            let (metrics, next) = api::parse_list(&answer).map_err(|e| self.fetcher.clean(&e))?;
            // Only metrics with exactly the written dimension names: a set with more
            // dimensions is another series (CloudWatch treats it as another metric).
            out.extend(metrics.into_iter().filter(|m| {
                m.dimensions.len() == q.dimensions.len()
                    && q.dimensions.keys().all(|k| m.dimensions.contains_key(k))
            }));
            match next {
                Some(t) if out.len() < 10_000 => token = Some(t),
                _ => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// GetMetricData for `metrics` over `[start, end)`, every page (NextToken followed), in
    /// the metrics' order; `calls` counts the requests sent.
    async fn data(
        &self,
        metrics: &[MetricId],
        q: &CloudWatchQuery,
        span: (i64, i64),
        calls: &mut usize,
    ) -> Result<Vec<DataResult>, String> {
        self.data_in(metrics, api::MAX_QUERIES, q, span, calls)
            .await
    }

    /// [`CloudWatchClient::data`] with at most `per_call` metrics in one call.
    async fn data_in(
        &self,
        metrics: &[MetricId],
        per_call: usize,
        q: &CloudWatchQuery,
        span: (i64, i64),
        calls: &mut usize,
    ) -> Result<Vec<DataResult>, String> {
        let period = q.period.unwrap_or(DEFAULT_PERIOD).as_secs();
        let mut out = Vec::new();
        for chunk in metrics.chunks(per_call.clamp(1, api::MAX_QUERIES)) {
            let mut results: BTreeMap<String, DataResult> = BTreeMap::new();
            let mut token: Option<String> = None;
            for pages in 1.. {
                let body = api::get_metric_data(chunk, &q.stat, period, span, token.as_deref());
                *calls += 1;
                let answer = self.call("GetMetricData", body).await?;
                let (page, next) = api::parse_data(&answer).map_err(|e| self.fetcher.clean(&e))?;
                for r in page {
                    if matches!(r.status.as_str(), "InternalError" | "Forbidden") {
                        let said = r.messages.join("; ");
                        return Err(self.fetcher.clean(&format!(
                            "CloudWatch could not compute {}/{}: {} {said}",
                            q.namespace, q.metric, r.status
                        )));
                    }
                    let entry = results.entry(r.id.clone()).or_insert_with(|| DataResult {
                        points: Vec::new(),
                        ..r.clone()
                    });
                    entry.points.extend(r.points);
                }
                match next {
                    Some(_) if pages >= api::MAX_PAGES => {
                        return Err(format!(
                            "CloudWatch still had pages after {} (NextToken): ask a shorter \
                             stretch",
                            api::MAX_PAGES
                        ))
                    }
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            for i in 0..chunk.len() {
                let r = results.remove(&format!("m{i}")).unwrap_or(DataResult {
                    id: format!("m{i}"),
                    points: Vec::new(),
                    status: "Complete".into(),
                    messages: Vec::new(),
                });
                out.push(r);
            }
        }
        Ok(out)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn settings_come_from_the_environment() {
        let e = env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "tok"),
        ]);
        let s = CloudWatch::settings(None, &e).unwrap().unwrap();
        assert_eq!(s.endpoint, "https://monitoring.eu-west-1.amazonaws.com");
        let c = s.credentials.as_ref().unwrap();
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        assert!(CloudWatch::settings(None, &env(&[])).unwrap().is_none());
        let no_region = CloudWatch::settings(Some(RawCloudWatch::default()), &env(&[]));
        assert_eq!(no_region.unwrap_err().field, "region");
        // No credentials: the settings load, the connection says what to set.
        let s = CloudWatch::settings(None, &env(&[("AWS_REGION", "us-east-1")])).unwrap();
        let err = CloudWatch::connect(s.as_ref()).err().unwrap();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    }

    #[test]
    fn queries_are_checked_before_any_request() {
        let s = CloudWatch::settings(None, &env(&[("AWS_REGION", "us-east-1")])).unwrap();
        let q = |stat: &str, period: u64| CloudWatchQuery {
            namespace: "App".into(),
            metric: "Errors".into(),
            dimensions: BTreeMap::new(),
            stat: stat.into(),
            period: Some(Duration::from_secs(period)),
            lookback: None,
        };
        assert!(CloudWatch::validate(&q("p99.9", 60), s.as_ref()).is_ok());
        assert!(CloudWatch::validate(&q("Average", 1), s.as_ref()).is_ok());
        assert_eq!(
            CloudWatch::validate(&q("Mean", 60), s.as_ref())
                .unwrap_err()
                .field,
            "stat"
        );
        assert_eq!(
            CloudWatch::validate(&q("Sum", 45), s.as_ref())
                .unwrap_err()
                .field,
            "period"
        );
        assert!(CloudWatch::validate(&q("Sum", 60), None).is_err());
    }
}
