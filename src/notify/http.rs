//! One JSON POST with a timeout per attempt and retries with exponential backoff on 5xx,
//! timeouts and refused connections; never on 4xx (the request itself is wrong).

use super::Delivery;
use std::time::Duration;

/// Default time one HTTP attempt may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default further attempts after a retryable failure.
pub const DEFAULT_RETRIES: u32 = 2;
/// First backoff; doubles each retry, capped at [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Where and how to POST.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub retries: u32,
}

impl Target {
    /// A target with the default timeout and retries.
    pub fn new(url: &str) -> Target {
        Target {
            url: url.to_string(),
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }

    /// The longest a send may take: every attempt timing out plus every backoff.
    pub fn bound(&self) -> Duration {
        let mut total = self.timeout * (self.retries + 1);
        for i in 0..self.retries {
            total += backoff(i);
        }
        total
    }
}

/// The wait before retry `i` (0-based).
pub fn backoff(i: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(i))
        .min(MAX_BACKOFF)
}

/// An HTTP client for notifications.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("vz-monitor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {}", e.without_url()))
}

/// Why an attempt failed, without the URL (it may hold a token).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_request() || e.is_body() {
        "connection failed before an answer".into()
    } else {
        "request failed".into()
    }
}

/// POSTs `body` (JSON) to the target, retrying as the module doc says.
pub async fn post_json(client: &reqwest::Client, t: &Target, body: Vec<u8>) -> Delivery {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut req = client
            .post(&t.url)
            .timeout(t.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        for (k, v) in &t.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        // One deadline for the whole attempt: a server that sends headers and then hangs
        // must not hold the send past its timeout.
        let exchange = async {
            let resp = req.send().await?;
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            Ok::<_, reqwest::Error>((status, text))
        };
        let (retryable, detail) = match tokio::time::timeout(t.timeout, exchange).await {
            Ok(Ok((status, text))) => {
                if status.is_success() {
                    return Delivery::sent(attempts, format!("HTTP {}", status.as_u16()));
                }
                let snippet: String = text.trim().chars().take(160).collect();
                let detail = if snippet.is_empty() {
                    format!("HTTP {}", status.as_u16())
                } else {
                    format!("HTTP {}: {}", status.as_u16(), snippet.replace('\n', " "))
                };
                (status.is_server_error(), detail)
            }
            Ok(Err(e)) => (true, describe(&e)),
            Err(_) => (true, "timed out".to_string()),
        };
        if !retryable || attempts > t.retries {
            let tries = if attempts == 1 {
                String::new()
            } else {
                format!(" (after {attempts} attempts)")
            };
            return Delivery::failed(attempts, format!("{detail}{tries}"));
        }
        tokio::time::sleep(backoff(attempts - 1)).await;
    }
}

/// A URL and its path: both reveal a token-bearing webhook.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut v = vec![url.to_string()];
    if let Some(rest) = url.split_once("://").map(|x| x.1) {
        if let Some(i) = rest.find('/') {
            let path = &rest[i..];
            if path.len() > 1 {
                v.push(path.to_string());
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(10), MAX_BACKOFF);
    }

    #[test]
    fn bound_counts_every_attempt_and_wait() {
        let mut t = Target::new("http://127.0.0.1:1");
        t.timeout = Duration::from_secs(1);
        t.retries = 2;
        // 3 attempts of 1 s + 250 ms + 500 ms of backoff.
        assert_eq!(t.bound(), Duration::from_millis(3750));
    }
}
