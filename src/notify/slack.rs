//! Slack incoming webhook: a fallback `text` plus readable blocks (headline, deployment,
//! verdict, anomalies, link).

use super::http::{self, url_secrets, Target};
use super::message::{anomaly_line, Message};
use super::settings::{http_url, ChannelSettings, FieldError};
use super::{Channel, Delivery};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// `slack:` — an incoming webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    pub webhook_url: String,
}

impl ChannelSettings for SlackConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        http_url(format!("{at}.webhook_url"), &self.webhook_url)
    }
}

/// Posts to one Slack incoming webhook.
pub struct Slack {
    client: reqwest::Client,
    target: Target,
}

impl Slack {
    /// A channel for `webhook_url` (a secret: never shown).
    pub fn new(c: &SlackConfig) -> Result<Slack, String> {
        Ok(Slack {
            client: http::client()?,
            target: Target::new(&c.webhook_url),
        })
    }
}

/// The Slack payload of a message.
pub fn payload(msg: &Message) -> Value {
    let icon = if msg.is_bad() {
        ":red_circle:"
    } else {
        ":large_green_circle:"
    };
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": truncate(&msg.summary, 150) } }),
        json!({ "type": "section", "fields": [
            { "type": "mrkdwn", "text": format!("*Deployment*\n{}", msg.deployment) },
            { "type": "mrkdwn", "text": format!("*Verdict*\n{icon} {}", msg.verdict.as_deref().unwrap_or("pending (watch running)")) },
            { "type": "mrkdwn", "text": format!("*Severity*\n{}", msg.severity) },
            { "type": "mrkdwn", "text": format!("*Event*\n{}", msg.event.as_str()) },
        ]}),
    ];
    if !msg.reasons.is_empty() {
        let why: Vec<String> = msg.reasons.iter().map(|r| format!("• {r}")).collect();
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(&format!("*Why*\n{}", why.join("\n")), 2900) } }));
    }
    if !msg.anomalies.is_empty() {
        let lines: Vec<String> = msg
            .anomalies
            .iter()
            .map(|a| format!("• {}", anomaly_line(a)))
            .collect();
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": truncate(&format!("*Anomalies*\n{}", lines.join("\n")), 2900) } }));
    }
    let mut context = vec![
        json!({ "type": "mrkdwn", "text": format!("vz-monitor · run {}", msg.run_id.as_deref().unwrap_or("-")) }),
    ];
    if let Some(l) = &msg.link {
        context.push(json!({ "type": "mrkdwn", "text": format!("<{l}|details>") }));
    }
    blocks.push(json!({ "type": "context", "elements": context }));
    json!({ "text": msg.summary, "blocks": blocks })
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

impl Channel for Slack {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let body = payload(msg).to_string().into_bytes();
            http::post_json(&self.client, &self.target, body).await
        })
    }

    fn bound(&self) -> Duration {
        self.target.bound()
    }

    fn secrets(&self) -> Vec<String> {
        url_secrets(&self.target.url)
    }
}
