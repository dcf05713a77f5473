//! The Graphite backend: `source.graphite:` (graphite-web's URL) and a render `target:` per
//! metric — the newest non-null point within `lookback` each tick, the points of the window
//! for a baseline. Graphite fills the window with `null` after the last write: those points
//! are missing data, never zero. Series are targets (`servers.*.errors` or
//! `aliasByNode(…)`), so `per_series` names each `metric{target="…"}`.

pub mod render;

use super::fetch::{self, FetchError, Fetcher};
use super::grid::{newest_at_steps, stretch};
use super::{series_name, Answer, Backend, Env, Invalid, Kind, MetricInfo, Points, Range, Span};
use futures::future::BoxFuture;
use render::Series;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use vz_core::spec::OnEmpty;
use vz_core::units as dur;

const DEFAULT_LOOKBACK: Duration = Duration::from_secs(60);
/// A history is rendered in stretches of at most this many of its steps…
const HISTORY_STEPS: usize = 10_000;
/// …and at most a day: Graphite answers every point of its finest archive that covers the
/// stretch (86 400 at 1 s), whatever the step asked for.
const HISTORY_STRETCH: Duration = Duration::from_secs(86_400);

/// `source.graphite:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGraphite {
    /// graphite-web's base URL (`VZ_GRAPHITE_URL` overrides).
    pub url: Option<String>,
    /// Extra request headers (`Authorization: Basic …`); values are secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    /// Requests in flight and connections kept, per watch.
    pub max_connections: Option<u64>,
    /// How far back a tick looks for the newest point (default 1m).
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
}

/// `source.graphite:` validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphiteConfig {
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub http: fetch::Http,
    pub lookback: Duration,
}

/// `metrics.<m>.backend.graphite:`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphiteQuery {
    /// A render target: a path, a glob, or functions (`sumSeries(app.*.errors)`).
    pub target: String,
    /// Overrides `source.graphite.lookback` for this metric.
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
}

/// The Graphite backend.
pub struct Graphite;

/// The shared client: one HTTP pool and the server's settings.
pub struct GraphiteClient {
    config: GraphiteConfig,
    fetcher: Fetcher,
}

impl Kind for Graphite {
    type Raw = RawGraphite;
    type Settings = GraphiteConfig;
    type Query = GraphiteQuery;
    type Client = GraphiteClient;
    const SERIES: bool = true;

    fn settings(raw: Option<RawGraphite>, env: Env) -> Result<Option<GraphiteConfig>, Invalid> {
        let env_url = env("VZ_GRAPHITE_URL").filter(|u| !u.is_empty());
        let raw = match (raw, env_url.clone()) {
            (None, None) => return Ok(None),
            (Some(r), _) => r,
            (None, Some(_)) => RawGraphite {
                url: None,
                headers: BTreeMap::new(),
                timeout: None,
                retries: None,
                max_connections: None,
                lookback: None,
            },
        };
        let url = env_url
            .or(raw.url)
            .ok_or_else(|| Invalid::new("url", "missing (or set VZ_GRAPHITE_URL)"))?;
        fetch::check_url(&url).map_err(|m| Invalid::new("url", m))?;
        fetch::check_headers(&raw.headers)?;
        Ok(Some(GraphiteConfig {
            url: url.trim_end_matches('/').to_string(),
            headers: raw.headers,
            http: fetch::Http::new(raw.timeout, raw.retries, raw.max_connections)?,
            lookback: raw.lookback.unwrap_or(DEFAULT_LOOKBACK),
        }))
    }

    fn validate(query: &GraphiteQuery, settings: Option<&GraphiteConfig>) -> Result<(), Invalid> {
        if query.target.trim().is_empty() {
            return Err(Invalid::new("target", "must not be empty"));
        }
        if query.lookback.is_some_and(|l| l.as_secs() == 0) {
            return Err(Invalid::new("lookback", "must be at least 1s"));
        }
        if settings.is_none() {
            return Err(Invalid::new(
                "",
                "a Graphite target needs source.graphite.url (or VZ_GRAPHITE_URL)",
            ));
        }
        Ok(())
    }

    fn connect(settings: Option<&GraphiteConfig>) -> Result<GraphiteClient, String> {
        let config = settings.ok_or("no source.graphite configured")?.clone();
        let mut secrets: Vec<String> = config.headers.values().cloned().collect();
        secrets.extend(crate::redact::url_with_credentials(&config.url));
        let fetcher = Fetcher::new(&config.http, secrets)?;
        Ok(GraphiteClient { config, fetcher })
    }

