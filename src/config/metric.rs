//! `metrics.<name>:` validated into a [`Metric`]: its source (a query or a probe), its
//! `control:` (the stable version, the same forms) and its `min_volume:`.

use super::raw::RawMetric;
use super::yaml::{ConfigError, Source};
use super::{promrules, Metric, MetricSource, Rule};
use crate::sources::ProbeSpec;
use serde::Deserialize;
use vz_core::detect::against::Against;
use vz_core::detect::DetectorSpec;

/// `metrics.<name>.control:` as written: the stable version's query or probe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControl {
    pub query: Option<String>,
    #[serde(default, with = "serde_yaml::with::singleton_map")]
    pub probe: Option<ProbeSpec>,
}

/// Validates one metric; `field` is its path (`metrics.error_rate`).
pub(super) fn build(
    name: String,
    m: RawMetric,
    field: &str,
    src: &Source,
    can_query: bool,
) -> Result<Metric, ConfigError> {
    let parse_query = m.alert.is_none();
    let source = source_of(m.query, m.probe, field, src, can_query, parse_query)?;
    if m.per_series && !matches!(source, MetricSource::Query(_)) {
        return Err(src.err(
            &format!("{field}.per_series"),
            "only applies to a PromQL `query`",
        ));
    }
    let control = match m.control {
        None => None,
        Some(c) => {
            let at = format!("{field}.control");
            Some(source_of(c.query, c.probe, &at, src, can_query, true)?)
        }
    };
    if let Some(v) = &m.min_volume {
        let at = format!("{field}.min_volume");
        if !(v.min.is_finite() && v.min > 0.0) {
            return Err(src.err(&format!("{at}.min"), "must be a number greater than 0"));
        }
        if v.metric == name {
            return Err(src.err(
                &format!("{at}.metric"),
                "must name another metric (the request volume), not this one",
            ));
        }
    }
    Ok(Metric {
        name,
        source,
        control,
        min_volume: m.min_volume,
        on_missing: m.on_missing,
        on_empty: m.on_empty,
        consecutive_errors: m.consecutive_errors.unwrap_or(4).max(1),
        per_series: m.per_series,
        alert: m.alert,
    })
}

/// A `query` or a `probe`, exactly one; `field` is where they were written.
fn source_of(
    query: Option<String>,
    probe: Option<ProbeSpec>,
    field: &str,
    src: &Source,
    can_query: bool,
    parse_query: bool,
) -> Result<MetricSource, ConfigError> {
    match (query, probe) {
        (Some(_), Some(_)) => Err(src.err(field, "give either `query` or `probe`, not both")),
        (None, None) => Err(src.err(field, "needs a `query` (PromQL) or a `probe`")),
        (Some(q), None) => {
            if q.trim().is_empty() {
                return Err(src.err(&format!("{field}.query"), "must not be empty"));
            }
            if !can_query {
                return Err(src.err(
                    &format!("{field}.query"),
                    "a PromQL query needs source.prometheus.url (or VZ_PROMETHEUS_URL)",
                ));
            }
            if parse_query {
                promrules::promql::parse(&q).map_err(|e| src.err(&format!("{field}.query"), e))?;
            }
            Ok(MetricSource::Query(q))
        }
        (None, Some(p)) => {
            p.validate()
                .map_err(|msg| src.err(&format!("{field}.probe"), msg))?;
            Ok(MetricSource::Probe(p))
        }
    }
}

/// Every `min_volume.metric` names a defined metric: Err(index of the metric, message).
pub(super) fn check_volumes(metrics: &[Metric]) -> Result<(), (usize, String)> {
    for (i, m) in metrics.iter().enumerate() {
        if let Some(v) = &m.min_volume {
            if !metrics.iter().any(|o| o.name == v.metric) {
                return Err((i, format!("unknown metric `{}`", v.metric)));
            }
        }
    }
    Ok(())
}

/// Every `baseline` rule with `against: control` watches a metric that has a `control:`:
/// Err(index of the rule, message).
pub(super) fn check_against(rules: &[Rule], metrics: &[Metric]) -> Result<(), (usize, String)> {
    for (i, r) in rules.iter().enumerate() {
        if let DetectorSpec::Baseline(p) = &r.detector {
            let has = metrics
                .iter()
                .any(|m| m.name == r.metric && m.control.is_some());
            if p.against == Some(Against::Control) && !has {
                return Err((
                    i,
                    format!(
                        "`control` needs a `control:` (query or probe) on metric `{}`",
                        r.metric
                    ),
                ));
            }
        }
    }
    Ok(())
}
