//! `composite`: AND / OR / at-least-k-of-n / weighted score over other rules.
//!
//! A referenced rule counts as true at a tick when it is firing then (its own `for` held);
//! the gate evaluates composites after the plain rules of the tick, so what they see is
//! this tick's state. Pure: the caller passes the booleans.

use super::{evaluated_by_gate, Detector, Finding, Input, Outcome};
use crate::model::{fmt_num, Expected};
use serde::Deserialize;

/// How the referenced rules combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompositeOp {
    /// Every rule firing.
    And,
    /// Any rule firing.
    Or,
    /// At least `k` rules firing.
    AtLeast,
    /// Sum of the weights of the firing rules reaches `threshold`.
    Weighted,
}

/// Config: `composite: { op: at_least, k: 2, rules: [a, b, c] }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeParams {
    pub op: CompositeOp,
    /// For `at_least`.
    pub k: Option<usize>,
    /// For `weighted`: the score that makes the composite active.
    pub threshold: Option<f64>,
    /// Names of the rules combined (plain or composite; no cycles).
    pub rules: Vec<String>,
    /// For `weighted`: one weight per rule (default 1 each).
    pub weights: Option<Vec<f64>>,
}

impl Detector for CompositeParams {
    fn name(&self) -> &'static str {
        "composite"
    }

    /// Checks the combination is well formed; (field, message) on error.
    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: &str| Err((f.to_string(), m.to_string()));
        if self.rules.is_empty() {
            return bad("rules", "needs at least one rule");
        }
        match self.op {
            CompositeOp::AtLeast => match self.k {
                None => return bad("k", "required for op at_least"),
                Some(k) if k == 0 || k > self.rules.len() => {
                    return bad("k", "must be between 1 and the number of rules")
                }
                _ => {}
            },
            CompositeOp::Weighted => {
                if !self.threshold.is_some_and(|t| t.is_finite() && t > 0.0) {
                    return bad("threshold", "required for op weighted: a positive number");
                }
                if let Some(w) = &self.weights {
                    if w.len() != self.rules.len() {
                        return bad("weights", "needs one weight per rule");
                    }
                    if w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                        return bad("weights", "must be numbers of 0 or more");
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The gate combines the referenced rules' states with [`evaluate`].
    fn evaluate(&self, _input: &Input) -> Outcome {
        evaluated_by_gate(self.name())
    }
}

impl CompositeParams {
    fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }
}

/// Judges the combination given whether each referenced rule is firing (same order as `rules`).
pub fn evaluate(params: &CompositeParams, firing: &[bool]) -> Finding {
    let n = firing.iter().filter(|f| **f).count();
    let (active, observed, expected, statistic) = match params.op {
        CompositeOp::And => (n == firing.len(), n as f64, firing.len() as f64, "firing"),
        CompositeOp::Or => (n >= 1, n as f64, 1.0, "firing"),
        CompositeOp::AtLeast => {
            let k = params.k.unwrap_or(1);
            (n >= k, n as f64, k as f64, "firing")
        }
        CompositeOp::Weighted => {
            let score: f64 = (0..firing.len())
                .filter(|i| firing[*i])
                .map(|i| params.weight(i))
                .sum();
            let t = params.threshold.unwrap_or(1.0);
            (score >= t, score, t, "weight")
        }
    };
    let names: Vec<&str> = params
        .rules
        .iter()
        .zip(firing)
        .filter(|(_, f)| **f)
        .map(|(r, _)| r.as_str())
        .collect();
    let op = match params.op {
        CompositeOp::And => "and",
        CompositeOp::Or => "or",
        CompositeOp::AtLeast => "at_least",
        CompositeOp::Weighted => "weighted",
    };
    let reason = format!(
        "{op}: {} {} {} of [{}] (firing: {})",
        fmt_num(observed),
        if active { ">=" } else { "<" },
        fmt_num(expected),
        params.rules.join(", "),
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    );
    Finding {
        active,
        observed,
        expected: Expected::Bound {
            op: ">=".into(),
            value: expected,
        },
        score: Some(observed),
        p_value: None,
        statistic,
        reason,
    }
}

/// The first reference cycle among composite rules, as the path of names that closes it.
/// `graph` lists each composite rule with the rules it references.
pub fn find_cycle(graph: &[(&str, &[String])]) -> Option<Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        graph: &[(&'a str, &'a [String])],
        path: &mut Vec<&'a str>,
        done: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(&node) {
            return None;
        }
        path.push(node);
        if let Some((_, refs)) = graph.iter().find(|(n, _)| *n == node) {
            for r in refs.iter() {
                if let Some(c) = visit(r, graph, path, done) {
                    return Some(c);
                }
            }
        }
        path.pop();
        done.push(node);
        None
    }
    let mut done = Vec::new();
    graph
        .iter()
        .find_map(|(n, _)| visit(n, graph, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(
        op: CompositeOp,
        k: Option<usize>,
        threshold: Option<f64>,
        weights: Option<Vec<f64>>,
    ) -> CompositeParams {
        CompositeParams {
            op,
            k,
            threshold,
            rules: vec!["a".into(), "b".into(), "c".into()],
            weights,
        }
    }

    #[test]
    fn and_or_at_least_follow_their_truth_tables() {
        let and = p(CompositeOp::And, None, None, None);
        assert!(evaluate(&and, &[true, true, true]).active);
        assert!(!evaluate(&and, &[true, false, true]).active);
        let or = p(CompositeOp::Or, None, None, None);
        assert!(evaluate(&or, &[false, false, true]).active);
        assert!(!evaluate(&or, &[false, false, false]).active);
        let two = p(CompositeOp::AtLeast, Some(2), None, None);
        assert!(!evaluate(&two, &[false, false, true]).active);
        let f = evaluate(&two, &[true, false, true]);
        assert!(f.active);
        assert_eq!(f.observed, 2.0);
        assert!(f.reason.contains("firing: a, c"), "{}", f.reason);
    }

    #[test]
    fn weighted_sums_the_weights_of_firing_rules() {
        let w = p(
            CompositeOp::Weighted,
            None,
            Some(0.6),
            Some(vec![0.5, 0.3, 0.2]),
        );
        assert!(evaluate(&w, &[true, false, true]).active); // 0.7
        assert!(evaluate(&w, &[true, true, false]).active); // 0.8
        assert!(!evaluate(&w, &[false, true, true]).active); // 0.5
        assert!(!evaluate(&w, &[true, false, false]).active); // 0.5
    }

    #[test]
    fn cycles_are_found_and_named() {
        let ab = ["b".to_string()];
        let ba = ["c".to_string(), "a".to_string()];
        let none: [String; 1] = ["x".into()];
        let g = [("a", &ab[..]), ("b", &ba[..]), ("c", &none[..])];
        assert_eq!(find_cycle(&g).unwrap(), vec!["a", "b", "a"]);
        let g = [("a", &ab[..]), ("b", &none[..])];
        assert_eq!(find_cycle(&g), None);
    }

    #[test]
    fn validation_names_the_missing_piece() {
        assert_eq!(
            p(CompositeOp::AtLeast, None, None, None)
                .validate()
                .unwrap_err()
                .0,
            "k"
        );
        assert_eq!(
            p(CompositeOp::AtLeast, Some(4), None, None)
                .validate()
                .unwrap_err()
                .0,
            "k"
        );
        assert_eq!(
            p(CompositeOp::Weighted, None, None, None)
                .validate()
                .unwrap_err()
                .0,
            "threshold"
        );
        let w = p(CompositeOp::Weighted, None, Some(1.0), Some(vec![1.0]));
        assert_eq!(w.validate().unwrap_err().0, "weights");
        assert!(p(CompositeOp::Or, None, None, None).validate().is_ok());
    }
}
