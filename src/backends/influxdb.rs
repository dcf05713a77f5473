//! The InfluxDB 1.x backend: `source.influxdb:` (URL, database, credentials) and an InfluxQL
//! `query:` per metric bounded by `$timeFilter` — the newest non-null row within `lookback`
//! each tick, the rows of the window (`GROUP BY time($interval)`) for a baseline. Series are
//! `GROUP BY` tags, so `per_series` names each `metric{tag="…"}`.

mod history;
pub mod influxql;

use super::fetch::{self, Fetcher};
use super::{series_name, Answer, Backend, Env, Invalid, Kind, MetricInfo, Points, Range, Span};
use futures::future::BoxFuture;
use influxql::Series;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use vz_core::spec::OnEmpty;
use vz_core::units as dur;

const DEFAULT_LOOKBACK: Duration = Duration::from_secs(60);
/// `$interval` of a tick's statement when the query names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// `source.influxdb:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInfluxDb {
    /// InfluxDB's base URL (`VZ_INFLUXDB_URL` overrides).
    pub url: Option<String>,
    /// The database queried unless a metric names its own.
    pub database: Option<String>,
    /// Basic auth; write `${INFLUX_PASSWORD}` rather than the password itself.
    pub username: Option<String>,
    pub password: Option<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    /// Requests in flight and connections kept, per watch.
    pub max_connections: Option<u64>,
    /// How far back a tick looks for the newest row (default 1m).
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
}

/// `source.influxdb:` validated.
#[derive(Clone, PartialEq)]
pub struct InfluxConfig {
    pub url: String,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub http: fetch::Http,
    pub lookback: Duration,
}

impl std::fmt::Debug for InfluxConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InfluxConfig")
            .field("url", &crate::redact::redact_url(&self.url))
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `metrics.<m>.backend.influxdb:`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfluxQuery {
    /// One InfluxQL SELECT with `$timeFilter` (and optionally `$interval`).
    pub query: String,
    /// Overrides `source.influxdb.database`.
    pub database: Option<String>,
    /// Overrides `source.influxdb.lookback`.
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
    /// `$interval` of a tick's statement (default 10s); a baseline uses its step.
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub interval: Option<Duration>,
}

/// The InfluxDB backend.
pub struct InfluxDb;

/// The shared client: one HTTP pool and the server's settings.
pub struct InfluxClient {
    config: InfluxConfig,
    fetcher: Fetcher,
}

impl Kind for InfluxDb {
    type Raw = RawInfluxDb;
    type Settings = InfluxConfig;
    type Query = InfluxQuery;
    type Client = InfluxClient;
    const SERIES: bool = true;

    fn settings(raw: Option<RawInfluxDb>, env: Env) -> Result<Option<InfluxConfig>, Invalid> {
        let env_url = env("VZ_INFLUXDB_URL").filter(|u| !u.is_empty());
        let raw = match (raw, env_url.clone()) {
            (None, None) => return Ok(None),
            (Some(r), _) => r,
            (None, Some(_)) => RawInfluxDb {
                url: None,
                database: None,
                username: None,
                password: None,
                timeout: None,
                retries: None,
                max_connections: None,
                lookback: None,
            },
        };
        let url = env_url
            .or(raw.url)
            .ok_or_else(|| Invalid::new("url", "missing (or set VZ_INFLUXDB_URL)"))?;
        fetch::check_url(&url).map_err(|m| Invalid::new("url", m))?;
        if raw.password.is_some() && raw.username.is_none() {
            return Err(Invalid::new("username", "a password needs its username"));
        }
        Ok(Some(InfluxConfig {
            url: url.trim_end_matches('/').to_string(),
            database: raw.database.filter(|d| !d.is_empty()),
            username: raw.username,
            password: raw.password,
            http: fetch::Http::new(raw.timeout, raw.retries, raw.max_connections)?,
            lookback: raw.lookback.unwrap_or(DEFAULT_LOOKBACK),
        }))
    }

