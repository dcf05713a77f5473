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

mod finish;
mod names;
mod rule;
mod shapes;

pub use finish::finish;
pub use names::{snake, upper_snake};
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

use super::raw::{RawMetric, RawRule};
use super::{ConfigError, Source};
use alert::PreExisting;
use rule::RuleCtx;
pub use shapes::is_rule_file;
use shapes::Document;
use std::collections::{BTreeMap, HashSet};
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

#[cfg(test)]
mod tests;
