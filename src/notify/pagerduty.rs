//! PagerDuty Events API v2: `trigger` on firing (and escalation: same dedup key, so
//! PagerDuty keeps one incident), `resolve` when the anomaly clears. Verdicts are not
//! incidents and are not sent; a test triggers and resolves at once.

use super::http::{self, Target};
use super::message::{Event, Message};
use super::settings::{http_url, non_empty, ChannelSettings, FieldError};
use super::{Channel, Delivery};
use crate::model::Severity;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// `pagerduty:` — Events API v2.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    pub routing_key: String,
    pub url: Option<String>,
}

impl ChannelSettings for PagerDutyConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        non_empty(format!("{at}.routing_key"), &self.routing_key)?;
        self.url
            .as_deref()
            .map_or(Ok(()), |u| http_url(format!("{at}.url"), u))
    }
}

/// The public Events API v2 endpoint.
pub const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// Sends events to one PagerDuty service integration.
pub struct PagerDuty {
    client: reqwest::Client,
    target: Target,
    routing_key: String,
}

impl PagerDuty {
    /// A channel for `routing_key` (a secret).
    pub fn new(c: &PagerDutyConfig) -> Result<PagerDuty, String> {
        Ok(PagerDuty {
            client: http::client()?,
            target: Target::new(c.url.as_deref().unwrap_or(DEFAULT_URL)),
            routing_key: c.routing_key.clone(),
        })
    }

    async fn post(&self, body: Value) -> Delivery {
        http::post_json(&self.client, &self.target, body.to_string().into_bytes()).await
    }
}

/// PagerDuty's four severities.
fn pd_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// The trigger event of a message.
pub fn trigger(routing_key: &str, msg: &Message, dedup_key: &str) -> Value {
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": msg.summary.chars().take(1024).collect::<String>(),
            "source": format!("vz-monitor/{}", msg.deployment),
            "severity": pd_severity(msg.severity),
            "timestamp": msg.timestamp,
            "component": msg.deployment,
            "class": msg.anomalies.first().map(|a| a.kind.clone()).unwrap_or_else(|| "TEST".into()),
            "custom_details": {
                "event": msg.event.as_str(),
                "run_id": msg.run_id,
                "reasons": msg.reasons,
                "anomalies": msg.anomalies,
                "stage": msg.stage,
                "dry_run": msg.dry_run,
            },
        },
        "client": "vz-monitor",
    });
    if let Some(l) = &msg.link {
        body["links"] = json!([{ "href": l, "text": "details" }]);
        body["client_url"] = json!(l);
    }
    body
}

/// The resolve event for a dedup key.
pub fn resolve(routing_key: &str, dedup_key: &str) -> Value {
    json!({ "routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key })
}

impl Channel for PagerDuty {
    fn kind(&self) -> &'static str {
        "pagerduty"
    }

    fn handles(&self, event: Event) -> bool {
        event != Event::Verdict && event != Event::Refresh
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let key = msg
                .dedup_key
                .clone()
                .unwrap_or_else(|| format!("vz-monitor-test-{}", msg.timestamp));
            match msg.event {
                Event::Resolved => self.post(resolve(&self.routing_key, &key)).await,
                Event::Test => {
                    let t = self.post(trigger(&self.routing_key, msg, &key)).await;
                    if !t.ok {
                        return t;
                    }
                    let r = self.post(resolve(&self.routing_key, &key)).await;
                    Delivery {
                        ok: r.ok,
                        attempts: t.attempts + r.attempts,
                        detail: r.detail,
                    }
                }
                _ => self.post(trigger(&self.routing_key, msg, &key)).await,
            }
        })
    }

    fn bound(&self) -> Duration {
        self.target.bound() * 2
    }

    fn secrets(&self) -> Vec<String> {
        vec![self.routing_key.clone()]
    }
}
