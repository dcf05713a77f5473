//! Anomaly detectors: pure functions over plain data (no clock, no I/O).
//!
//! Each detector answers, for the latest tick of one metric, "is the condition active now?"
//! and explains its answer. Turning "active" into "fired" (`for`, failure limits) is the
//! engine's job, so every detector here is stateless and replayable.

pub mod against;
pub mod baseline;
mod baseline_level;
pub mod composite;
pub mod down;
pub mod iqr;
pub mod isolation_forest;
pub mod stats;
pub mod threshold;
pub mod trend;
pub mod zscore;

use crate::model::{Expected, Timestamp};
use against::Against;
use stats::sequential::LookPlan;
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
    /// The metric's control (the stable version) over the same window of ticks, when the
    /// metric has a `control:`: only the `baseline` detector with `against: control` reads it.
    pub control: Option<Window<'a>>,
    /// Start of the current run of consecutive `down` readings, if the latest reading is down.
    pub down_since: Option<Timestamp>,
}

/// The latest tick's value for point detectors (threshold, zscore, iqr), or why there is none:
/// the latest reading was down or missing, the window is empty, or the value is NaN.
pub fn latest_point(input: &Input) -> Result<f64, NoAnswer> {
    if !input.latest_is_value {
        return Err(NoAnswer::NotEnoughData(
            "the latest reading is not a number (down or missing)".into(),
        ));
    }
    match input.window.latest() {
        None => Err(NoAnswer::NotEnoughData("no value in the window yet".into())),
        Some(v) if v.is_nan() => Err(NoAnswer::NotEnoughData("the latest value is NaN".into())),
        Some(v) => Ok(v),
    }
}

/// The baseline a detector needs, or `NoBaseline` (also for an empty one).
pub fn require_baseline<'a>(input: &Input<'a>) -> Result<&'a Baseline, NoAnswer> {
    match input.baseline {
        Some(b) if !b.is_empty() => Ok(b),
        _ => Err(NoAnswer::NoBaseline),
    }
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

/// One detector: its config name, how its params are checked and how it judges a tick.
///
/// Each detector implements this on its params type, in its own file beside its pure
/// `evaluate` function; [`DetectorSpec`] is the one list of them. To add a detector, copy
/// `threshold.rs`, then add one `pub mod` line and one line to `detectors!` below.
pub trait Detector {
    /// The config key (`threshold`, `zscore`, …), as in the rule's `detector:`.
    fn name(&self) -> &'static str;

    /// Checks parameter ranges; on error returns (field, message), the field relative to
    /// the detector (`value`, not `threshold.value`).
    fn validate(&self) -> Result<(), (String, String)> {
        Ok(())
    }

    /// Judges one tick of one metric.
    fn evaluate(&self, input: &Input) -> Outcome;

    /// Whether it compares against a pre-deploy baseline.
    fn needs_baseline(&self) -> bool {
        false
    }

    /// Whether it judges `down` readings rather than values.
    fn watches_down(&self) -> bool {
        false
    }

    /// The metrics it reads when they are not the rule's one `metric`.
    fn joint_metrics(&self) -> Option<&[String]> {
        None
    }

    /// Kind used when a rule names none, if this detector finds one kind of trouble only
    /// (`down`: SERVICE_DOWN). None: the rule's own name is its kind.
    fn default_kind(&self) -> Option<&'static str> {
        None
    }

    /// Its statistical side, for a detector that tests significance (`baseline`): the gate
    /// gives it a share of `policy.alpha` and may have it compare with the metric's control.
    fn statistical(&self) -> Option<&dyn Statistical> {
        None
    }

    /// [`Detector::statistical`], for the gate to plan its looks and resolve what it
    /// compares with.
    fn statistical_mut(&mut self) -> Option<&mut dyn Statistical> {
        None
    }
}

/// A detector that tests significance. The gate spreads `policy.alpha` over these detectors
/// and their looks, and feeds them the metric's control when they compare with it; the gate
/// and the config reach them only through this trait, so a statistical detector is one file
/// too (implement it and return it from [`Detector::statistical`]).
pub trait Statistical {
    /// Its own significance level (`p_value`): the cap on its share of `policy.alpha`.
    fn p_value(&self) -> f64;

    /// Sets how its share of `policy.alpha` is spread over its looks.
    fn set_plan(&mut self, plan: LookPlan);

    /// Computes the look boundary against a reference of `reference_len` values (or
    /// `GROWING_REFERENCE` for a control) now, before the watch.
    fn prepare(&self, reference_len: usize);

    /// What the rule asks it to compare with (`against:`); None: not written.
    fn against(&self) -> Option<Against>;

    /// What it compares with, once resolved.
    fn compare(&self) -> Against;

    /// Resolves what it compares with.
    fn set_compare(&mut self, against: Against);
}

/// Builds a (field, message) validation error for [`Detector::validate`].
pub(crate) fn invalid(field: &str, msg: &str) -> Result<(), (String, String)> {
    Err((field.to_string(), msg.to_string()))
}

