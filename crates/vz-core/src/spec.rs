//! Validated rules and metric settings: what the gate runs, owned by the core. The binary's
//! config module builds these from YAML once; nothing here knows about files or sources.

use crate::detect::DetectorSpec;
use crate::model::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a missing sample of this metric means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMissing {
    /// Counts toward `max_missing`; the run may become inconclusive.
    #[default]
    Inconclusive,
    /// Treated as a failed measurement: the metric's rules see their condition as active.
    Fail,
    /// Ignored.
    Pass,
}

/// What an empty query result means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnEmpty {
    #[default]
    Missing,
    Zero,
}

/// What the gate needs to know of one metric: its name and how to count its missing samples.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub on_missing: OnMissing,
    /// After this many missing samples in a row the metric is inconclusive (as Argo Rollouts).
    pub consecutive_errors: u32,
    /// Whether the metric has a control series (the stable version over the same ticks):
    /// its `baseline` rules then compare against it unless they say `against: baseline`.
    pub control: bool,
    /// The request volume a tick needs for this metric's reading to count (rate metrics).
    pub min_volume: Option<MinVolume>,
}

impl MetricSpec {
    /// A metric with the default missing-data handling, no control and no minimum volume.
    pub fn named(name: &str) -> MetricSpec {
        MetricSpec {
            name: name.to_string(),
            on_missing: OnMissing::default(),
            consecutive_errors: 4,
            control: false,
            min_volume: None,
        }
    }
}

/// `min_volume: { metric: requests_per_sec, min: 5 }`: a tick whose `metric` reading is
/// below `min` (or missing) makes this metric's reading of that tick "not enough data" — a
/// missing sample, never a value judged as pass or fail (an error rate over 3 requests is
/// noise).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinVolume {
    /// The metric giving the request volume of each tick (same series names, or one series).
    pub metric: String,
    /// Smallest volume at which the reading counts.
    pub min: f64,
}

/// One gate rule, validated.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub metric: String,
    pub detector: DetectorSpec,
    /// Condition must hold tick after tick this long before the rule fires (0 = at once).
    pub for_: Duration,
    /// Sliding window for window detectors; None = from the start of the watch.
    pub window: Option<Duration>,
    pub kind: String,
    pub severity: Severity,
    /// Fires only once more than this many ticks were active in total.
    pub failure_limit: u32,
    /// Fires only once this many ticks in a row were active.
    pub consecutive_failures: u32,
    /// Evaluate and report, never count toward the decision.
    pub dry_run: bool,
    pub description: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// File the rule was defined in.
    pub origin: String,
}
