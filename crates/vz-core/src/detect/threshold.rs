//! `threshold`: is the latest value beyond a fixed bound (`> 5`, `<= 0.99`, …)?

use super::{invalid, latest_point, Detector, Finding, Input, Outcome};
use crate::model::{fmt_num, Expected};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Config of the `threshold` detector: `{ op: ">", value: 5 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdParams {
    /// Comparison applied as `latest op value`.
    pub op: Op,
    /// The fixed bound.
    pub value: f64,
}

/// A comparison operator, written as in PromQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    /// The operator as written in config.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Whether `lhs op rhs` holds (IEEE semantics: NaN only satisfies `!=`).
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            Op::Gt => lhs > rhs,
            Op::Lt => lhs < rhs,
            Op::Ge => lhs >= rhs,
            Op::Le => lhs <= rhs,
            Op::Eq => lhs == rhs,
            Op::Ne => lhs != rhs,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The core per-value test: is the condition active for `value`?
pub fn is_active(params: &ThresholdParams, value: f64) -> bool {
    params.op.holds(value, params.value)
}

/// Judges the latest value against the fixed bound. Needs no baseline.
pub fn evaluate(params: &ThresholdParams, input: &Input) -> Outcome {
    let latest = latest_point(input)?;
    let active = is_active(params, latest);
    let (op, bound) = (params.op, fmt_num(params.value));
    let reason = if active {
        format!("value {} {op} {bound}", fmt_num(latest))
    } else {
        format!("value {} is not {op} {bound}", fmt_num(latest))
    };
    Ok(Finding {
        active,
        observed: latest,
        expected: Expected::Bound {
            op: op.as_str().to_string(),
            value: params.value,
        },
        score: None,
        p_value: None,
        statistic: "value",
        reason,
    })
}

impl Detector for ThresholdParams {
    fn name(&self) -> &'static str {
        "threshold"
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if !self.value.is_finite() {
            return invalid("value", "must be a finite number");
        }
        Ok(())
    }

    fn evaluate(&self, input: &Input) -> Outcome {
        evaluate(self, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{NoAnswer, Window};

    fn input<'a>(times: &'a [i64], values: &'a [f64], latest_is_value: bool) -> Input<'a> {
        Input {
            now: times.last().copied().unwrap_or(0),
            window: Window { times, values },
            latest_is_value,
            baseline: None,
            control: None,
            down_since: None,
        }
    }

    fn params(op: &str, value: f64) -> ThresholdParams {
        serde_yaml::from_str(&format!("{{ op: \"{op}\", value: {value} }}")).unwrap()
    }

    fn active(op: &str, bound: f64, latest: f64) -> bool {
        let times = [0, 30_000];
        let values = [0.0, latest];
        evaluate(&params(op, bound), &input(&times, &values, true))
            .unwrap()
            .active
    }

    #[test]
    fn every_operator_including_boundaries() {
        // (op, value at the bound, value above, value below) → expected activity.
        let table = [
            (">", false, true, false),
            ("<", false, false, true),
            (">=", true, true, false),
            ("<=", true, false, true),
            ("==", true, false, false),
            ("!=", false, true, true),
        ];
        for (op, at, above, below) in table {
            assert_eq!(active(op, 5.0, 5.0), at, "5 {op} 5");
            assert_eq!(active(op, 5.0, 5.1), above, "5.1 {op} 5");
            assert_eq!(active(op, 5.0, 4.9), below, "4.9 {op} 5");
            assert_eq!(params(op, 5.0).op.as_str(), op);
        }
    }

    #[test]
    fn finding_explains_itself() {
        let times = [0, 30_000, 60_000];
        let values = [1.0, 2.0, 7.25];
        let f = evaluate(&params(">", 5.0), &input(&times, &values, true)).unwrap();
        assert!(f.active);
        assert_eq!(f.observed, 7.25);
        assert_eq!(
            f.expected,
            Expected::Bound {
                op: ">".into(),
                value: 5.0
            }
        );
        assert_eq!(f.statistic, "value");
        assert_eq!((f.score, f.p_value), (None, None));
        assert_eq!(f.reason, "value 7.25 > 5");
        let f = evaluate(&params("<=", 0.5), &input(&times, &values, true)).unwrap();
        assert!(!f.active);
        assert_eq!(f.reason, "value 7.25 is not <= 0.5");
    }

    #[test]
    fn no_value_no_answer() {
        let times = [0, 30_000];
        let values = [1.0, 9.0];
        // Latest tick down/missing: the window's older value must not be judged again.
        assert!(matches!(
            evaluate(&params(">", 5.0), &input(&times, &values, false)),
            Err(NoAnswer::NotEnoughData(_))
        ));
        assert!(matches!(
            evaluate(&params(">", 5.0), &input(&[], &[], true)),
            Err(NoAnswer::NotEnoughData(_))
        ));
        assert!(matches!(
            evaluate(&params("!=", 5.0), &input(&times, &[1.0, f64::NAN], true)),
            Err(NoAnswer::NotEnoughData(_))
        ));
    }

    #[test]
    fn infinite_values_are_judged() {
        assert!(active(">", 1e300, f64::INFINITY));
        assert!(!active(">", 0.0, f64::NEG_INFINITY));
    }

    #[test]
    fn config_shape() {
        assert!(serde_yaml::from_str::<ThresholdParams>("{ op: '=>', value: 1 }").is_err());
        assert!(serde_yaml::from_str::<ThresholdParams>("{ op: '>' }").is_err());
        assert!(serde_yaml::from_str::<ThresholdParams>("{ op: '>', value: 1, x: 2 }").is_err());
        let p: ThresholdParams = serde_yaml::from_str("{ op: '>=', value: 0.5 }").unwrap();
        assert_eq!(
            p,
            ThresholdParams {
                op: Op::Ge,
                value: 0.5
            }
        );
        assert_eq!(Op::Ne.to_string(), "!=");
        assert!(Op::Ne.holds(f64::NAN, 1.0));
    }
}
