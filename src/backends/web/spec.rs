//! `source.web:` and `metrics.<m>.backend.web:` as written, and their checks: the `web`
//! backend's config, read and validated when the config loads (before any request).

use super::select::{self, Reduce};
use crate::backends::Invalid;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use vz_core::units as dur;

/// `source.web:` as written (optional): what every `web` metric shares.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    /// Requests in flight (and connections kept) at most, over all `web` metrics of a watch.
    pub max_connections: Option<u64>,
}

/// `source.web:` validated.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    pub max_connections: usize,
}

/// `metrics.<m>.backend.web:`: one request and where its number is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebQuery {
    pub url: String,
    /// `GET` (default), `POST`, `PUT`.
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Sent as is when a string; as JSON (with `Content-Type: application/json` unless a
    /// header says otherwise) when a mapping or a list.
    pub body: Option<Value>,
    pub json_path: String,
    /// How several selected values become one; without it the path must select one.
    pub reduce: Option<Reduce>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
    /// What `{{start}}` is in `url` and `body`: now minus this (default 1m).
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub lookback: Option<Duration>,
    pub auth: Option<Auth>,
    /// PEM file of the CA that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// PEM files of a client certificate and its key (mutual TLS).
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate (a test server; never in production).
    #[serde(default)]
    pub insecure: bool,
    /// The request giving a baseline's points (without it, `baseline` samples repeatedly).
    pub range: Option<WebRange>,
}

/// `auth:`: exactly one of these.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub basic: Option<Basic>,
    /// A bearer token (`Authorization: Bearer …`).
    pub bearer: Option<String>,
    pub oauth2: Option<OAuth2>,
}

/// `auth.basic:`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Basic {
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// `auth.oauth2:`: the client credentials grant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `range:`: the request of a baseline (unset fields: the metric's own).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebRange {
    pub url: Option<String>,
    pub method: Option<String>,
    pub body: Option<Value>,
    /// Selects every point of the window (nulls and NaN are dropped and counted).
    pub json_path: String,
    /// Selects each point's timestamp, one per value of `json_path` and in the same order
    /// (Unix seconds or milliseconds, or RFC 3339): what `backtest` needs to read a history.
    pub time_path: Option<String>,
}

/// Checks one metric's `backend.web:` before any request; the field is relative to it.
pub fn validate(q: &WebQuery) -> Result<(), Invalid> {
    check_url("url", &q.url)?;
    method_of("method", q.method.as_deref())?;
    select::parse(&q.json_path).map_err(|e| Invalid::new("json_path", e))?;
    for (k, v) in &q.headers {
        reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Invalid::new("headers", format!("`{k}` is not a header name")))?;
        reqwest::header::HeaderValue::from_str(v).map_err(|_| {
            Invalid::new(format!("headers.{k}"), "value is not a valid header value")
        })?;
    }
    if q.timeout.is_some_and(|t| t.is_zero()) {
        return Err(Invalid::new("timeout", "must be greater than 0"));
    }
    if q.client_cert.is_some() != q.client_key.is_some() {
        return Err(Invalid::new(
            "client_cert",
            "mutual TLS needs both client_cert and client_key (PEM files)",
        ));
    }
    if let Some(a) = &q.auth {
        let given = [a.basic.is_some(), a.bearer.is_some(), a.oauth2.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(Invalid::new(
                "auth",
                "give exactly one of `basic`, `bearer` or `oauth2`",
            ));
        }
        if let Some(o) = &a.oauth2 {
            check_url("auth.oauth2.token_url", &o.token_url)?;
        }
    }
    if let Some(r) = &q.range {
        if let Some(u) = &r.url {
            check_url("range.url", u)?;
        }
        method_of("range.method", r.method.as_deref())?;
        select::parse(&r.json_path).map_err(|e| Invalid::new("range.json_path", e))?;
        if let Some(t) = &r.time_path {
            select::parse(t).map_err(|e| Invalid::new("range.time_path", e))?;
        }
    }
    Ok(())
}

