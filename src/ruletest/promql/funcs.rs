//! PromQL functions and aggregations, as Prometheus 2.x computes them.

use super::{drop_name, eval, scalar, vector, Ctx, Labels, Value, R};
use promql_parser::parser::{AggregateExpr, Call, Expr, LabelModifier};
use std::collections::BTreeMap;

/// Range vectors: each series' labels and (time, value) points.
type Matrix = Vec<(Labels, Vec<(i64, f64)>)>;

/// What a range function computes from one series' points.
type PerSeries<'a> = &'a dyn Fn(&[(i64, f64)]) -> Option<f64>;

fn matrix(c: &Call, i: usize, ctx: &Ctx) -> R<Matrix> {
    match eval(arg(c, i)?, ctx)? {
        Value::Matrix(m) => Ok(m),
        _ => Err(format!("{}() needs a range vector", c.func.name)),
    }
}

fn arg(c: &Call, i: usize) -> R<&Expr> {
    c.args
        .args
        .get(i)
        .map(|b| b.as_ref())
        .ok_or_else(|| format!("{}() is missing an argument", c.func.name))
}

fn range_secs(c: &Call) -> f64 {
    match c.args.args.first().map(|b| b.as_ref()) {
        Some(Expr::MatrixSelector(m)) => m.range.as_secs_f64(),
        Some(Expr::Subquery(s)) => s.range.as_secs_f64(),
        _ => 0.0,
    }
}

/// Prometheus's `extrapolatedRate` (rate, increase, delta).
fn extrapolated(pts: &[(i64, f64)], t: i64, range: f64, counter: bool, rate: bool) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    let mut result = last.1 - first.1;
    if counter {
        let mut prev = first.1;
        for p in &pts[1..] {
            if p.1 < prev {
                result += prev;
            }
            prev = p.1;
        }
    }
    let range_start = t as f64 / 1000.0 - range;
    let range_end = t as f64 / 1000.0;
    let mut to_start = first.0 as f64 / 1000.0 - range_start;
    let to_end = range_end - last.0 as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg = sampled / (pts.len() - 1) as f64;
    if counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg / 2.0
    };
    result *= interval / sampled;
    if rate {
        result /= range;
    }
    Some(result)
}

/// `irate`/`idelta`: the last two samples.
fn instant_delta(pts: &[(i64, f64)], rate: bool) -> Option<f64> {
    let n = pts.len();
    if n < 2 {
        return None;
    }
    let (a, b) = (pts[n - 2], pts[n - 1]);
    let d = if rate && b.1 < a.1 { b.1 } else { b.1 - a.1 };
    if !rate {
        return Some(d);
    }
    let dt = (b.0 - a.0) as f64 / 1000.0;
    (dt > 0.0).then(|| d / dt)
}

fn stdvar(v: &[f64]) -> f64 {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64
}

/// Prometheus's `quantile` (linear interpolation between ranks).
fn quantile(q: f64, v: &mut [f64]) -> f64 {
    if v.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    v.sort_by(f64::total_cmp);
    let rank = q * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    let w = rank - lo as f64;
    v[lo] * (1.0 - w) + v[hi] * w
}

