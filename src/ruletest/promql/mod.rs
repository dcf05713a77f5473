//! A small PromQL evaluator over in-memory series, enough to run `promtool test rules`
//! files offline: selectors (with `offset`), range functions (`rate`, `increase`, `irate`,
//! `delta`, `*_over_time`, `changes`, `resets`, `absent*`), math and label functions,
//! aggregations (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`, `topk`,
//! `bottomk`, `quantile` with `by`/`without`), binary operators with `on`/`ignoring`/
//! `group_left`/`group_right` and `bool`, and subqueries. Semantics follow Prometheus 2.x
//! (5 m lookback, staleness markers, extrapolated rates). Anything else is an error naming
//! what is not supported, never a silent wrong answer. Pure: no clock, no I/O.

mod binary;
mod funcs;

use promql_parser::parser::{self, Expr, Offset};
use std::collections::BTreeMap;

/// Labels of a series (with `__name__`).
pub type Labels = BTreeMap<String, String>;

/// Most steps one subquery evaluates.
pub const MAX_SUBQUERY_STEPS: i64 = 11_000;

/// How far back an instant selector looks for a sample.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// One stored series: its labels and its samples in time order (None: a staleness marker).
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(i64, Option<f64>)>,
}

/// The series a test evaluates over.
#[derive(Debug, Default, Clone)]
pub struct Storage {
    pub series: Vec<Series>,
}

impl Storage {
    /// Adds a sample (series created on first use; samples must come in time order).
    pub fn add(&mut self, labels: &Labels, t: i64, v: Option<f64>) {
        match self.series.iter_mut().find(|s| &s.labels == labels) {
            Some(s) => s.points.push((t, v)),
            None => self.series.push(Series {
                labels: labels.clone(),
                points: vec![(t, v)],
            }),
        }
    }
}

/// A result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Str(String),
    Vector(Vec<(Labels, f64)>),
    Matrix(Vec<(Labels, Vec<(i64, f64)>)>),
}

/// An evaluation error: the expression is wrong here, or uses something not supported.
pub type R<T> = Result<T, String>;

/// What an evaluation sees besides the expression.
pub struct Ctx<'a> {
    pub storage: &'a Storage,
    /// Evaluation time (ms).
    pub t: i64,
    /// Default subquery step (the evaluation interval, ms).
    pub step: i64,
}

/// Parses and evaluates `text` at `ctx.t`.
pub fn query(text: &str, ctx: &Ctx) -> R<Value> {
    let e = parser::parse(text).map_err(|e| format!("PromQL does not parse: {e}"))?;
    eval(&e, ctx)
}

fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        Some(Offset::Pos(d)) => d.as_millis() as i64,
        Some(Offset::Neg(d)) => -(d.as_millis() as i64),
        None => 0,
    }
}

fn matches(vs: &parser::VectorSelector, labels: &Labels) -> bool {
    if let Some(n) = &vs.name {
        if labels.get("__name__") != Some(n) {
            return false;
        }
    }
    vs.matchers.matchers.iter().all(|m| {
        let v = labels.get(&m.name).map(String::as_str).unwrap_or("");
        m.is_match(v)
    }) && (vs.matchers.or_matchers.is_empty()
        || vs.matchers.or_matchers.iter().any(|group| {
            group.iter().all(|m| {
                let v = labels.get(&m.name).map(String::as_str).unwrap_or("");
                m.is_match(v)
            })
        }))
}

