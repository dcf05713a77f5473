//! Anomaly detectors: pure functions over plain data (no clock, no I/O).
//!
//! Each detector answers, for the latest tick of one metric, "is the condition active now?"
//! and explains its answer. Turning "active" into "fired" (`for`, failure limits) is the
//! engine's job, so every detector here is stateless and replayable.

pub mod baseline;
pub mod composite;
pub mod down;
pub mod iqr;
pub mod isolation_forest;
pub mod stats;
pub mod threshold;
pub mod trend;
pub mod zscore;

use crate::model::{Expected, Timestamp};
pub use stats::Baseline;

/// The watched values of one metric, oldest first: only ticks that produced a number.
/// The last element is the latest tick's value.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub times: &'a [Timestamp],
    pub values: &'a [f64],
}

impl<'a> Window<'a> {
    /// The latest value, if any.
    pub fn latest(&self) -> Option<f64> {
        self.values.last().copied()
    }
}

/// Everything a detector may look at for one tick.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The tick being evaluated.
    pub now: Timestamp,
    /// Values in the rule's window (the whole watch so far unless the rule sets `window:`).
    pub window: Window<'a>,
    /// Did the latest tick produce a number? (`false` when the latest reading was down/missing;
    /// point detectors then have nothing to say for this tick.)
    pub latest_is_value: bool,
    /// Pre-deploy distribution of this metric, when one was captured.
    pub baseline: Option<&'a Baseline>,
    /// Start of the current run of consecutive `down` readings, if the latest reading is down.
    pub down_since: Option<Timestamp>,
}

/// A detector's answer for one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Is the condition true at this tick?
    pub active: bool,
    /// The value judged (latest value, window statistic, slope, down seconds …).
    pub observed: f64,
    /// What normal was (bound, range, baseline statistic).
    pub expected: Expected,
    /// Detector-specific score (z, relative change, R², …) for the report.
    pub score: Option<f64>,
    /// p-value of a significance test, where one ran.
    pub p_value: Option<f64>,
    /// Name of the statistic shown (`value`, `z`, `p95`, `slope/min`, …).
    pub statistic: &'static str,
    /// One sentence a person can read: why active or not.
    pub reason: String,
}

/// Why a detector could not answer this tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
    /// Not enough data yet (e.g. a trend needs 5 points).
    NotEnoughData(String),
    /// The detector needs a baseline and none was given.
    NoBaseline,
}

/// The outcome of running one detector on one tick.
pub type Outcome = Result<Finding, NoAnswer>;

/// A rule's `detector:` as written in config: one key naming the detector, its params inside.
/// The single place that knows every detector.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DetectorSpec {
    Threshold(threshold::ThresholdParams),
    Zscore(zscore::ZscoreParams),
    Iqr(iqr::IqrParams),
    Baseline(baseline::BaselineParams),
    Trend(trend::TrendParams),
    Down(down::DownParams),
    /// Multivariate: evaluated by the gate on the joint latest vector of `metrics`.
    IsolationForest(isolation_forest::ForestParams),
    /// Over other rules: evaluated by the gate after the plain rules of each tick.
    Composite(composite::CompositeParams),
}

