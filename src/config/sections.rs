//! The steps of [`super::parse`], one per section of the config: every file's metrics and
//! rules gathered (the main file, then each include in order), then each section validated
//! in the order `parse` reports errors.

use super::checks::{check_composites, join_field, valid_name};
use super::metric;
use super::promrules::{self, AlertSettings, Names};
use super::raw::{RawAlerting, RawMetric, RawPolicy, RawRollback, RawRule, RawRuleFile};
use super::yaml::{read_yaml, refuse_hostile, ConfigError, Source};
use super::{dur, ErrorRatePolicy, Metric, Policy, RollbackConfig, Rule};
use crate::backends::Settings;
use crate::model::default_severity;
use crate::notify::NotifyConfig;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// Index of the main file in [`Gathered::sources`].
pub(super) const MAIN: usize = 0;

/// Every file's metrics and rules, the main file's first, then each include's in order:
/// each with its field path (`metrics.x`, `rules[2]`) and the index of its file in `sources`.
pub(super) struct Gathered {
    pub metrics: Vec<(String, RawMetric, String, usize)>,
    pub rules: Vec<(RawRule, String, usize)>,
    pub sources: Vec<Source>,
    pub warnings: Vec<String>,
    pub names: Names,
}

/// `alerting:` with its defaults.
pub(super) fn alerting(
    raw: Option<RawAlerting>,
    main: &Source,
) -> Result<AlertSettings, ConfigError> {
    let raw_alerting = raw.unwrap_or_default();
    let alerting = AlertSettings {
        external_labels: raw_alerting.external_labels,
        external_url: raw_alerting.external_url,
        pre_existing: raw_alerting.pre_existing,
        lookback: raw_alerting
            .lookback
            .unwrap_or(Duration::from_secs(15 * 60)),
    };
    if alerting.lookback.is_zero() {
        return Err(main.err("alerting.lookback", "must be greater than 0"));
    }
    Ok(alerting)
}

impl Gathered {
    /// The main file's `metrics:` and `rules:`.
    pub fn new(
        main: Source,
        metrics: BTreeMap<String, RawMetric>,
        rules: Vec<RawRule>,
    ) -> Gathered {
        let mut g = Gathered {
            names: Names {
                rules: rules.iter().map(|r| r.name.clone()).collect(),
                metrics: metrics.keys().cloned().collect(),
                ..Default::default()
            },
            metrics: Vec::new(),
            rules: Vec::new(),
            sources: vec![main],
            warnings: Vec::new(),
        };
        g.add_file(metrics, rules, MAIN);
        g
    }

    /// Adds the metrics and rules of each `include:` in order (our rule files and Prometheus
    /// rule files), read relative to `base_dir`; every text read goes into `digest`.
    pub fn include(
        &mut self,
        include: &[String],
        base_dir: &Path,
        alerting: &AlertSettings,
        env: &dyn Fn(&str) -> Option<String>,
        digest: &mut Sha256,
    ) -> Result<(), ConfigError> {
        for (i, inc) in include.iter().enumerate() {
            let inc_path = base_dir.join(inc);
            let inc_name = inc_path.display().to_string();
            let inc_text = std::fs::read_to_string(&inc_path).map_err(|e| {
                self.sources[MAIN].err(
                    &format!("include[{i}]"),
                    format!("cannot read `{inc_name}`: {e}"),
                )
            })?;
            refuse_hostile(&inc_name, &inc_text)?;
            if promrules::is_rule_file(&inc_text) {
                // A Prometheus rule file: read as is (`${1}` is PromQL there).
                digest.update(inc_text.as_bytes());
                self.add_prometheus(&inc_name, &inc_text, alerting)?;
                continue;
            }
            let (file, src): (RawRuleFile, Source) = read_yaml(&inc_name, &inc_text, env, digest)?;
            self.sources.push(src);
            self.add_file(file.metrics, file.rules, self.sources.len() - 1);
        }
        Ok(())
    }

    /// One file's metrics and rules; `idx`: the file in `sources`.
    fn add_file(&mut self, metrics: BTreeMap<String, RawMetric>, rules: Vec<RawRule>, idx: usize) {
        for (n, m) in metrics {
            self.metrics
                .push((n.clone(), m, format!("metrics.{n}"), idx));
        }
        for (j, r) in rules.into_iter().enumerate() {
            self.rules.push((r, format!("rules[{j}]"), idx));
        }
    }

    /// A Prometheus rule file's alerts, one metric and one rule each, per YAML document.
    fn add_prometheus(
        &mut self,
        name: &str,
        text: &str,
        alerting: &AlertSettings,
    ) -> Result<(), ConfigError> {
        let (docs, notes) = promrules::convert(name, text, alerting, &mut self.names)?;
        self.warnings.extend(notes);
        for (src, alerts) in docs {
            let idx = self.sources.len();
            self.sources.push(src);
            for a in alerts {
                self.metrics
                    .push((a.metric_name, a.metric, a.field.clone(), idx));
                self.rules.push((a.rule, a.field, idx));
            }
        }
        Ok(())
    }
}

