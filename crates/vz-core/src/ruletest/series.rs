//! Series notation of rule tests, exactly as `promtool test rules` expands `input_series`
//! values: `"1 2 3"`, `"1+2x3"` (1 3 5 7: N+1 points), `"5-1x2"` (5 4 3), `"7x2"` (7 7 7),
//! `_` (one missing sample), `_x3` (3 missing samples: N, not N+1), `stale` (the series ends:
//! a missing sample here). Our addition: `down` / `downx3` (a failed probe; N like `_xN`).
//! A YAML list of numbers works too.
//!
//! Expansion is bounded: a series (and a whole test case) holds at most [`MAX_POINTS`]
//! points, so `1x1000000000` is an error, not 16 GB, and no count can wrap.

use crate::model::Reading;
use serde::Deserialize;

/// Points one test case may expand to, all its series together.
pub const MAX_POINTS: usize = 1_000_000;

/// A series as written in a test file: a notation string or a list of numbers.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SeriesText {
    Text(String),
    Numbers(Vec<f64>),
}

/// One tick of an input series.
#[derive(Debug, Clone, PartialEq)]
pub enum Point {
    Value(f64),
    Missing,
    /// A staleness marker: the series ended (the gate sees a missing sample).
    Stale,
    Down,
}

impl Point {
    /// The reading the gate sees.
    pub fn reading(&self) -> Reading {
        match self {
            Point::Value(v) => Reading::Value(*v),
            Point::Missing => Reading::Missing("no value in the test series".into()),
            Point::Stale => Reading::Missing("stale marker in the test series".into()),
            Point::Down => Reading::Down("down in the test series".into()),
        }
    }

    /// The value, NaN when there is none (baseline rows keep their positions).
    pub fn value(&self) -> f64 {
        match self {
            Point::Value(v) => *v,
            _ => f64::NAN,
        }
    }
}

/// Expands a series into its ticks; the error names the bad token.
pub fn expand(s: &SeriesText) -> Result<Vec<Point>, String> {
    let mut budget = MAX_POINTS;
    expand_within(s, &mut budget)
}

/// Expands a series, taking its points from `budget` (shared by the series of one case).
pub fn expand_within(s: &SeriesText, budget: &mut usize) -> Result<Vec<Point>, String> {
    let text = match s {
        SeriesText::Numbers(v) => {
            take(budget, v.len() as u128)?;
            return Ok(v.iter().map(|x| Point::Value(*x)).collect());
        }
        SeriesText::Text(t) => t,
    };
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        expand_token(tok, &mut out, budget).map_err(|e| format!("`{tok}`: {e}"))?;
    }
    Ok(out)
}

/// Takes `n` points from the budget, or says why not.
fn take(budget: &mut usize, n: u128) -> Result<usize, String> {
    if n > *budget as u128 {
        return Err(format!(
            "expands past {MAX_POINTS} points, the limit of one test case (write fewer ticks, \
             or a longer interval)"
        ));
    }
    *budget -= n as usize;
    Ok(n as usize)
}

