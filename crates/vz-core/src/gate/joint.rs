//! Multivariate rules on the gate: the joint latest vector of several metrics, judged by an
//! isolation forest trained on the baseline rows (paired by index: one `baseline` run
//! captures every metric at the same ticks).

use super::Gate;
use crate::detect::isolation_forest::{self, Forest, ForestParams};
use crate::detect::{NoAnswer, Outcome};
use crate::model::Reading;
use std::collections::HashMap;

impl Gate {
    /// Adds the baseline values in capture order, per series (or metric) name, which
    /// `isolation_forest` rules train on. NaN marks a tick without a value.
    pub fn with_baseline_rows(mut self, rows: HashMap<String, Vec<f64>>) -> Gate {
        self.baseline_rows = rows;
        self.forests.clear();
        self
    }

    /// The latest value of metric `name`: its own series, else its first series.
    fn latest_of(&self, name: &str) -> Option<f64> {
        let idx = self.series_index.get(name).copied().or_else(|| {
            self.series
                .iter()
                .position(|s| self.metrics[s.metric].name == name)
        })?;
        match self.series[idx].latest {
            Some(Reading::Value(v)) if v.is_finite() => Some(v),
            _ => None,
        }
    }

    /// Baseline rows of `metrics`, row-major, paired by index up to the shortest list;
    /// a row where any metric had no value (NaN) is left out, never invented.
    fn training_rows(&self, metrics: &[String]) -> Option<Vec<f64>> {
        let cols: Vec<&Vec<f64>> = metrics
            .iter()
            .map(|m| self.baseline_rows.get(m))
            .collect::<Option<_>>()?;
        let n = cols.iter().map(|c| c.len()).min().unwrap_or(0);
        Some(
            (0..n)
                .filter(|&i| cols.iter().all(|c| c[i].is_finite()))
                .flat_map(|i| cols.iter().map(move |c| c[i]))
                .collect(),
        )
    }

    pub(super) fn joint_outcome(&mut self, rule_idx: usize, p: &ForestParams) -> Outcome {
        if !self.forests.contains_key(&rule_idx) {
            let forest = self
                .training_rows(&p.metrics)
                .map(|rows| Forest::fit(&rows, p.metrics.len(), p.trees, p.sample_size, p.seed));
            self.forests.insert(rule_idx, forest);
        }
        let values: Vec<f64> = p
            .metrics
            .iter()
            .map(|m| self.latest_of(m).unwrap_or(f64::NAN))
            .collect();
        match self.forests.get(&rule_idx) {
            Some(Some(f)) => isolation_forest::evaluate(p, Some(f), &values),
            _ => Err(NoAnswer::NoBaseline),
        }
    }
}