/// Prometheus's `bucketQuantile` over classic buckets (upper bound, cumulative count).
fn bucket_quantile(q: f64, mut b: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.last().is_none_or(|l| l.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Same upper bound twice: their counts add up.
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (le, c) in b {
        match merged.last_mut() {
            Some(last) if last.0 == le => last.1 += c,
            _ => merged.push((le, c)),
        }
    }
    // Counts must not decrease.
    let mut max = f64::NEG_INFINITY;
    for m in merged.iter_mut() {
        if m.1 < max {
            m.1 = max;
        }
        max = m.1;
    }
    let n = merged.len();
    if n < 2 {
        return f64::NAN;
    }
    let total = merged[n - 1].1;
    if total == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * total;
    let i = merged.iter().position(|m| m.1 >= rank).unwrap_or(n - 1);
    if i == n - 1 {
        return merged[n - 2].0;
    }
    if i == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let (mut start, end, mut count) = (0.0, merged[i].0, merged[i].1);
    if i > 0 {
        start = merged[i - 1].0;
        count -= merged[i - 1].1;
        rank -= merged[i - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// The equality matchers of a selector argument, for `absent`.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(v) => v,
        Expr::MatrixSelector(m) => &m.vs,
        _ => return Labels::new(),
    };
    let mut l = Labels::new();
    for m in &vs.matchers.matchers {
        if m.op.to_string() == "=" && m.name != "__name__" {
            l.insert(m.name.clone(), m.value.clone());
        }
    }
    l
}

fn over_time(name: &str, pts: &[(i64, f64)], q: f64) -> Option<f64> {
    let v: Vec<f64> = pts.iter().map(|p| p.1).collect();
    if v.is_empty() {
        return None;
    }
    Some(match name {
        "avg_over_time" => v.iter().sum::<f64>() / v.len() as f64,
        "sum_over_time" => v.iter().sum(),
        "min_over_time" => v.iter().copied().fold(f64::INFINITY, f64::min),
        "max_over_time" => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "count_over_time" => v.len() as f64,
        "last_over_time" => v[v.len() - 1],
        "present_over_time" => 1.0,
        "stddev_over_time" => stdvar(&v).sqrt(),
        "stdvar_over_time" => stdvar(&v),
        "quantile_over_time" => quantile(q, &mut v.clone()),
        "changes" => v.windows(2).filter(|w| w[0] != w[1]).count() as f64,
        "resets" => v.windows(2).filter(|w| w[1] < w[0]).count() as f64,
        _ => return None,
    })
}

/// A function call.
pub fn call(c: &Call, ctx: &Ctx) -> R<Value> {
    let name = c.func.name;
    let per_series = |f: PerSeries, keep_name: bool| -> R<Value> {
        let m = matrix(c, 0, ctx)?;
        Ok(Value::Vector(
            m.into_iter()
                .filter_map(|(l, pts)| {
                    f(&pts).map(|v| (if keep_name { l } else { drop_name(l) }, v))
                })
                .collect(),
        ))
    };
    let range = range_secs(c);
    match name {
        "rate" | "increase" | "delta" => per_series(
            &|p| extrapolated(p, ctx.t, range, name != "delta", name == "rate"),
            false,
        ),
        "irate" => per_series(&|p| instant_delta(p, true), false),
        "idelta" => per_series(&|p| instant_delta(p, false), false),
        "quantile_over_time" => {
            let q = scalar(eval(arg(c, 0)?, ctx)?, "quantile_over_time")?;
            let m = matrix(c, 1, ctx)?;
            Ok(Value::Vector(
                m.into_iter()
                    .filter_map(|(l, p)| over_time(name, &p, q).map(|v| (drop_name(l), v)))
                    .collect(),
            ))
        }
        n if n.ends_with("_over_time") && n != "absent_over_time"
            || n == "changes"
            || n == "resets" =>
        {
            per_series(&|p| over_time(name, p, 0.0), name == "last_over_time")
        }
        "absent" | "absent_over_time" => {
            let present = match eval(arg(c, 0)?, ctx)? {
                Value::Vector(v) => !v.is_empty(),
                Value::Matrix(m) => m.iter().any(|(_, p)| !p.is_empty()),
                _ => return Err(format!("{name}() needs a vector")),
            };
            Ok(Value::Vector(if present {
                Vec::new()
            } else {
                vec![(absent_labels(arg(c, 0)?), 1.0)]
            }))
        }
        "time" => Ok(Value::Scalar(ctx.t as f64 / 1000.0)),
        "vector" => Ok(Value::Vector(vec![(
            Labels::new(),
            scalar(eval(arg(c, 0)?, ctx)?, "vector()")?,
        )])),
        "scalar" => {
            let v = vector(eval(arg(c, 0)?, ctx)?, "scalar()")?;
            Ok(Value::Scalar(if v.len() == 1 { v[0].1 } else { f64::NAN }))
        }
        "timestamp" => match arg(c, 0)? {
            Expr::VectorSelector(vs) => Ok(Value::Vector(
                super::instant_at(vs, ctx)?
                    .into_iter()
                    .map(|(l, t, _)| (drop_name(l), t as f64 / 1000.0))
                    .collect(),
            )),
            // Any other expression is evaluated now: its samples are stamped now.
            e => Ok(Value::Vector(
                vector(eval(e, ctx)?, "timestamp()")?
                    .into_iter()
                    .map(|(l, _)| (drop_name(l), ctx.t as f64 / 1000.0))
                    .collect(),
            )),
        },
        "label_replace" => label_replace(c, ctx),
        "minute" | "hour" | "day_of_week" | "day_of_month" | "day_of_year" | "days_in_month"
        | "month" | "year" => {
            use chrono::{Datelike, Timelike};
            let v = match c.args.args.first() {
                Some(e) => vector(eval(e, ctx)?, name)?,
                None => vec![(Labels::new(), ctx.t as f64 / 1000.0)],
            };
            let f = |secs: f64| -> f64 {
                let Some(d) = chrono::DateTime::from_timestamp(secs as i64, 0) else {
                    return f64::NAN;
                };
                f64::from(match name {
                    "minute" => d.minute(),
                    "hour" => d.hour(),
                    "day_of_week" => d.weekday().num_days_from_sunday(),
                    "day_of_month" => d.day(),
                    "day_of_year" => d.ordinal(),
                    "month" => d.month(),
                    "year" => d.year() as u32,
                    _ => {
                        let (y, m) = (d.year(), d.month());
                        let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                        chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1)
                            .and_then(|n| n.pred_opt())
                            .map_or(0, |l| l.day())
                    }
                })
            };
            Ok(Value::Vector(
                v.into_iter().map(|(l, x)| (drop_name(l), f(x))).collect(),
            ))
        }
        "histogram_quantile" => {
            let q = scalar(eval(arg(c, 0)?, ctx)?, "histogram_quantile")?;
            let v = vector(eval(arg(c, 1)?, ctx)?, "histogram_quantile")?;
            let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
            for (mut l, x) in v {
                let Some(le) = l.remove("le").and_then(|s| s.parse::<f64>().ok()) else {
                    continue; // Prometheus ignores a series without a parsable `le`.
                };
                groups.entry(drop_name(l)).or_default().push((le, x));
            }
            Ok(Value::Vector(
                groups
                    .into_iter()
                    .map(|(l, b)| (l, bucket_quantile(q, b)))
                    .collect(),
            ))
        }
        "sort" | "sort_desc" => {
            let mut v = vector(eval(arg(c, 0)?, ctx)?, name)?;
            v.sort_by(|a, b| a.1.total_cmp(&b.1));
            if name == "sort_desc" {
                v.reverse();
            }
            Ok(Value::Vector(v))
        }
        "clamp_min" | "clamp_max" | "clamp" | "round" => {
            let v = vector(eval(arg(c, 0)?, ctx)?, name)?;
            let a = match c.args.args.get(1) {
                Some(e) => scalar(eval(e, ctx)?, name)?,
                None => 1.0,
            };
            let b = match c.args.args.get(2) {
                Some(e) => scalar(eval(e, ctx)?, name)?,
                None => 0.0,
            };
            let f = |x: f64| match name {
                "clamp_min" => x.max(a),
                "clamp_max" => x.min(a),
                "clamp" => x.max(a).min(b),
                // Prometheus's: floor(x·(1/a) + 0.5) / (1/a), float for float.
                _ => (x * (1.0 / a) + 0.5).floor() / (1.0 / a),
            };
            if name == "clamp" && b < a {
                return Ok(Value::Vector(Vec::new()));
            }
            Ok(Value::Vector(
                v.into_iter().map(|(l, x)| (drop_name(l), f(x))).collect(),
            ))
        }
        "abs" | "ceil" | "floor" | "sqrt" | "exp" | "ln" | "log2" | "log10" | "sgn" => {
            let v = vector(eval(arg(c, 0)?, ctx)?, name)?;
            let f = |x: f64| match name {
                "abs" => x.abs(),
                "ceil" => x.ceil(),
                "floor" => x.floor(),
                "sqrt" => x.sqrt(),
                "exp" => x.exp(),
                "ln" => x.ln(),
                "log2" => x.log2(),
                "log10" => x.log10(),
                _ => {
                    if x == 0.0 {
                        0.0
                    } else {
                        x.signum()
                    }
                }
            };
            Ok(Value::Vector(
                v.into_iter().map(|(l, x)| (drop_name(l), f(x))).collect(),
            ))
        }
        other => Err(format!("the function `{other}` is not supported")),
    }
}

fn label_replace(c: &Call, ctx: &Ctx) -> R<Value> {
    let v = vector(eval(arg(c, 0)?, ctx)?, "label_replace")?;
    let s = |i: usize| -> R<String> {
        match eval(arg(c, i)?, ctx)? {
            Value::Str(s) => Ok(s),
            _ => Err("label_replace needs strings".into()),
        }
    };
    let (dst, repl, src, re) = (s(1)?, s(2)?, s(3)?, s(4)?);
    let re =
        regex::Regex::new(&format!("^(?s:{re})$")).map_err(|e| format!("label_replace: {e}"))?;
    let out = v
        .into_iter()
        .map(|(mut l, x)| {
            let value = l.get(&src).cloned().unwrap_or_default();
            if let Some(caps) = re.captures(&value) {
                let mut res = String::new();
                caps.expand(&repl, &mut res);
                if res.is_empty() {
                    l.remove(&dst);
                } else {
                    l.insert(dst.clone(), res);
                }
            }
            (l, x)
        })
        .collect();
    Ok(Value::Vector(out))
}

/// The grouping key of `l` under `by`/`without`.
fn group_key(l: &Labels, m: &Option<LabelModifier>) -> Labels {
    match m {
        None => Labels::new(),
        Some(LabelModifier::Include(by)) => l
            .iter()
            .filter(|(k, _)| by.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(LabelModifier::Exclude(without)) => l
            .iter()
            .filter(|(k, _)| !without.labels.contains(k) && *k != "__name__")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// An aggregation.
pub fn aggregate(a: &AggregateExpr, ctx: &Ctx) -> R<Value> {
    let op = a.op.to_string();
    let v = vector(eval(&a.expr, ctx)?, &op)?;
    let param = match &a.param {
        Some(p) => Some(eval(p, ctx)?),
        None => None,
    };
    let mut groups: BTreeMap<Labels, Vec<(Labels, f64)>> = BTreeMap::new();
    for (l, x) in v {
        groups
            .entry(group_key(&l, &a.modifier))
            .or_default()
            .push((l, x));
    }
    let mut out = Vec::new();
    for (key, members) in groups {
        let vals: Vec<f64> = members.iter().map(|m| m.1).collect();
        let one = |x: f64| vec![(key.clone(), x)];
        out.extend(match op.as_str() {
            "sum" => one(vals.iter().sum()),
            "avg" => one(vals.iter().sum::<f64>() / vals.len() as f64),
            "min" => one(vals.iter().copied().fold(f64::NAN, f64::min)),
            "max" => one(vals.iter().copied().fold(f64::NAN, f64::max)),
            "count" => one(vals.len() as f64),
            "group" => one(1.0),
            "stddev" => one(stdvar(&vals).sqrt()),
            "stdvar" => one(stdvar(&vals)),
            "quantile" => {
                let q = match &param {
                    Some(Value::Scalar(q)) => *q,
                    _ => return Err("quantile needs a scalar parameter".into()),
                };
                one(quantile(q, &mut vals.clone()))
            }
            "topk" | "bottomk" => {
                let k = match &param {
                    Some(Value::Scalar(k)) => *k as usize,
                    _ => return Err(format!("{op} needs a scalar parameter")),
                };
                let mut m = members.clone();
                m.sort_by(|a, b| a.1.total_cmp(&b.1));
                if op == "topk" {
                    m.reverse();
                }
                m.truncate(k);
                m
            }
            other => return Err(format!("the aggregation `{other}` is not supported")),
        });
    }
    Ok(Value::Vector(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_extrapolates_as_prometheus() {
        // A counter +60 a minute, samples every minute, rate(x[5m]) at 5m: 6 samples span the
        // whole range: 300/300 = 1 per second.
        let pts: Vec<(i64, f64)> = (0..=5).map(|i| (i * 60_000, i as f64 * 60.0)).collect();
        let r = extrapolated(&pts, 300_000, 300.0, true, true).unwrap();
        assert!((r - 1.0).abs() < 1e-12, "{r}");
        // increase over [2m] at 2m with samples 0, 60, 120: 120.
        let inc = extrapolated(&pts[..3], 120_000, 120.0, true, false).unwrap();
        assert!((inc - 120.0).abs() < 1e-9, "{inc}");
        // A reset counts what came before it.
        let reset = [(0, 10.0), (60_000, 20.0), (120_000, 5.0)];
        let inc = extrapolated(&reset, 120_000, 120.0, true, false).unwrap();
        assert!((inc - 15.0).abs() < 1e-9, "{inc}");
        assert_eq!(quantile(0.5, &mut [3.0, 1.0, 2.0, 4.0]), 2.5);
        // 10 observations: 5 ≤ 0.1, 8 ≤ 0.5, all ≤ +Inf. p50 is the end of the first bucket,
        // p65 half-way into the second; p95 falls in +Inf: the last finite bound.
        let b = vec![(0.1, 5.0), (0.5, 8.0), (f64::INFINITY, 10.0)];
        assert!((bucket_quantile(0.5, b.clone()) - 0.1).abs() < 1e-12);
        assert!((bucket_quantile(0.65, b.clone()) - 0.3).abs() < 1e-12);
        assert_eq!(bucket_quantile(0.95, b), 0.5);
    }
}
