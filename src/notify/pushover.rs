//! Pushover: the messages API (JSON), priority by severity.

use super::http::{self, Target};
use super::message::{Event, Message};
use super::settings::{http_url, non_empty, ChannelSettings, FieldError};
use super::{Channel, Delivery};
use crate::model::Severity;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// `pushover:` — the Pushover messages API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    pub token: String,
    pub user: String,
    pub url: Option<String>,
}

impl ChannelSettings for PushoverConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        non_empty(format!("{at}.token"), &self.token)?;
        non_empty(format!("{at}.user"), &self.user)?;
        self.url
            .as_deref()
            .map_or(Ok(()), |u| http_url(format!("{at}.url"), u))
    }
}

/// The public Pushover endpoint.
pub const DEFAULT_URL: &str = "https://api.pushover.net/1/messages.json";

/// Sends to one Pushover user or group.
pub struct Pushover {
    client: reqwest::Client,
    target: Target,
    token: String,
    user: String,
}

impl Pushover {
    /// A channel for `token` and `user` (both secrets).
    pub fn new(c: &PushoverConfig) -> Result<Pushover, String> {
        Ok(Pushover {
            client: http::client()?,
            target: Target::new(c.url.as_deref().unwrap_or(DEFAULT_URL)),
            token: c.token.clone(),
            user: c.user.clone(),
        })
    }
}

/// Pushover priority: high for critical trouble, quiet for good news.
fn priority(msg: &Message) -> i32 {
    match (msg.event, msg.severity) {
        (Event::Resolved | Event::Test, _) => -1,
        (Event::Verdict, _) if !msg.is_bad() => -1,
        (_, Severity::Critical) => 1,
        (_, Severity::High) => 0,
        _ => -1,
    }
}

impl Channel for Pushover {
    fn kind(&self) -> &'static str {
        "pushover"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let mut body = json!({
                "token": self.token,
                "user": self.user,
                "title": msg.summary.chars().take(250).collect::<String>(),
                "message": msg.text().chars().take(1024).collect::<String>(),
                "priority": priority(msg),
            });
            if let Some(l) = &msg.link {
                body["url"] = json!(l);
                body["url_title"] = json!("details");
            }
            http::post_json(&self.client, &self.target, body.to_string().into_bytes()).await
        })
    }

    fn bound(&self) -> Duration {
        self.target.bound()
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.token.clone(), self.user.clone()]
    }
}
