//! System probes: CPU, memory, disk and network readings of this machine (sysinfo).
//!
//! One [`SystemSampler`] is shared by every system source of a run, so rates (CPU usage,
//! network bytes per second) are computed between consecutive samples. The blocking sysinfo
//! refreshes run on tokio's blocking pool; the mutex is never held across an `.await`.
//! Memory is reported in MB = 10^6 bytes.

use super::reason::{timed_out, GRACE};
use super::{one_reading, Probe, Shared, Source};
use crate::model::{Reading, Sample};
use futures::future::BoxFuture;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, System,
    MINIMUM_CPU_UPDATE_INTERVAL,
};

/// Own deadline of a system sample; the first CPU sample alone needs two refreshes.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Margin over sysinfo's minimum CPU interval, so its own check never skips our refresh.
const CPU_SLACK: Duration = Duration::from_millis(20);

/// Shortest interval a network rate is computed over; the first sample waits this long.
const NET_INTERVAL: Duration = Duration::from_millis(200);

/// Shared sampler of this machine's CPU, memory, disk and network counters.
pub struct SystemSampler {
    state: Mutex<State>,
}

/// sysinfo handles plus what rates need from the previous sample.
struct State {
    system: System,
    disks: Disks,
    networks: Networks,
    /// When CPU counters were last refreshed, and the usage computed then (none while priming).
    cpu_refreshed: Option<Instant>,
    cpu_usage: Option<f64>,
    /// Per-interface rx+tx totals at the last network sample, and the rate computed then.
    net_totals: HashMap<String, u64>,
    net_sampled: Option<Instant>,
    net_rate: Option<f64>,
}

/// One try at a rate: a number, or "come back after this long" while the counters prime.
enum Step {
    Ready(f64),
    Wait(Duration),
}

impl SystemSampler {
    /// Creates an empty sampler; nothing is read until the first sample.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                system: System::new(),
                disks: Disks::new(),
                networks: Networks::new(),
                cpu_refreshed: None,
                cpu_usage: None,
                net_totals: HashMap::new(),
                net_sampled: None,
                net_rate: None,
            }),
        }
    }

    /// Takes one reading of `metric`; failures are `missing` with a reason.
    pub async fn read(self: &Arc<Self>, metric: SystemMetric) -> Reading {
        let result = match metric {
            SystemMetric::CpuPercent => self.rate(State::cpu_step).await,
            SystemMetric::NetBytesPerSec => self.rate(State::net_step).await,
            SystemMetric::MemoryPercent => self.with_state(|s| s.memory(true)).await,
            SystemMetric::MemoryMb => self.with_state(|s| s.memory(false)).await,
            SystemMetric::DiskPercent => self.with_state(State::disk_percent).await,
        };
        match result {
            Ok(v) if v.is_finite() => Reading::Value(v),
            Ok(v) => Reading::Missing(format!("sysinfo returned {v}")),
            Err(reason) => Reading::Missing(reason),
        }
    }

    /// Runs a rate step until it is ready, sleeping (without the lock) while it primes.
    async fn rate(self: &Arc<Self>, step: fn(&mut State, Instant) -> Step) -> Result<f64, String> {
        // Two waits cover priming plus one concurrent sampler priming at the same time.
        for _ in 0..3 {
            match self
                .with_state(move |s| Ok(step(s, Instant::now())))
                .await?
            {
                Step::Ready(v) => return Ok(v),
                Step::Wait(d) => tokio::time::sleep(d).await,
            }
        }
        Err("counters did not settle".into())
    }

    /// Runs `f` on the locked state on the blocking pool.
    async fn with_state<T, F>(self: &Arc<Self>, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T, String> + Send + 'static,
    {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // The state is only caches and counters: a panic elsewhere leaves it usable.
            let mut state = this.state.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut state)
        })
        .await
        .map_err(|e| format!("system sampler failed: {e}"))?
    }
}

