//! Prometheus rule files (`groups: [{name, rules: [{alert|record, expr, for, labels,
//! annotations}]}]`) accepted in `include:`, as Prometheus means them.
//!
//! Each alert becomes a per-series metric `alert_<snake_name>` whose query is the alert's
//! `expr` exactly as written (comments, scalars and all), and a rule `threshold > 0` holding
//! for the alert's `for`: every label set the expression returns is its own series, with its
//! own `for` timer, its labels and its rendered `summary`/`description` (see
//! [`alert::AlertSpec`]). A series already firing before the watch does not count unless it
//! gets worse (`alerting.pre_existing: ignore | count`). Recording rules are validated and do
//! not gate. PromQL and annotation templates are checked offline. `${…}` is not interpolated
//! in these files: in PromQL it belongs to `label_replace` (`"${1}"`).
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

mod shapes;

pub use shapes::{Group, PromRule};

/// The groups of the first YAML document of a rule file, the one Prometheus loads (for
/// `promtool test rules` files, which evaluate the rules as Prometheus does).
pub fn first_document_groups(name: &str, text: &str) -> Result<Vec<Group>, ConfigError> {
    Ok(shapes::documents(name, text)?
        .into_iter()
        .next()
        .map(|d| d.groups)
        .unwrap_or_default())
}

pub use crate::sources::prometheus::alerting::{self, alert, promql, template};

use super::raw::{OnEmpty, OnMissing, RawMetric, RawRule};
use super::{ConfigError, Source};
use crate::detect::threshold::{Op, ThresholdParams};
use crate::detect::DetectorSpec;
use crate::model::Severity;
use alert::{AlertSpec, PreExisting};
pub use shapes::is_rule_file;
use shapes::Document;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How included alert rules treat series already firing before the watch, and what their
/// templates see of the Prometheus server (`alerting:`).
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub pre_existing: PreExisting,
    pub lookback: Duration,
    /// `$externalLabels` and `$externalURL`; None: not given (rendered empty, with a warning).
    pub external_labels: Option<BTreeMap<String, String>>,
    pub external_url: Option<String>,
}

/// Rule and metric names already taken, and the series recording rules write, across every
/// included file.
#[derive(Debug, Default)]
pub struct Names {
    pub rules: HashSet<String>,
    pub metrics: HashSet<String>,
    /// `record:` name → `file:group` of the first rule writing it.
    pub recorded: BTreeMap<String, String>,
    /// Recording rules checked, and the files holding them.
    pub recording_rules: usize,
    pub recording_files: HashSet<String>,
    /// Groups with their own `interval:` (`file:line: group`, interval).
    pub group_intervals: Vec<(String, Duration)>,
    /// Alerts whose templates need a live Prometheus (`query` …), with those functions.
    pub online_templates: Vec<String>,
    /// Alerts whose templates read `$externalLabels`/`$externalURL` while none are given.
    pub external_templates: Vec<String>,
}

/// One converted alert: the metric and rule it became, with its field path in the file.
pub struct Converted {
    pub metric_name: String,
    pub metric: RawMetric,
    pub rule: RawRule,
    /// `groups[g].rules[r]`, for errors found later in validation.
    pub field: String,
}

/// One document of a rule file: its positions and the alerts it holds.
type DocAlerts = (Source, Vec<Converted>);

