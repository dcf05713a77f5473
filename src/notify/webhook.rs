//! Generic webhook: the [`Message`] as JSON, custom headers, and with `secret` an
//! `X-VZ-Signature: sha256=<hex HMAC-SHA256 of the body>` header the receiver can check.

use super::http::{self, url_secrets, Target};
use super::message::Message;
use super::settings::{err, http_url, ChannelSettings, FieldError};
use super::{Channel, Delivery};
use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;
use vz_core::units as dur;

/// `webhook:` — a JSON POST, optionally HMAC-signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Further attempts after a 5xx, a timeout or a refused connection (default 2).
    pub retries: Option<u32>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
}

impl ChannelSettings for WebhookConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        http_url(format!("{at}.url"), &self.url)?;
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(err(format!("{at}.timeout"), "must be greater than 0"));
        }
        for k in self.headers.keys() {
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                return Err(err(
                    format!("{at}.headers"),
                    format!("`{k}` is not a header name"),
                ));
            }
        }
        Ok(())
    }
}

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-VZ-Signature";

/// Posts messages to one URL.
pub struct Webhook {
    client: reqwest::Client,
    target: Target,
    secret: Option<String>,
}

impl Webhook {
    /// A channel from its config (defaults: 10 s timeout, 2 retries).
    pub fn new(c: &WebhookConfig) -> Result<Webhook, String> {
        let mut target = Target::new(&c.url);
        target.timeout = c.timeout.unwrap_or(http::DEFAULT_TIMEOUT);
        target.retries = c.retries.unwrap_or(http::DEFAULT_RETRIES);
        target.headers = c
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Webhook {
            client: http::client()?,
            target,
            secret: c.secret.clone().filter(|s| !s.is_empty()),
        })
    }
}

/// `sha256=<hex>` of HMAC-SHA256(secret, body).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Channel for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let body = serde_json::to_vec(msg).unwrap_or_default();
            let mut target = self.target.clone();
            if let Some(s) = &self.secret {
                target
                    .headers
                    .push((SIGNATURE_HEADER.into(), signature(s, &body)));
            }
            http::post_json(&self.client, &target, body).await
        })
    }

    fn bound(&self) -> Duration {
        self.target.bound()
    }

    fn secrets(&self) -> Vec<String> {
        let mut v = url_secrets(&self.target.url);
        v.extend(self.secret.clone());
        v.extend(self.target.headers.iter().map(|(_, v)| v.clone()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
