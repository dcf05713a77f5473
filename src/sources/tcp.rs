//! TCP probe: can we open a connection to `host:port` within the timeout?

use super::reason::{io_reason, timed_out, GRACE};
use super::{default_timeout, one_reading, Probe, Shared, Source};
use crate::model::{Reading, Sample};
use crate::units as dur;
use futures::future::BoxFuture;
use serde::Deserialize;
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
}
