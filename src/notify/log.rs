//! The log channel: one line on stderr, or one JSON line (the webhook body) appended to a file.

use super::message::Message;
use super::settings::{ChannelSettings, FieldError};
use super::{Channel, Delivery};
use futures::future::BoxFuture;
use serde::Deserialize;
use std::io::Write;
use std::time::Duration;

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

/// Writes messages to stderr or a file.
pub struct Log {
    path: Option<String>,
    name: String,
}

impl Log {
    /// A log channel called `name`.
    pub fn new(c: &LogConfig, name: &str) -> Log {
        Log {
            path: c.path.clone(),
            name: name.to_string(),
        }
    }
}

impl Channel for Log {
    fn kind(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            match &self.path {
                None => {
                    errln!(
                        "notify[{}]: {} — {}",
                        self.name,
                        msg.event.as_str(),
                        msg.summary
                    );
                    Delivery::sent(1, "stderr")
                }
                Some(p) => {
                    let line = serde_json::to_string(msg).unwrap_or_default() + "\n";
                    let r = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .and_then(|mut f| f.write_all(line.as_bytes()));
                    match r {
                        Ok(()) => Delivery::sent(1, "appended"),
                        Err(e) => Delivery::failed(1, format!("cannot append to {p}: {e}")),
                    }
                }
            }
        })
    }

    fn bound(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
}