    fn metric(
        query: &GraphiteQuery,
        metric: &MetricInfo,
        client: Arc<GraphiteClient>,
    ) -> Box<dyn Backend> {
        Box::new(GraphiteMetric {
            query: query.clone(),
            info: metric.clone(),
            client,
        })
    }

    fn describe(query: &GraphiteQuery) -> String {
        format!("graphite: {}", query.target)
    }
}

impl GraphiteClient {
    /// The series of `target` over `[from, until]` (Unix seconds).
    async fn render(&self, target: &str, from: i64, until: i64) -> Result<Vec<Series>, String> {
        let url = format!("{}/render", self.config.url);
        let params = render::query(target, from, until);
        let body = self
            .fetcher
            .send(|c| {
                let mut req = c.get(&url).query(&params);
                for (k, v) in &self.config.headers {
                    req = req.header(k, v);
                }
                req
            })
            .await
            .map_err(|e| describe(&e))?;
        render::parse(&body).map_err(|e| self.fetcher.clean(&e))
    }
}

fn describe(e: &FetchError) -> String {
    e.describe("Graphite")
}

/// A series' values for a baseline: its points, nulls skipped — or, with `on_empty: zero`,
/// 0 for a null inside the data but never for the nulls after its last point (no data yet
/// is not zero).
fn baseline_values(s: &Series, on_empty: OnEmpty) -> Vec<f64> {
    let live = s.points.len() - s.trailing_nulls();
    s.points[..live]
        .iter()
        .filter_map(|(_, v)| match (v, on_empty) {
            (Some(v), _) => Some(*v),
            (None, OnEmpty::Zero) => Some(0.0),
            (None, OnEmpty::Missing) => None,
        })
        .collect()
}

/// One metric's target on the shared client.
struct GraphiteMetric {
    query: GraphiteQuery,
    info: MetricInfo,
    client: Arc<GraphiteClient>,
}

impl GraphiteMetric {
    fn lookback(&self) -> Duration {
        self.query.lookback.unwrap_or(self.client.config.lookback)
    }

    /// The series as this metric names them; several are an error unless `per_series`.
    fn named(&self, series: Vec<Series>) -> Result<Vec<(String, Series)>, String> {
        if series.len() > 1 && !self.info.per_series {
            let mut targets: Vec<String> = series.iter().map(|s| s.target.clone()).collect();
            targets.sort();
            let shown = targets
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if targets.len() > 3 { ", …" } else { "" };
            return Err(self.client.fetcher.clean(&format!(
                "target `{}` gave {} series where one was expected ({shown}{more}); wrap it in \
                 sumSeries()/averageSeries() or set per_series: true",
                self.query.target,
                targets.len()
            )));
        }
        Ok(series
            .into_iter()
            .map(|s| {
                let name = if self.info.per_series {
                    series_name(&self.info.name, &s.labels())
                } else {
                    self.info.name.clone()
                };
                (name, s)
            })
            .collect())
    }
}

