//! Anomaly detectors: pure functions over plain data (no clock, no I/O).
//!
//! Each detector answers, for the latest tick of one metric, "is the condition active now?"
//! and explains its answer. Turning "active" into "fired" (`for`, failure limits) is the
//! engine's job, so every detector here is stateless and replayable.

pub mod baseline;
pub mod down;
pub mod iqr;
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
