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
    /// What every source of the run shares: built once, so metrics and controls share one
    /// client (one pool, one `max_connections`) per backend.
    shared: Shared,
}

impl Sampler {
    /// Builds a source for every metric of the config.
    pub fn new(config: &Config) -> Sampler {
        Sampler::of(config, |_| true)
    }

    /// Builds a source for the metrics of the config that `keep` selects. System probes share
    /// one sampler and the metrics of one backend one client (one connection pool).
    pub fn of(config: &Config, keep: impl Fn(&Metric) -> bool) -> Sampler {
        Sampler::build(config, keep, false)
    }

    /// Builds a source for every metric of the config and for every metric's `control:`,
    /// sampled over the same ticks (`watch`). Control samples come out marked `control`.
    pub fn with_controls(config: &Config) -> Sampler {
        Sampler::build(config, |_| true, true)
    }

    fn build(config: &Config, keep: impl Fn(&Metric) -> bool, controls: bool) -> Sampler {
        let shared = Shared::new(&config.backends);
        let kept = || config.metrics.iter().filter(|m| keep(m));
        let slots = kept()
            .map(|m| (m.name.clone(), sources::build(m, &shared)))
            .collect();
        let controls = kept()
            .filter(|_| controls)
            .filter_map(|m| {
                let stable = Metric {
                    source: m.control.clone()?,
                    alert: None,
                    ..m.clone()
                };
                Some((m.name.clone(), sources::build(&stable, &shared)))
            })
            .collect();
        Sampler {
            slots,
            controls,
            shared,
        }
    }

    /// How many backend clients (connection pools) this sampler's sources share.
    pub fn pools(&self) -> usize {
        self.shared.backends.built()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Requests in flight now, the most ever in flight, and all requests served.
    #[derive(Default)]
    struct Load {
        now: AtomicUsize,
        peak: AtomicUsize,
        served: AtomicUsize,
    }

    /// A Prometheus API stand-in on 127.0.0.1 that answers every query `1` after `delay`,
    /// counting the requests in flight.
    async fn slow_prometheus(delay: Duration) -> (String, Arc<Load>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let load = Arc::new(Load::default());
        let shared = Arc::clone(&load);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let load = Arc::clone(&shared);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {
                        let now = load.now.fetch_add(1, Ordering::SeqCst) + 1;
                        load.peak.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}"#;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        load.now.fetch_sub(1, Ordering::SeqCst);
                        load.served.fetch_add(1, Ordering::SeqCst);
                        let _ = conn.write_all(format!("{head}{body}").as_bytes()).await;
                    }
                });
            }
        });
        (url, load)
    }

    /// A metric and its `control:` share the run's one Prometheus client: with
    /// `max_connections: 1` their queries take turns (two clients, as the sampler once built,
    /// would have run them side by side and doubled the bound).
    #[tokio::test]
    async fn metric_and_control_share_one_pool_and_its_bound() {
        let (url, load) = slow_prometheus(Duration::from_millis(300)).await;
        let yaml = format!(
            "source:\n  prometheus: {{ url: '{url}', max_connections: 1, retries: 0 }}\n\
             metrics:\n  errors:\n    query: up\n    control: {{ query: up }}\n"
        );
        let config = crate::config::parse_text(&yaml, None, &|_| None).expect("config");
        let sampler = Sampler::with_controls(&config);
        assert_eq!(
            sampler.pools(),
            1,
            "one client for the metric and its control"
        );
        let samples = sampler.take().await;
        assert_eq!(samples.len(), 2, "{samples:?}");
        for s in &samples {
            assert_eq!(s.reading, Reading::Value(1.0), "{s:?}");
        }
        assert!(samples.iter().any(|s| s.control), "{samples:?}");
        assert_eq!(load.served.load(Ordering::SeqCst), 2);
        assert_eq!(
            load.peak.load(Ordering::SeqCst),
            1,
            "max_connections: 1 held"
        );
    }

    /// The same for a `web` metric and its `web` control: one client, one bound.
    #[tokio::test]
    async fn web_metric_and_control_share_one_client_and_its_bound() {
        let (url, load) = slow_prometheus(Duration::from_millis(300)).await;
        let web = format!(
            "{{ web: {{ url: '{url}/api/v1/query?query=up', json_path: '$.data.result[0].value[1]' }} }}"
        );
        let yaml = format!(
            "source:\n  web: {{ max_connections: 1 }}\nmetrics:\n  errors:\n    \
             backend: {web}\n    control: {{ backend: {web} }}\n"
        );
        let config = crate::config::parse_text(&yaml, None, &|_| None).expect("config");
        let sampler = Sampler::with_controls(&config);
        assert_eq!(
            sampler.pools(),
            1,
            "one client for the metric and its control"
        );
        let samples = sampler.take().await;
        assert_eq!(samples.len(), 2, "{samples:?}");
        for s in &samples {
            assert_eq!(s.reading, Reading::Value(1.0), "{s:?}");
        }
        assert_eq!(load.served.load(Ordering::SeqCst), 2);
        assert_eq!(
            load.peak.load(Ordering::SeqCst),
            1,
            "max_connections: 1 held"
        );
    }
}
