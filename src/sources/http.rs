//! HTTP probe: one request per sample; the expected status means up, anything else down.

use super::reason::{io_reason, one_line, timed_out, GRACE};
use super::{default_timeout, one_reading, Probe, Shared, Source};
use crate::model::{Reading, Sample};
use crate::units as dur;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{redirect, Client, Method, Url};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::error::Error as _;
use std::io;
use std::time::{Duration, Instant};

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

impl Probe for HttpProbe {
    fn unit(&self) -> Option<&'static str> {
        Some(match self.value {
            HttpValue::Up => "1 = up",
            HttpValue::Status => "HTTP status",
            HttpValue::LatencyMs => "ms",
        })
    }

    fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!("http.url `{}` is not an http(s) URL", self.url));
        }
        if self.timeout.is_zero() {
            return Err("http.timeout must be greater than 0".into());
        }
        Ok(())
    }

    fn build(&self, _shared: &Shared) -> Box<dyn Source> {
        Box::new(HttpSource::new(self.clone()))
    }
}

/// Most of the body we read: enough to time a health page, bounded for a huge one.
const BODY_LIMIT: usize = 64 * 1024;

/// Redirects followed before the request counts as failed.
const MAX_REDIRECTS: usize = 5;

/// Probes one URL per sample with a client built once.
pub struct HttpSource {
    spec: HttpProbe,
    /// The ready request, or why the spec cannot be turned into one (a `missing` reason).
    request: Result<Prepared, String>,
    /// The URL's credentials and the header values: never in a reason.
    secrets: Vec<String>,
}

/// Everything about the request that does not change between samples.
struct Prepared {
    client: Client,
    method: Method,
    url: Url,
    headers: HeaderMap,
}

impl HttpSource {
    /// Builds the client (timeout, redirect policy), method, URL and headers once.
    pub fn new(spec: HttpProbe) -> Self {
        let request = prepare(&spec);
        let mut secrets = crate::redact::url_with_credentials(&spec.url);
        secrets.extend(spec.headers.values().cloned());
        Self {
            spec,
            request,
            secrets,
        }
    }

    async fn request(&self, prepared: &Prepared) -> Reading {
        let start = Instant::now();
        let response = prepared
            .client
            .request(prepared.method.clone(), prepared.url.clone())
            .headers(prepared.headers.clone())
            .send()
            .await;
        let mut response = match response {
            Ok(r) => r,
            Err(e) => return Reading::Down(describe(&e, self.spec.timeout)),
        };

        let status = response.status().as_u16();
        let up = match self.spec.expect_status {
            Some(expected) => status == expected,
            None => response.status().is_success(),
        };
        if !up {
            let expected = self
                .spec
                .expect_status
                .map_or_else(|| "2xx".to_string(), |s| s.to_string());
            return Reading::Down(format!("HTTP {status} (expected {expected})"));
        }

        let mut read = 0;
        while read < BODY_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) => break,
                Err(e) => return Reading::Down(describe(&e, self.spec.timeout)),
            }
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0;

        match self.spec.value {
            HttpValue::Up => Reading::Value(1.0),
            HttpValue::Status => Reading::Value(f64::from(status)),
            HttpValue::LatencyMs => Reading::Value(ms),
        }
    }
}

impl HttpSource {
    /// Takes one reading now, within the probe's own timeout. A reason never carries the
    /// URL's credentials or a header value, whatever the server or the library echoed.
    pub fn read(&self) -> BoxFuture<'_, Reading> {
        Box::pin(async move {
            match self.read_raw().await {
                Reading::Down(why) => Reading::Down(crate::redact::redact(&why, &self.secrets)),
                Reading::Missing(why) => {
                    Reading::Missing(crate::redact::redact(&why, &self.secrets))
                }
                r => r,
            }
        })
    }

    async fn read_raw(&self) -> Reading {
        {
            let prepared = match &self.request {
                Ok(p) => p,
                Err(reason) => return Reading::Missing(reason.clone()),
            };
            // The client has the same timeout; this outer one also bounds the body read
            // and guarantees the reason wording.
            match tokio::time::timeout(self.spec.timeout, self.request(prepared)).await {
                Ok(reading) => reading,
                Err(_) => Reading::Down(timed_out(self.spec.timeout)),
            }
        }
    }
}

impl Source for HttpSource {
    fn sample<'a>(&'a self, metric: &'a str) -> BoxFuture<'a, Vec<Sample>> {
        one_reading(metric, self.read())
    }

    fn timeout(&self) -> Duration {
        self.spec.timeout + GRACE
    }
}

fn prepare(spec: &HttpProbe) -> Result<Prepared, String> {
    let url = Url::parse(&spec.url).map_err(|e| format!("invalid url {:?}: {e}", spec.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("unsupported url scheme {:?}", url.scheme()));
    }
    let method = Method::from_bytes(spec.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("invalid HTTP method {:?}", spec.method))?;
    let mut headers = HeaderMap::new();
    for (name, value) in &spec.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
        headers.insert(name, value);
    }
    let client = Client::builder()
        .timeout(spec.timeout)
        .redirect(redirect::Policy::limited(MAX_REDIRECTS))
        .build()
        .map_err(|e| format!("cannot build HTTP client: {}", one_line(&e.to_string())))?;
    Ok(Prepared {
        client,
        method,
        url,
        headers,
    })
}

/// One-line reason for a failed request: the most specific cause in the error chain.
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return timed_out(timeout);
    }
    let mut innermost = None;
    let mut cause = err.source();
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::TimedOut => timed_out(timeout),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => io_reason(io),
                _ if err.is_connect() => format!("cannot connect: {}", io_reason(io)),
                _ => io_reason(io),
            };
        }
        innermost = Some(e);
        cause = e.source();
    }
    match innermost {
        Some(e) if err.is_connect() => format!("cannot connect: {}", one_line(&e.to_string())),
        Some(e) => one_line(&e.to_string()),
        None => one_line(&err.to_string()),
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
