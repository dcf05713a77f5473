//! Metric sources: each takes one sample of one metric. I/O lives here, behind one trait.
//!
//! Adding a probe = one file implementing [`Source`] + one arm in [`build`].

pub mod command;
pub mod http;
pub mod log;
pub mod prometheus;
pub mod system;
pub mod tcp;

use crate::config::dur;
use crate::model::Reading;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Takes one sample of one metric. Never panics and never returns an error: every failure
/// is a [`Reading::Down`] (the target answered badly) or [`Reading::Missing`] (could not
/// measure), with a one-line reason.
pub trait Source: Send + Sync {
    /// Takes one sample now. Must finish within the probe's own timeout.
    fn sample(&self) -> BoxFuture<'_, Reading>;
    /// Upper bound on how long `sample` may take (the tick runner enforces it as well).
    fn timeout(&self) -> Duration;
}

/// A local probe as written in `metrics.<name>.probe`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProbeSpec {
    Http(HttpProbe),
    Tcp(TcpProbe),
    /// argv list; stdout must be one number.
    Command(CommandProbe),
    System(SystemMetric),
    /// Lines matching patterns since the previous sample.
    Log(log::LogProbe),
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

/// `probe: { http: { url, expect_status, timeout, value, method, headers } }`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    pub url: String,
    /// Status that counts as up; any 2xx when absent.
    #[serde(default)]
    pub expect_status: Option<u16>,
    #[serde(default = "default_timeout", deserialize_with = "dur::duration")]
    pub timeout: Duration,
    /// Which number the sample carries.
    #[serde(default)]
    pub value: HttpValue,
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_method() -> String {
    "GET".into()
}

/// Number an http probe reports; a failed request is always a `down` reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HttpValue {
    /// 1 when the expected status came back.
    #[default]
    Up,
    /// The HTTP status code.
    Status,
    /// Time to the full response, in milliseconds.
    LatencyMs,
}

/// `probe: { tcp: { address, timeout, value } }`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    /// `host:port`
    pub address: String,
    #[serde(default = "default_timeout", deserialize_with = "dur::duration")]
    pub timeout: Duration,
    #[serde(default)]
    pub value: TcpValue,
}

/// Number a tcp probe reports; a refused or timed-out connect is a `down` reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TcpValue {
    #[default]
    Up,
    ConnectMs,
}

/// `probe: { command: ["./queue-depth.sh", "--json"] }` or
/// `probe: { command: { argv: [...], timeout: 10s } }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum CommandProbe {
    Argv(Vec<String>),
    Full {
        argv: Vec<String>,
        #[serde(default = "default_timeout", deserialize_with = "dur::duration")]
        timeout: Duration,
    },
}

impl CommandProbe {
    pub fn argv(&self) -> &[String] {
        match self {
            CommandProbe::Argv(a) | CommandProbe::Full { argv: a, .. } => a,
        }
    }
    pub fn timeout(&self) -> Duration {
        match self {
            CommandProbe::Argv(_) => default_timeout(),
            CommandProbe::Full { timeout, .. } => *timeout,
        }
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

/// Builds the running source for one probe. System probes share one sampler so CPU and
/// network rates are computed between consecutive ticks.
pub fn build(spec: &ProbeSpec, system: &Arc<system::SystemSampler>) -> Box<dyn Source> {
    match spec {
        ProbeSpec::Http(p) => Box::new(http::HttpSource::new(p.clone())),
        ProbeSpec::Tcp(p) => Box::new(tcp::TcpSource::new(p.clone())),
        ProbeSpec::Command(p) => Box::new(command::CommandSource::new(p.clone())),
        ProbeSpec::System(m) => Box::new(system::SystemSource::new(*m, Arc::clone(system))),
        ProbeSpec::Log(p) => Box::new(log::LogSource::new(p.clone())),
    }
}