impl Default for SystemSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    /// Global CPU usage since the previous refresh; sysinfo needs two refreshes at least
    /// `MINIMUM_CPU_UPDATE_INTERVAL` apart.
    fn cpu_step(&mut self, now: Instant) -> Step {
        if let Some(at) = self.cpu_refreshed {
            let since = now.saturating_duration_since(at);
            if since < MINIMUM_CPU_UPDATE_INTERVAL {
                // Refreshed moments ago (another source this tick, or priming): reuse it.
                return match self.cpu_usage {
                    Some(v) => Step::Ready(v),
                    None => Step::Wait(MINIMUM_CPU_UPDATE_INTERVAL - since + CPU_SLACK),
                };
            }
        }
        let primed = self.cpu_refreshed.is_some();
        self.system
            .refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        // sysinfo silently skips a refresh closer than the minimum interval to its own
        // timestamp, taken inside the call: stamp ours after it and wait with some slack.
        self.cpu_refreshed = Some(Instant::now());
        if !primed {
            return Step::Wait(MINIMUM_CPU_UPDATE_INTERVAL + CPU_SLACK);
        }
        let usage = f64::from(self.system.global_cpu_usage()).clamp(0.0, 100.0);
        self.cpu_usage = Some(usage);
        Step::Ready(usage)
    }

    /// Received + transmitted bytes per second over all interfaces since the last sample.
    fn net_step(&mut self, now: Instant) -> Step {
        if let Some(at) = self.net_sampled {
            let since = now.saturating_duration_since(at);
            if since < NET_INTERVAL {
                return match self.net_rate {
                    Some(v) => Step::Ready(v),
                    None => Step::Wait(NET_INTERVAL - since),
                };
            }
        }
        self.networks.refresh(true);
        let totals: HashMap<String, u64> = self
            .networks
            .iter()
            .map(|(name, data)| {
                let total = data
                    .total_received()
                    .saturating_add(data.total_transmitted());
                (name.clone(), total)
            })
            .collect();
        // Per interface, so an interface that appears, vanishes or resets its counters
        // neither invents traffic nor hides the others'.
        let delta: u64 = totals
            .iter()
            .filter_map(|(name, total)| Some(total.saturating_sub(*self.net_totals.get(name)?)))
            .sum();
        let previous = self.net_sampled.replace(now);
        self.net_totals = totals;
        match previous {
            None => Step::Wait(NET_INTERVAL),
            Some(at) => {
                let secs = now.saturating_duration_since(at).as_secs_f64();
                let rate = delta as f64 / secs;
                self.net_rate = Some(rate);
                Step::Ready(rate)
            }
        }
    }

    /// Used RAM, in percent of total or in MB (10^6 bytes).
    fn memory(&mut self, percent: bool) -> Result<f64, String> {
        self.system
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        let total = self.system.total_memory();
        let used = self.system.used_memory();
        if total == 0 {
            return Err("total memory is unknown".into());
        }
        Ok(if percent {
            used as f64 / total as f64 * 100.0
        } else {
            used as f64 / 1e6
        })
    }

    /// Percent used of the filesystem mounted at `/`, else of the fullest one listed.
    fn disk_percent(&mut self) -> Result<f64, String> {
        self.disks
            .refresh_specifics(true, DiskRefreshKind::nothing().with_storage());
        let used_percent = |d: &sysinfo::Disk| {
            let total = d.total_space();
            let used = total.saturating_sub(d.available_space());
            used as f64 / total as f64 * 100.0
        };
        let sized = || self.disks.iter().filter(|d| d.total_space() > 0);
        if let Some(root) = sized().find(|d| d.mount_point() == Path::new("/")) {
            return Ok(used_percent(root));
        }
        sized()
            .map(used_percent)
            .max_by(f64::total_cmp)
            .ok_or_else(|| "no mounted filesystem found".into())
    }
}

/// `probe: { system: cpu_percent }` — readings of this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemMetric {
    CpuPercent,
    MemoryPercent,
    MemoryMb,
    /// Fullest mounted filesystem, in percent used (root filesystem when it can be found).
    DiskPercent,
    /// Received + transmitted bytes per second over all interfaces since the last sample.
    NetBytesPerSec,
}

impl Probe for SystemMetric {
    fn unit(&self) -> Option<&'static str> {
        Some(match self {
            SystemMetric::CpuPercent | SystemMetric::MemoryPercent | SystemMetric::DiskPercent => {
                "%"
            }
            SystemMetric::MemoryMb => "MB",
            SystemMetric::NetBytesPerSec => "bytes/s",
        })
    }

    /// System probes share one sampler so CPU and network rates are computed between
    /// consecutive ticks.
    fn build(&self, shared: &Shared) -> Box<dyn Source> {
        Box::new(SystemSource::new(*self, Arc::clone(&shared.system)))
    }
}

