//! Configuration: the YAML users write, validated once into runtime types.
//!
//! Loading reads the main file and its `include:`s, interpolates `${ENV}`, deserializes with
//! unknown keys rejected, and checks every cross-reference. Any problem is a [`ConfigError`]
//! naming file, line and field; nothing is run before the whole config is valid.

mod checks;
pub mod defaults;
pub mod interp;
pub mod limits;
mod load;
pub mod locate;
mod metric;
pub mod promrules;
pub mod raw;
mod sections;
mod types;
mod yaml;

pub use load::{load, load_offline, Needs, DEFAULT_FILE};
pub use types::{Config, RollbackConfig};

pub use yaml::ConfigError;
use yaml::{read_yaml, yaml_error_in, Source};

pub use crate::sources::{Metric, MetricSource, PrometheusConfig};
use raw::RawConfig;
use sections::{Gathered, MAIN};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
pub use vz_core::policy::{ErrorRatePolicy, OnInconclusive, Policy};
pub use vz_core::spec::{MetricSpec, OnEmpty, OnMissing, Rule};
pub use vz_core::units as dur;

/// Parses and validates a config text. `path` names the file in errors and anchors includes.
pub fn parse_text(
    text: &str,
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    parse(text, path, env, Needs::Sources)
}

/// [`parse_text`] for a given use.
pub fn parse(
    text: &str,
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    needs: Needs,
) -> Result<Config, ConfigError> {
    let name = path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "built-in defaults".into());
    let mut digest = Sha256::new();
    let (raw, src): (RawConfig, Source) = read_yaml(&name, text, env, &mut digest)?;
    let base_dir = path
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();

    // Metrics and rules from the main file first, then each include in order.
    let alerting = sections::alerting(raw.alerting, &src)?;
    let mut files = Gathered::new(src, raw.metrics, raw.rules);
    files.include(&raw.include, &base_dir, &alerting, env, &mut digest)?;
    let (sources, mut warnings) = (files.sources, files.warnings);
    let main = &sources[MAIN];

    let (interval, duration, deployment) =
        sections::watch(raw.interval, raw.duration, raw.deployment, main)?;
    promrules::finish(
        files.metrics.iter_mut().map(|m| &mut m.1),
        &files.names,
        interval,
        &mut warnings,
    );

    let backends = raw
        .source
        .unwrap_or_default()
        .validate(env)
        .map_err(|e| main.err(&e.field, e.message))?;
    let prometheus = backends.prometheus.clone();

    // Offline (rule tests) nothing is queried, so a PromQL metric needs no source there.
    let can_query = prometheus.is_some() || needs == Needs::Offline;
    let (out_metrics, seen) = sections::metrics(files.metrics, &sources, &backends, can_query)?;
    let out_rules = sections::rules(files.rules, &sources, &seen, &out_metrics)?;

    let mut rb = raw.rollback.unwrap_or_default();
    let raw_policy = rb.policy.take();
    let rollback = sections::rollback(rb, main)?;
    let looks = vz_core::policy::planned_ticks(duration, interval);
    let policy = sections::policy(raw_policy, looks, &seen, main)?;

    let notify = sections::notify(raw.notify.as_ref(), main)?;

    if let Some(p) = prometheus.as_ref().filter(|p| p.timeout > interval) {
        warnings.push(format!(
            "source.prometheus.timeout {} is longer than the interval {}: a query still running at the next tick counts as missing for its tick",
            humantime::format_duration(p.timeout),
            humantime::format_duration(interval)
        ));
    }
    let store = raw.store.unwrap_or_default();
    Ok(Config {
        path: path.map(Path::to_path_buf),
        deployment,
        interval,
        duration,
        prometheus,
        backends,
        metrics: out_metrics,
        rules: out_rules,
        rollback,
        policy,
        notify,
        store_path: store.url.or(store.path).map(PathBuf::from),
        retention: store.retention.unwrap_or(Duration::from_secs(30 * 86400)),
        digest: hex::encode(digest.finalize()),
        warnings,
    })
}

#[cfg(test)]
mod tests;
