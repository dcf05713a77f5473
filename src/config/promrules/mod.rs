//! Prometheus alerting-rule files (`groups: [{name, rules: [{alert, expr, for, labels,
//! annotations}]}]`) accepted in `include:`, converted into our own metrics and rules.
//!
//! Each alert becomes a metric `alert_<snake_name>` with query `count(<expr>)` and
//! `on_empty: zero` (an alert expression returns no series while all is well), and a rule
//! `threshold > 0` holding for the alert's `for`: the gate fires when the expression returns
//! any series for that long, as Prometheus would. Recording rules have nothing to gate and
//! are reported as skipped. `${…}` is not interpolated in these files: in PromQL it belongs
//! to `label_replace` (`"${1}"`).
//!
//! Severity mapping from `labels.severity` (case-insensitive):
//!
//! | label | severity |
//! |---|---|
//! | `critical`, `page`, `fatal`, `emergency` | critical |
//! | `error`, `high`, `major` | high |
//! | `warning`, `warn`, `medium` | medium |
//! | `low`, `minor` | low |
//! | `info`, `none`, `informational` | info |
//! | absent | high |
//! | anything else | high, with a warning |

use super::raw::{OnEmpty, OnMissing, RawMetric, RawRule};
use super::{ConfigError, Source};
use crate::detect::threshold::{Op, ThresholdParams};
use crate::detect::DetectorSpec;
use crate::model::Severity;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// Whether a YAML text is a Prometheus rule file: a mapping with a top-level `groups` key.
pub fn is_rule_file(text: &str) -> bool {
    matches!(
        serde_yaml::from_str::<serde_yaml::Value>(text),
        Ok(serde_yaml::Value::Mapping(m)) if m.contains_key("groups")
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    #[serde(default)]
    rules: Vec<PromRule>,
    // Evaluation settings of the Prometheus server; the gate has its own interval.
    #[serde(default)]
    #[allow(dead_code)]
    interval: Option<serde_yaml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    limit: Option<serde_yaml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    query_offset: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromRule {
    alert: Option<String>,
    record: Option<String>,
    expr: Option<String>,
    #[serde(rename = "for", default, deserialize_with = "super::dur::opt_duration")]
    for_: Option<Duration>,
    #[serde(default, deserialize_with = "super::dur::opt_duration")]
    keep_firing_for: Option<Duration>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// One converted alert: the metric and rule it became, with its field path in the file.
pub struct Converted {
    pub metric_name: String,
    pub metric: RawMetric,
    pub rule: RawRule,
    /// `groups[g].rules[r]`, for errors found later in validation.
    pub field: String,
}

/// Parses a Prometheus rule file named `name` (positions in `src`) into metrics and rules.
/// Returns the converted alerts and warning lines (skipped recording rules, unknown
/// severities, unsupported fields).
pub(super) fn convert(
    src: &Source,
    text: &str,
) -> Result<(Vec<Converted>, Vec<String>), ConfigError> {
    let file: RuleFile = serde_yaml::from_str(text).map_err(|e| super::yaml_error_in(src, &e))?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut metric_names = HashSet::new();
    let mut rule_names = HashSet::new();
    for (g, group) in file.groups.iter().enumerate() {
        for (r, rule) in group.rules.iter().enumerate() {
            let field = format!("groups[{g}].rules[{r}]");
            let line = src
                .locations
                .find(&field)
                .map(|p| format!(":{}", p.0))
                .unwrap_or_default();
            let (alert, expr) = match (&rule.alert, &rule.record, &rule.expr) {
                (Some(_), Some(_), _) => {
                    return Err(src.err(&field, "give either `alert` or `record`, not both"))
                }
                (None, Some(record), _) => {
                    warnings.push(format!(
                        "{}{line}: recording rule `{record}` (group `{}`) skipped: only \
                         alerting rules gate a deploy",
                        src.name, group.name
                    ));
                    continue;
                }
                (None, None, _) => {
                    return Err(src.err(&field, "needs `alert` (or `record`, which is skipped)"))
                }
                (Some(_), None, None) => {
                    return Err(src.err(&format!("{field}.alert"), "needs an `expr`"))
                }
                (Some(a), None, Some(e)) => (a.trim(), e.trim()),
            };
            if alert.is_empty() {
                return Err(src.err(&format!("{field}.alert"), "must not be empty"));
            }
            if expr.is_empty() {
                return Err(src.err(&format!("{field}.expr"), "must not be empty"));
            }
            if rule.keep_firing_for.is_some() {
                warnings.push(format!(
                    "{}{line}: alert `{alert}`: keep_firing_for is ignored (an anomaly \
                     resolves when the expression stops returning series)",
                    src.name
                ));
            }
            let severity = match rule.labels.get("severity") {
                None => Severity::High,
                Some(s) => severity_of(s).unwrap_or_else(|| {
                    warnings.push(format!(
                        "{}{line}: alert `{alert}`: severity `{s}` is not one of critical, \
                         page, error, high, warning, medium, low, info: treated as high",
                        src.name
                    ));
                    Severity::High
                }),
            };

            let base = format!("alert_{}", snake(alert));
            let metric_name = unique(&base, &mut metric_names, "_");
            let rule_name = unique(alert, &mut rule_names, "#");
            let mut annotations = rule.annotations.clone();
            annotations
                .entry("alert_expr".into())
                .or_insert_with(|| expr.to_string());
            for (k, v) in &rule.labels {
                if k != "severity" {
                    annotations
                        .entry(format!("label_{k}"))
                        .or_insert_with(|| v.clone());
                }
            }
            out.push(Converted {
                metric: RawMetric {
                    query: Some(format!("count({expr})")),
                    probe: None,
                    on_missing: OnMissing::Inconclusive,
                    on_empty: OnEmpty::Zero,
                    consecutive_errors: None,
                    per_series: false,
                    description: Some(format!("series returned by alert `{alert}`")),
                },
                rule: RawRule {
                    name: rule_name,
                    metric: metric_name.clone(),
                    detector: DetectorSpec::Threshold(ThresholdParams {
                        op: Op::Gt,
                        value: 0.0,
                    }),
                    for_: Some(rule.for_.unwrap_or(Duration::ZERO)),
                    window: None,
                    kind: Some(upper_snake(alert)),
                    severity: Some(severity),
                    failure_limit: None,
                    consecutive_failures: None,
                    dry_run: false,
                    description: rule
                        .annotations
                        .get("summary")
                        .or(rule.annotations.get("description"))
                        .cloned(),
                    annotations,
                },
                metric_name,
                field,
            });
        }
    }
    Ok((out, warnings))
}

/// The documented mapping of `labels.severity` (see the module doc).
pub fn severity_of(label: &str) -> Option<Severity> {
    Some(match label.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "fatal" | "emergency" => Severity::Critical,
        "error" | "high" | "major" => Severity::High,
        "warning" | "warn" | "medium" => Severity::Medium,
        "low" | "minor" => Severity::Low,
        "info" | "none" | "informational" => Severity::Info,
        _ => return None,
    })
}

/// Words of an alert name: split at `_`, `-`, spaces and lower→upper case changes
/// (`HighErrorRate` → high, error, rate; `KubePodCrashLooping` → kube, pod, crash, looping).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1);
        let boundary = c.is_ascii_uppercase()
            && !cur.is_empty()
            && (prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || next.is_some_and(|n| n.is_ascii_lowercase()));
        if boundary {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `HighErrorRate` → `high_error_rate`.
pub fn snake(name: &str) -> String {
    let s = words(name).join("_");
    if s.is_empty() {
        "unnamed".into()
    } else {
        s
    }
}

/// `HighErrorRate` → `HIGH_ERROR_RATE` (the anomaly kind).
pub fn upper_snake(name: &str) -> String {
    snake(name).to_ascii_uppercase()
}

/// `base`, or `base<sep>2`, `base<sep>3` … when already taken (Prometheus allows the same
/// alert name twice, e.g. a warning and a critical threshold).
fn unique(base: &str, taken: &mut HashSet<String>, sep: &str) -> String {
    let mut name = base.to_string();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{base}{sep}{n}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_text;
    use std::path::Path;

    #[test]
    fn names_become_snake_and_upper_snake() {
        assert_eq!(snake("HighErrorRate"), "high_error_rate");
        assert_eq!(snake("KubePodCrashLooping"), "kube_pod_crash_looping");
        assert_eq!(snake("HTTPErrors5xx"), "http_errors5xx");
        assert_eq!(snake("node-disk full"), "node_disk_full");
        assert_eq!(upper_snake("APIHighLatency"), "API_HIGH_LATENCY");
    }

    #[test]
    fn severity_mapping_is_the_documented_one() {
        assert_eq!(severity_of("page"), Some(Severity::Critical));
        assert_eq!(severity_of("Critical"), Some(Severity::Critical));
        assert_eq!(severity_of("error"), Some(Severity::High));
        assert_eq!(severity_of("warning"), Some(Severity::Medium));
        assert_eq!(severity_of("info"), Some(Severity::Info));
        assert_eq!(severity_of("P1"), None);
    }

    fn load(rules: &str) -> Result<crate::config::Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("alerts.yml"), rules).unwrap();
        let main = dir.path().join("vz-monitor.yaml");
        let text =
            "source: { prometheus: { url: http://127.0.0.1:9090 } }\ninclude: [alerts.yml]\n";
        std::fs::write(&main, text).unwrap();
        parse_text(text, Some(Path::new(&main)), &|_| None)
    }

    const FILE: &str = r#"groups:
  - name: web
    interval: 30s
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m])) > 0.05
        for: 2m
        labels: { severity: page, team: checkout }
        annotations: { summary: "5xx above 5%", runbook: "https://runbooks/5xx" }
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{code=~"5.."}[1m])) > 1
        labels: { severity: warning }
      - alert: LabelReplace
        expr: label_replace(up, "host", "${1}", "instance", "(.*):.*") == 0
