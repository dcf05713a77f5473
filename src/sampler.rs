//! Takes one tick: every metric sampled concurrently, each bounded by its own timeout.

use crate::config::{Config, Metric, MetricSource};
use crate::model::{Reading, Sample};
use crate::sources::prometheus::{PromClient, QueryMetric};
use crate::sources::{self, system::SystemSampler, Source};
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

/// A metric's source, or why it has none.
enum Slot {
    Source(Box<dyn Source>),
    /// A PromQL query: one sample, or one per series with `per_series`.
    Query(QueryMetric),
    Unavailable(String),
}

/// The running sources of one config.
pub struct Sampler {
    slots: Vec<(String, Slot)>,
}

impl Sampler {
    /// Builds a source for every metric of the config.
    pub fn new(config: &Config) -> Sampler {
        Sampler::of(config, |_| true)
    }

    /// Builds a source for the metrics of the config that `keep` selects. Query metrics share
    /// one Prometheus client (one connection pool).
    pub fn of(config: &Config, keep: impl Fn(&Metric) -> bool) -> Sampler {
        let system = Arc::new(SystemSampler::new());
        let client = config
            .prometheus
            .as_ref()
            .map(|p| PromClient::new(p).map(Arc::new));
        let slots = config
            .metrics
            .iter()
            .filter(|m| keep(m))
            .map(|m| {
                let slot = match (&m.source, &client) {
                    (MetricSource::Probe(p), _) => Slot::Source(sources::build(p, &system)),
                    (MetricSource::Query(_), Some(Ok(c))) => QueryMetric::new(m, Arc::clone(c))
                        .map(Slot::Query)
                        .unwrap_or_else(|| Slot::Unavailable("not a query".into())),
                    (MetricSource::Query(_), Some(Err(e))) => Slot::Unavailable(e.clone()),
                    (MetricSource::Query(_), None) => {
                        Slot::Unavailable("no source.prometheus configured".into())
                    }
                };
                (m.name.clone(), slot)
            })
            .collect();
        Sampler { slots }
    }

    /// Number of metrics sampled per tick.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there is nothing to sample.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// What the latest tick told about its series beyond their readings (alert series:
    /// value, rendered summary, labels), for [`crate::gate::Gate::set_notes`].
    pub fn notes(&self) -> Vec<(String, crate::gate::SeriesNote)> {
        self.slots
            .iter()
            .flat_map(|(_, slot)| match slot {
                Slot::Query(q) => q.notes(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Samples every metric once, concurrently. A source that overruns its timeout (plus a
    /// small grace) yields a missing reading; it never holds up the tick beyond that.
    /// A per-series query metric yields one sample per series.
    pub async fn take(&self) -> Vec<Sample> {
        let futures = self.slots.iter().map(|(name, slot)| async move {
            let reading = match slot {
                Slot::Unavailable(why) => Reading::Missing(why.clone()),
                Slot::Source(src) => {
                    let limit = src.timeout() + Duration::from_millis(250);
                    match tokio::time::timeout(limit, src.sample()).await {
                        Ok(r) => r,
                        Err(_) => Reading::Missing(format!(
                            "no answer within {}",
                            humantime::format_duration(limit)
                        )),
                    }
                }
                Slot::Query(q) => {
                    let limit = q.timeout() + Duration::from_millis(250);
                    match tokio::time::timeout(limit, q.sample()).await {
                        Ok(samples) => return samples,
                        Err(_) => Reading::Missing(format!(
                            "no answer within {}",
                            humantime::format_duration(limit)
                        )),
                    }
                }
            };
            vec![Sample::new(name, reading)]
        });
        join_all(futures).await.into_iter().flatten().collect()
    }
}