/// One system metric, read through the shared sampler.
pub struct SystemSource {
    metric: SystemMetric,
    sampler: Arc<SystemSampler>,
}

impl SystemSource {
    /// Creates the source; `sampler` is shared by all system sources of a run.
    pub fn new(metric: SystemMetric, sampler: Arc<SystemSampler>) -> Self {
        Self { metric, sampler }
    }
}

impl SystemSource {
    /// Takes one reading now, within the probe's own timeout.
    pub fn read(&self) -> BoxFuture<'_, Reading> {
        Box::pin(async move {
            match tokio::time::timeout(SAMPLE_TIMEOUT, self.sampler.read(self.metric)).await {
                Ok(reading) => reading,
                Err(_) => Reading::Missing(timed_out(SAMPLE_TIMEOUT)),
            }
        })
    }
}

impl Source for SystemSource {
    fn sample<'a>(&'a self, metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        one_reading(metric, self.read())
    }

    fn timeout(&self) -> Duration {
        SAMPLE_TIMEOUT + GRACE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sample(metric: SystemMetric, sampler: &Arc<SystemSampler>) -> f64 {
        match SystemSource::new(metric, Arc::clone(sampler)).read().await {
            Reading::Value(v) => {
                assert!(v.is_finite(), "{metric:?}: {v}");
                v
            }
            other => panic!("{metric:?}: expected a value, got {other:?}"),
        }
    }

    fn assert_percent(metric: SystemMetric, v: f64) {
        assert!((0.0..=100.0).contains(&v), "{metric:?}: {v}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cpu_percent_is_a_percentage_first_and_later() {
        let sampler = Arc::new(SystemSampler::new());
        let m = SystemMetric::CpuPercent;
        assert_percent(m, sample(m, &sampler).await);
        tokio::time::sleep(MINIMUM_CPU_UPDATE_INTERVAL).await;
        assert_percent(m, sample(m, &sampler).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cpu_percent_sees_a_busy_thread() {
        // A spinning thread keeps at least part of one CPU busy during the first sample,
        // which is measured over MINIMUM_CPU_UPDATE_INTERVAL: the usage cannot be zero.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spin = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        };
        let sampler = Arc::new(SystemSampler::new());
        let m = SystemMetric::CpuPercent;
        let busy = sample(m, &sampler).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        spin.join().unwrap();
        assert_percent(m, busy);
        assert!(busy > 0.0, "{busy}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_samples_share_the_priming() {
        let sampler = Arc::new(SystemSampler::new());
        let (cpu1, cpu2, net1, net2) = tokio::join!(
            sample(SystemMetric::CpuPercent, &sampler),
            sample(SystemMetric::CpuPercent, &sampler),
            sample(SystemMetric::NetBytesPerSec, &sampler),
            sample(SystemMetric::NetBytesPerSec, &sampler),
        );
        assert_percent(SystemMetric::CpuPercent, cpu1);
        assert_percent(SystemMetric::CpuPercent, cpu2);
        assert!(net1 >= 0.0 && net2 >= 0.0, "{net1} {net2}");
    }

    #[tokio::test]
    async fn memory_is_in_range() {
        let sampler = Arc::new(SystemSampler::new());
        let m = SystemMetric::MemoryPercent;
        assert_percent(m, sample(m, &sampler).await);
        let mb = sample(SystemMetric::MemoryMb, &sampler).await;
        assert!(mb > 0.0, "{mb}");
    }

    #[tokio::test]
    async fn disk_percent_is_in_range() {
        let sampler = Arc::new(SystemSampler::new());
        let m = SystemMetric::DiskPercent;
        assert_percent(m, sample(m, &sampler).await);
    }

    #[tokio::test]
    async fn net_bytes_per_sec_is_a_rate() {
        let sampler = Arc::new(SystemSampler::new());
        let m = SystemMetric::NetBytesPerSec;
        let first = sample(m, &sampler).await;
        assert!(first >= 0.0, "{first}");
        tokio::time::sleep(NET_INTERVAL).await;
        let second = sample(m, &sampler).await;
        assert!(second >= 0.0, "{second}");
    }
}
