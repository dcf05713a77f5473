//! Takes one tick: every metric sampled concurrently, each bounded by its own timeout.

use crate::config::{Config, Metric};
use crate::model::{Reading, Sample};
use crate::sources::{self, Shared, Source};
use futures::future::join_all;
use std::time::Duration;

/// A metric's running source, or why it has none.
type Slot = Result<Box<dyn Source>, String>;

/// The running sources of one config: each metric's source, or why it has none.
pub struct Sampler {
    slots: Vec<(String, Slot)>,
    /// The sources of the metrics' `control:` series (the stable version), for `watch`.
    controls: Vec<(String, Slot)>,
}

impl Sampler {
    /// Builds a source for every metric of the config.
    pub fn new(config: &Config) -> Sampler {
        Sampler::of(config, |_| true)
    }

    /// Builds a source for the metrics of the config that `keep` selects. System probes share
    /// one sampler and query metrics one Prometheus client (one connection pool).
    pub fn of(config: &Config, keep: impl Fn(&Metric) -> bool) -> Sampler {
        let shared = Shared::new(config.prometheus.as_ref());
        let slots = config
            .metrics
            .iter()
            .filter(|m| keep(m))
            .map(|m| (m.name.clone(), sources::build(m, &shared)))
            .collect();
        Sampler {
            slots,
            controls: Vec::new(),
        }
    }

    /// Builds a source for every metric of the config and for every metric's `control:`,
    /// sampled over the same ticks (`watch`). Control samples come out marked `control`.
    pub fn with_controls(config: &Config) -> Sampler {
        let shared = Shared::new(config.prometheus.as_ref());
        let mut sampler = Sampler::new(config);
        sampler.controls = config
            .metrics
            .iter()
            .filter_map(|m| {
                let source = m.control.clone()?;
                let stable = Metric {
                    source,
                    alert: None,
                    ..m.clone()
                };
                Some((m.name.clone(), sources::build(&stable, &shared)))
            })
            .collect();
        sampler
    }

    /// What the latest tick told about its series beyond their readings (alert series:
    /// value, rendered summary, labels), for [`crate::gate::Gate::set_notes`].
    pub fn notes(&self) -> Vec<(String, crate::gate::SeriesNote)> {
        self.slots
            .iter()
            .filter_map(|(_, slot)| slot.as_ref().ok())
            .flat_map(|src| src.notes())
            .collect()
    }

    /// Whether there is nothing to sample.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Samples every metric once, concurrently. A source that overruns its timeout (plus a
    /// small grace) yields a missing reading; it never holds up the tick beyond that.
    /// A per-series query metric yields one sample per series.
    pub async fn take(&self) -> Vec<Sample> {
        self.take_by(None).await
    }

    /// As [`Sampler::take`], but nothing waits past `deadline` (the next tick of a watch):
    /// a sample that has not arrived by then is missing for this tick.
    pub async fn take_by(&self, deadline: Option<tokio::time::Instant>) -> Vec<Sample> {
        let canary = self.slots.iter().map(|(n, s)| (n, s, false));
        let control = self.controls.iter().map(|(n, s)| (n, s, true));
        let futures = canary
            .chain(control)
            .map(|(name, slot, control)| async move {
                let bounded = |limit: Duration| {
                    let own = tokio::time::Instant::now() + limit;
                    match deadline {
                        Some(d) if d < own => (d, "no answer by the next tick".to_string()),
                        _ => (
                            own,
                            format!("no answer within {}", humantime::format_duration(limit)),
                        ),
                    }
                };
                let reading = match slot {
                    Err(why) => Reading::Missing(why.clone()),
                    Ok(src) => {
                        let (until, why) = bounded(src.timeout() + Duration::from_millis(250));
                        match tokio::time::timeout_at(until, src.sample(name)).await {
                            Ok(samples) => {
                                let mark = |s: Sample| Sample { control, ..s };
                                return samples.into_iter().map(mark).collect();
                            }
                            Err(_) => Reading::Missing(why),
                        }
                    }
                };
                vec![Sample {
                    control,
                    ..Sample::new(name, reading)
                }]
            });
        join_all(futures).await.into_iter().flatten().collect()
    }

    /// The names of the metrics sampled, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|(n, _)| n.as_str())
    }
}