/// The samples of `vs` in `[from, to]` (Prometheus 2.x closes both ends), staleness
/// markers dropped.
fn range_of(
    vs: &parser::VectorSelector,
    ctx: &Ctx,
    from: i64,
    to: i64,
) -> Vec<(Labels, Vec<(i64, f64)>)> {
    // In label order, as Prometheus's storage returns series (sums add up in that order).
    let mut found: Vec<(Labels, Vec<(i64, f64)>)> = ctx
        .storage
        .series
        .iter()
        .filter(|s| matches(vs, &s.labels))
        .map(|s| {
            let pts = s
                .points
                .iter()
                .filter(|(t, _)| *t >= from && *t <= to)
                .filter_map(|(t, v)| v.map(|v| (*t, v)))
                .collect();
            (s.labels.clone(), pts)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// An instant selector at `t`: each series' latest sample within the lookback (with its
/// time), unless that sample is a staleness marker.
fn instant_with_time(vs: &parser::VectorSelector, ctx: &Ctx, t: i64) -> Vec<(Labels, i64, f64)> {
    let mut found: Vec<(Labels, i64, f64)> = ctx
        .storage
        .series
        .iter()
        .filter(|s| matches(vs, &s.labels))
        .filter_map(|s| {
            let last = s
                .points
                .iter()
                .rev()
                .find(|(pt, _)| *pt <= t && *pt >= t - LOOKBACK_MS)?;
            last.1.map(|v| (s.labels.clone(), last.0, v))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn instant(vs: &parser::VectorSelector, ctx: &Ctx, t: i64) -> Vec<(Labels, f64)> {
    instant_with_time(vs, ctx, t)
        .into_iter()
        .map(|(l, _, v)| (l, v))
        .collect()
}

/// The samples of an instant selector at `ctx.t` with their times (for `timestamp()`).
pub fn instant_at(vs: &parser::VectorSelector, ctx: &Ctx) -> R<Vec<(Labels, i64, f64)>> {
    if vs.at.is_some() {
        return Err("the `@` modifier is not supported".into());
    }
    Ok(instant_with_time(vs, ctx, ctx.t - offset_ms(&vs.offset)))
}

/// Evaluates `e` at `ctx.t`.
pub fn eval(e: &Expr, ctx: &Ctx) -> R<Value> {
    match e {
        Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
        Expr::StringLiteral(s) => Ok(Value::Str(s.val.clone())),
        Expr::Paren(p) => eval(&p.expr, ctx),
        Expr::Unary(u) => match eval(&u.expr, ctx)? {
            Value::Scalar(v) => Ok(Value::Scalar(-v)),
            Value::Vector(v) => Ok(Value::Vector(
                v.into_iter().map(|(l, x)| (drop_name(l), -x)).collect(),
            )),
            _ => Err("unary minus needs a scalar or a vector".into()),
        },
        Expr::VectorSelector(vs) => {
            if vs.at.is_some() {
                return Err("the `@` modifier is not supported".into());
            }
            Ok(Value::Vector(instant(
                vs,
                ctx,
                ctx.t - offset_ms(&vs.offset),
            )))
        }
        Expr::MatrixSelector(m) => {
            if m.vs.at.is_some() {
                return Err("the `@` modifier is not supported".into());
            }
            let to = ctx.t - offset_ms(&m.vs.offset);
            let from = to - m.range.as_millis() as i64;
            Ok(Value::Matrix(range_of(&m.vs, ctx, from, to)))
        }
        Expr::Subquery(s) => subquery(s, ctx),
        Expr::Call(c) => funcs::call(c, ctx),
        Expr::Aggregate(a) => funcs::aggregate(a, ctx),
        Expr::Binary(b) => binary::eval(b, ctx),
        Expr::Extension(_) => Err("extension expressions are not supported".into()),
    }
}

fn subquery(s: &parser::SubqueryExpr, ctx: &Ctx) -> R<Value> {
    if s.at.is_some() {
        return Err("the `@` modifier is not supported".into());
    }
    let step = s.step.map_or(ctx.step, |d| d.as_millis() as i64).max(1);
    let end = ctx.t - offset_ms(&s.offset);
    let start = end - s.range.as_millis() as i64;
    // The first step-aligned time at or after the start, as Prometheus 2.x aligns it.
    let mut t = start.div_euclid(step) * step;
    if t < start {
        t += step;
    }
    if (end - t) / step > MAX_SUBQUERY_STEPS {
        return Err(format!(
            "a subquery of more than {MAX_SUBQUERY_STEPS} steps (Prometheus's own limit of \
             points per series)"
        ));
    }
    let mut out: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    while t <= end {
        let inner = Ctx { t, ..*ctx };
        match eval(&s.expr, &inner)? {
            Value::Vector(v) => {
                for (l, x) in v {
                    out.entry(l).or_default().push((t, x));
                }
            }
            Value::Scalar(x) => out.entry(Labels::new()).or_default().push((t, x)),
            _ => return Err("a subquery needs a vector or a scalar".into()),
        }
        t += step;
    }
    Ok(Value::Matrix(out.into_iter().collect()))
}

/// `l` without `__name__`.
pub fn drop_name(mut l: Labels) -> Labels {
    l.remove("__name__");
    l
}

/// A vector result, or an error saying what it was.
pub fn vector(v: Value, what: &str) -> R<Vec<(Labels, f64)>> {
    match v {
        Value::Vector(v) => Ok(v),
        _ => Err(format!("{what} needs an instant vector")),
    }
}

/// A scalar result, or an error.
pub fn scalar(v: Value, what: &str) -> R<f64> {
    match v {
        Value::Scalar(x) => Ok(x),
        _ => Err(format!("{what} needs a scalar")),
    }
}

/// `{a="1", b="2"}` or `name{a="1"}` (as in `exp_samples` and `input_series`) as labels.
pub fn parse_labels(text: &str) -> R<Labels> {
    let text = text.trim();
    let e = parser::parse(text).map_err(|e| format!("`{text}` is not a series selector: {e}"))?;
    let Expr::VectorSelector(vs) = e else {
        return Err(format!("`{text}` is not a series selector"));
    };
    let mut l = Labels::new();
    if let Some(n) = vs.name {
        l.insert("__name__".into(), n);
    }
    for m in vs.matchers.matchers {
        if m.op.to_string() != "=" {
            return Err(format!("`{text}`: only `=` matchers name a series"));
        }
        l.insert(m.name, m.value);
    }
    Ok(l)
}

#[cfg(test)]
mod tests;
