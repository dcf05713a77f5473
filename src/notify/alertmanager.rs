//! Prometheus Alertmanager: `POST /api/v2/alerts` with labels (alertname = kind,
//! deployment, rule, series, severity), annotations (summary, description, run, link),
//! `startsAt`, and `endsAt` on resolve. Open alerts are re-sent every minute so they
//! outlive Alertmanager's `resolve_timeout`. Verdicts are not alerts and are not sent.

use super::http::{self, Target};
use super::message::{rfc3339, Event, Message};
use super::settings::{http_url, ChannelSettings, FieldError};
use super::{Channel, Delivery};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// `alertmanager:` — `POST /api/v2/alerts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    pub url: String,
}

impl ChannelSettings for AlertmanagerConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        http_url(format!("{at}.url"), &self.url)
    }
}

/// Alertmanager resolves an alert not re-sent within its `resolve_timeout` (5m by
/// default): open alerts are re-sent this often while a watch runs.
pub const REFRESH: Duration = Duration::from_secs(60);

/// Posts alerts to one Alertmanager.
pub struct Alertmanager {
    client: reqwest::Client,
    target: Target,
}

impl Alertmanager {
    /// A channel for the Alertmanager at `url` (its base, e.g. `http://127.0.0.1:9093`).
    pub fn new(c: &AlertmanagerConfig) -> Result<Alertmanager, String> {
        let base = c.url.trim_end_matches('/');
        Ok(Alertmanager {
            client: http::client()?,
            target: Target::new(&format!("{base}/api/v2/alerts")),
        })
    }
}

/// The alerts of a message: one per anomaly (a test is one `VzMonitorTest` alert).
pub fn alerts(msg: &Message) -> Value {
    let mut out = Vec::new();
    let now = msg.timestamp.clone();
    if msg.anomalies.is_empty() {
        out.push(json!({
            "labels": { "alertname": "VzMonitorTest", "deployment": msg.deployment, "source": "vz-monitor", "severity": "info" },
            "annotations": { "summary": msg.summary },
            "startsAt": now,
            "endsAt": now,
        }));
    }
    for a in &msg.anomalies {
        let mut annotations = json!({
            "summary": msg.summary,
            "description": a.reason,
        });
        if let Some(r) = &msg.run_id {
            annotations["run_id"] = json!(r);
        }
        for (k, v) in &a.annotations {
            annotations[k] = json!(v);
        }
        let mut alert = json!({
            "labels": {
                "alertname": a.kind,
                "deployment": msg.deployment,
                "rule": a.rule,
                "series": a.series,
                "metric": a.metric,
                "severity": a.severity.as_str(),
                "source": "vz-monitor",
            },
            "annotations": annotations,
            "startsAt": rfc3339(a.fired_at),
        });
        if let Some(l) = &msg.link {
            alert["generatorURL"] = json!(l);
        }
        if msg.event == Event::Resolved {
            alert["endsAt"] = json!(a.resolved_at.map(rfc3339).unwrap_or_else(|| now.clone()));
        }
        out.push(alert);
    }
    Value::Array(out)
}

impl Channel for Alertmanager {
    fn kind(&self) -> &'static str {
        "alertmanager"
    }

    fn handles(&self, event: Event) -> bool {
        event != Event::Verdict
    }

    fn refresh_every(&self) -> Option<Duration> {
        Some(REFRESH)
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            http::post_json(
                &self.client,
                &self.target,
                alerts(msg).to_string().into_bytes(),
            )
            .await
        })
    }

    fn bound(&self) -> Duration {
        self.target.bound()
    }

    fn secrets(&self) -> Vec<String> {
        // Credentials in the URL travel as a Basic Authorization header: redact derives the
        // encoded forms a server may echo back.
        crate::redact::url_with_credentials(&self.target.url)
    }
}