    fn validate(query: &InfluxQuery, settings: Option<&InfluxConfig>) -> Result<(), Invalid> {
        influxql::validate(&query.query).map_err(|m| Invalid::new("query", m))?;
        if query.lookback.is_some_and(|l| l.as_secs() == 0) {
            return Err(Invalid::new("lookback", "must be at least 1s"));
        }
        let Some(settings) = settings else {
            return Err(Invalid::new(
                "",
                "an InfluxQL query needs source.influxdb.url (or VZ_INFLUXDB_URL)",
            ));
        };
        if query.database.is_none() && settings.database.is_none() {
            return Err(Invalid::new(
                "database",
                "missing: name it here or in source.influxdb.database",
            ));
        }
        Ok(())
    }

    fn connect(settings: Option<&InfluxConfig>) -> Result<InfluxClient, String> {
        let config = settings.ok_or("no source.influxdb configured")?.clone();
        let mut secrets: Vec<String> = config.password.iter().cloned().collect();
        if let (Some(u), Some(p)) = (&config.username, &config.password) {
            secrets.push(format!("{u}:{p}"));
        }
        secrets.extend(crate::redact::url_with_credentials(&config.url));
        let fetcher = Fetcher::new(&config.http, secrets)?;
        Ok(InfluxClient { config, fetcher })
    }

    fn metric(
        query: &InfluxQuery,
        metric: &MetricInfo,
        client: Arc<InfluxClient>,
    ) -> Box<dyn Backend> {
        Box::new(InfluxMetric {
            query: query.clone(),
            info: metric.clone(),
            client,
        })
    }

    fn describe(query: &InfluxQuery) -> String {
        format!("influxdb: {}", query.query)
    }
}

impl InfluxClient {
    /// Runs one statement against `database`.
    async fn run(&self, database: &str, statement: &str) -> Result<Vec<Series>, String> {
        let url = format!("{}/query", self.config.url);
        let params = influxql::params(database, statement);
        let body = self
            .fetcher
            .send(|c| {
                let req = c.get(&url).query(&params);
                match &self.config.username {
                    Some(u) => req.basic_auth(u, self.config.password.as_ref()),
                    None => req,
                }
            })
            .await
            .map_err(|e| match &e {
                // A statement InfluxDB cannot parse is a 400 with its JSON error: say that.
                fetch::FetchError::Status { code, body, .. } if *code == 400 => {
                    match influxql::parse(body) {
                        Err(said) => format!("{} (HTTP 400)", self.fetcher.snippet(&said)),
                        Ok(_) => e.describe("InfluxDB"),
                    }
                }
                _ => e.describe("InfluxDB"),
            })?;
        influxql::parse(&body).map_err(|e| self.fetcher.clean(&e))
    }
}

/// One metric's InfluxQL on the shared client.
struct InfluxMetric {
    query: InfluxQuery,
    info: MetricInfo,
    client: Arc<InfluxClient>,
}

impl InfluxMetric {
    fn database(&self) -> &str {
        self.query
            .database
            .as_deref()
            .or(self.client.config.database.as_deref())
            .unwrap_or_default()
    }

    /// The series as this metric names them; several are an error unless `per_series`.
    fn named(&self, series: Vec<Series>) -> Result<Vec<(String, Series)>, String> {
        if series.len() > 1 && !self.info.per_series {
            let mut names: Vec<String> = series
                .iter()
                .map(|s| series_name(&s.measurement, &s.tags))
                .collect();
            names.sort();
            let shown = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            return Err(self.client.fetcher.clean(&format!(
                "query gave {} series where one was expected ({shown}); drop its GROUP BY tags \
                 or set per_series: true",
                names.len()
            )));
        }
        Ok(series
            .into_iter()
            .map(|s| {
                let name = if self.info.per_series {
                    series_name(&self.info.name, &s.tags)
                } else {
                    self.info.name.clone()
                };
                (name, s)
            })
            .collect())
    }
}

