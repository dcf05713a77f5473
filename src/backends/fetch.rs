//! One HTTP exchange with a metric backend, the way every backend needs it: a deadline for
//! the whole call (retries included), a bound on requests in flight (= connections open), a
//! retry with backoff when the server was unreachable or overloaded, a cap on the body read,
//! and every error turned into one honest sentence with the backend's secrets masked and its
//! body sanitized (a hostile server cannot forge a terminal sequence or a workflow command).

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

/// Why a backend gave no usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// Refused, reset, DNS, TLS: nothing answered.
    Unreachable(String),
    /// No complete answer within the timeout.
    Timeout(Duration),
    /// A non-2xx status, with what the body said (sanitized, redacted, shortened).
    Status { code: u16, detail: String },
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
            FetchError::Unreachable(m) => format!("cannot reach {backend}: {m}"),
            FetchError::Timeout(d) => format!(
                "no answer from {backend} within {}",
                humantime::format_duration(*d)
            ),
            FetchError::Status { code, detail } => {
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
    in_flight: Semaphore,
    secrets: Vec<String>,
}

impl Fetcher {
    /// A fetcher allowing `max_connections` requests in flight; `secrets` are masked from
    /// every message (passwords, tokens, secret keys, URLs with credentials).
    pub fn new(
        timeout: Duration,
        retries: u32,
        max_connections: usize,
        secrets: Vec<String>,
    ) -> Result<Fetcher, String> {
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
            in_flight: Semaphore::new(max_connections.max(1)),
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
        })
    }

    /// Upper bound on one call, retries included.
    pub fn timeout(&self) -> Duration {
        self.timeout
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
            detail: String::new()
        }
        .retryable());
    }

    #[test]
    fn snippets_are_short_clean_and_redacted() {
        let f = Fetcher::new(Duration::from_secs(1), 0, 1, vec!["hunter22".into()]).unwrap();
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