/// The answer of the detectors the gate evaluates itself (they do not judge one series).
pub(crate) fn evaluated_by_gate(name: &str) -> Outcome {
    Err(NoAnswer::NotEnoughData(format!(
        "{name} is evaluated by the gate"
    )))
}

/// Declares [`DetectorSpec`] and its one dispatch from a single list of `Variant(Params)`.
macro_rules! detectors {
    ($($(#[$doc:meta])* $variant:ident($params:ty),)*) => {
        /// A rule's `detector:` as written in config: one key naming the detector, its params
        /// inside. The single place that knows every detector.
        #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        pub enum DetectorSpec {
            $($(#[$doc])* $variant($params),)*
        }

        impl DetectorSpec {
            /// The detector behind the spec: the one dispatch over every detector.
            pub fn detector(&self) -> &dyn Detector {
                match self {
                    $(DetectorSpec::$variant(p) => p,)*
                }
            }

            /// [`DetectorSpec::detector`], mutable.
            pub fn detector_mut(&mut self) -> &mut dyn Detector {
                match self {
                    $(DetectorSpec::$variant(p) => p,)*
                }
            }
        }
    };
}

detectors! {
    /// Latest value against a fixed bound.
    Threshold(threshold::ThresholdParams),
    /// Latest value in standard deviations from the baseline.
    Zscore(zscore::ZscoreParams),
    /// Latest value outside the baseline's Tukey fences.
    Iqr(iqr::IqrParams),
    /// Window statistic against the baseline's, with a significance test.
    Baseline(baseline::BaselineParams),
    /// Least-squares slope of the window.
    Trend(trend::TrendParams),
    /// How long the target has been down.
    Down(down::DownParams),
    /// Multivariate: evaluated by the gate on the joint latest vector of `metrics`.
    IsolationForest(isolation_forest::ForestParams),
    /// Over other rules: evaluated by the gate after the plain rules of each tick.
    Composite(composite::CompositeParams),
}

impl DetectorSpec {
    /// The detector's config name.
    pub fn name(&self) -> &'static str {
        self.detector().name()
    }

    /// Runs the detector on one tick.
    pub fn evaluate(&self, input: &Input) -> Outcome {
        self.detector().evaluate(input)
    }

    /// Whether the detector compares against a pre-deploy baseline.
    pub fn needs_baseline(&self) -> bool {
        self.detector().needs_baseline()
    }

    /// Whether the detector judges `down` readings rather than values.
    pub fn watches_down(&self) -> bool {
        self.detector().watches_down()
    }

    /// The metrics this detector reads when they are not the rule's one `metric`.
    pub fn joint_metrics(&self) -> Option<&[String]> {
        self.detector().joint_metrics()
    }

    /// The rules a composite combines.
    pub fn composite(&self) -> Option<&composite::CompositeParams> {
        match self {
            DetectorSpec::Composite(p) => Some(p),
            _ => None,
        }
    }

    /// Kind used when a rule names none, if the detector implies one.
    pub fn default_kind(&self) -> Option<&'static str> {
        self.detector().default_kind()
    }

    /// The detector's statistical side, if it tests significance.
    pub fn statistical(&self) -> Option<&dyn Statistical> {
        self.detector().statistical()
    }

    /// [`DetectorSpec::statistical`], mutable.
    pub fn statistical_mut(&mut self) -> Option<&mut dyn Statistical> {
        self.detector_mut().statistical_mut()
    }

    /// Whether the detector compares with the metric's control.
    pub fn against_control(&self) -> bool {
        self.statistical()
            .is_some_and(|s| s.compare() == Against::Control)
    }

    /// Checks parameter ranges; on error returns (`detector.field`, message).
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.detector()
            .validate()
            .map_err(|(field, msg)| (format!("{}.{field}", self.name()), msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every detector's `name()` is the key that deserializes to it, so errors and reports
    /// name the key the user wrote.
    #[test]
    fn each_name_is_its_config_key() {
        let yaml = r#"
- threshold: { op: ">", value: 1 }
- zscore: {}
- iqr: {}
- baseline: {}
- trend: { min_slope_per_min: 1 }
- down: {}
- isolation_forest: { metrics: [a, b] }
- composite: { op: or, rules: [a] }
"#;
        let specs: Vec<serde_yaml::Value> = serde_yaml::from_str(yaml).unwrap();
        assert_eq!(specs.len(), 8);
        for v in specs {
            let key = v
                .as_mapping()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .as_str()
                .unwrap()
                .to_string();
            let spec: DetectorSpec = serde_yaml::with::singleton_map::deserialize(v).unwrap();
            assert_eq!(spec.name(), key);
            assert_eq!(spec.validate(), Ok(()), "{key}: defaults are valid");
        }
    }

    #[test]
    fn validation_errors_are_prefixed_with_the_detector_name() {
        let v: serde_yaml::Value = serde_yaml::from_str("zscore: { threshold: -1 }").unwrap();
        let spec: DetectorSpec = serde_yaml::with::singleton_map::deserialize(v).unwrap();
        let (field, msg) = spec.validate().unwrap_err();
        assert_eq!(field, "zscore.threshold");
        assert_eq!(msg, "must be a positive number");
    }
}