"#;

    #[test]
    fn alerts_become_count_metrics_and_threshold_rules() {
        let c = load(FILE).unwrap();
        let m = c.metric("alert_high_error_rate").unwrap();
        assert!(matches!(&m.source, crate::config::MetricSource::Query(q)
            if q.starts_with("count(sum(rate(") && q.ends_with("> 0.05)")));
        assert_eq!(m.on_empty, OnEmpty::Zero);
        let r = &c.rules[0];
        assert_eq!(r.name, "HighErrorRate");
        assert_eq!(r.kind, "HIGH_ERROR_RATE");
        assert_eq!(r.severity, Severity::Critical);
        assert_eq!(r.for_, Duration::from_secs(120));
        assert_eq!(r.annotations["summary"], "5xx above 5%");
        assert_eq!(r.annotations["label_team"], "checkout");
        assert!(matches!(
            r.detector,
            DetectorSpec::Threshold(ThresholdParams { op: Op::Gt, value }) if value == 0.0
        ));
        // The same alert name twice: both kept, told apart.
        assert_eq!(c.rules[1].name, "HighErrorRate#2");
        assert_eq!(c.rules[1].metric, "alert_high_error_rate_2");
        assert_eq!(c.rules[1].severity, Severity::Medium);
        // `${1}` is PromQL here, not an environment variable; no severity label → high.
        assert!(c.metric("alert_label_replace").is_some());
        assert_eq!(c.rules[2].severity, Severity::High);
        assert!(c.warnings.iter().any(|w| w.contains("alerts.yml:5")
            && w.contains("recording rule `job:http_requests:rate5m`")
            && w.contains("skipped")));
    }

    #[test]
    fn errors_name_the_rule_file_and_line() {
        let err =
            load("groups:\n  - name: g\n    rules:\n      - alert: NoExpr\n        for: 1m\n")
                .unwrap_err();
        assert!(err.file.ends_with("alerts.yml"), "{err}");
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.message.contains("expr"), "{err}");
        let err = load("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n        for: soon\n")
            .unwrap_err();
        assert!(err.file.ends_with("alerts.yml"), "{err}");
        assert_eq!(err.line, Some(6), "{err}");
    }

    #[test]
    fn alert_files_need_a_prometheus_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yml"),
            "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up == 0\n",
        )
        .unwrap();
        let main = dir.path().join("vz-monitor.yaml");
        let err = parse_text("include: [a.yml]\n", Some(&main), &|_| None).unwrap_err();
        assert!(err.file.ends_with("a.yml"), "{err}");
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.message.contains("source.prometheus"), "{err}");
    }
}
