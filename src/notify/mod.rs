//! Alerting (DESIGN.md "Alerts"): channels behind one small trait, routing by severity and
//! kind, dedup and cooldown kept in the store, escalation stages, auto-resolve, and one
//! verdict message per run. Sends run on tokio tasks bounded in time: a slow or failing
//! channel never delays a tick nor changes the exit code; every attempt is stored.
//!
//! Each channel's settings live beside it (`slack.rs` holds `SlackConfig`), typed and
//! validated when the config loads ([`settings`]; config imports this module, never the
//! reverse); adding a channel = one file here implementing [`Channel`] and
//! [`ChannelSettings`] for its settings type, one line in `channels!` and one arm in [`build`].

pub mod alertmanager;
pub mod email;
pub mod http;
pub mod log;
pub mod message;
pub mod observer;
pub mod pagerduty;
pub mod pushover;
pub mod routing;
pub mod settings;
pub mod slack;
pub mod state;
pub mod verdict;
pub mod webhook;

use crate::observe::{Observer, RunContext};
use futures::future::BoxFuture;
use message::{Event, Message};
use serde::Deserialize;
use settings::ChannelSettings;
pub use settings::{FieldError, NotifyConfig};
use std::sync::Arc;
use std::time::Duration;

/// Declares [`ChannelSpec`], its config keys and its one dispatch from a single list.
macro_rules! channels {
    ($($(#[$doc:meta])* $variant:ident($settings:ty) = $key:literal,)*) => {
        /// One channel's settings, by type (`{ slack: {...} }`): the one list of channel types.
        #[derive(Debug, Clone, Deserialize)]
        pub enum ChannelSpec {
            $($(#[$doc])* #[serde(rename = $key)] $variant($settings),)*
        }

        /// The channel types, as the key users write (`{ slack: {...} }`).
        pub const CHANNEL_TYPES: &[&str] = &[$($key,)*];

        impl ChannelSpec {
            /// The type key (`slack`, `webhook`, …).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(ChannelSpec::$variant(_) => $key,)*
                }
            }

            /// The settings behind the spec: the one dispatch over every channel type.
            pub fn settings(&self) -> &dyn ChannelSettings {
                match self {
                    $(ChannelSpec::$variant(s) => s,)*
                }
            }
        }
    };
}

channels! {
    /// An incoming webhook.
    Slack(slack::SlackConfig) = "slack",
    /// A JSON POST, optionally HMAC-signed.
    Webhook(webhook::WebhookConfig) = "webhook",
    /// SMTP.
    Email(email::EmailConfig) = "email",
    /// PagerDuty Events API v2.
    Pagerduty(pagerduty::PagerDutyConfig) = "pagerduty",
    /// Alertmanager `POST /api/v2/alerts`.
    Alertmanager(alertmanager::AlertmanagerConfig) = "alertmanager",
    /// The Pushover messages API.
    Pushover(pushover::PushoverConfig) = "pushover",
    /// A line on stderr or in a file.
    Log(log::LogConfig) = "log",
}

impl ChannelSpec {
    /// Checks the settings; errors name a field under `at`.
    pub fn validate(&self, at: &str) -> Result<(), FieldError> {
        self.settings().validate(at)
    }
}

/// A named channel.
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    pub name: String,
    pub spec: ChannelSpec,
}

impl ChannelConfig {
    /// The type key (`slack`, `webhook`, …).
    pub fn kind(&self) -> &'static str {
        self.spec.kind()
    }
}

/// How one send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub ok: bool,
    /// Requests made (retries included).
    pub attempts: u32,
    /// `HTTP 200`, `timed out`, `HTTP 400: invalid_token` … never a secret.
    pub detail: String,
}

impl Delivery {
    /// A successful send after `attempts` tries.
    pub fn sent(attempts: u32, detail: impl Into<String>) -> Delivery {
        Delivery {
            ok: true,
            attempts,
            detail: detail.into(),
        }
    }

    /// A failed send after `attempts` tries.
    pub fn failed(attempts: u32, detail: impl Into<String>) -> Delivery {
        Delivery {
            ok: false,
            attempts,
            detail: detail.into(),
        }
    }
}

/// A notification channel: sends one message.
pub trait Channel: Send + Sync {
    /// The channel type (`slack`, `webhook`, …).
    fn kind(&self) -> &'static str;
    /// Whether this channel has something to say for this event (PagerDuty and
    /// Alertmanager track anomalies, not verdicts).
    fn handles(&self, event: Event) -> bool {
        event != Event::Refresh
    }
    /// How often an open alert must be re-sent for the channel to keep it (None: never).
    fn refresh_every(&self) -> Option<Duration> {
        None
    }
    /// Sends one message; never panics, never returns a secret in `detail`.
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery>;
    /// The longest one send may take, retries and backoff included.
    fn bound(&self) -> Duration;
    /// Strings that must never be shown (URLs with tokens, keys, passwords).
    fn secrets(&self) -> Vec<String>;
}

/// Builds the running channel for a validated config (the single factory).
pub fn build(c: &ChannelConfig) -> Result<Arc<dyn Channel>, String> {
    Ok(match &c.spec {
        ChannelSpec::Slack(s) => Arc::new(slack::Slack::new(s)?),
        ChannelSpec::Webhook(w) => Arc::new(webhook::Webhook::new(w)?),
        ChannelSpec::Email(e) => Arc::new(email::Email::new(e)?),
        ChannelSpec::Pagerduty(p) => Arc::new(pagerduty::PagerDuty::new(p)?),
        ChannelSpec::Alertmanager(a) => Arc::new(alertmanager::Alertmanager::new(a)?),
        ChannelSpec::Pushover(p) => Arc::new(pushover::Pushover::new(p)?),
        ChannelSpec::Log(l) => Arc::new(log::Log::new(l, &c.name)),
    })
}

/// Replaces every secret in `text`, in any encoding, by `***` (see [`crate::redact`]).
pub use crate::redact::redact;

/// The notification observer, when the config has channels.
pub fn observer(config: Option<&NotifyConfig>, ctx: &RunContext) -> Option<Box<dyn Observer>> {
    let n = config.filter(|n| !n.channels.is_empty())?;
    observer::NotifyObserver::new(n.clone(), ctx).map(|o| Box::new(o) as Box<dyn Observer>)
}

/// The link shown in messages: `notify.link`, else the CI job when known.
pub fn link(config: &NotifyConfig, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(l) = &config.link {
        return Some(l.clone());
    }
    if let (Some(server), Some(repo), Some(id)) = (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_RUN_ID"),
    ) {
        return Some(format!("{server}/{repo}/actions/runs/{id}"));
    }
    env("CI_JOB_URL").or_else(|| env("BUILD_URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_prefers_config_then_ci() {
        let c = NotifyConfig::from_value(&serde_yaml::from_str("channels: {}").unwrap()).unwrap();
        let env = |k: &str| match k {
            "GITHUB_SERVER_URL" => Some("https://github.com".to_string()),
            "GITHUB_REPOSITORY" => Some("o/r".to_string()),
            "GITHUB_RUN_ID" => Some("7".to_string()),
            _ => None,
        };
        assert_eq!(
            link(&c, &env).as_deref(),
            Some("https://github.com/o/r/actions/runs/7")
        );
        assert_eq!(link(&c, &|_| None), None);
    }
}
