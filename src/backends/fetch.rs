//! One HTTP exchange with a metric backend, the way every backend needs it: a deadline for
//! the whole call (retries included), a bound on requests in flight (= connections open), a
//! retry with backoff when the server was unreachable or overloaded, a cap on the body read,
//! and every error turned into one honest sentence with the backend's secrets masked and its
//! body sanitized (a hostile server cannot forge a terminal sequence or a workflow command).

use super::Invalid;
use crate::output::sanitize_line;
use crate::redact::redact;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A kept-alive connection idle this long is closed (as for Prometheus): between ticks a
/// watch holds no connection.
const IDLE_TIMEOUT: Duration = Duration::from_millis(250);
/// First pause before a retry; doubled after each failed attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A backend answer larger than this is refused rather than read into memory.
const MAX_BODY: usize = 32 << 20;
/// How much of an error body a message quotes.
const SNIPPET: usize = 200;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_RETRIES: u32 = 2;
/// Connections one watch may hold when the config does not say (as for Prometheus).
const DEFAULT_MAX_CONNECTIONS: usize = 2;
const MAX_CONNECTIONS_LIMIT: u64 = 64;

/// `timeout`, `retries` and `max_connections` of a backend's `source.<name>:`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Http {
    pub timeout: Duration,
    pub retries: u32,
    /// At most this many requests in flight, and connections open, per watch.
    pub max_connections: usize,
}

impl Http {
    /// The settings as written, defaults filled in (10s, 2 retries, 2 connections).
    pub fn new(
        timeout: Option<Duration>,
        retries: Option<u32>,
        max_connections: Option<u64>,
    ) -> Result<Http, Invalid> {
        let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Invalid::new("timeout", "must be greater than 0"));
        }
        let max_connections = match max_connections {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => n as usize,
            Some(n) => {
                return Err(Invalid::new(
                    "max_connections",
                    format!("{n} is not between 1 and {MAX_CONNECTIONS_LIMIT} (connections one watch may hold)"),
                ))
            }
        };
        Ok(Http {
            timeout,
            retries: retries.unwrap_or(DEFAULT_RETRIES),
            max_connections,
        })
    }
}

/// An http(s) URL, or why not.
pub fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(format!(
            "`{}` is not an http(s) URL",
            crate::redact::redact_url(url)
        )),
    }
}

/// Header names and values that HTTP accepts.
pub fn check_headers(headers: &std::collections::BTreeMap<String, String>) -> Result<(), Invalid> {
    for (k, v) in headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(Invalid::new(
                "headers",
                format!("`{k}` is not a header name"),
            ));
        }
        if reqwest::header::HeaderValue::from_str(v).is_err() {
            return Err(Invalid::new(
                format!("headers.{k}"),
                "value is not a valid header value",
            ));
        }
    }
    Ok(())
}

/// Why a backend gave no usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// Refused, reset, DNS, TLS: nothing answered.
    Unreachable(String),
    /// No complete answer within the timeout.
    Timeout(Duration),
    /// A non-2xx status, with what the body said (sanitized, redacted, shortened) and the
    /// body itself (for the backend to read its error format; never printed as is).
    Status {
        code: u16,
        detail: String,
        body: String,
    },
    /// A 2xx answer that cannot be read as this backend's answer.
    Body(String),
}

impl FetchError {
    /// Whether trying again may help.
    fn retryable(&self) -> bool {
        match self {
            FetchError::Unreachable(_) => true,
            FetchError::Status { code, .. } => *code >= 500 || *code == 429,
            FetchError::Timeout(_) | FetchError::Body(_) => false,
        }
    }

    /// The sentence for a metric's missing sample or `check --online`, naming `backend`.
    pub fn describe(&self, backend: &str) -> String {
        match self {
            FetchError::Unreachable(m) => {
                format!("cannot reach {backend}: {m} (check its URL in source: and that it is up)")
            }
            FetchError::Timeout(d) => format!(
                "no answer from {backend} within {}",
                humantime::format_duration(*d)
            ),
            FetchError::Status { code, detail, .. } => {
                let hint = match code {
                    401 | 403 => " (check the credentials the config or environment gives)",
                    404 => " (check the URL)",
                    _ => "",
                };
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                };
                format!("{backend} answered HTTP {code}{hint}{detail}")
            }
            FetchError::Body(m) => format!("{backend} answer unusable: {m}"),
        }
    }
}

