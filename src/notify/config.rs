//! `notify:` as users write it, validated into typed channels, routes, cooldown and
//! escalation stages. Each channel is read on its own so an error names its exact field.

use crate::config::dur;
use crate::model::Severity;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// A notify config problem: the field path under the top level (`notify.routes[0].channels`)
/// and one sentence.
pub type FieldError = (String, String);

/// The channel types, as the key users write (`{ slack: {...} }`).
pub const CHANNEL_TYPES: [&str; 7] = [
    "slack",
    "webhook",
    "email",
    "pagerduty",
    "alertmanager",
    "pushover",
    "log",
];

/// One channel's settings, by type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelSpec {
    Slack(SlackConfig),
    Webhook(WebhookConfig),
    Email(EmailConfig),
    Pagerduty(PagerDutyConfig),
    Alertmanager(AlertmanagerConfig),
    Pushover(PushoverConfig),
    Log(LogConfig),
}

/// `slack:` — an incoming webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    pub webhook_url: String,
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

/// `pagerduty:` — Events API v2.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    pub routing_key: String,
    pub url: Option<String>,
}

/// `alertmanager:` — `POST /api/v2/alerts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    pub url: String,
}

/// `pushover:` — the Pushover messages API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    pub token: String,
    pub user: String,
    pub url: Option<String>,
}

/// `log:` — one line on stderr, or one JSON line appended to `path`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub path: Option<String>,
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
        match self.spec {
            ChannelSpec::Slack(_) => "slack",
            ChannelSpec::Webhook(_) => "webhook",
            ChannelSpec::Email(_) => "email",
            ChannelSpec::Pagerduty(_) => "pagerduty",
            ChannelSpec::Alertmanager(_) => "alertmanager",
            ChannelSpec::Pushover(_) => "pushover",
            ChannelSpec::Log(_) => "log",
        }
    }
}

/// `routes[i]`: anomalies of these severities (and kinds, if given) go to these channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Empty = every severity.
    #[serde(default)]
    pub severity: Vec<Severity>,
    /// Empty = every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    pub channels: Vec<String>,
}

/// `escalation[i]`: still firing `after` this long → also these channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    #[serde(deserialize_with = "dur::duration")]
    pub after: Duration,
    #[serde(default)]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub kinds: Vec<String>,
    pub channels: Vec<String>,
}

/// The validated `notify:` section.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub channels: Vec<ChannelConfig>,
    pub routes: Vec<Route>,
    /// No second alert for the same (deployment, rule, series) within this long.
    pub cooldown: Duration,
    pub escalation: Vec<Escalation>,
    /// Channels that get the one verdict message per run (default: every routed channel).
    pub verdict: Vec<String>,
    /// A link shown in every message (default: the CI job, when known).
    pub link: Option<String>,
}

/// Default cooldown when `notify.cooldown` is not set.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(15 * 60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    #[serde(default)]
    channels: BTreeMap<String, Value>,
    #[serde(default)]
    routes: Vec<Value>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    cooldown: Option<Duration>,
    #[serde(default)]
    escalation: Vec<Value>,
    verdict: Option<Vec<String>>,
    link: Option<String>,
}

fn err(field: impl Into<String>, msg: impl Into<String>) -> FieldError {
    (field.into(), msg.into())
}

fn serde_msg(e: serde_yaml::Error) -> String {
    let mut m = e.to_string();
    if let Some(i) = m.rfind(" at line ") {
        m.truncate(i);
    }
    m.replace("unknown variant", "unknown value")
}

