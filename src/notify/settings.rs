//! `notify:` as users write it, validated once into typed channels, routes, cooldown and
//! escalation stages ([`NotifyConfig`], held by the loaded `Config`). Each channel is
//! read on its own so an error names its exact field; each channel type's settings live in
//! its channel's file, listed once in `channels!` (`notify/mod.rs`).

use super::{ChannelConfig, ChannelSpec, CHANNEL_TYPES};
use crate::model::Severity;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use vz_core::units as dur;

/// A channel type's settings: checked once when the config loads.
pub trait ChannelSettings {
    /// Checks the settings; `at` is the channel's field path (`notify.channels.team.slack`),
    /// errors name a field under it.
    fn validate(&self, at: &str) -> Result<(), FieldError>;
}

/// A notify config problem: the field path under the top level (`notify.routes[0].channels`)
/// and one sentence.
pub type FieldError = (String, String);

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

pub(super) fn err(field: impl Into<String>, msg: impl Into<String>) -> FieldError {
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
            c.spec
                .validate(&format!("notify.channels.{}.{}", c.name, c.kind()))?;
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

/// Reads one `{ TYPE: {...} }` channel value; errors name `field` (or `field.TYPE`).
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

pub(super) fn http_url(field: String, url: &str) -> Result<(), FieldError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        // Never echo the URL itself: webhook URLs are secrets.
        Err(err(field, "is not an http(s) URL"))
    }
}

pub(super) fn non_empty(field: String, s: &str) -> Result<(), FieldError> {
    if s.trim().is_empty() {
        Err(err(field, "must not be empty"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
