//! The evaluation loop of one case: every rule evaluated every `evaluation_interval`, as
//! Prometheus's rules manager does (recording rules write series, alerts go pending and
//! firing and write `ALERTS`), with the expectations checked at their `eval_time`.

use super::super::promql::{self, drop_name, Ctx, Labels, Storage, Value};
use super::super::series::{expand_within, Point};
use super::compare::{compare_alerts, compare_expr};
use super::file::{AlertTest, Case};
use super::{Active, Rule, State};
use crate::config::promrules::PromRule;
use crate::sources::prometheus::alerting::template::{render_with, Data};
use std::collections::BTreeMap;
use std::time::Duration;

/// Most rule evaluations one test case runs (a week at 1 s, ~2 years at 1 m).
const MAX_EVALUATIONS: i64 = 1_000_000;

fn load(case: &Case, step: i64, base: i64) -> Result<Storage, String> {
    let mut storage = Storage::default();
    let mut budget = super::super::series::MAX_POINTS;
    for s in &case.input_series {
        if s.series.contains("{{") {
            return Err(format!(
                "`{}`: native histogram samples are not supported",
                s.series
            ));
        }
        let labels = promql::parse_labels(&s.series)?;
        let points = expand_within(&s.text()?, &mut budget)
            .map_err(|e| format!("input_series `{}`: {e}", s.series))?;
        for (k, p) in points.iter().enumerate() {
            let t = base + k as i64 * step;
            match p {
                Point::Value(v) => storage.add(&labels, t, Some(*v)),
                Point::Stale => storage.add(&labels, t, None),
                Point::Missing => {}
                Point::Down => return Err("`down` is vz-monitor's notation, not promtool's".into()),
            }
        }
    }
    Ok(storage)
}

pub(super) fn run_case(
    rules: &[Rule],
    every: Duration,
    fuzzy: bool,
    case: &Case,
) -> Result<Vec<String>, String> {
    let step = case.interval.unwrap_or(every).as_millis() as i64;
    let eval_step = every.as_millis().max(1) as i64;
    let base = case.start_ms()?;
    let mut storage = load(case, step.max(1), base)?;
    let last = case
        .alert_rule_test
        .iter()
        .map(|a| a.eval_time)
        .chain(case.promql_expr_test.iter().map(|e| e.eval_time))
        .max()
        .unwrap_or_default()
        .as_millis() as i64;
    if last / eval_step > MAX_EVALUATIONS {
        return Err(format!(
            "the last eval_time is {} evaluations away; at most {MAX_EVALUATIONS} are run",
            last / eval_step
        ));
    }
    let mut checks: Vec<&AlertTest> = case.alert_rule_test.iter().collect();
    checks.sort_by_key(|a| a.eval_time);
    let mut next = 0;
    let mut state = State::default();
    let mut diff = Vec::new();
    let mut ts = base;
    let last = base + last;
    // A rule failing at every evaluation is said once, with how often.
    let mut failures: Vec<(String, String, usize)> = Vec::new();
    while ts <= last {
        for (i, r) in rules.iter().enumerate() {
            if let Err(e) = eval_rule(i, r, ts, eval_step, case, &mut storage, &mut state) {
                let what = format!("{}: {e}", rule_name(&r.rule));
                match failures.iter_mut().find(|f| f.0 == what) {
                    Some(f) => f.2 += 1,
                    None => failures.push((what, fmt_ms(ts - base), 1)),
                }
            }
        }
        // An eval_time between two evaluations is checked against the earlier one.
        while next < checks.len()
            && base + (checks[next].eval_time.as_millis() as i64) < ts + eval_step
        {
            compare_alerts(rules, &state, checks[next], &mut diff);
            next += 1;
        }
        ts += eval_step;
    }
    for t in &case.promql_expr_test {
        compare_expr(&storage, (base, eval_step), fuzzy, t, &mut diff);
    }
    let mut out: Vec<String> = failures
        .into_iter()
        .map(|(what, first, n)| match n {
            1 => format!("{what} (at {first})"),
            n => format!("{what} (at {first} and {} later evaluations)", n - 1),
        })
        .collect();
    out.extend(diff);
    Ok(out)
}

fn rule_name(r: &PromRule) -> String {
    match (&r.alert, &r.record) {
        (Some(a), _) => format!("alert `{a}`"),
        (_, Some(r)) => format!("recording rule `{r}`"),
        _ => "rule".into(),
    }
}

fn fmt_ms(ms: i64) -> String {
    humantime::format_duration(Duration::from_millis(ms.max(0) as u64)).to_string()
}