impl NotifyConfig {
    /// Validates the raw `notify:` value; errors name the field under `notify.`.
    pub fn from_value(value: &Value) -> Result<NotifyConfig, FieldError> {
        let raw: RawNotify =
            serde_yaml::from_value(value.clone()).map_err(|e| err("notify", serde_msg(e)))?;
        let mut channels = Vec::new();
        for (name, v) in &raw.channels {
            let field = format!("notify.channels.{name}");
            channels.push(ChannelConfig {
                name: name.clone(),
                spec: channel_spec(&field, v)?,
            });
        }
        for c in &channels {
            validate_channel(&format!("notify.channels.{}.{}", c.name, c.kind()), &c.spec)?;
        }
        let known: HashSet<&str> = channels.iter().map(|c| c.name.as_str()).collect();
        let check_names = |field: &str, names: &[String]| -> Result<(), FieldError> {
            for n in names {
                if !known.contains(n.as_str()) {
                    let mut list: Vec<&str> = known.iter().copied().collect();
                    list.sort();
                    return Err(err(
                        field,
                        format!(
                            "unknown channel `{n}`; defined in notify.channels: {}",
                            if list.is_empty() {
                                "none".into()
                            } else {
                                list.join(", ")
                            }
                        ),
                    ));
                }
            }
            Ok(())
        };
        let mut routes = Vec::new();
        for (i, v) in raw.routes.iter().enumerate() {
            let field = format!("notify.routes[{i}]");
            let r: Route =
                serde_yaml::from_value(v.clone()).map_err(|e| err(&field, serde_msg(e)))?;
            check_names(&format!("{field}.channels"), &r.channels)?;
            routes.push(r);
        }
        let mut escalation = Vec::new();
        for (i, v) in raw.escalation.iter().enumerate() {
            let field = format!("notify.escalation[{i}]");
            let e: Escalation =
                serde_yaml::from_value(v.clone()).map_err(|e| err(&field, serde_msg(e)))?;
            check_names(&format!("{field}.channels"), &e.channels)?;
            escalation.push(e);
        }
        let verdict = match raw.verdict {
            Some(v) => {
                check_names("notify.verdict", &v)?;
                v
            }
            None => {
                let mut v: Vec<String> = Vec::new();
                for r in &routes {
                    for c in &r.channels {
                        if !v.contains(c) {
                            v.push(c.clone());
                        }
                    }
                }
                v
            }
        };
        Ok(NotifyConfig {
            channels,
            routes,
            cooldown: raw.cooldown.unwrap_or(DEFAULT_COOLDOWN),
            escalation,
            verdict,
            link: raw.link.filter(|l| !l.trim().is_empty()),
        })
    }

    /// The channel called `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelConfig> {
        self.channels.iter().find(|c| c.name == name)
    }
}

fn channel_spec(field: &str, v: &Value) -> Result<ChannelSpec, FieldError> {
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

fn http_url(field: &str, url: &str) -> Result<(), FieldError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        // Never echo the URL itself: webhook URLs are secrets.
        Err(err(field, "is not an http(s) URL"))
    }
}

fn non_empty(field: &str, s: &str) -> Result<(), FieldError> {
    if s.trim().is_empty() {
        Err(err(field, "must not be empty"))
    } else {
        Ok(())
    }
}

fn validate_channel(field: &str, spec: &ChannelSpec) -> Result<(), FieldError> {
    let f = |k: &str| format!("{field}.{k}");
    match spec {
        ChannelSpec::Slack(c) => http_url(&f("webhook_url"), &c.webhook_url),
        ChannelSpec::Webhook(c) => {
            http_url(&f("url"), &c.url)?;
            if c.timeout.is_some_and(|t| t.is_zero()) {
                return Err(err(f("timeout"), "must be greater than 0"));
            }
            for k in c.headers.keys() {
                if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
                    return Err(err(f("headers"), format!("`{k}` is not a header name")));
                }
            }
            Ok(())
        }
        ChannelSpec::Email(c) => {
            non_empty(&f("smtp_host"), &c.smtp_host)?;
            if c.from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(err(f("from"), format!("`{}` is not an address", c.from)));
            }
            if c.to.is_empty() {
                return Err(err(f("to"), "needs at least one address"));
            }
            for t in &c.to {
                if t.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(err(f("to"), format!("`{t}` is not an address")));
                }
            }
            if c.password.is_some() && c.username.is_none() {
                return Err(err(f("username"), "required when a password is given"));
            }
            Ok(())
        }
        ChannelSpec::Pagerduty(c) => {
            non_empty(&f("routing_key"), &c.routing_key)?;
            c.url.as_deref().map_or(Ok(()), |u| http_url(&f("url"), u))
        }
        ChannelSpec::Alertmanager(c) => http_url(&f("url"), &c.url),
        ChannelSpec::Pushover(c) => {
            non_empty(&f("token"), &c.token)?;
            non_empty(&f("user"), &c.user)?;
            c.url.as_deref().map_or(Ok(()), |u| http_url(&f("url"), u))
        }
        ChannelSpec::Log(_) => Ok(()),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
