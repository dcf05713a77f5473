//! Metric backends: the servers a metric's numbers are queried from — Prometheus (and what
//! speaks its API), a generic HTTP/JSON `web` source, … — each behind one trait, [`Backend`].
//!
//! # Adding a backend
//!
//! One new file, `src/backends/<name>.rs`, and one line in `backends!` at the bottom of this
//! file (`<name>: <Variant>(<name>::<KindType>),`, which also declares the module). The
//! file holds:
//!
//! - its config types, serde with `deny_unknown_fields`: `source.<name>:` (what its metrics
//!   share: server URL, credentials, `max_connections`) and `metrics.<m>.backend.<name>:`
//!   (one metric's query);
//! - a unit type implementing [`Kind`]: validates both when the config loads (before any
//!   I/O) and connects once per run — one shared client, so one bounded connection pool;
//! - the running metric implementing [`Backend`]: `sample` (one tick, one value or one per
//!   series), `range` (baselines), `history` (`backtest`: timestamped, in stretches within
//!   the server's limits; [`grid`] has the shared pieces), `check` (`check --online`),
//!   `timeout`, `max_connections`.
//!
//! Nothing else changes: `baseline`, `check --online`, `watch` (and its `control:` series)
//! and `health` reach every backend through [`Backend`]; what an empty answer, a NaN or a
//! vanished series means, and the log of missing samples, live once in
//! `sources::backend::BackendMetric`.

/// The HTTP exchange Graphite, InfluxDB and CloudWatch share (deadline, retries, bound).
pub mod fetch;
/// What every backend's `history` shares: steps, stretches, the newest point at a step.
pub mod grid;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vz_core::spec::OnEmpty;

/// Reads an environment variable (`VZ_PROMETHEUS_URL`, AWS credentials …) at config load.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One metric's query running against its backend: what every backend implements.
///
/// To add a backend: write `src/backends/<name>.rs` with its config types, a [`Kind`] (config
/// checks, one shared client per run) and this trait for its running query, then add one
/// line to `backends!` below. Nothing else needs to know it (see the module docs).
///
/// Every method answers or says why not in one sentence (already free of secrets); none
/// panics. A value that holds no number (empty selection, `null`, a string, NaN) is never
/// turned into a number here: it is [`Answer::Empty`] or an error, which the gate counts as
/// missing data, never as a pass.
pub trait Backend: Send + Sync {
    /// This tick's value: one `(metric, value)`, or one `(metric{labels}, value)` per series
    /// for a `per_series` metric (see [`series_name`]). Finishes within [`Backend::timeout`].
    fn sample(&self) -> BoxFuture<'_, Result<Answer, String>>;
    /// The values over `span` (a baseline), keyed by series as in [`Backend::sample`].
    fn range(&self, span: Span) -> BoxFuture<'_, Result<Range, String>>;
    /// The timestamped values over `span` at `span.step` (`backtest`: a week or more, so in
    /// as many queries as the server's limit on points per query needs), with `on_empty`
    /// applied: a step without a point is missing data. A refused stretch ends the read
    /// with the server's reason and the stretch. Every backend listed gives one; a new
    /// backend that cannot says so, with the offline way round it.
    fn history(&self, _span: Span) -> BoxFuture<'_, Result<Points, String>> {
        Box::pin(async {
            Err(
                "this backend gives no timestamped history: export the series to CSV \
                 (timestamp,<metric>,…) and run backtest --history FILE"
                    .into(),
            )
        })
    }
    /// `check --online`: one sample, its errors phrased to say what to fix.
    fn check(&self) -> BoxFuture<'_, Result<Answer, String>> {
        self.sample()
    }
    /// Upper bound on one `sample` or `range`, retries included.
    fn timeout(&self) -> Duration;
    /// Requests in flight (so connections open) at most, shared by every metric of this
    /// backend in one run: hundreds of watches must not exhaust the server.
    fn max_connections(&self) -> usize;
    /// Why an [`Answer::Empty`] is missing data, with the fix (shown when `on_empty: missing`).
    fn empty_reason(&self) -> String {
        "empty result: the query matched no series (set on_empty: zero if that means 0)".into()
    }
}

