//! Metric sources: each takes one tick's samples of one metric. I/O lives here, behind one
//! trait, [`Source`], implemented by every probe (one file each) and by a Prometheus query.
//!
//! Adding a probe = one file holding its config type (implementing [`Probe`]: validate, build)
//! and its running source (implementing [`Source`]), + one line in `probes!` below.

pub mod backend;
pub mod command;
pub mod http;
pub mod log;
pub mod prometheus;
mod reason;
mod spec;
pub mod system;
pub mod tcp;

pub use command::CommandProbe;
pub use http::{HttpProbe, HttpValue};
pub use spec::{Metric, MetricSource, PrometheusConfig};
pub use system::SystemMetric;
pub use tcp::{TcpProbe, TcpValue};

use crate::backends::{Connections, Settings};
use crate::model::{Reading, Sample};
use backend::BackendMetric;
use futures::future::BoxFuture;
use prometheus::QueryMetric;
use serde::Deserialize;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Takes one tick's samples of one metric. Never panics and never returns an error: every
/// failure is a [`Reading::Down`] (the target answered badly) or [`Reading::Missing`] (could
/// not measure), with a one-line reason.
pub trait Source: Send + Sync {
    /// Samples `metric` now: one sample for a probe or a plain query, one per series (named
    /// `metric{labels}`) for a `per_series` query. Must finish within [`Source::timeout`].
    fn sample<'a>(&'a self, metric: &'a str) -> BoxFuture<'a, Vec<Sample>>;
    /// Upper bound on how long `sample` may take (the tick runner enforces it as well).
    fn timeout(&self) -> Duration;
    /// What the latest sample knew about its series beyond their readings (a Prometheus
    /// alert's values, rendered summaries and labels), for the gate. Most sources: nothing.
    fn notes(&self) -> Vec<(String, crate::gate::SeriesNote)> {
        Vec::new()
    }
}

/// A probe's config (`metrics.<name>.probe.<kind>`): checked once when the config loads, then
/// built into its running [`Source`].
pub trait Probe {
    /// Checks the spec; a one-line message naming the sub-field (`http.url …`) on error.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
    /// The running source.
    fn build(&self, shared: &Shared) -> Box<dyn Source>;
    /// The unit of its readings, for chart axes (`ms`, `%`); None when it has none.
    fn unit(&self) -> Option<&'static str> {
        None
    }
}

/// What the sources of one run share: one system sampler (CPU and network rates are computed
/// between consecutive ticks) and one client per metric backend (one connection pool each).
/// Built once per run: every metric and every `control:` of the run shares it.
pub struct Shared {
    /// Reads this machine for every `system` probe.
    pub system: Arc<system::SystemSampler>,
    /// The backends' clients, each built on first use.
    pub backends: Connections,
}

impl Shared {
    /// The shared state for a config's `source:` settings.
    pub fn new(settings: &Settings) -> Shared {
        Shared {
            system: Arc::new(system::SystemSampler::new()),
            backends: Connections::new(settings),
        }
    }
}

/// Declares [`ProbeSpec`] and its one dispatch from a single list of `Variant(Spec)`.
macro_rules! probes {
    ($($(#[$doc:meta])* $variant:ident($spec:ty),)*) => {
        /// A local probe as written in `metrics.<name>.probe`: the one list of every probe.
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        pub enum ProbeSpec {
            $($(#[$doc])* $variant($spec),)*
        }

        impl ProbeSpec {
            /// The probe's config behind the spec: the one dispatch over every probe.
            pub fn probe(&self) -> &dyn Probe {
                match self {
                    $(ProbeSpec::$variant(p) => p,)*
                }
            }
        }
    };
}

probes! {
    /// One request; up, status or latency.
    Http(http::HttpProbe),
    /// One connect; up or connect time.
    Tcp(tcp::TcpProbe),
    /// argv list; stdout must be one number.
    Command(command::CommandProbe),
    /// Readings of this machine.
    System(system::SystemMetric),
    /// Lines matching patterns since the previous sample.
    Log(log::LogProbe),
}

impl ProbeSpec {
    /// Checks the probe's config; a one-line message on error.
    pub fn validate(&self) -> Result<(), String> {
        self.probe().validate()
    }
}

/// The timeout of a probe that names none.
pub(crate) fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

/// A probe's one reading as this tick's samples of `metric` (what every probe's `sample` is).
pub(crate) fn one_reading<'a>(
    metric: &'a str,
    reading: impl Future<Output = Reading> + Send + 'a,
) -> BoxFuture<'a, Vec<Sample>> {
    Box::pin(async move { vec![Sample::new(metric, reading.await)] })
}

/// Builds the running source of one metric — its probe, or its query on its backend's shared
/// client — or says why it has none (the metric is then missing every tick).
pub fn build(metric: &Metric, shared: &Shared) -> Result<Box<dyn Source>, String> {
    if let MetricSource::Probe(p) = &metric.source {
        return Ok(p.probe().build(shared));
    }
    if metric.alert.is_some() {
        // A Prometheus alert keeps per-series `for` state and notes: its own source.
        let settings = shared.backends.settings().prometheus.as_ref();
        let client = shared
            .backends
            .client::<crate::backends::prometheus::Prometheus>("prometheus", settings)?;
        return QueryMetric::new(metric, client)
            .map(|q| Box::new(q) as Box<dyn Source>)
            .ok_or_else(|| "not a query".into());
    }
    let query = metric.source.backend().ok_or("not a query")?;
    let backend = query.connect(&metric.info(), &shared.backends)?;
    Ok(Box::new(BackendMetric::new(metric.info(), backend)))
}

/// Missing samples of a backend's series on stderr: once when they start or their reason
/// changes, and once when data returns (a down server logs once, not every tick).
#[derive(Default)]
pub struct MissingLog {
    /// Last reason logged and missing samples since, per series.
    logged: std::sync::Mutex<std::collections::HashMap<String, (String, u32)>>,
}

impl MissingLog {
    /// Logs what `samples` start, change or end.
    pub fn log(&self, samples: &[crate::model::Sample]) {
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        for s in samples {
            match &s.reading {
                crate::model::Reading::Missing(why) => {
                    let entry = logged.entry(s.series.clone()).or_default();
                    if entry.0 != *why {
                        errln!("warning: {}: missing sample: {why}", s.series);
                        entry.0 = why.clone();
                    }
                    entry.1 += 1;
                }
                _ => {
                    if let Some((_, n)) = logged.remove(&s.series) {
                        errln!("{}: data again after {n} missing sample(s)", s.series);
                    }
                }
            }
        }
    }
}