/// Reads the Prometheus rule file `name` into metrics and rules, one list per YAML document
/// (each with its own positions). Also returns warning lines (recording rules, unknown
/// severities, `keep_firing_for`).
pub(super) fn convert(
    name: &str,
    text: &str,
    settings: &AlertSettings,
    names: &mut Names,
) -> Result<(Vec<DocAlerts>, Vec<String>), ConfigError> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut group_names: HashSet<String> = HashSet::new();
    let file = std::path::Path::new(name)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string());
    let docs = shapes::documents(name, text)?;
    if docs.len() > 1 {
        warnings.push(format!(
            "{name}: {} YAML documents: Prometheus (and promtool) load only the first; \
             vz-monitor reads them all, so the others gate here but not in Prometheus",
            docs.len()
        ));
    }
    // Every error of the file is reported, not only the first.
    let mut errors: Vec<ConfigError> = Vec::new();
    // promtool's lint: the same rule name with the same labels twice.
    let mut seen_rules: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    for doc in docs {
        let Document {
            groups,
            prefix,
            source: src,
        } = doc;
        let mut alerts = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let gfield = format!("{prefix}groups[{g}]");
            if let Err(e) = check_group(&src, &gfield, group, &mut group_names) {
                errors.push(e);
                continue;
            }
            if let Some(every) = group.interval {
                let line = src
                    .locations
                    .find(&format!("{gfield}.interval"))
                    .map(|p| format!(":{}", p.0))
                    .unwrap_or_default();
                names
                    .group_intervals
                    .push((format!("{name}{line}: group `{}`", group.name), every));
            }
            for (r, rule) in group.rules.iter().enumerate() {
                note_duplicate(rule, &mut seen_rules, &mut duplicates);
                let field = format!("{gfield}.rules[{r}]");
                let ctx = RuleCtx {
                    src: &src,
                    field: &field,
                    file: &file,
                    group,
                    settings,
                };
                match ctx.convert(rule, names, &mut warnings) {
                    Ok(Some(c)) => alerts.push(c),
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
        }
        out.push((src, alerts));
    }
    if !duplicates.is_empty() {
        warnings.push(format!(
            "{name}: {} duplicate rule(s) found (same name and labels; promtool's lint): {}",
            duplicates.len(),
            sample(&duplicates)
        ));
    }
    if let Some(first) = all_errors(&errors) {
        return Err(first);
    }
    Ok((out, warnings))
}

/// A group's name (not empty, not repeated in the file) and labels.
fn check_group(
    src: &Source,
    gfield: &str,
    group: &Group,
    group_names: &mut HashSet<String>,
) -> Result<(), ConfigError> {
    if group.name.trim().is_empty() {
        return Err(src.err(&format!("{gfield}.name"), "must not be empty"));
    }
    if !group_names.insert(group.name.clone()) {
        return Err(src.err(
            &format!("{gfield}.name"),
            format!("group `{}` is repeated in the same file", group.name),
        ));
    }
    check_labels(src, &format!("{gfield}.labels"), &group.labels)
}

/// promtool's lint: notes `rule` in `duplicates` when a rule of the same name and labels
/// was seen before.
fn note_duplicate(
    rule: &PromRule,
    seen_rules: &mut Vec<(String, BTreeMap<String, String>)>,
    duplicates: &mut Vec<String>,
) {
    let id = rule
        .alert
        .clone()
        .or(rule.record.clone())
        .unwrap_or_default();
    let key = (id.clone(), rule.labels.clone());
    if seen_rules.contains(&key) {
        let l: Vec<String> = key.1.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        duplicates.push(format!("{id}{{{}}}", l.join(", ")));
    } else {
        seen_rules.push(key);
    }
}

/// The first of a file's errors, its message followed by (up to 20 of) the others.
fn all_errors(errors: &[ConfigError]) -> Option<ConfigError> {
    let mut first = errors.first().cloned()?;
    const SHOWN: usize = 20;
    if errors.len() > 1 {
        let rest: Vec<String> = errors[1..]
            .iter()
            .take(SHOWN)
            .map(|e| e.to_string())
            .collect();
        first.message.push_str(&format!(
            "\n{} more error(s) in this file:\n  {}{}",
            errors.len() - 1,
            rest.join("\n  "),
            if errors.len() - 1 > SHOWN {
                "\n  …"
            } else {
                ""
            }
        ));
    }
    Some(first)
}

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
struct RuleCtx<'a> {
    src: &'a Source,
    field: &'a str,
    file: &'a str,
    group: &'a Group,
    settings: &'a AlertSettings,
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
    fn convert(
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

/// Gives each alert the recorded series it reads (`recorded_inputs`, `record:` name and the
/// rule's file:group), with a warning: the gate does not evaluate recording rules.
fn link_recorded<'a>(
    alerts: impl IntoIterator<Item = &'a mut RawMetric>,
    names: &Names,
    warnings: &mut Vec<String>,
) {
    for m in alerts {
        let Some(spec) = m.alert.as_mut() else {
            continue;
        };
        let Ok(parsed) = promql::parse(&spec.expr) else {
            continue;
        };
        let inputs: Vec<(String, String)> = promql::metric_names(&parsed)
            .into_iter()
            .filter_map(|n| names.recorded.get(&n).map(|o| (n, o.clone())))
            .collect();
        if inputs.is_empty() {
            continue;
        }
        let list: Vec<String> = inputs.iter().map(|(n, o)| format!("`{n}` ({o})")).collect();
        warnings.push(format!(
            "{}: alert `{}` reads {} written by a recording rule: the gate does not evaluate \
             recording rules, so Prometheus must; while it has no such series the alert is \
             missing data, never healthy",
            spec.origin,
            spec.alert,
            list.join(", ")
        ));
        Arc::make_mut(spec).recorded_inputs = inputs;
    }
}