/// One evaluation of rule `i` at `ts`, as Prometheus's rules manager does it.
fn eval_rule(
    i: usize,
    r: &Rule,
    ts: i64,
    step: i64,
    case: &Case,
    storage: &mut Storage,
    state: &mut State,
) -> Result<(), String> {
    let expr = r.rule.expr.as_deref().unwrap_or("");
    let ctx = Ctx {
        storage,
        t: ts,
        step,
    };
    let result = promql::query(expr, &ctx)?;
    let samples = match result {
        Value::Vector(v) => v,
        Value::Scalar(x) => vec![(Labels::new(), x)],
        _ => return Err("the expression returns neither a vector nor a scalar".into()),
    };
    if let Some(record) = &r.rule.record {
        return write_recorded(i, r, record, samples, ts, storage, state);
    }
    let alert = r.rule.alert.clone().unwrap_or_default();
    let hold = r.rule.for_.unwrap_or_default().as_millis() as i64;
    let keep = r.rule.keep_firing_for.unwrap_or_default().as_millis() as i64;
    let active = state.alerts.entry(i).or_default();
    let mut seen: Vec<Labels> = Vec::new();
    for (l, x) in samples {
        let data = Data {
            labels: &l,
            value: x,
            external_labels: &case.external_labels,
            external_url: &case.external_url,
            alert: &alert,
        };
        let mut labels = drop_name(l.clone());
        for (k, t) in &r.labels {
            labels.insert(k.clone(), render_with(t, &data));
        }
        labels.insert("alertname".into(), alert.clone());
        let annotations = r
            .rule
            .annotations
            .iter()
            .map(|(k, t)| (k.clone(), render_with(t, &data)))
            .collect();
        if seen.contains(&labels) {
            return Err(
                "vector contains metrics with the same labelset after applying alert labels".into(),
            );
        }
        seen.push(labels.clone());
        let a = active.entry(labels.clone()).or_insert(Active {
            labels,
            annotations: BTreeMap::new(),
            active_at: ts,
            firing: false,
            gone_since: None,
        });
        a.annotations = annotations;
        a.gone_since = None;
    }
    settle(active, &seen, ts, hold, keep);
    write_alerts_series(i, ts, storage, state);
    Ok(())
}

/// After a tick's samples (`seen`): alerts gone drop out (a firing one with
/// `keep_firing_for` only after that long), pending ones held for `hold` fire.
fn settle(active: &mut BTreeMap<Labels, Active>, seen: &[Labels], ts: i64, hold: i64, keep: i64) {
    active.retain(|l, a| {
        if seen.contains(l) {
            return true;
        }
        // Gone: a firing alert with keep_firing_for stays firing that long.
        if a.firing && keep > 0 {
            let since = *a.gone_since.get_or_insert(ts);
            return ts - since < keep;
        }
        false
    });
    for a in active.values_mut() {
        if !a.firing && ts - a.active_at >= hold {
            a.firing = true;
        }
    }
}

/// A recording rule's samples, renamed and relabelled, written at `ts`; a series it wrote
/// before and no longer does gets a staleness marker.
fn write_recorded(
    i: usize,
    r: &Rule,
    record: &str,
    samples: Vec<(Labels, f64)>,
    ts: i64,
    storage: &mut Storage,
    state: &mut State,
) -> Result<(), String> {
    let mut out = Vec::new();
    for (l, x) in samples {
        let mut l = drop_name(l);
        l.extend(r.labels.clone());
        l.insert("__name__".into(), record.to_string());
        if out.iter().any(|(o, _)| o == &l) {
            return Err(
                "vector contains metrics with the same labelset after applying rule labels".into(),
            );
        }
        out.push((l, x));
    }
    let before = state
        .recorded
        .insert(i, out.iter().map(|(l, _)| l.clone()).collect());
    for gone in before
        .unwrap_or_default()
        .iter()
        .filter(|l| !out.iter().any(|(o, _)| &o == l))
    {
        storage.add(gone, ts, None);
    }
    for (l, x) in out {
        storage.add(&l, ts, Some(x));
    }
    Ok(())
}

/// Prometheus writes `ALERTS{alertname, alertstate, …}` = 1 for every pending and firing
/// alert of rule `i`, and a staleness marker when one goes away or changes state.
fn write_alerts_series(i: usize, ts: i64, storage: &mut Storage, state: &mut State) {
    let series: Vec<Labels> = state
        .alerts
        .get(&i)
        .into_iter()
        .flat_map(BTreeMap::values)
        .map(|a| {
            let mut l = a.labels.clone();
            l.insert("__name__".into(), "ALERTS".into());
            let st = if a.firing { "firing" } else { "pending" };
            l.insert("alertstate".into(), st.into());
            l
        })
        .collect();
    let before = state
        .alerts_series
        .insert(i, series.clone())
        .unwrap_or_default();
    for gone in before.iter().filter(|l| !series.contains(l)) {
        storage.add(gone, ts, None);
    }
    for l in &series {
        storage.add(l, ts, Some(1.0));
    }
}