impl Backend for InfluxMetric {
    /// The newest non-null row of each series within the lookback.
    fn sample(&self) -> BoxFuture<'_, Result<Answer, String>> {
        Box::pin(async move {
            let lookback = self.query.lookback.unwrap_or(self.client.config.lookback);
            let step = self.query.interval.unwrap_or(DEFAULT_INTERVAL);
            let statement = influxql::instant(&self.query.query, lookback, step);
            let series = self.client.run(self.database(), &statement).await?;
            if series.is_empty() {
                return Ok(Answer::Empty);
            }
            let values: Vec<(String, f64)> = self
                .named(series)?
                .into_iter()
                .filter_map(|(n, s)| s.latest().map(|(_, v)| (n, v)))
                .collect();
            if values.is_empty() {
                return Err(format!(
                    "InfluxDB returned rows but no number in the last {} (null or non-numeric \
                     values): no data",
                    humantime::format_duration(lookback)
                ));
            }
            Ok(Answer::Values(values))
        })
    }

    /// The rows of the window, `$interval` = the baseline's step. Null rows are skipped, or
    /// count as 0 with `on_empty: zero` (write `fill(none)` to leave empty steps out).
    fn range(&self, span: Span) -> BoxFuture<'_, Result<Range, String>> {
        Box::pin(async move {
            let end = span.end_ms.div_euclid(1000);
            let start = end - span.window.as_secs() as i64;
            let statement = influxql::range(&self.query.query, start, end, span.step);
            let series = self.client.run(self.database(), &statement).await?;
            let mut out = Range::default();
            for (name, s) in self.named(series)? {
                let mut points = s.points;
                points.sort_by_key(|(t, _)| *t);
                let values =
                    points
                        .into_iter()
                        .filter_map(|(_, v)| match (v, self.info.on_empty) {
                            (Some(v), _) if v.is_finite() => Some(v),
                            (Some(_), _) => {
                                out.dropped += 1;
                                None
                            }
                            (None, OnEmpty::Zero) => Some(0.0),
                            (None, OnEmpty::Missing) => None,
                        });
                let values: Vec<f64> = values.collect();
                out.series.entry(name).or_default().extend(values);
            }
            Ok(out)
        })
    }

    /// Statements of at most 10 000 steps, an answer cut short asked again in halves (see
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
        format!(
            "InfluxDB returned no series in database `{}` (check the measurement, field and \
             tags; set on_empty: zero if no rows means 0)",
            self.client.fetcher.clean(self.database())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn raw(database: Option<&str>, username: Option<&str>, password: Option<&str>) -> RawInfluxDb {
        RawInfluxDb {
            url: Some("http://influx:8086".into()),
            database: database.map(String::from),
            username: username.map(String::from),
            password: password.map(String::from),
            timeout: None,
            retries: None,
            max_connections: None,
            lookback: None,
        }
    }

    #[test]
    fn settings_and_queries_are_checked_before_any_request() {
        let none = env(&[]);
        let s = InfluxDb::settings(Some(raw(None, Some("u"), Some("pw-123"))), &none)
            .unwrap()
            .unwrap();
        assert!(!format!("{s:?}").contains("pw-123"), "Debug hides the password");
        let q = |database: Option<&str>| InfluxQuery {
            query: "SELECT last(v) FROM m WHERE $timeFilter".into(),
            database: database.map(String::from),
            lookback: None,
            interval: None,
        };
        // A database: the query's own, or the source's.
        assert_eq!(InfluxDb::validate(&q(None), Some(&s)).unwrap_err().field, "database");
        assert!(InfluxDb::validate(&q(Some("d")), Some(&s)).is_ok());
        let err = InfluxDb::settings(Some(raw(Some("d"), None, Some("pw"))), &none).unwrap_err();
        assert_eq!(err.field, "username");
        let from_env = InfluxDb::settings(None, &env(&[("VZ_INFLUXDB_URL", "http://i:8086")]));
        assert_eq!(from_env.unwrap().unwrap().url, "http://i:8086");
    }
}
