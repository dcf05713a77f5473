//! Alerting (DESIGN.md "Alerts"): channels behind one small trait, routing by severity and
//! kind, dedup and cooldown kept in the store, escalation stages, auto-resolve, and one
//! verdict message per run. Sends run on tokio tasks bounded in time: a slow or failing
//! channel never delays a tick nor changes the exit code; every attempt is stored.
//!
//! The channels' settings are typed and validated by `config::notify` (config never imports
//! this module); adding a channel = one file here implementing [`Channel`], its settings
//! type and one line in `config/channels.rs`, and one arm in [`build`].

pub mod alertmanager;
pub mod email;
pub mod http;
pub mod log;
pub mod message;
pub mod observer;
pub mod pagerduty;
pub mod pushover;
pub mod routing;
pub mod slack;
pub mod state;
pub mod verdict;
pub mod webhook;

use crate::config::notify::{ChannelConfig, ChannelSpec, NotifyConfig};
use crate::observe::{Observer, RunContext};
use futures::future::BoxFuture;
use message::{Event, Message};
use std::sync::Arc;
use std::time::Duration;

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
pub fn observer(config: &crate::config::Config, ctx: &RunContext) -> Option<Box<dyn Observer>> {
    let n = config.notify.as_ref().filter(|n| !n.channels.is_empty())?;
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
