//! `source.prometheus:` (or `VZ_PROMETHEUS_URL` alone) validated into a [`PrometheusConfig`].

use super::raw::RawPrometheus;
use super::yaml::{ConfigError, Source};
use super::PrometheusConfig;
use std::collections::BTreeMap;
use std::time::Duration;

/// Connections one watch may hold to Prometheus when the config does not say: 200 watches
/// then hold at most 400, under Prometheus's default `--web.max-connections=512`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2;

/// More would defeat the purpose of the bound (Prometheus evaluates 20 queries at a time by
/// default, `--query.max-concurrency`; more sockets only queue there).
const MAX_CONNECTIONS_LIMIT: u64 = 64;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_RETRIES: u32 = 2;

/// The Prometheus source of a config, if any: `raw` with `VZ_PROMETHEUS_URL` overriding its
/// URL; the variable alone gives a source with every default.
pub(super) fn validate(
    raw: Option<RawPrometheus>,
    main: &Source,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<PrometheusConfig>, ConfigError> {
    let env_url = env("VZ_PROMETHEUS_URL").filter(|u| !u.is_empty());
    let Some(p) = raw else {
        return Ok(env_url.map(|url| PrometheusConfig {
            url,
            headers: BTreeMap::new(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }));
    };
    let url = env_url.or(p.url).ok_or_else(|| {
        main.err(
            "source.prometheus.url",
            "missing (or set VZ_PROMETHEUS_URL)",
        )
    })?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(main.err(
            "source.prometheus.url",
            format!("`{url}` is not an http(s) URL"),
        ));
    }
    let max_connections = match p.max_connections {
        None => DEFAULT_MAX_CONNECTIONS,
        Some(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => n as usize,
        Some(n) => {
            return Err(main.err(
                "source.prometheus.max_connections",
                format!(
                    "{n} is not between 1 and {MAX_CONNECTIONS_LIMIT} (connections one watch \
                     may hold; every watch counts against Prometheus's --web.max-connections, \
                     512 by default)"
                ),
            ))
        }
    };
    Ok(Some(PrometheusConfig {
        url,
        headers: p.headers,
        timeout: p.timeout.unwrap_or(DEFAULT_TIMEOUT),
        retries: p.retries.unwrap_or(DEFAULT_RETRIES),
        max_connections,
    }))
}
