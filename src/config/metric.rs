//! `metrics.<name>:` validated into a [`Metric`]: its source (a query or a probe), its
//! `control:` (the stable version, the same forms) and its `min_volume:`.

use super::raw::RawMetric;
use super::yaml::{ConfigError, Source};
use super::{Metric, MetricSource, Rule};
use crate::backends::{BackendQuery, Settings};
use crate::sources::prometheus::alerting::promql;
use crate::sources::ProbeSpec;
use vz_core::detect::against::Against;

/// What a metric is validated against: the backends' settings, and whether it will be
/// queried at all (rule tests judge given values offline, so need no backend).
#[derive(Clone, Copy)]
pub(super) struct Input<'a> {
    pub settings: &'a Settings,
    pub can_query: bool,
}

/// Validates one metric; `field` is its path (`metrics.error_rate`).
pub(super) fn build(
    name: String,
    m: RawMetric,
    field: &str,
    src: &Source,
    input: Input,
) -> Result<Metric, ConfigError> {
    let parse_query = m.alert.is_none();
    let given = (m.query, m.probe, m.backend);
    let source = source_of(given, field, src, input, parse_query)?;
    let series = match &source {
        MetricSource::Query(_) => true,
        MetricSource::Backend(b) => b.has_series(),
        MetricSource::Probe(_) => false,
    };
    if m.per_series && !series {
        return Err(src.err(
            &format!("{field}.per_series"),
            "only applies to a PromQL `query` or a backend with series (labels, tags)",
        ));
    }
    let control = match m.control {
        None => None,
        Some(c) => {
            let at = format!("{field}.control");
            let given = (c.query, c.probe, c.backend);
            Some(source_of(given, &at, src, input, true)?)
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

/// A `query`, a `probe` or a `backend`, exactly one; `field` is where they were written.
fn source_of(
    given: (Option<String>, Option<ProbeSpec>, Option<BackendQuery>),
    field: &str,
    src: &Source,
    input: Input,
    parse_query: bool,
) -> Result<MetricSource, ConfigError> {
    match given {
        (None, None, None) => Err(src.err(
            field,
            "needs a `query` (PromQL) or a `probe` (or a `backend`)",
        )),
        (Some(q), None, None) => promql(q, &format!("{field}.query"), src, input, parse_query),
        (None, Some(p), None) => {
            p.validate()
                .map_err(|msg| src.err(&format!("{field}.probe"), msg))?;
            Ok(MetricSource::Probe(p))
        }
        (None, None, Some(b)) => {
            if let BackendQuery::Prometheus(q) = b {
                let at = format!("{field}.backend.prometheus");
                return promql(*q, &at, src, input, parse_query);
            }
            let at = format!("{field}.backend.{}", b.name());
            b.validate(input.settings)
                .map_err(|e| e.under(&at))
                .map_err(|e| src.err(&e.field, e.message))?;
            Ok(MetricSource::Backend(b))
        }
        _ => Err(src.err(
            field,
            "give either `query` or `probe` (or `backend`), not both",
        )),
    }
}

/// A PromQL query at `at`: not empty, parsed, and with a Prometheus to ask it.
fn promql(
    q: String,
    at: &str,
    src: &Source,
    input: Input,
    parse: bool,
) -> Result<MetricSource, ConfigError> {
    if q.trim().is_empty() {
        return Err(src.err(at, "must not be empty"));
    }
    if !input.can_query {
        return Err(src.err(
            at,
            "a PromQL query needs source.prometheus.url (or VZ_PROMETHEUS_URL)",
        ));
    }
    if parse {
        promql::parse(&q).map_err(|e| src.err(at, e))?;
    }
    Ok(MetricSource::Query(q))
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
        if let Some(p) = r.detector.statistical() {
            let has = metrics
                .iter()
                .any(|m| m.name == r.metric && m.control.is_some());
            if p.against() == Some(Against::Control) && !has {
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