/// The HTTP side of one backend: one client (one connection pool), its deadline, retries,
/// in-flight bound and secrets.
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    retries: u32,
    max_connections: usize,
    in_flight: Semaphore,
    secrets: Vec<String>,
}

impl Fetcher {
    /// A fetcher for `http` settings; `secrets` are masked from every message (passwords,
    /// tokens, secret keys, URLs with credentials).
    pub fn new(http: &Http, secrets: Vec<String>) -> Result<Fetcher, String> {
        let Http {
            timeout,
            retries,
            max_connections,
        } = *http;
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .pool_max_idle_per_host(max_connections.max(1))
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            timeout,
            retries,
            max_connections,
            in_flight: Semaphore::new(max_connections.max(1)),
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        })
    }

    /// Upper bound on one call, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Requests in flight at most.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// `text` with every secret masked and control characters neutralised.
    pub fn clean(&self, text: &str) -> String {
        sanitize_line(&redact(text, &self.secrets))
    }

    /// Sends the request `build` makes (called again for each attempt, so a signature or a
    /// timestamp is fresh) until a 2xx body arrives, the error is final, or the deadline is
    /// spent. Returns the body of the 2xx answer.
    pub async fn send<F>(&self, build: F) -> Result<String, FetchError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let deadline = Instant::now() + self.timeout;
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            tries += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let attempt = async {
                let _permit = self.in_flight.acquire().await;
                self.once(build(&self.client)).await
            };
            let err = match tokio::time::timeout(left, attempt).await {
                Ok(Ok(body)) => return Ok(body),
                Ok(Err(e)) => e,
                Err(_) => return Err(FetchError::Timeout(self.timeout)),
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if tries > self.retries || !err.retryable() || left <= backoff {
                return Err(err);
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    async fn once(&self, req: reqwest::RequestBuilder) -> Result<String, FetchError> {
        let mut resp = req
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(self.clean(&root_cause(&e))))?;
        let status = resp.status();
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err(FetchError::Body(format!(
                            "answer larger than {} MiB",
                            MAX_BODY >> 20
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(FetchError::Unreachable(self.clean(&root_cause(&e)))),
            }
        }
        let text = String::from_utf8_lossy(&body).into_owned();
        if status.is_success() {
            return Ok(text);
        }
        Err(FetchError::Status {
            code: status.as_u16(),
            detail: self.snippet(&text),
            body: text,
        })
    }

    /// The start of an error body, on one line, cleaned.
    pub fn snippet(&self, body: &str) -> String {
        let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut s: String = flat.chars().take(SNIPPET).collect();
        if flat.chars().count() > SNIPPET {
            s.push('…');
        }
        self.clean(&s)
    }
}

/// The innermost error message ("Connection refused (os error 111)").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_backend_and_hint_the_fix() {
        let e = FetchError::Status {
            code: 401,
            detail: "authorization failed".into(),
            body: String::new(),
        };
        assert_eq!(
            e.describe("InfluxDB"),
            "InfluxDB answered HTTP 401 (check the credentials the config or environment gives): authorization failed"
        );
        assert!(FetchError::Unreachable("refused".into())
            .describe("Graphite")
            .starts_with("cannot reach Graphite"));
        assert!(!e.retryable());
        assert!(FetchError::Status {
            code: 503,
            detail: String::new(),
            body: String::new(),
        }
        .retryable());
    }

    #[test]
    fn snippets_are_short_clean_and_redacted() {
        let http = Http::new(None, None, None).unwrap();
        let f = Fetcher::new(&http, vec!["hunter22".into()]).unwrap();
        let body = format!(
            "\u{1b}[31mpassword hunter22 wrong\n::error::x {}",
            "y".repeat(500)
        );
        let s = f.snippet(&body);
        assert!(
            !s.contains("hunter22") && !s.contains('\u{1b}') && !s.contains('\n'),
            "{s}"
        );
        assert!(s.chars().count() <= SNIPPET + 1, "{s}");
    }
}