/// After every file is read: each alert learns which recorded series it reads (an empty
/// answer while they are absent is then missing data, not a pass), and `check` says so in
/// one line per such alert; the recording rules are summed up in one line; a group whose
/// `interval:` differs from the watch's tick is named (its `for` timers count ticks).
pub fn finish<'a>(
    alerts: impl IntoIterator<Item = &'a mut RawMetric>,
    names: &Names,
    tick: Duration,
    warnings: &mut Vec<String>,
) {
    for (at, every) in names.group_intervals.iter().filter(|(_, e)| *e != tick) {
        warnings.push(format!(
            "{at}: `interval: {}` is Prometheus's evaluation interval; the gate evaluates \
             these alerts every watch tick ({}), so `for` holds to within a tick, not an \
             evaluation",
            humantime::format_duration(*every),
            humantime::format_duration(tick)
        ));
    }
    link_recorded(alerts, names, warnings);
    if !names.online_templates.is_empty() {
        warnings.push(format!(
            "{} alert{} call template functions that need a live Prometheus, which the gate \
             does not render: {}; those annotations are shown as written",
            names.online_templates.len(),
            if names.online_templates.len() == 1 {
                ""
            } else {
                "s"
            },
            sample(&names.online_templates)
        ));
    }
    if !names.external_templates.is_empty() {
        warnings.push(format!(
            "{} alert{} read $externalLabels or $externalURL in templates ({}), but \
             `alerting.external_labels` and `alerting.external_url` are not set: they render \
             empty",
            names.external_templates.len(),
            if names.external_templates.len() == 1 {
                ""
            } else {
                "s"
            },
            sample(&names.external_templates)
        ));
    }
    if names.recording_rules > 0 {
        warnings.push(format!(
            "{} recording rule{} in {} file{} checked; they record, they do not gate a deploy",
            names.recording_rules,
            if names.recording_rules == 1 { "" } else { "s" },
            names.recording_files.len(),
            if names.recording_files.len() == 1 {
                ""
            } else {
                "s"
            },
        ));
    }
}

/// The first few of `items` and how many more, for a one-line summary.
fn sample(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

/// The most severe level a templated `severity` label can render to: the mapped words in
/// it (`{{ if gt $value 0.5 }}critical{{ else }}warning{{ end }}` → critical), else high.
fn templated_severity(t: &str) -> Severity {
    t.split(|c: char| !c.is_ascii_alphabetic())
        .filter_map(severity_of)
        .min() // Severity orders the most severe first
        .unwrap_or(Severity::High)
}

/// Label names as Prometheus allows them; `__name__` is not a rule label.
fn check_labels(
    src: &Source,
    field: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    for (k, v) in labels {
        if !valid_label_name(k) || k == "__name__" {
            return Err(src.err(
                &format!("{field}.{k}"),
                format!("`{k}` is not a valid label name (letters, digits, `_`; not `__name__`)"),
            ));
        }
        template::check(v)
            .map_err(|e| src.err(&format!("{field}.{k}"), format!("template: {e}")))?;
    }
    Ok(())
}

fn valid_label_name(k: &str) -> bool {
    k.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The documented mapping of `labels.severity` (see the module doc).
pub use alert::severity_of;

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
mod tests;
