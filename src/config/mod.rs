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
mod types;
mod yaml;

pub use load::{load, load_offline, Needs, DEFAULT_FILE};
pub use types::{Config, RollbackConfig};

use checks::{check_composites, join_field, valid_name};
pub use yaml::ConfigError;
use yaml::{read_yaml, refuse_hostile, yaml_error_in, Source};

use crate::model::default_severity;
pub use crate::sources::{Metric, MetricSource, PrometheusConfig};
use raw::{RawConfig, RawMetric, RawRule, RawRuleFile};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
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
    let mut metrics: Vec<(String, RawMetric, String, usize)> = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    let mut rules: Vec<(RawRule, String, usize)> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let main_idx = 0;
    sources.push(src);
    let raw_alerting = raw.alerting.unwrap_or_default();
    let alerting = promrules::AlertSettings {
        external_labels: raw_alerting.external_labels,
        external_url: raw_alerting.external_url,
        pre_existing: raw_alerting.pre_existing,
        lookback: raw_alerting
            .lookback
            .unwrap_or(Duration::from_secs(15 * 60)),
    };
    if alerting.lookback.is_zero() {
        return Err(sources[main_idx].err("alerting.lookback", "must be greater than 0"));
    }
    let mut names = promrules::Names {
        rules: raw.rules.iter().map(|r| r.name.clone()).collect(),
        metrics: raw.metrics.keys().cloned().collect(),
        ..Default::default()
    };
    for (n, m) in raw.metrics {
        metrics.push((n.clone(), m, format!("metrics.{n}"), main_idx));
    }
    for (i, r) in raw.rules.into_iter().enumerate() {
        rules.push((r, format!("rules[{i}]"), main_idx));
    }
    for (i, inc) in raw.include.iter().enumerate() {
        let inc_path = base_dir.join(inc);
        let inc_name = inc_path.display().to_string();
        let inc_text = std::fs::read_to_string(&inc_path).map_err(|e| {
            sources[main_idx].err(
                &format!("include[{i}]"),
                format!("cannot read `{inc_name}`: {e}"),
            )
        })?;
        refuse_hostile(&inc_name, &inc_text)?;
        if promrules::is_rule_file(&inc_text) {
            // A Prometheus rule file: read as is (`${1}` is PromQL there).
            digest.update(inc_text.as_bytes());
            let (docs, notes) = promrules::convert(&inc_name, &inc_text, &alerting, &mut names)?;
            warnings.extend(notes);
            for (src, alerts) in docs {
                let idx = sources.len();
                sources.push(src);
                for a in alerts {
                    metrics.push((a.metric_name, a.metric, a.field.clone(), idx));
                    rules.push((a.rule, a.field, idx));
                }
            }
            continue;
        }
        let (file, src): (RawRuleFile, Source) = read_yaml(&inc_name, &inc_text, env, &mut digest)?;
        let idx = sources.len();
        sources.push(src);
        for (n, m) in file.metrics {
            metrics.push((n.clone(), m, format!("metrics.{n}"), idx));
        }
        for (j, r) in file.rules.into_iter().enumerate() {
            rules.push((r, format!("rules[{j}]"), idx));
        }
    }
    let main = &sources[main_idx];

    let interval = raw.interval.unwrap_or(Duration::from_secs(30));
    if interval.is_zero() {
        return Err(main.err("interval", "must be greater than 0"));
    }
    promrules::finish(
        metrics.iter_mut().map(|m| &mut m.1),
        &names,
        interval,
        &mut warnings,
    );
    let duration = raw.duration.unwrap_or(Duration::from_secs(15 * 60));
    if let Err(e) = dur::check_watch(duration) {
        return Err(main.err("duration", &e));
    }
    let deployment = raw.deployment.unwrap_or_else(|| "default".into());
    if deployment.trim().is_empty() {
        return Err(main.err("deployment", "must not be empty"));
    }

    let backends = raw
        .source
        .unwrap_or_default()
        .validate(env)
        .map_err(|e| main.err(&e.field, e.message))?;
    let prometheus = backends.prometheus.clone();

    let mut seen = HashSet::new();
    // Offline (rule tests) nothing is queried, so a PromQL metric needs no source there.
    let can_query = prometheus.is_some() || needs == Needs::Offline;
    let mut out_metrics = Vec::new();
    let mut metric_fields: Vec<(usize, String)> = Vec::new();
    for (name, m, field, idx) in metrics {
        let src = &sources[idx];
        if !valid_name(&name) {
            return Err(src.err(
                &field,
                "metric names use letters, digits and `_`, and start with a letter or `_`",
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(src.err(&field, format!("metric `{name}` is defined twice")));
        }
        metric_fields.push((idx, field.clone()));
        let input = metric::Input {
            settings: &backends,
            can_query,
        };
        out_metrics.push(metric::build(name, m, &field, src, input)?);
    }
    metric::check_volumes(&out_metrics).map_err(|(i, msg)| {
        let (idx, field) = &metric_fields[i];
        sources[*idx].err(&format!("{field}.min_volume.metric"), msg)
    })?;

    let mut rule_names = HashSet::new();
    let mut out_rules = Vec::new();
    let mut rule_fields: Vec<(usize, String)> = Vec::new();
    for (r, field, idx) in rules {
        let src = &sources[idx];
        if r.name.trim().is_empty() {
            return Err(src.err(&format!("{field}.name"), "must not be empty"));
        }
        if !rule_names.insert(r.name.clone()) {
            return Err(src.err(
                &format!("{field}.name"),
                format!("rule `{}` is defined twice", r.name),
            ));
        }
        let mut r = r;
        let joint = r.detector.joint_metrics().map(<[String]>::to_vec);
        if r.metric.is_empty() {
            match (&joint, r.detector.composite()) {
                (Some(ms), _) if !ms.is_empty() => r.metric = ms[0].clone(),
                (_, Some(_)) => {}
                _ => {
                    return Err(src.err(
                        &format!("{field}.metric"),
                        "missing: which metric does the rule watch?",
                    ))
                }
            }
        }
        let is_composite = r.detector.composite().is_some();
        for (j, m) in joint.iter().flatten().enumerate() {
            if !seen.contains(m) {
                return Err(src.err(
                    &format!("{field}.detector.isolation_forest.metrics[{j}]"),
                    format!("unknown metric `{m}`"),
                ));
            }
        }
        if !(seen.contains(&r.metric) || is_composite && r.metric.is_empty()) {
            let known: Vec<_> = out_metrics.iter().map(|m| m.name.as_str()).collect();
            return Err(src.err(
                &format!("{field}.metric"),
                format!(
                    "unknown metric `{}`; defined: {}",
                    r.metric,
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        r.detector
            .validate()
            .map_err(|(sub, msg)| src.err(&join_field(&format!("{field}.detector"), &sub), msg))?;
        // Without `kind`, the detector's kind if it implies one, else the rule's own name
        // (`error-spike` → ERROR_SPIKE): never a kind that names other trouble (issue 25.6:
        // every such rule was HIGH_LATENCY). The default severity stays what it was: the
        // detector's kind's, else high.
        let implied = r.detector.default_kind();
        let severity_kind = r.kind.clone().or(implied.map(String::from));
        let kind = r.kind.unwrap_or_else(|| {
            implied.map_or_else(|| promrules::upper_snake(&r.name), String::from)
        });
        if kind.is_empty()
            || !kind
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(src.err(
                &format!("{field}.kind"),
                format!("`{kind}` must be UPPER_SNAKE_CASE, e.g. HIGH_ERROR_RATE"),
            ));
        }
        let severity = r.severity.unwrap_or_else(|| {
            severity_kind.map_or(crate::model::Severity::High, |k| default_severity(&k))
        });
        if r.consecutive_failures == Some(0) {
            return Err(src.err(
                &format!("{field}.consecutive_failures"),
                "must be at least 1",
            ));
        }
        rule_fields.push((idx, field.clone()));
        out_rules.push(Rule {
            name: r.name,
            metric: r.metric,
            detector: r.detector,
            for_: r.for_.unwrap_or(Duration::ZERO),
            window: r.window,
            kind,
            severity,
            failure_limit: r.failure_limit.unwrap_or(0),
            consecutive_failures: r.consecutive_failures.unwrap_or(1),
            dry_run: r.dry_run,
            description: r.description,
            annotations: r.annotations,
            origin: src.name.clone(),
        });
    }

    check_composites(&mut out_rules).map_err(|(i, msg)| {
        let (idx, field) = &rule_fields[i];
        sources[*idx].err(&format!("{field}.detector.composite.rules"), msg)
    })?;
    metric::check_against(&out_rules, &out_metrics).map_err(|(i, msg)| {
        let (idx, field) = &rule_fields[i];
        sources[*idx].err(&format!("{field}.detector.baseline.against"), msg)
    })?;

    let rb = raw.rollback.unwrap_or_default();
    let enabled = rb.enabled.unwrap_or(!rb.command.is_empty());
    if enabled && rb.command.is_empty() {
        return Err(main.err("rollback.command", "required when rollback.enabled is true (an argv list, e.g. [kubectl, rollout, undo, deployment/x])"));
    }
    if rb.command.first().is_some_and(|c| c.trim().is_empty()) {
        return Err(main.err("rollback.command", "the program name must not be empty"));
    }
    let rollback = RollbackConfig {
        enabled,
        command: rb.command,
        timeout: rb.timeout.unwrap_or(Duration::from_secs(300)),
        retries: rb.retries.unwrap_or(1),
        idempotent: rb.idempotent.unwrap_or(false),
    };
    if rollback.timeout.is_zero() {
        return Err(main.err("rollback.timeout", "must be greater than 0"));
    }

    let mut policy = Policy {
        looks: vz_core::policy::planned_ticks(duration, interval),
        ..Policy::default()
    };
    if let Some(p) = rb.policy {
        policy.critical = p.critical.unwrap_or(policy.critical);
        policy.high = p.high.unwrap_or(policy.high);
        policy.medium = p.medium.unwrap_or(policy.medium);
        policy.low = p.low.unwrap_or(policy.low);
        policy.max_downtime = p.max_downtime.unwrap_or(policy.max_downtime);
        policy.max_missing = p.max_missing.unwrap_or(policy.max_missing);
        policy.on_inconclusive = p.on_inconclusive.unwrap_or_default();
        policy.alpha = p.alpha.unwrap_or(policy.alpha);
        if !(policy.alpha > 0.0 && policy.alpha < 1.0) {
            return Err(main.err("rollback.policy.alpha", "must be between 0 and 1"));
        }
        if policy.max_missing > 100.0 {
            return Err(main.err("rollback.policy.max_missing", "must be between 0% and 100%"));
        }
        if let Some(er) = p.error_rate {
            if !seen.contains(&er.metric) {
                return Err(main.err(
                    "rollback.policy.error_rate.metric",
                    format!("unknown metric `{}`", er.metric),
                ));
            }
            if !er.above.is_finite() {
                return Err(main.err("rollback.policy.error_rate.above", "must be a number"));
            }
            policy.error_rate = Some(ErrorRatePolicy {
                metric: er.metric,
                above: er.above,
            });
        }
    }

    let notify = match &raw.notify {
        Some(n) => Some(
            crate::notify::NotifyConfig::from_value(n)
                .map_err(|(field, msg)| main.err(&field, msg))?,
        ),
        None => None,
    };

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
