//! Binary operators: arithmetic, comparisons (filtering, or `bool`), and `and`/`or`/
//! `unless`, with Prometheus's vector matching (`on`, `ignoring`, `group_left`,
//! `group_right`).

use super::{drop_name, Ctx, Labels, Value, R};
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};
use std::collections::HashMap;

fn arith(op: &str, a: f64, b: f64) -> R<f64> {
    Ok(match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        "%" => a % b,
        "^" => a.powf(b),
        "atan2" => a.atan2(b),
        other => return Err(format!("the operator `{other}` is not supported")),
    })
}

fn compare(op: &str, a: f64, b: f64) -> Option<bool> {
    Some(match op {
        "==" => a == b,
        "!=" => a != b,
        ">" => a > b,
        "<" => a < b,
        ">=" => a >= b,
        "<=" => a <= b,
        _ => return None,
    })
}

/// The matching signature of `l`.
fn signature(l: &Labels, m: Option<&LabelModifier>) -> Labels {
    match m {
        Some(LabelModifier::Include(on)) => l
            .iter()
            .filter(|(k, _)| on.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(LabelModifier::Exclude(ign)) => l
            .iter()
            .filter(|(k, _)| !ign.labels.contains(k) && *k != "__name__")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => drop_name(l.clone()),
    }
}

/// Evaluates `lhs op rhs`.
pub fn eval(b: &BinaryExpr, ctx: &Ctx) -> R<Value> {
    let op = b.op.to_string();
    let lhs = super::eval(&b.lhs, ctx)?;
    let rhs = super::eval(&b.rhs, ctx)?;
    let modifier = b.modifier.as_ref();
    let bool_ = modifier.is_some_and(|m| m.return_bool);
    let is_cmp = compare(&op, 0.0, 0.0).is_some();
    let one = |a: f64, x: f64| -> R<Option<f64>> {
        if is_cmp {
            let c = compare(&op, a, x).unwrap_or(false);
            Ok(if bool_ {
                Some(if c { 1.0 } else { 0.0 })
            } else {
                c.then_some(a)
            })
        } else {
            arith(&op, a, x).map(Some)
        }
    };
    // Arithmetic and `bool` drop the metric name; a filtering comparison keeps it.
    let keep_name = is_cmp && !bool_;
    match (lhs, rhs) {
        (Value::Scalar(a), Value::Scalar(x)) => {
            if is_cmp && !bool_ {
                return Err("comparisons between scalars must use `bool`".into());
            }
            Ok(Value::Scalar(one(a, x)?.unwrap_or(0.0)))
        }
        (Value::Vector(v), Value::Scalar(x)) => {
            let mut out = Vec::new();
            for (l, a) in v {
                if let Some(r) = one(a, x)? {
                    let r = if is_cmp && !bool_ { a } else { r };
                    out.push((if keep_name { l } else { drop_name(l) }, r));
                }
            }
            Ok(Value::Vector(out))
        }
        (Value::Scalar(a), Value::Vector(v)) => {
            let mut out = Vec::new();
            for (l, x) in v {
                if let Some(r) = one(a, x)? {
                    // A filter keeps the vector's value.
                    let r = if is_cmp && !bool_ { x } else { r };
                    out.push((if keep_name { l } else { drop_name(l) }, r));
                }
            }
            Ok(Value::Vector(out))
        }
        (Value::Vector(l), Value::Vector(r)) => vectors(&op, l, r, modifier, &one, keep_name),
        _ => Err(format!("`{op}` between these types is not supported")),
    }
}

type Sample = (Labels, f64);

fn vectors(
    op: &str,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    m: Option<&BinModifier>,
    one: &dyn Fn(f64, f64) -> R<Option<f64>>,
    keep_name: bool,
) -> R<Value> {
    let matching = m.and_then(|m| m.matching.as_ref());
    let card = m.map_or(&VectorMatchCardinality::OneToOne, |m| &m.card);
    let sig = |l: &Labels| signature(l, matching);
    match op {
        "and" | "unless" => {
            let right: Vec<Labels> = rhs.iter().map(|s| sig(&s.0)).collect();
            let keep = op == "and";
            return Ok(Value::Vector(
                lhs.into_iter()
                    .filter(|s| right.contains(&sig(&s.0)) == keep)
                    .collect(),
            ));
        }
        "or" => {
            let left: Vec<Labels> = lhs.iter().map(|s| sig(&s.0)).collect();
            let mut out = lhs;
            out.extend(rhs.into_iter().filter(|s| !left.contains(&sig(&s.0))));
            return Ok(Value::Vector(out));
        }
        _ => {}
    }
    // group_right is group_left with the sides swapped.
    let (many, ones, swapped, include) = match card {
        VectorMatchCardinality::OneToMany(inc) => (rhs, lhs, true, inc.labels.clone()),
        VectorMatchCardinality::ManyToOne(inc) => (lhs, rhs, false, inc.labels.clone()),
        _ => (lhs, rhs, false, Vec::new()),
    };
    let grouped = !matches!(card, VectorMatchCardinality::OneToOne);
    let mut by_sig: HashMap<Labels, &Sample> = HashMap::new();
    for s in &ones {
        if by_sig.insert(sig(&s.0), s).is_some() {
            return Err(format!(
                "many-to-many matching not allowed: found duplicate series on the {} side",
                if grouped {
                    "one"
                } else if swapped {
                    "left"
                } else {
                    "right"
                }
            ));
        }
    }
    let mut seen: HashMap<Labels, ()> = HashMap::new();
    let mut out = Vec::new();
    for (l, a) in &many {
        let key = sig(l);
        let Some(other) = by_sig.get(&key) else {
            continue;
        };
        let (x, y) = if swapped {
            (other.1, *a)
        } else {
            (*a, other.1)
        };
        let Some(v) = one(x, y)? else { continue };
        let mut labels = if grouped {
            let mut l = l.clone();
            for k in &include {
                match other.0.get(k) {
                    Some(v) => l.insert(k.clone(), v.clone()),
                    None => l.remove(k),
                };
            }
            l
        } else {
            match matching {
                Some(LabelModifier::Include(_)) => key.clone(),
                _ => sig(l),
            }
        };
        if keep_name {
            if let Some(n) = l.get("__name__") {
                labels.insert("__name__".into(), n.clone());
            }
        } else {
            labels.remove("__name__");
        }
        if !grouped && seen.insert(labels.clone(), ()).is_some() {
            return Err("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into());
        }
        // A filter keeps the left side's value.
        out.push((labels, v));
    }
    Ok(Value::Vector(out))
}