/// `interval:`, `duration:` and `deployment:`, with their defaults.
pub(super) fn watch(
    interval: Option<Duration>,
    duration: Option<Duration>,
    deployment: Option<String>,
    main: &Source,
) -> Result<(Duration, Duration, String), ConfigError> {
    let interval = interval.unwrap_or(Duration::from_secs(30));
    if interval.is_zero() {
        return Err(main.err("interval", "must be greater than 0"));
    }
    let duration = duration.unwrap_or(Duration::from_secs(15 * 60));
    if let Err(e) = dur::check_watch(duration) {
        return Err(main.err("duration", &e));
    }
    let deployment = deployment.unwrap_or_else(|| "default".into());
    if deployment.trim().is_empty() {
        return Err(main.err("deployment", "must not be empty"));
    }
    Ok((interval, duration, deployment))
}

/// `metrics:` of every file validated in order, and their names.
pub(super) fn metrics(
    metrics: Vec<(String, RawMetric, String, usize)>,
    sources: &[Source],
    backends: &Settings,
    can_query: bool,
) -> Result<(Vec<Metric>, HashSet<String>), ConfigError> {
    let mut seen = HashSet::new();
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
            settings: backends,
            can_query,
        };
        out_metrics.push(metric::build(name, m, &field, src, input)?);
    }
    metric::check_volumes(&out_metrics).map_err(|(i, msg)| {
        let (idx, field) = &metric_fields[i];
        sources[*idx].err(&format!("{field}.min_volume.metric"), msg)
    })?;
    Ok((out_metrics, seen))
}

/// `rules:` of every file validated in order, composites resolved; `seen`: the metric names.
pub(super) fn rules(
    rules: Vec<(RawRule, String, usize)>,
    sources: &[Source],
    seen: &HashSet<String>,
    metrics: &[Metric],
) -> Result<Vec<Rule>, ConfigError> {
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
        rule_fields.push((idx, field.clone()));
        out_rules.push(rule(r, &field, src, seen, metrics)?);
    }
    check_composites(&mut out_rules).map_err(|(i, msg)| {
        let (idx, field) = &rule_fields[i];
        sources[*idx].err(&format!("{field}.detector.composite.rules"), msg)
    })?;
    metric::check_against(&out_rules, metrics).map_err(|(i, msg)| {
        let (idx, field) = &rule_fields[i];
        sources[*idx].err(&format!("{field}.detector.baseline.against"), msg)
    })?;
    Ok(out_rules)
}

/// One rule validated; `field`: its path (`rules[2]`).
fn rule(
    mut r: RawRule,
    field: &str,
    src: &Source,
    seen: &HashSet<String>,
    metrics: &[Metric],
) -> Result<Rule, ConfigError> {
    watched_metrics(&mut r, field, src, seen, metrics)?;
    r.detector
        .validate()
        .map_err(|(sub, msg)| src.err(&join_field(&format!("{field}.detector"), &sub), msg))?;
    // Without `kind`, the detector's kind if it implies one, else the rule's own name
    // (`error-spike` → ERROR_SPIKE): never a kind that names other trouble (issue 25.6:
    // every such rule was HIGH_LATENCY). The default severity stays what it was: the
    // detector's kind's, else high.
    let implied = r.detector.default_kind();
    let severity_kind = r.kind.clone().or(implied.map(String::from));
    let kind = r
        .kind
        .unwrap_or_else(|| implied.map_or_else(|| promrules::upper_snake(&r.name), String::from));
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
    Ok(Rule {
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
    })
}

/// The metrics a rule reads are defined; a rule without `metric` watches the first of its
/// detector's own metrics (`isolation_forest`), a composite may have none.
fn watched_metrics(
    r: &mut RawRule,
    field: &str,
    src: &Source,
    seen: &HashSet<String>,
    metrics: &[Metric],
) -> Result<(), ConfigError> {
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
        let known: Vec<_> = metrics.iter().map(|m| m.name.as_str()).collect();
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
    Ok(())
}

/// `rollback:` but its `policy:`, with defaults.
pub(super) fn rollback(rb: RawRollback, main: &Source) -> Result<RollbackConfig, ConfigError> {
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
    Ok(rollback)
}

/// `rollback.policy:` over the defaults; `looks`: the planned ticks of the watch, `seen`:
/// the metric names.
pub(super) fn policy(
    p: Option<RawPolicy>,
    looks: u32,
    seen: &HashSet<String>,
    main: &Source,
) -> Result<Policy, ConfigError> {
    let mut policy = Policy {
        looks,
        ..Policy::default()
    };
    if let Some(p) = p {
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
    Ok(policy)
}

/// `notify:`, validated by the notify module; its errors name the field under `notify.`.
pub(super) fn notify(
    raw: Option<&serde_yaml::Value>,
    main: &Source,
) -> Result<Option<NotifyConfig>, ConfigError> {
    raw.map(|n| NotifyConfig::from_value(n).map_err(|(field, msg)| main.err(&field, msg)))
        .transpose()
}
