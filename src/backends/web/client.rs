//! What every `web` metric of a run shares: one HTTP client per TLS setup (CA, client
//! certificate, `insecure`), one bound on requests in flight, and the OAuth2 tokens fetched
//! so far (reused until shortly before they expire).

use super::OAuth2;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Kept-alive connections idle this long are closed (as for Prometheus): between ticks a
/// watch holds none.
const IDLE_TIMEOUT: Duration = Duration::from_millis(250);

/// A token is fetched again this long before the server says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

/// A metric's TLS setup: metrics with the same one share an HTTP client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tls {
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub insecure: bool,
}

/// The shared client of the `web` backend.
pub struct WebClient {
    /// `source.web.max_connections` permits: every request holds one.
    pub(super) in_flight: Semaphore,
    pub(super) max_connections: usize,
    http: Mutex<HashMap<Tls, Result<reqwest::Client, String>>>,
    /// Access tokens by (token URL, client id, scopes), with when to fetch a new one.
    tokens: tokio::sync::Mutex<HashMap<String, (String, Instant)>>,
}

impl WebClient {
    /// No HTTP client yet: each is built when a metric with its TLS setup first asks.
    pub fn new(max_connections: usize) -> WebClient {
        WebClient {
            in_flight: Semaphore::new(max_connections.max(1)),
            max_connections: max_connections.max(1),
            http: Mutex::new(HashMap::new()),
            tokens: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The HTTP client for `tls`, or why it cannot be built (a CA or key file unreadable
    /// or not PEM) — the same answer for every tick, read once.
    pub fn http(&self, tls: &Tls) -> Result<reqwest::Client, String> {
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        http.entry(tls.clone())
            .or_insert_with(|| build(tls, self.max_connections))
            .clone()
    }

    /// An access token from `oauth` (client credentials grant, RFC 6749 §4.4): the cached
    /// one while it is valid, else a new one from the token endpoint.
    pub async fn token(&self, http: &reqwest::Client, oauth: &OAuth2) -> Result<String, String> {
        let key = format!(
            "{}\n{}\n{}",
            oauth.token_url,
            oauth.client_id,
            oauth.scopes.join(" ")
        );
        let mut tokens = self.tokens.lock().await;
        if let Some((token, until)) = tokens.get(&key) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let (token, lifetime) = fetch_token(http, oauth).await?;
        let until = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        tokens.insert(key, (token.clone(), until));
        Ok(token)
    }
}

impl WebClient {
    /// The access tokens fetched so far: secrets, masked like the configured ones.
    pub async fn tokens(&self) -> Vec<String> {
        let tokens = self.tokens.lock().await;
        tokens.values().map(|(t, _)| t.clone()).collect()
    }
}

fn build(tls: &Tls, max_connections: usize) -> Result<reqwest::Client, String> {
    let read = |what: &str, path: &PathBuf| {
        std::fs::read(path).map_err(|e| format!("{what} {}: cannot read it: {e}", path.display()))
    };
    let mut b = reqwest::Client::builder()
        .pool_max_idle_per_host(max_connections)
        .pool_idle_timeout(IDLE_TIMEOUT);
    if let Some(ca) = &tls.ca_file {
        let pem = read("ca_file", ca)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("ca_file {}: not a PEM certificate: {e}", ca.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "ca_file {}: holds no PEM certificate",
                ca.display()
            ));
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if let (Some(cert), Some(key)) = (&tls.client_cert, &tls.client_key) {
        let mut pem = read("client_cert", cert)?;
        pem.push(b'\n');
        pem.extend(read("client_key", key)?);
        let id = reqwest::Identity::from_pem(&pem).map_err(|e| {
            format!(
                "client_cert {} / client_key {}: not a PEM certificate and private key: {e}",
                cert.display(),
                key.display()
            )
        })?;
        b = b.identity(id);
    }
    if tls.insecure {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// One token request: `grant_type=client_credentials`, the client authenticated with HTTP
/// Basic (which RFC 6749 §2.3.1 says every server must accept).
async fn fetch_token(http: &reqwest::Client, oauth: &OAuth2) -> Result<(String, Duration), String> {
    let form = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if !oauth.scopes.is_empty() {
            form.append_pair("scope", &oauth.scopes.join(" "));
        }
        form.finish()
    };
    let resp = http
        .post(&oauth.token_url)
        .basic_auth(&oauth.client_id, Some(&oauth.client_secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| {
            format!(
                "oauth2 token endpoint {}: {}",
                super::shown_url(&oauth.token_url),
                super::root_cause(&e)
            )
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!(
            "oauth2 token endpoint {} answered HTTP {status}: check client_id and client_secret",
            super::shown_url(&oauth.token_url)
        ));
    }
    let body: serde_json::Value = resp.json().await.map_err(|e| {
        format!(
            "oauth2 token endpoint {}: the answer is not JSON: {e}",
            super::shown_url(&oauth.token_url)
        )
    })?;
    let token = body["access_token"].as_str().ok_or_else(|| {
        format!(
            "oauth2 token endpoint {}: the answer has no access_token",
            super::shown_url(&oauth.token_url)
        )
    })?;
    let lifetime = body["expires_in"].as_f64().unwrap_or(300.0).max(0.0);
    Ok((token.to_string(), Duration::from_secs_f64(lifetime)))
}
