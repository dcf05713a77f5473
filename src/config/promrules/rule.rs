//! One rule of a rule file, read where it stands: validated as promtool validates it; an
//! alert becomes a per-series metric and a `threshold > 0` rule, a recording rule nothing.

use super::super::raw::{OnEmpty, OnMissing, RawMetric, RawRule};
use super::super::{ConfigError, Source};
use super::names::{snake, unique, upper_snake};
use super::{
    alert, alerting, check_labels, promql, template, valid_label_name, AlertSettings, Converted,
    Group, Names, PromRule,
};
use crate::detect::threshold::{Op, ThresholdParams};
use crate::detect::DetectorSpec;
use crate::model::Severity;
use alert::{severity_of, AlertSpec};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The metric of an alert: its expression, per series, judged by `spec`.
fn alert_metric(alert: &str, expr: &str, spec: AlertSpec) -> RawMetric {
    RawMetric {
        query: Some(expr.to_string()),
        probe: None,
        backend: None,
        on_missing: OnMissing::Inconclusive,
        on_empty: OnEmpty::Zero,
        consecutive_errors: None,
        per_series: true,
        control: None,
        min_volume: None,
        description: Some(format!("series returned by alert `{alert}`")),
        alert: Some(Arc::new(spec)),
    }
}

/// The annotations an alert's anomalies carry: its own, its expression and its labels
/// (`label_<name>`) but severity.
fn alert_annotations(
    rule: &PromRule,
    expr: &str,
    labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut annotations = rule.annotations.clone();
    annotations.insert("alert_expr".into(), expr.to_string());
    for (k, v) in labels {
        if k != "severity" {
            annotations.insert(format!("label_{k}"), v.clone());
        }
    }
    annotations
}

/// The rule of an alert: `threshold > 0` on its metric, holding for the alert's `for`.
fn alert_rule(
    rule: &PromRule,
    alert: &str,
    name: String,
    metric: String,
    severity: Severity,
    annotations: BTreeMap<String, String>,
) -> RawRule {
    RawRule {
        name,
        metric,
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
    }
}

/// One rule being read, with where it is.
pub(super) struct RuleCtx<'a> {
    pub(super) src: &'a Source,
    pub(super) field: &'a str,
    pub(super) file: &'a str,
    pub(super) group: &'a Group,
    pub(super) settings: &'a AlertSettings,
}

