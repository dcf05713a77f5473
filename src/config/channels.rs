//! The notification channel types of `notify.channels.<name>`: each one's settings as users
//! write them and its checks. [`ChannelSpec`] is the one list of channel types (the running
//! channels are built from it by `notify::build`).

use super::dur;
use super::notify::{err, serde_msg, FieldError};
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A channel type's settings: checked once when the config loads.
pub trait ChannelSettings {
    /// Checks the settings; `at` is the channel's field path (`notify.channels.team.slack`),
    /// errors name a field under it.
    fn validate(&self, at: &str) -> Result<(), FieldError>;
}

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
    Slack(SlackConfig) = "slack",
    /// A JSON POST, optionally HMAC-signed.
    Webhook(WebhookConfig) = "webhook",
    /// SMTP.
    Email(EmailConfig) = "email",
    /// PagerDuty Events API v2.
    Pagerduty(PagerDutyConfig) = "pagerduty",
    /// Alertmanager `POST /api/v2/alerts`.
    Alertmanager(AlertmanagerConfig) = "alertmanager",
    /// The Pushover messages API.
    Pushover(PushoverConfig) = "pushover",
    /// A line on stderr or in a file.
    Log(LogConfig) = "log",
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

/// Reads one `{ TYPE: {...} }` channel value; errors name `field` (or `field.TYPE`).
pub(super) fn channel_spec(field: &str, v: &Value) -> Result<ChannelSpec, FieldError> {
    let one_of = format!("one of: {}", CHANNEL_TYPES.join(", "));
    let Some(map) = v.as_mapping().filter(|m| m.len() == 1) else {
        return Err(err(
            field,
            format!("a channel is `{{ TYPE: {{...}} }}` with TYPE {one_of}"),
        ));
    };
    let (k, _) = map.iter().next().expect("one entry");
    let kind = k.as_str().unwrap_or_default();
    if !CHANNEL_TYPES.contains(&kind) {
        return Err(err(
            format!("{field}.{kind}"),
            format!("unknown channel type `{kind}`; {one_of}"),
        ));
    }
    // `log: {}` may also be written `log:` (null).
    let v = match map.get(kind) {
        Some(Value::Null) => {
            let mut m = serde_yaml::Mapping::new();
            m.insert(k.clone(), Value::Mapping(Default::default()));
            Value::Mapping(m)
        }
        _ => v.clone(),
    };
    serde_yaml::with::singleton_map::deserialize(v)
        .map_err(|e| err(format!("{field}.{kind}"), serde_msg(e)))
}

fn http_url(field: String, url: &str) -> Result<(), FieldError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        // Never echo the URL itself: webhook URLs are secrets.
        Err(err(field, "is not an http(s) URL"))
    }
}

fn non_empty(field: String, s: &str) -> Result<(), FieldError> {
    if s.trim().is_empty() {
        Err(err(field, "must not be empty"))
    } else {
        Ok(())
    }
}

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

/// `email:` — SMTP, STARTTLS by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub smtp_host: String,
    pub smtp_port: Option<u16>,
    pub from: String,
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Upgrade with STARTTLS (default true); false for a plain local relay.
    pub starttls: Option<bool>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub timeout: Option<Duration>,
}

impl ChannelSettings for EmailConfig {
    fn validate(&self, at: &str) -> Result<(), FieldError> {
        non_empty(format!("{at}.smtp_host"), &self.smtp_host)?;
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err(
                format!("{at}.from"),
                format!("`{}` is not an address", self.from),
            ));
        }
        if self.to.is_empty() {
            return Err(err(format!("{at}.to"), "needs at least one address"));
        }
        for t in &self.to {
            if t.parse::<lettre::message::Mailbox>().is_err() {
                return Err(err(format!("{at}.to"), format!("`{t}` is not an address")));
            }
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(err(
                format!("{at}.username"),
                "required when a password is given",
            ));
        }
        Ok(())
    }
}

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

/// `log:` — one line on stderr, or one JSON line appended to `path`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub path: Option<String>,
}

impl ChannelSettings for LogConfig {
    fn validate(&self, _at: &str) -> Result<(), FieldError> {
        Ok(())
    }
}
