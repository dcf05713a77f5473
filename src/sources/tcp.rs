//! TCP probe: can we open a connection to `host:port` within the timeout?
//!
//! Also home of the small reason helpers the other probes share (`io_reason`, `timed_out`),
//! so every probe words the same failure the same way.

use super::{default_timeout, one_reading, Probe, Shared, Source};
use crate::model::{Reading, Sample};
use crate::units as dur;
use futures::future::BoxFuture;
use serde::Deserialize;
use std::io;
use std::time::{Duration, Instant};
use tokio::net::{lookup_host, TcpStream};

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

impl Probe for TcpProbe {
    fn unit(&self) -> Option<&'static str> {
        Some(match self.value {
            TcpValue::Up => "1 = up",
            TcpValue::ConnectMs => "ms",
        })
    }

    fn validate(&self) -> Result<(), String> {
        if !self.address.contains(':') {
            return Err(format!("tcp.address `{}` must be host:port", self.address));
        }
        Ok(())
    }

    fn build(&self, _shared: &Shared) -> Box<dyn Source> {
        Box::new(TcpSource::new(self.clone()))
    }
}

/// Slack on top of a probe's own deadline, so the probe's reason ("timed out after 2s")
/// reaches the caller before an outer runner's deadline fires.
pub(super) const GRACE: Duration = Duration::from_millis(250);

/// Longest reason we keep; reasons are one short line.
const MAX_REASON: usize = 200;

/// Probes one TCP address per sample.
pub struct TcpSource {
    spec: TcpProbe,
}

impl TcpSource {
    /// Creates the probe; nothing is resolved or connected until `sample`.
    pub fn new(spec: TcpProbe) -> Self {
        Self { spec }
    }

    async fn connect(&self) -> Reading {
        let address = self.spec.address.as_str();
        let addrs: Vec<_> = match lookup_host(address).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => return Reading::Down(format!("cannot resolve {address}: {}", io_reason(&e))),
        };
        if addrs.is_empty() {
            return Reading::Down(format!("cannot resolve {address}: no addresses"));
        }
        // Connect time only: name resolution is excluded so the number is the handshake.
        let start = Instant::now();
        match TcpStream::connect(&addrs[..]).await {
            Ok(stream) => {
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                drop(stream);
                match self.spec.value {
                    TcpValue::Up => Reading::Value(1.0),
                    TcpValue::ConnectMs => Reading::Value(ms),
                }
            }
            Err(e) => Reading::Down(io_reason(&e)),
        }
    }
}

impl TcpSource {
    /// Takes one reading now, within the probe's own timeout.
    pub fn read(&self) -> BoxFuture<'_, Reading> {
        Box::pin(async move {
            match tokio::time::timeout(self.spec.timeout, self.connect()).await {
                Ok(reading) => reading,
                Err(_) => Reading::Down(timed_out(self.spec.timeout)),
            }
        })
    }
}

impl Source for TcpSource {
    fn sample<'a>(&'a self, metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        one_reading(metric, self.read())
    }

    fn timeout(&self) -> Duration {
        self.spec.timeout + GRACE
    }
}

/// "timed out after 2s", with the configured duration written the way users write it.
pub(super) fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", humantime::format_duration(timeout))
}

/// One-line reason for an I/O error, without the "(os error N)" suffix.
pub(super) fn io_reason(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        _ => one_line(&err.to_string()),
    }
}

/// First non-empty line of `text`, trimmed, without an "(os error N)" suffix, and capped
/// at a couple of hundred characters.
pub(super) fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line = match line.rfind(" (os error ") {
        Some(i) if line.ends_with(')') => &line[..i],
        _ => line,
    };
    match line.char_indices().nth(MAX_REASON) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn probe(address: String, value: TcpValue, timeout: Duration) -> TcpSource {
        TcpSource::new(TcpProbe {
            address,
            timeout,
            value,
        })
    }

    /// A port nothing listens on: bind an ephemeral port, then free it.
    async fn closed_port() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        addr.to_string()
    }

    #[tokio::test]
    async fn listening_port_is_up() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up = probe(addr.clone(), TcpValue::Up, Duration::from_secs(2));
        assert_eq!(up.read().await, Reading::Value(1.0));

        let ms = probe(addr, TcpValue::ConnectMs, Duration::from_secs(2));
        let v = ms.read().await.value().expect("connect ms");
        assert!(v.is_finite() && v >= 0.0, "{v}");
    }

    #[tokio::test]
    async fn closed_port_is_down_refused() {
        let source = probe(closed_port().await, TcpValue::Up, Duration::from_secs(2));
        assert_eq!(
            source.read().await,
            Reading::Down("connection refused".into())
        );
    }

    #[tokio::test]
    async fn unparsable_address_is_down() {
        let source = probe("no-port-here".into(), TcpValue::Up, Duration::from_secs(2));
        match source.read().await {
            Reading::Down(reason) => assert!(reason.starts_with("cannot resolve"), "{reason}"),
            other => panic!("expected down, got {other:?}"),
        }
    }

    #[test]
    fn reasons_are_one_clean_line() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&e), "No such file or directory");
        assert_eq!(one_line("\n  first \nsecond"), "first");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), MAX_REASON + 1);
        assert_eq!(
            timed_out(Duration::from_millis(300)),
            "timed out after 300ms"
        );
        assert_eq!(timed_out(Duration::from_secs(2)), "timed out after 2s");
    }
}