fn expand_token(tok: &str, out: &mut Vec<Point>, budget: &mut usize) -> Result<(), String> {
    if tok.starts_with('{') {
        return Err("native histogram samples (`{{…}}`) are not supported".into());
    }
    let (head, times) = match tok.rsplit_once('x') {
        Some((h, n)) if !h.is_empty() && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            let n: u64 = n.parse().map_err(|_| {
                format!(
                    "repeat count `{n}` is too large (a test case has at most {MAX_POINTS} points)"
                )
            })?;
            (h, Some(n))
        }
        _ => (tok, None),
    };
    let special = match head {
        "_" => Some(Point::Missing),
        "stale" => Some(Point::Stale),
        "down" => Some(Point::Down),
        _ => None,
    };
    if let Some(p) = special {
        if head == "stale" && times.is_some() {
            return Err("`stale` takes no repeat count".into());
        }
        // promtool: `_xN` is N missing samples.
        let n = take(budget, u128::from(times.unwrap_or(1)))?;
        out.extend(std::iter::repeat_n(p, n));
        return Ok(());
    }
    // `a+b` / `a-b`: the sign after the first character separates start and step.
    let split = head
        .char_indices()
        .skip(1)
        .find(|(i, c)| (*c == '+' || *c == '-') && !head[..*i].ends_with(['e', 'E']));
    let (start, step) = match (split, times) {
        (Some((i, _)), Some(_)) => (&head[..i], head[i..].trim_start_matches('+')),
        (Some(_), None) => return Err("a step (`a+b`) needs a count (`a+bxN`)".into()),
        (None, _) => (head, "0"),
    };
    let start: f64 = start
        .parse()
        .map_err(|_| format!("`{start}` is not a number"))?;
    let step: f64 = step
        .parse()
        .map_err(|_| format!("`{step}` is not a number"))?;
    // promtool: `a+bxN` is N+1 points (a, a+b, … a+N·b).
    let n = take(budget, u128::from(times.unwrap_or(0)) + 1)?;
    out.reserve(n);
    for k in 0..n {
        out.push(Point::Value(start + step * k as f64));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<Point> {
        expand(&SeriesText::Text(s.into())).unwrap()
    }

    fn err(s: &str) -> String {
        expand(&SeriesText::Text(s.into())).unwrap_err()
    }

    #[test]
    fn promtool_notation_expands_like_promtool() {
        let v = |xs: &[f64]| xs.iter().map(|x| Point::Value(*x)).collect::<Vec<_>>();
        assert_eq!(vals("1+2x3"), v(&[1.0, 3.0, 5.0, 7.0]));
        assert_eq!(vals("5-1x2"), v(&[5.0, 4.0, 3.0]));
        assert_eq!(vals("7x2 -1"), v(&[7.0, 7.0, 7.0, -1.0]));
        assert_eq!(vals("-2+1x1"), v(&[-2.0, -1.0]));
        assert_eq!(vals("1e3"), v(&[1000.0]));
        assert_eq!(vals("0+1e1x1"), v(&[0.0, 10.0]));
        // `_xN` is N missing samples, `_` one; `stale` ends the series.
        assert_eq!(
            vals("1 _x2 _ stale 4"),
            vec![
                Point::Value(1.0),
                Point::Missing,
                Point::Missing,
                Point::Missing,
                Point::Stale,
                Point::Value(4.0)
            ]
        );
        assert_eq!(vals("downx2 down"), vec![Point::Down; 3]);
        assert_eq!(vals("_x0"), vec![]);
    }

    #[test]
    fn bad_tokens_are_named() {
        assert!(err("1 abc").starts_with("`abc`"));
        assert!(err("1+2").contains("needs a count"));
        assert!(err("stalex3").contains("no repeat count"));
    }

    #[test]
    fn expansion_is_bounded_and_never_wraps() {
        let e = err("1x1000000000");
        assert!(
            e.starts_with("`1x1000000000`") && e.contains("limit"),
            "{e}"
        );
        assert!(err("_x18446744073709551615").contains("limit"));
        assert!(err("1+1x18446744073709551615").contains("limit"));
        assert!(err("1x99999999999999999999999").contains("too large"));
        for text in ["downx18446744073709551616", "1+1x99999999999999999999999"] {
            assert!(err(text).contains(&MAX_POINTS.to_string()), "{text}");
        }
        // The budget is shared by the series of one case.
        let mut budget = MAX_POINTS;
        let half = SeriesText::Text(format!("1x{}", MAX_POINTS / 2 - 1));
        assert_eq!(
            expand_within(&half, &mut budget).unwrap().len(),
            MAX_POINTS / 2
        );
        assert_eq!(
            expand_within(&half, &mut budget).unwrap().len(),
            MAX_POINTS / 2
        );
        assert!(expand_within(&SeriesText::Text("1".into()), &mut budget).is_err());
    }
}