/// A backend's config, validation and shared connection (a unit type per backend): what the
/// config loader and the run's [`Connections`] need, without knowing any backend.
pub trait Kind: 'static {
    /// `source.<name>:` as written.
    type Raw: DeserializeOwned + Debug;
    /// `source.<name>:` validated.
    type Settings: Clone + Debug + PartialEq + Send + Sync;
    /// `metrics.<m>.backend.<name>:` as written (and validated in place).
    type Query: DeserializeOwned + Clone + Debug + PartialEq + Send + Sync;
    /// What every metric of this backend shares in one run (a client, its pool and bound).
    type Client: Send + Sync + 'static;
    /// Whether one query can give several series (labels, tags, dimensions): `per_series`.
    const SERIES: bool;
    /// `source.<name>:` validated; `raw` is None when the config has none (a backend may
    /// still have settings from the environment, or defaults).
    fn settings(raw: Option<Self::Raw>, env: Env) -> Result<Option<Self::Settings>, Invalid>;
    /// Checks one metric's query against the settings; the field is relative to the query.
    fn validate(query: &Self::Query, settings: Option<&Self::Settings>) -> Result<(), Invalid>;
    /// The shared client: built once per run, on first use.
    fn connect(settings: Option<&Self::Settings>) -> Result<Self::Client, String>;
    /// One metric's running query on the shared client.
    fn metric(
        query: &Self::Query,
        metric: &MetricInfo,
        client: Arc<Self::Client>,
    ) -> Box<dyn Backend>;
    /// What the metric asks, in one line with no secret (tables, explanations).
    fn describe(query: &Self::Query) -> String;
    /// Whether [`Backend::range`] can give this query's baseline; if not, `baseline` takes
    /// `--samples` readings `--interval` apart, as for a probe.
    fn can_range(_query: &Self::Query) -> bool {
        true
    }
}

/// A config problem found by a backend: the field (relative to where the backend's config
/// sits) and what is wrong with it, with the fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    /// A problem with `field` (empty: the backend's block itself).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem with its field placed under `prefix`.
    pub fn under(self, prefix: &str) -> Invalid {
        let field = match self.field.as_str() {
            "" => prefix.to_string(),
            f if f.starts_with('[') => format!("{prefix}{f}"),
            f => format!("{prefix}.{f}"),
        };
        Invalid { field, ..self }
    }
}

/// What a backend metric needs of its metric's config.
#[derive(Debug, Clone)]
pub struct MetricInfo {
    pub name: String,
    pub per_series: bool,
    pub on_empty: OnEmpty,
}

/// What one instant query gave, before a metric's rules for empty results apply.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// One or more series, each `(series name, value)`; values may be NaN or ±Inf.
    Values(Vec<(String, f64)>),
    /// Nothing matched.
    Empty,
}

/// The window of a baseline: `[end − window, end]` every `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Unix milliseconds.
    pub end_ms: i64,
    pub window: Duration,
    pub step: Duration,
}

/// A range's values per series (steps without a point skipped, or 0 with `on_empty: zero`),
/// and how many NaN/Inf points were dropped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Range {
    pub series: BTreeMap<String, Vec<f64>>,
    pub dropped: usize,
}

/// A history's points per series: `(Unix ms, value)` in time order, NaN and ±Inf dropped
/// (counted), `on_empty` applied, and how many requests it took (every one sent, refused
/// or cut short included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    pub series: BTreeMap<String, Vec<(i64, f64)>>,
    pub dropped: usize,
    pub queries: usize,
}

/// The series name of a result row: `metric{a="x",b="y"}`, labels sorted, `__name__` dropped.
pub fn series_name<'a>(
    metric: &str,
    labels: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> String {
    let sorted: BTreeMap<_, _> = labels
        .into_iter()
        .filter(|(k, _)| *k != "__name__")
        .collect();
    if sorted.is_empty() {
        return metric.to_string();
    }
    let inner: Vec<String> = sorted
        .into_iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{metric}{{{}}}", inner.join(","))
}

type Client = Result<Arc<dyn Any + Send + Sync>, String>;

/// The backends' shared clients of one run, each built once, on first use: every metric and
/// every `control:` of a run shares one client (one pool, one `max_connections`) per backend.
pub struct Connections {
    settings: Settings,
    clients: Mutex<HashMap<&'static str, Client>>,
}