impl Backend for GraphiteMetric {
    /// The newest non-null point of each series within the lookback. A series holding only
    /// nulls there is missing (its sender stopped): absent from the answer, or the error
    /// when it is the only one.
    fn sample(&self) -> BoxFuture<'_, Result<Answer, String>> {
        Box::pin(async move {
            let now = chrono::Utc::now().timestamp();
            let lookback = self.lookback();
            let series = self
                .client
                .render(&self.query.target, now - lookback.as_secs() as i64, now)
                .await?;
            if series.is_empty() {
                return Ok(Answer::Empty);
            }
            let named = self.named(series)?;
            let values: Vec<(String, f64)> = named
                .iter()
                .filter_map(|(n, s)| s.latest().map(|(_, v)| (n.clone(), v)))
                .collect();
            if values.is_empty() {
                return Err(format!(
                    "Graphite has only null points for `{}` in the last {}: no data (the \
                     sender stopped, or lookback is shorter than the metric's resolution)",
                    self.client.fetcher.clean(&self.query.target),
                    humantime::format_duration(lookback)
                ));
            }
            Ok(Answer::Values(values))
        })
    }

    /// Every non-null point of the window, per series. With `on_empty: zero` a null inside
    /// the series' data counts as 0; nulls after its last point never do.
    fn range(&self, span: Span) -> BoxFuture<'_, Result<Range, String>> {
        Box::pin(async move {
            let end = span.end_ms.div_euclid(1000);
            let start = end - span.window.as_secs() as i64;
            let series = self.client.render(&self.query.target, start, end).await?;
            let mut out = Range::default();
            for (name, s) in self.named(series)? {
                let values = baseline_values(&s, self.info.on_empty);
                out.series.entry(name).or_default().extend(values);
            }
            Ok(out)
        })
    }

    /// Render requests of at most a day (and 10 000 steps) each, one after the other; at
    /// each step the newest non-null point within the lookback (at least a step), as a
    /// tick reads it. Nulls are missing, or 0 with `on_empty: zero` when they lie before
    /// the series' last point, never after it (as for a baseline).
    fn history(&self, span: Span) -> BoxFuture<'_, Result<Points, String>> {
        Box::pin(async move {
            let step = span.step_secs();
            let reach = self.lookback().max(Duration::from_secs(step as u64));
            let per = HISTORY_STEPS.min((HISTORY_STRETCH.as_secs() as i64 / step).max(1) as usize);
            let mut raw: BTreeMap<String, Vec<(i64, Option<f64>)>> = BTreeMap::new();
            let mut out = Points::default();
            for (i, (first, n)) in span.stretches(per).into_iter().enumerate() {
                // Graphite's `from` is exclusive: the first stretch reaches back a lookback,
                // so its first step reads the newest point before it, as a tick would.
                let from = match i {
                    0 => first - reach.as_secs() as i64,
                    _ => first - step,
                };
                let until = first + (n as i64 - 1) * step;
                out.queries += 1;
                let series = self
                    .client
                    .render(&self.query.target, from, until)
                    .await
                    .map_err(|e| format!("the render request for {} failed: {e}", stretch(from, until)))?;
                for (name, s) in self.named(series)? {
                    let points = s.points.into_iter().map(|(t, v)| (t * 1000, v));
                    raw.entry(name).or_default().extend(points);
                }
            }
            let steps = span.steps();
            for (name, mut points) in raw {
                points.sort_by_key(|(t, _)| *t);
                let on = newest_at_steps(&points, &steps, reach, self.info.on_empty);
                out.series.insert(name, on);
            }
            if out.series.is_empty() {
                // No series at all: 0 at every step with on_empty: zero, as a tick reads it.
                return Ok(out.zero_filled(&span, &self.info.name, self.info.on_empty));
            }
            Ok(out)
        })
    }

    fn timeout(&self) -> Duration {
        self.client.fetcher.timeout()
    }

    fn max_connections(&self) -> usize {
        self.client.fetcher.max_connections()
    }

    fn empty_reason(&self) -> String {
        format!(
            "Graphite matched no series for `{}` (check the target path; set on_empty: zero \
             if no series means 0)",
            self.client.fetcher.clean(&self.query.target)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_nulls_are_skipped_and_trailing_ones_never_zero() {
        let s = Series {
            target: "a".into(),
            points: vec![(1, Some(2.0)), (2, None), (3, Some(4.0)), (4, None), (5, None)],
        };
        assert_eq!(baseline_values(&s, OnEmpty::Missing), [2.0, 4.0]);
        assert_eq!(baseline_values(&s, OnEmpty::Zero), [2.0, 0.0, 4.0]);
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn settings_and_queries_are_checked_before_any_request() {
        assert!(Graphite::settings(None, &env(&[])).unwrap().is_none());
        let s = Graphite::settings(None, &env(&[("VZ_GRAPHITE_URL", "http://g:8080/")]))
            .unwrap()
            .unwrap();
        assert_eq!((s.url.as_str(), s.lookback), ("http://g:8080", DEFAULT_LOOKBACK));
        let q = |t: &str| GraphiteQuery {
            target: t.into(),
            lookback: None,
        };
        assert!(Graphite::validate(&q("a.b"), Some(&s)).is_ok());
        assert_eq!(Graphite::validate(&q(" "), Some(&s)).unwrap_err().field, "target");
        assert!(Graphite::validate(&q("a.b"), None).is_err());
        let raw = RawGraphite {
            url: Some("ftp://x".into()),
            headers: BTreeMap::new(),
            timeout: None,
            retries: None,
            max_connections: Some(0),
            lookback: None,
        };
        assert_eq!(Graphite::settings(Some(raw), &env(&[])).unwrap_err().field, "url");
    }
}
