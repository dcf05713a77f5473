//! Descriptive statistics over slices, and the `Baseline` summary detectors compare against.

use serde::{Deserialize, Serialize};

/// The pre-deploy distribution of one metric, with the statistics detectors need precomputed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The baseline values, sorted ascending (NaN/Inf removed).
    pub sorted: Vec<f64>,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for fewer than 2 values.
    pub std_dev: f64,
    pub median: f64,
    /// Median absolute deviation from the median, unscaled.
    pub mad: f64,
    pub q1: f64,
    pub q3: f64,
}
