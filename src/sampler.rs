//! Takes one tick: every metric sampled concurrently, each bounded by its own timeout.

use crate::config::{Config, MetricSource};
use crate::model::{Reading, Sample};
use crate::sources::{self, system::SystemSampler, Source};
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

/// A metric's source, or why it has none.
enum Slot {
    Source(Box<dyn Source>),
    Unavailable(String),
}

/// The running sources of one config.
pub struct Sampler {
    slots: Vec<(String, Slot)>,
}

impl Sampler {
    /// Builds a source for every metric of the config.
    pub fn new(config: &Config) -> Sampler {
        let system = Arc::new(SystemSampler::new());
        let slots = config
            .metrics
            .iter()
            .map(|m| {
                let slot = match &m.source {
                    MetricSource::Probe(p) => Slot::Source(sources::build(p, &system)),
                    MetricSource::Query(_) => Slot::Unavailable(
                        "the Prometheus source is not available in this build".into(),
                    ),
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

    /// Samples every metric once, concurrently. A source that overruns its timeout (plus a
    /// small grace) yields a missing reading; it never holds up the tick beyond that.
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
            };
            Sample::new(name, reading)
        });
        join_all(futures).await
    }
}