impl Connections {
    /// No client yet; they are built from `settings` when a metric first needs one.
    pub fn new(settings: &Settings) -> Connections {
        Connections {
            settings: settings.clone(),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The shared client of backend `K` (named `key`), built now if it is the first use.
    pub fn client<K: Kind>(
        &self,
        key: &'static str,
        settings: Option<&K::Settings>,
    ) -> Result<Arc<K::Client>, String> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let client = clients
            .entry(key)
            .or_insert_with(|| K::connect(settings).map(|c| Arc::new(c) as Arc<_>))
            .clone()?;
        client
            .downcast::<K::Client>()
            .map_err(|_| format!("internal error: two client types for backend {key}"))
    }

    /// How many clients this run has built (one per backend in use).
    pub fn built(&self) -> usize {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.len()
    }

    /// The validated `source:` settings the clients are built from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// Declares the `source:` settings, the `backend:` query enum and their one dispatch from a
/// single list of `key: Variant(Kind)`.
macro_rules! backends {
    ($($(#[$doc:meta])* $key:ident: $variant:ident($kind:ty),)*) => {
        $(pub mod $key;)*

        /// `source:` as written: one optional block per backend.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawSources {
            $($(#[$doc])* pub $key: Option<<$kind as Kind>::Raw>,)*
        }

        /// `source:` validated: each backend's settings, if it has any.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Settings {
            $($(#[$doc])* pub $key: Option<<$kind as Kind>::Settings>,)*
        }

        impl RawSources {
            /// Every backend's settings validated; the error's field is absolute.
            pub fn validate(self, env: Env) -> Result<Settings, Invalid> {
                Ok(Settings {
                    $($key: <$kind as Kind>::settings(self.$key, env)
                        .map_err(|e| e.under(concat!("source.", stringify!($key))))?,)*
                })
            }
        }

        /// One metric's query on a backend, as written in `metrics.<m>.backend`: the one
        /// list of every backend.
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        pub enum BackendQuery {
            $($(#[$doc])* $variant(Box<<$kind as Kind>::Query>),)*
        }

        impl BackendQuery {
            /// The backend's name as written (`web`).
            pub fn name(&self) -> &'static str {
                match self {
                    $(BackendQuery::$variant(_) => stringify!($key),)*
                }
            }

            /// Checks the query against the settings; the field is relative to
            /// `backend.<name>`.
            pub fn validate(&self, settings: &Settings) -> Result<(), Invalid> {
                match self {
                    $(BackendQuery::$variant(q) =>
                        <$kind as Kind>::validate(q, settings.$key.as_ref()),)*
                }
            }

            /// Whether the backend can give several series (`per_series`).
            pub fn has_series(&self) -> bool {
                match self {
                    $(BackendQuery::$variant(_) => <$kind as Kind>::SERIES,)*
                }
            }

            /// Whether a range query can give its baseline (else repeated samples).
            pub fn can_range(&self) -> bool {
                match self {
                    $(BackendQuery::$variant(q) => <$kind as Kind>::can_range(q),)*
                }
            }

            /// What the metric asks, in one line with no secret.
            pub fn describe(&self) -> String {
                match self {
                    $(BackendQuery::$variant(q) => <$kind as Kind>::describe(q),)*
                }
            }

            /// The running query of `metric`, on its backend's shared client.
            pub fn connect(
                &self,
                metric: &MetricInfo,
                connections: &Connections,
            ) -> Result<Box<dyn Backend>, String> {
                match self {
                    $(BackendQuery::$variant(q) => {
                        let settings = connections.settings.$key.as_ref();
                        let client = connections.client::<$kind>(stringify!($key), settings)?;
                        Ok(<$kind as Kind>::metric(q, metric, client))
                    })*
                }
            }
        }
    };
}

backends! {
    /// Prometheus and what speaks its HTTP API (Thanos, Mimir, VictoriaMetrics): PromQL.
    prometheus: Prometheus(prometheus::Prometheus),
    /// Any HTTP endpoint answering JSON: a JSONPath selects the number(s).
    web: Web(web::Web),
    /// Graphite (graphite-web's render API): a target.
    graphite: Graphite(graphite::Graphite),
    /// InfluxDB 1.x: InfluxQL over /query.
    influxdb: Influxdb(influxdb::InfluxDb),
    /// CloudWatch: GetMetricData, signed with SigV4.
    cloudwatch: Cloudwatch(cloudwatch::CloudWatch),
}
