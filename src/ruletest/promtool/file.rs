//! The promtool unit-test file as written: its cases, their input series and the alerts
//! and samples they expect.

use super::super::series::SeriesText;
use crate::config::dur;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    pub(super) rule_files: Vec<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub(super) evaluation_interval: Option<Duration>,
    #[serde(default)]
    pub(super) group_eval_order: Vec<String>,
    #[serde(default)]
    pub(super) fuzzy_compare: bool,
    #[serde(default)]
    pub(super) tests: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Case {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    pub(super) interval: Option<Duration>,
    #[serde(default)]
    pub(super) input_series: Vec<InputSeries>,
    #[serde(default)]
    pub(super) alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    pub(super) promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    pub(super) external_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) external_url: String,
    /// When the series start (unix seconds or RFC 3339); eval times count from it.
    #[serde(default)]
    pub(super) start_timestamp: Option<serde_yaml::Value>,
}

impl Case {
    /// `start_timestamp` in ms (0 when not given).
    pub(super) fn start_ms(&self) -> Result<i64, String> {
        match &self.start_timestamp {
            None => Ok(0),
            Some(serde_yaml::Value::Number(n)) => n
                .as_f64()
                .map(|s| (s * 1000.0) as i64)
                .ok_or_else(|| format!("start_timestamp `{n}` is not a number")),
            Some(serde_yaml::Value::String(s)) => s
                .parse::<f64>()
                .map(|v| (v * 1000.0) as i64)
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(s).map(|d| d.timestamp_millis()))
                .map_err(|_| format!("start_timestamp `{s}` is neither unix seconds nor RFC 3339")),
            Some(v) => Err(format!("start_timestamp `{v:?}` is not a time")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InputSeries {
    pub(super) series: String,
    /// A notation string, a bare number, or a list of numbers.
    pub(super) values: serde_yaml::Value,
}

impl InputSeries {
    pub(super) fn text(&self) -> Result<SeriesText, String> {
        match &self.values {
            serde_yaml::Value::String(s) => Ok(SeriesText::Text(s.clone())),
            serde_yaml::Value::Number(n) => Ok(SeriesText::Text(n.to_string())),
            v => serde_yaml::from_value(v.clone())
                .map_err(|e| format!("input_series `{}`: values: {e}", self.series)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertTest {
    #[serde(default, deserialize_with = "dur::duration")]
    pub(super) eval_time: Duration,
    pub(super) alertname: String,
    #[serde(default)]
    pub(super) exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpAlert {
    #[serde(default)]
    pub(super) exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExprTest {
    pub(super) expr: String,
    #[serde(default, deserialize_with = "dur::duration")]
    pub(super) eval_time: Duration,
    #[serde(default)]
    pub(super) exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpSample {
    #[serde(default)]
    pub(super) labels: String,
    pub(super) value: f64,
}