/// An http(s) URL (placeholders allowed).
fn check_url(field: &str, url: &str) -> Result<(), Invalid> {
    let filled = fill(
        url,
        &[
            ("now", 0),
            ("now_ms", 0),
            ("start", 0),
            ("start_ms", 0),
            ("end", 0),
            ("end_ms", 0),
            ("step", 1),
        ],
    );
    match url::Url::parse(&filled) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(Invalid::new(
            field,
            format!("`{}` is not an http(s) URL", shown_url(url)),
        )),
    }
}

pub(super) fn method_of(field: &str, m: Option<&str>) -> Result<reqwest::Method, Invalid> {
    match m.unwrap_or("GET").to_uppercase().as_str() {
        "GET" => Ok(reqwest::Method::GET),
        "POST" => Ok(reqwest::Method::POST),
        "PUT" => Ok(reqwest::Method::PUT),
        other => Err(Invalid::new(
            field,
            format!("`{other}` is not GET, POST or PUT"),
        )),
    }
}

/// Every value of a query that must never be printed: header values, passwords, tokens,
/// client secrets, credentials in URLs.
pub(super) fn secrets_of(q: &WebQuery) -> Vec<String> {
    let mut s: Vec<String> = q.headers.values().cloned().collect();
    let range_url = q.range.as_ref().and_then(|r| r.url.as_deref());
    for url in std::iter::once(q.url.as_str()).chain(range_url) {
        s.extend(crate::redact::url_with_credentials(url));
        s.extend(query_secrets(url));
    }
    if let Some(a) = &q.auth {
        if let Some(b) = &a.basic {
            s.push(format!("{}:{}", b.username, b.password));
            s.push(b.password.clone());
        }
        s.extend(a.bearer.clone());
        if let Some(o) = &a.oauth2 {
            s.push(o.client_secret.clone());
            s.push(format!("{}:{}", o.client_id, o.client_secret));
        }
    }
    s
}

/// Query parameters whose name says they are secret (`api_key=`, `token=`, `signature=` …):
/// their values, which a server may echo in an error body.
fn query_secrets(url: &str) -> Vec<String> {
    const SECRET: [&str; 7] = ["key", "token", "secret", "passw", "sig", "auth", "credential"];
    let Ok(u) = url::Url::parse(url) else {
        return Vec::new();
    };
    u.query_pairs()
        .filter(|(k, _)| SECRET.iter().any(|w| k.to_lowercase().contains(w)))
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// A URL for messages: scheme, host and path only. Its query string may carry an API key
/// (Datadog's `api_key=`), and its credentials are secrets: neither is shown.
pub(crate) fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let query = if u.query().is_some() { "?…" } else { "" };
            format!(
                "{}://{}{port}{}{query}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.path()
            )
        }
        Err(_) => "(an invalid URL)".into(),
    }
}

/// `{{name}}` replaced by its value in `text`.
pub(super) fn fill(text: &str, values: &[(&str, i64)]) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{{{k}}}}}"), &v.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(yaml: &str) -> WebQuery {
        serde_yaml::from_str(yaml).expect("a web query")
    }

    #[test]
    fn secrets_are_headers_credentials_and_secret_looking_query_parameters() {
        let q = query(
            "url: 'https://u:pw1234@api.example.com/q?query=errors&api_key=abcd1234&X-Amz-Signature=s1g5678'\n\
             json_path: $.v\nheaders: { X-Token: tok-9876 }\n\
             auth: { oauth2: { token_url: 'https://id.example.com/t', client_id: me, client_secret: cs-5555 } }\n",
        );
        let s = secrets_of(&q);
        for secret in ["abcd1234", "s1g5678", "tok-9876", "cs-5555", "me:cs-5555"] {
            assert!(s.iter().any(|x| x == secret), "{secret} not in {s:?}");
        }
        assert!(!s.iter().any(|x| x == "errors"), "{s:?}");
        let masked = crate::redact::redact("401: bad key abcd1234 for u:pw1234", &s);
        assert_eq!(masked, "401: bad key *** for ***");
        assert_eq!(
            shown_url(&q.url),
            "https://api.example.com/q?…",
            "no query string, no credentials"
        );
    }
}
