//! `promtool test rules` files, run as promtool runs them: `input_series` (series
//! selectors with values in the same notation as ours) are loaded, every rule group is
//! evaluated every `evaluation_interval` from 0 to the last `eval_time` (recording rules
//! write series, alerts go pending and firing after their `for`, as Prometheus's rules
//! manager does), and at each `eval_time` the firing alerts (labels and rendered
//! annotations) are compared with `exp_alerts`, and `promql_expr_test` expressions with
//! `exp_samples`. PromQL is evaluated by [`super::promql`]; what it does not support is an
//! error naming it, and the case fails with that message rather than passing.

use super::promql::{self, drop_name, Ctx, Labels, Storage, Value};
use super::series::{expand_within, Point, SeriesText};
use super::CaseResult;
use crate::config::dur;
use crate::config::promrules::{self, PromRule};
use crate::sources::prometheus::alerting::template::{render_with, Data};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

/// Most rule evaluations one test case runs (a week at 1 s, ~2 years at 1 m).
const MAX_EVALUATIONS: i64 = 1_000_000;

/// Keys only a promtool unit-test file has, at the top level or in a test case.
const PROMTOOL_TOP: [&str; 3] = ["evaluation_interval", "group_eval_order", "fuzzy_compare"];
const PROMTOOL_CASE: [&str; 5] = [
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
];

/// Whether `text` is a promtool unit-test file (not ours).
pub fn is_promtool(text: &str) -> bool {
    let Ok(serde_yaml::Value::Mapping(top)) = serde_yaml::from_str::<serde_yaml::Value>(text)
    else {
        return false;
    };
    PROMTOOL_TOP.iter().any(|k| top.contains_key(*k))
        || matches!(top.get("tests"), Some(serde_yaml::Value::Sequence(cases))
            if cases.iter().any(|c| matches!(c, serde_yaml::Value::Mapping(m)
                if PROMTOOL_CASE.iter().any(|k| m.contains_key(*k)))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    evaluation_interval: Option<Duration>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    fuzzy_compare: bool,
    #[serde(default)]
    tests: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "dur::opt_duration")]
    interval: Option<Duration>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    /// When the series start (unix seconds or RFC 3339); eval times count from it.
    #[serde(default)]
    start_timestamp: Option<serde_yaml::Value>,
}

impl Case {
    /// `start_timestamp` in ms (0 when not given).
    fn start_ms(&self) -> Result<i64, String> {
        match &self.start_timestamp {
            None => Ok(0),
            Some(serde_yaml::Value::Number(n)) => n
                .as_f64()
                .map(|s| (s * 1000.0) as i64)
                .ok_or_else(|| format!("start_timestamp `{n}` is not a number")),
            Some(serde_yaml::Value::String(s)) => s
                .parse::<f64>()
                .map(|v| (v * 1000.0) as i64)
                .or_else(|_| chrono::DateTime::parse_from_rfc3339(s).map(|d| d.timestamp_millis()))
                .map_err(|_| format!("start_timestamp `{s}` is neither unix seconds nor RFC 3339")),
            Some(v) => Err(format!("start_timestamp `{v:?}` is not a time")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    /// A notation string, a bare number, or a list of numbers.
    values: serde_yaml::Value,
}

impl InputSeries {
    fn text(&self) -> Result<SeriesText, String> {
        match &self.values {
            serde_yaml::Value::String(s) => Ok(SeriesText::Text(s.clone())),
            serde_yaml::Value::Number(n) => Ok(SeriesText::Text(n.to_string())),
            v => serde_yaml::from_value(v.clone())
                .map_err(|e| format!("input_series `{}`: values: {e}", self.series)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    #[serde(default, deserialize_with = "dur::duration")]
    eval_time: Duration,
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    #[serde(default, deserialize_with = "dur::duration")]
    eval_time: Duration,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    value: f64,
}

/// A rule with where it came from, in evaluation order.
struct Rule {
    group: String,
    rule: PromRule,
    /// Group labels overlaid by the rule's own.
    labels: BTreeMap<String, String>,
}

/// Runs every case of promtool unit-test file `path`. Err: the file or its rules cannot be
/// read (exit 2).
pub fn run(path: &Path, text: &str) -> Result<Vec<CaseResult>, String> {
    let name = path.display().to_string();
    let file: File = serde_yaml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut rules = Vec::new();
    let mut order: Vec<String> = Vec::new();
    for f in &file.rule_files {
        let p = dir.join(f);
        let t = std::fs::read_to_string(&p)
            .map_err(|e| format!("{name}: rule file {}: {e}", p.display()))?;
        let groups = promrules::first_document_groups(&p.display().to_string(), &t)
            .map_err(|e| e.to_string())?;
        for g in groups {
            order.push(g.name.clone());
            for r in g.rules {
                let mut labels = g.labels.clone();
                labels.extend(r.labels.clone());
                rules.push(Rule {
                    group: g.name.clone(),
                    rule: r,
                    labels,
                });
            }
        }
    }
    if !file.group_eval_order.is_empty() {
        let pos = |g: &str| file.group_eval_order.iter().position(|x| x == g);
        if let Some(g) = order.iter().find(|g| pos(g).is_none()) {
            return Err(format!(
                "{name}: group_eval_order does not name group `{g}`"
            ));
        }
        rules.sort_by_key(|r| pos(&r.group));
    }
    let every = file.evaluation_interval.unwrap_or(Duration::from_secs(60));
    Ok(file
        .tests
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let case_name = case.name.clone().unwrap_or_else(|| format!("tests[{i}]"));
            let diff = match run_case(&rules, every, file.fuzzy_compare, case) {
                Ok(d) => d,
                Err(e) => vec![format!("cannot run: {e}")],
            };
            CaseResult {
                file: name.clone(),
                name: case_name,
                passed: diff.is_empty(),
                diff,
            }
        })
        .collect())
}

/// Per alerting rule and label set: when it became active, and whether it fires.
#[derive(Debug, Clone)]
struct Active {
    labels: Labels,
    annotations: BTreeMap<String, String>,
    active_at: i64,
    firing: bool,
    /// Since when the expression no longer returns it (`keep_firing_for`).
    gone_since: Option<i64>,
}

/// What the rules hold between evaluations.
#[derive(Default)]
struct State {
    alerts: HashMap<usize, BTreeMap<Labels, Active>>,
    recorded: HashMap<usize, Vec<Labels>>,
    /// The `ALERTS` series each alerting rule wrote at its last evaluation.
    alerts_series: HashMap<usize, Vec<Labels>>,
}

fn load(case: &Case, step: i64, base: i64) -> Result<Storage, String> {
    let mut storage = Storage::default();
    let mut budget = super::series::MAX_POINTS;
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

fn run_case(
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

fn compare_alerts(rules: &[Rule], state: &State, t: &AlertTest, diff: &mut Vec<String>) {
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

fn compare_expr(
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
