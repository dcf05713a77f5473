//! What is known only once every included file is read: which alerts read series that
//! recording rules write, and the one-line summaries `check` prints.

use super::super::raw::RawMetric;
use super::{promql, sample, Names};
use std::sync::Arc;
use std::time::Duration;

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
