//! Series notation of rule tests, as `promtool test rules` writes `input_series` values:
//! `"1 2 3"`, `"1+2x3"` (1 3 5 7), `"5-1x2"` (5 4 3), `"7x2"` (7 7 7), `_` (missing),
//! `_x3` (4 missing), `down` / `downx3` (a failed probe). A YAML list of numbers works too.

use crate::model::Reading;
use serde::Deserialize;

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
    Down,
}

impl Point {
    /// The reading the gate sees.
    pub fn reading(&self) -> Reading {
        match self {
            Point::Value(v) => Reading::Value(*v),
            Point::Missing => Reading::Missing("no value in the test series".into()),
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

/// Most ticks one series may expand to (a day at 1 s is 86,400): `1x1000000000` is a
/// typo or an attack, refused before anything is allocated.
pub const MAX_POINTS: usize = 100_000;

/// Expands a series into its ticks; the error names the bad token.
pub fn expand(s: &SeriesText) -> Result<Vec<Point>, String> {
    let text = match s {
        SeriesText::Numbers(v) => return Ok(v.iter().map(|x| Point::Value(*x)).collect()),
        SeriesText::Text(t) => t,
    };
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        expand_token(tok, &mut out).map_err(|e| format!("`{tok}`: {e}"))?;
    }
    Ok(out)
}

/// `n` repetitions plus the first point, if they fit in the series after `have` points.
fn checked_count(n: Option<u64>, have: usize) -> Result<usize, String> {
    let total = n
        .map_or(Some(1), |n| n.checked_add(1))
        .and_then(|t| usize::try_from(t).ok())
        .filter(|t| have.checked_add(*t).is_some_and(|all| all <= MAX_POINTS));
    total.ok_or_else(|| format!("the series would expand to more than {MAX_POINTS} points"))
}

fn expand_token(tok: &str, out: &mut Vec<Point>) -> Result<(), String> {
    let (head, times) = match tok.rsplit_once('x') {
        Some((h, n)) if !h.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
            let n = n.parse::<u64>().map_err(|_| {
                format!("count `{n}` is too large (a series has at most {MAX_POINTS} points)")
            })?;
            (h, Some(n))
        }
        _ => (tok, None),
    };
    let special = match head {
        "_" => Some(Point::Missing),
        "down" => Some(Point::Down),
        _ => None,
    };
    let count = checked_count(times, out.len())?;
    if let Some(p) = special {
        out.extend(std::iter::repeat_n(p, count));
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
    for k in 0..count {
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

    #[test]
    fn promtool_notation_expands_like_promtool() {
        let v = |xs: &[f64]| xs.iter().map(|x| Point::Value(*x)).collect::<Vec<_>>();
        assert_eq!(vals("1+2x3"), v(&[1.0, 3.0, 5.0, 7.0]));
        assert_eq!(vals("5-1x2"), v(&[5.0, 4.0, 3.0]));
        assert_eq!(vals("7x2 -1"), v(&[7.0, 7.0, 7.0, -1.0]));
        assert_eq!(vals("-2+1x1"), v(&[-2.0, -1.0]));
        assert_eq!(vals("1e3"), v(&[1000.0]));
        assert_eq!(
            vals("1 _x1 down"),
            vec![
                Point::Value(1.0),
                Point::Missing,
                Point::Missing,
                Point::Down
            ]
        );
    }

    #[test]
    fn bad_tokens_are_named() {
        let e = expand(&SeriesText::Text("1 abc".into())).unwrap_err();
        assert!(e.starts_with("`abc`"), "{e}");
        let e = expand(&SeriesText::Text("1+2".into())).unwrap_err();
        assert!(e.contains("needs a count"), "{e}");
    }

    #[test]
    fn huge_counts_are_refused_not_allocated_or_wrapped() {
        for text in [
            "1x1000000000",
            "_x18446744073709551615",
            "downx18446744073709551616",
            "1+1x99999999999999999999999",
        ] {
            let e = expand(&SeriesText::Text(text.into())).unwrap_err();
            assert!(e.contains(&MAX_POINTS.to_string()), "{text}: {e}");
        }
        // The cap is on the whole series, not each token.
        let half = format!("1x{} 2x{}", MAX_POINTS / 2, MAX_POINTS / 2);
        assert!(expand(&SeriesText::Text(half)).is_err());
        let fits = format!("1x{}", MAX_POINTS - 1);
        assert_eq!(vals(&fits).len(), MAX_POINTS);
    }
}
