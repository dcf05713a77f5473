//! Metrics exports, each one [`Observer`]: Prometheus Pushgateway (result metrics at the
//! end), a live `/metrics` endpoint (`--listen`) and Grafana annotations. None can change
//! the gate's decision or its exit code: a failure is a warning on stderr.

pub mod grafana;
pub mod listen;
pub mod promtext;
pub mod pushgateway;

use crate::observe::{Observer, RunContext};
use std::time::Duration;

/// How long `on_finish` waits for one HTTP export (push, annotation) before giving up.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exports the run's flags ask for.
pub fn observers(ctx: &RunContext) -> Vec<Box<dyn Observer>> {
    let env = |k: &str| std::env::var(k).ok();
    let mut list: Vec<Box<dyn Observer>> = Vec::new();
    if let Some(url) = &ctx.pushgateway {
        list.push(Box::new(pushgateway::Pushgateway::new(url)));
    }
    if let Some(addr) = &ctx.listen {
        list.push(Box::new(listen::Listen::new(addr)));
    }
    if let Some(url) = &ctx.grafana_url {
        list.push(Box::new(grafana::Grafana::new(
            url,
            env("VZ_GRAFANA_TOKEN"),
        )));
    }
    list
}

/// An HTTP client for exports: bounded timeouts, no proxy surprises on loopback.
pub fn http_client() -> Option<reqwest::Client> {
    match reqwest::Client::builder()
        .timeout(EXPORT_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("vz-monitor/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => Some(c),
        Err(e) => {
            errln!("warning: cannot build an HTTP client: {e}");
            None
        }
    }
}

/// A URL with any `user:password@` removed, for messages (see [`crate::redact`]).
pub use crate::redact::redact_url;

/// One line describing why an HTTP export failed, without the URL (it may hold secrets).
pub fn describe_http_error(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.without_url().to_string()
    }
}
