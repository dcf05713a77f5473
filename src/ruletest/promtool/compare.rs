//! Expected against got: the firing alerts of `exp_alerts` and the samples of
//! `exp_samples`, each difference one line of the case's diff.

use super::super::promql::{self, Ctx, Labels, Storage, Value};
use super::file::{AlertTest, ExprTest};
use super::{Rule, State};
use std::collections::BTreeMap;

type Alert = (Labels, BTreeMap<String, String>);

fn show(alerts: &[Alert]) -> String {
    let one = |(l, a): &Alert| {
        let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let a: Vec<String> = a.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!("{{{}}} annotations {{{}}}", l.join(", "), a.join(", "))
    };
    if alerts.is_empty() {
        "none".into()
    } else {
        alerts.iter().map(one).collect::<Vec<_>>().join("; ")
    }
}

pub(super) fn compare_alerts(rules: &[Rule], state: &State, t: &AlertTest, diff: &mut Vec<String>) {
    let mut got: Vec<Alert> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.rule.alert.as_deref() == Some(t.alertname.as_str()))
        .filter_map(|(i, _)| state.alerts.get(&i))
        .flat_map(|m| m.values())
        .filter(|a| a.firing)
        .map(|a| (a.labels.clone(), a.annotations.clone()))
        .collect();
    let mut want: Vec<Alert> = t
        .exp_alerts
        .iter()
        .map(|e| {
            let mut l = e.exp_labels.clone();
            l.insert("alertname".into(), t.alertname.clone());
            (l, e.exp_annotations.clone())
        })
        .collect();
    got.sort();
    want.sort();
    if got != want {
        diff.push(format!(
            "alert {} at {}: - {} + {}",
            t.alertname,
            humantime::format_duration(t.eval_time),
            show(&want),
            show(&got)
        ));
    }
}

pub(super) fn compare_expr(
    storage: &Storage,
    (base, step): (i64, i64),
    fuzzy: bool,
    t: &ExprTest,
    diff: &mut Vec<String>,
) {
    let ctx = Ctx {
        storage,
        t: base + t.eval_time.as_millis() as i64,
        step,
    };
    let at = humantime::format_duration(t.eval_time);
    let got = match promql::query(&t.expr, &ctx) {
        Ok(Value::Vector(v)) => v,
        Ok(Value::Scalar(x)) => vec![(Labels::new(), x)],
        Ok(_) => {
            diff.push(format!(
                "expr `{}` at {at}: returns neither a vector nor a scalar",
                t.expr
            ));
            return;
        }
        Err(e) => {
            diff.push(format!("expr `{}` at {at}: {e}", t.expr));
            return;
        }
    };
    let mut want = Vec::new();
    for s in &t.exp_samples {
        let l = if s.labels.trim().is_empty() {
            Ok(Labels::new())
        } else {
            promql::parse_labels(&s.labels)
        };
        match l {
            Ok(l) => want.push((l, s.value)),
            Err(e) => {
                diff.push(format!("expr `{}` at {at}: exp_samples: {e}", t.expr));
                return;
            }
        }
    }
    let mut got = got;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let same_value = |a: f64, b: f64| {
        a == b
            || a.is_nan() && b.is_nan()
            || fuzzy && ((a - b).abs() <= 1e-12 * a.abs().max(b.abs()))
    };
    let equal = got.len() == want.len()
        && got
            .iter()
            .zip(&want)
            .all(|(g, w)| g.0 == w.0 && same_value(g.1, w.1));
    if !equal {
        let fmt = |v: &[(Labels, f64)]| {
            let s: Vec<String> = v
                .iter()
                .map(|(l, x)| {
                    let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                    format!("{{{}}} {x}", l.join(", "))
                })
                .collect();
            if s.is_empty() {
                "none".into()
            } else {
                s.join("; ")
            }
        };
        diff.push(format!(
            "expr `{}` at {at}: - {} + {}",
            t.expr,
            fmt(&want),
            fmt(&got)
        ));
    }
}