impl RuleCtx<'_> {
    fn err(&self, sub: &str, msg: impl Into<String>) -> ConfigError {
        let f = if sub.is_empty() {
            self.field.to_string()
        } else {
            format!("{}.{sub}", self.field)
        };
        self.src.err(&f, msg)
    }

    fn line(&self) -> String {
        self.src
            .locations
            .find(self.field)
            .map(|p| format!(":{}", p.0))
            .unwrap_or_default()
    }

    /// Validates one rule; an alert becomes a metric and a rule, a recording rule nothing.
    pub(super) fn convert(
        &self,
        rule: &PromRule,
        names: &mut Names,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Converted>, ConfigError> {
        let expr = rule.expr.as_deref().unwrap_or("").trim();
        let parsed = self.check(rule, expr)?;
        let needs = self.template_needs(rule);
        if let Some(record) = &rule.record {
            self.recording(record, rule)?;
            names.recording_rules += 1;
            names.recording_files.insert(self.src.name.clone());
            names
                .recorded
                .entry(record.clone())
                .or_insert_with(|| format!("{}:{}", self.file, self.group.name));
            return Ok(None);
        }
        let alert = rule.alert.as_deref().unwrap_or("").trim();
        if alert.is_empty() {
            return Err(self.err("alert", "must not be empty"));
        }
        if rule.keep_firing_for.is_some() {
            warnings.push(format!(
                "{}{}: alert `{alert}`: keep_firing_for is ignored (an anomaly resolves when \
                 the expression stops returning its series)",
                self.src.name,
                self.line()
            ));
        }
        let mut labels = self.group.labels.clone();
        labels.extend(rule.labels.clone());
        if !needs.online.is_empty() {
            names
                .online_templates
                .push(format!("{alert} ({})", needs.online.join(", ")));
        }
        let has_external =
            self.settings.external_labels.is_some() || self.settings.external_url.is_some();
        if needs.external && !has_external {
            names.external_templates.push(alert.to_string());
        }
        let severity = self.severity(alert, &labels, warnings);
        // The same alert name twice (a warning and a critical threshold, or two files):
        // distinct rules, the later ones named by file and group.
        let rule_name = if names.rules.insert(alert.to_string()) {
            alert.to_string()
        } else {
            unique(
                &format!("{}:{}:{alert}", self.file, self.group.name),
                &mut names.rules,
                "#",
            )
        };
        let metric_name = unique(&format!("alert_{}", snake(alert)), &mut names.metrics, "_");
        let spec = self.alert_spec(alert, expr, &parsed, &labels, rule);
        let annotations = alert_annotations(rule, expr, &labels);
        Ok(Some(Converted {
            metric: alert_metric(alert, expr, spec),
            rule: alert_rule(
                rule,
                alert,
                rule_name,
                metric_name.clone(),
                severity,
                annotations,
            ),
            metric_name,
            field: self.field.to_string(),
        }))
    }

    /// A rule's shape (`alert` or `record`, an `expr` that parses), labels and annotation
    /// templates; returns the parsed `expr`.
    fn check(
        &self,
        rule: &PromRule,
        expr: &str,
    ) -> Result<promql_parser::parser::Expr, ConfigError> {
        let parsed = match (&rule.alert, &rule.record, expr.is_empty()) {
            (Some(_), Some(_), _) => {
                return Err(self.err("", "give either `alert` or `record`, not both"))
            }
            (None, None, _) => return Err(self.err("", "needs `alert` or `record`")),
            (_, _, true) => return Err(self.err("expr", "needs a PromQL `expr`")),
            _ => promql::parse(expr).map_err(|e| self.err("expr", e))?,
        };
        check_labels(self.src, &format!("{}.labels", self.field), &rule.labels)?;
        for (k, t) in &rule.annotations {
            if !valid_label_name(k) {
                return Err(self.err(
                    &format!("annotations.{k}"),
                    format!("`{k}` is not a valid annotation name (letters, digits, `_`)"),
                ));
            }
            template::check(t)
                .map_err(|e| self.err(&format!("annotations.{k}"), format!("template: {e}")))?;
        }
        Ok(parsed)
    }

    /// The alert's severity from its `severity` label (high when absent or unknown, with a
    /// warning; the most severe it can render when templated).
    fn severity(
        &self,
        alert: &str,
        labels: &BTreeMap<String, String>,
        warnings: &mut Vec<String>,
    ) -> Severity {
        match labels.get("severity") {
            None => Severity::High,
            Some(s) if s.contains("{{") => {
                let most = templated_severity(s);
                warnings.push(format!(
                    "{}{}: alert `{alert}`: its severity is a template: live, each series \
                     gets the severity it renders to; offline (`test`) the rule counts as \
                     {}, the most severe it can render",
                    self.src.name,
                    self.line(),
                    most.as_str()
                ));
                most
            }
            Some(s) => severity_of(s).unwrap_or_else(|| {
                warnings.push(format!(
                    "{}{}: alert `{alert}`: severity `{s}` is not one of critical, page, \
                     error, high, warning, medium, low, info: treated as high",
                    self.src.name,
                    self.line()
                ));
                Severity::High
            }),
        }
    }

    /// What the alert's metric evaluates: its expression, labels, templates and group
    /// settings.
    fn alert_spec(
        &self,
        alert: &str,
        expr: &str,
        parsed: &promql_parser::parser::Expr,
        labels: &BTreeMap<String, String>,
        rule: &PromRule,
    ) -> AlertSpec {
        AlertSpec {
            alert: alert.to_string(),
            origin: format!("{}:{}", self.file, self.group.name),
            expr: expr.to_string(),
            direction: promql::direction(parsed),
            labels: labels.clone(),
            annotations: rule.annotations.clone(),
            pre_existing: self.settings.pre_existing,
            lookback: self.settings.lookback,
            external_labels: self.settings.external_labels.clone().unwrap_or_default(),
            external_url: self.settings.external_url.clone().unwrap_or_default(),
            block: alerting::worse::block(promql::longest_range(parsed)),
            limit: self.group.limit.map(|l| l as usize).filter(|l| *l > 0),
            query_offset: self.group.query_offset.unwrap_or_default(),
            // Filled once every file is read (see [`link_recorded`]).
            recorded_inputs: Vec::new(),
        }
    }

    /// What the rule's annotation and label templates need beyond the series (already
    /// checked, so errors cannot occur here).
    fn template_needs(&self, rule: &PromRule) -> template::Needs {
        let mut needs = template::Needs::default();
        let all = rule
            .annotations
            .values()
            .chain(self.group.labels.values())
            .chain(rule.labels.values());
        for t in all {
            if let Ok(n) = template::check(t) {
                needs.online.extend(n.online);
                needs.external |= n.external;
            }
        }
        needs.online.sort();
        needs.online.dedup();
        needs
    }

    /// A recording rule: checked as promtool checks it; it records, it does not gate.
    fn recording(&self, record: &str, rule: &PromRule) -> Result<(), ConfigError> {
        let valid = record
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && record
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        if !valid {
            return Err(self.err("record", format!("`{record}` is not a valid metric name")));
        }
        if !rule.annotations.is_empty() {
            return Err(self.err("annotations", "a recording rule has no annotations"));
        }
        if rule.for_.is_some() || rule.keep_firing_for.is_some() {
            return Err(self.err("for", "a recording rule has no `for`"));
        }
        Ok(())
    }
}

/// The most severe level a templated `severity` label can render to: the mapped words in
/// it (`{{ if gt $value 0.5 }}critical{{ else }}warning{{ end }}` → critical), else high.
fn templated_severity(t: &str) -> Severity {
    t.split(|c: char| !c.is_ascii_alphabetic())
        .filter_map(severity_of)
        .min() // Severity orders the most severe first
        .unwrap_or(Severity::High)
}