impl DetectorSpec {
    /// The detector's config name.
    pub fn name(&self) -> &'static str {
        match self {
            DetectorSpec::Threshold(_) => "threshold",
            DetectorSpec::Zscore(_) => "zscore",
            DetectorSpec::Iqr(_) => "iqr",
            DetectorSpec::Baseline(_) => "baseline",
            DetectorSpec::Trend(_) => "trend",
            DetectorSpec::Down(_) => "down",
            DetectorSpec::IsolationForest(_) => "isolation_forest",
            DetectorSpec::Composite(_) => "composite",
        }
    }

    /// Runs the detector on one tick.
    pub fn evaluate(&self, input: &Input) -> Outcome {
        match self {
            DetectorSpec::Threshold(p) => threshold::evaluate(p, input),
            DetectorSpec::Zscore(p) => zscore::evaluate(p, input),
            DetectorSpec::Iqr(p) => iqr::evaluate(p, input),
            DetectorSpec::Baseline(p) => baseline::evaluate(p, input),
            DetectorSpec::Trend(p) => trend::evaluate(p, input),
            DetectorSpec::Down(p) => down::evaluate(p, input),
            // Neither judges one series: the gate calls them with what they need.
            DetectorSpec::IsolationForest(_) | DetectorSpec::Composite(_) => Err(
                NoAnswer::NotEnoughData(format!("{} is evaluated by the gate", self.name())),
            ),
        }
    }

    /// Whether the detector compares against a pre-deploy baseline.
    pub fn needs_baseline(&self) -> bool {
        matches!(
            self,
            DetectorSpec::Zscore(_)
                | DetectorSpec::Iqr(_)
                | DetectorSpec::Baseline(_)
                | DetectorSpec::IsolationForest(_)
        )
    }

    /// Whether the detector judges `down` readings rather than values.
    pub fn watches_down(&self) -> bool {
        matches!(self, DetectorSpec::Down(_))
    }

    /// The metrics this detector reads when they are not the rule's one `metric`.
    pub fn joint_metrics(&self) -> Option<&[String]> {
        match self {
            DetectorSpec::IsolationForest(p) => Some(&p.metrics),
            _ => None,
        }
    }

    /// The rules a composite combines.
    pub fn composite(&self) -> Option<&composite::CompositeParams> {
        match self {
            DetectorSpec::Composite(p) => Some(p),
            _ => None,
        }
    }

    /// Kind used when a rule names none.
    pub fn default_kind(&self) -> &'static str {
        match self {
            DetectorSpec::Down(_) => "SERVICE_DOWN",
            DetectorSpec::Trend(_) => "MEMORY_LEAK",
            _ => "HIGH_LATENCY",
        }
    }

    /// Checks parameter ranges; on error returns (sub-field, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad =
            |field: &str, msg: &str| Err((format!("{}.{field}", self.name()), msg.to_string()));
        match self {
            DetectorSpec::Threshold(p) if !p.value.is_finite() => {
                bad("value", "must be a finite number")
            }
            DetectorSpec::Zscore(p) if !(p.threshold > 0.0 && p.threshold.is_finite()) => {
                bad("threshold", "must be a positive number")
            }
            DetectorSpec::Iqr(p) if !(p.k >= 0.0 && p.k.is_finite()) => {
                bad("k", "must be 0 or more")
            }
            DetectorSpec::Baseline(p) if !(p.p_value > 0.0 && p.p_value <= 1.0) => {
                bad("p_value", "must be in (0, 1]")
            }
            DetectorSpec::Baseline(p) if !(p.max_change >= 0.0 && p.max_change.is_finite()) => {
                bad("max_change", "must be 0% or more")
            }
            DetectorSpec::Baseline(p) if p.min_samples == 0 => {
                bad("min_samples", "must be at least 1")
            }
            DetectorSpec::Trend(p) if !(0.0..=1.0).contains(&p.min_r2) => {
                bad("min_r2", "must be in [0, 1]")
            }
            DetectorSpec::Trend(p) if p.min_points < 2 => bad("min_points", "must be at least 2"),
            DetectorSpec::Trend(p) if !p.min_slope_per_min.is_finite() => {
                bad("min_slope_per_min", "must be a finite number")
            }
            DetectorSpec::Down(p) if p.for_duration.is_zero() => {
                bad("for", "must be greater than 0")
            }
            DetectorSpec::IsolationForest(p) if p.metrics.len() < 2 => bad(
                "metrics",
                "needs at least 2 metrics (one metric: use zscore or iqr)",
            ),
            DetectorSpec::IsolationForest(p) if !(1..=10_000).contains(&p.trees) => {
                bad("trees", "must be between 1 and 10000")
            }
            DetectorSpec::IsolationForest(p) if p.sample_size < 2 => {
                bad("sample_size", "must be at least 2")
            }
            DetectorSpec::IsolationForest(p)
                if p.threshold.is_some_and(|t| !(t > 0.0 && t < 1.0)) =>
            {
                bad("threshold", "must be in (0, 1): an isolation score")
            }
            DetectorSpec::IsolationForest(p)
                if p.contamination.is_some_and(|c| !(c > 0.0 && c <= 0.5)) =>
            {
                bad("contamination", "must be in (0, 0.5]")
            }
            DetectorSpec::IsolationForest(p)
                if p.threshold.is_some() && p.contamination.is_some() =>
            {
                bad(
                    "threshold",
                    "give either threshold or contamination, not both",
                )
            }
            DetectorSpec::Composite(p) => {
                p.validate().map_err(|(f, m)| (format!("composite.{f}"), m))
            }
            _ => Ok(()),
        }
    }
}
