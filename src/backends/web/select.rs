//! The number(s) in a JSON answer: a JSONPath (RFC 9535) selects values, a `reduce` makes
//! them one. A selection that holds no number — nothing, `null`, a string that is not a
//! number, an object — is never turned into one: it is an error with the reason and the fix.

use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;

/// How several selected values become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduce {
    /// The last value in document order (the newest point of a time series).
    Last,
    Mean,
    Min,
    Max,
    Sum,
    /// How many values were selected (of any type: objects, strings …), nulls not counted.
    Count,
}

/// What a selection gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Selected {
    /// One number (reduced if several were selected); may be NaN/±Inf if the answer says so.
    Value(f64),
    /// The path selected nothing.
    Nothing,
}

/// Parses a JSONPath; the error says what is wrong with it.
pub fn parse(path: &str) -> Result<JsonPath, String> {
    JsonPath::parse(path).map_err(|e| format!("`{path}` is not a JSONPath (RFC 9535): {e}"))
}

/// The number of one selected value: a JSON number, or a string holding one (Prometheus and
/// others send numbers as strings, `"1.5"`, `"NaN"`). Anything else is an error.
pub fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("the number {n} does not fit a 64-bit float")),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| {
            format!(
                "selected the string {} (not a number)",
                shown(&Value::String(s.clone()))
            )
        }),
        Value::Null => Err("selected null (no data)".into()),
        Value::Bool(b) => Err(format!("selected the boolean {b} (not a number)")),
        Value::Array(_) => Err(format!(
            "selected an array {} (not a number): select its elements, e.g. `…[*]` or `…[-1]`",
            shown(v)
        )),
        Value::Object(_) => Err(format!(
            "selected an object {} (not a number): select one of its fields",
            shown(v)
        )),
    }
}

/// The selection of `path` in `doc`, as one number. Several values need a `reduce`; every
/// selected value must be a number.
pub fn select(doc: &Value, path: &JsonPath, reduce: Option<Reduce>) -> Result<Selected, String> {
    let nodes = path.query(doc).all();
    if nodes.is_empty() {
        return Ok(Selected::Nothing);
    }
    if reduce == Some(Reduce::Count) {
        // How many things were selected (alerts, hits, …), whatever they are; nulls are gaps.
        let present = nodes.iter().filter(|v| !v.is_null()).count();
        return match present {
            0 => Err(format!("selected {} values, all null (no data)", nodes.len())),
            n => Ok(Selected::Value(n as f64)),
        };
    }
    // Over several values, a `null` is a gap (no point at that time) and is skipped, except
    // as the newest point of `last`: a trailing null is missing data, never the value before.
    let gaps_skipped = nodes.len() > 1 && !matches!(reduce, None | Some(Reduce::Last));
    let mut values = Vec::with_capacity(nodes.len());
    for (i, v) in nodes.iter().enumerate() {
        let is_last = i + 1 == nodes.len();
        if v.is_null() && (gaps_skipped || (reduce == Some(Reduce::Last) && !is_last)) {
            continue;
        }
        let n = number(v).map_err(|e| match nodes.len() {
            1 => e,
            len => format!("value {} of {len}: {e}", i + 1),
        })?;
        values.push(n);
    }
    if values.is_empty() {
        return Err(format!("selected {} values, all null (no data)", nodes.len()));
    }
    let value = match (reduce, values.as_slice()) {
        (None, [one]) if nodes.len() == 1 => *one,
        (None, many) => {
            return Err(format!(
                "selected {} values where one was expected; set `reduce:` (last, mean, min, \
                 max, sum, count) or narrow the path",
                many.len().max(nodes.len())
            ))
        }
        (Some(r), values) => apply(r, values),
    };
    Ok(Selected::Value(value))
}

/// `reduce` over a non-empty list.
pub fn apply(reduce: Reduce, values: &[f64]) -> f64 {
    match reduce {
        Reduce::Last => values.last().copied().unwrap_or(f64::NAN),
        Reduce::Mean => values.iter().sum::<f64>() / values.len() as f64,
        Reduce::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Reduce::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Reduce::Sum => values.iter().sum(),
        Reduce::Count => values.len() as f64,
    }
}

/// The points of a range: every selected value that is a finite number, and how many were
/// not (nulls in a series' gaps, NaN) — dropped, as a Prometheus range's NaN points are.
pub fn points(doc: &Value, path: &JsonPath) -> (Vec<f64>, usize) {
    let mut dropped = 0;
    let values = path
        .query(doc)
        .all()
        .into_iter()
        .filter_map(|v| match number(v) {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                dropped += 1;
                None
            }
        })
        .collect();
    (values, dropped)
}

/// A timestamp selected by a `time_path`, in Unix ms: a number of seconds (or of
/// milliseconds, from 10^11 on: year 5138 in seconds), a numeric string, or RFC 3339.
pub fn timestamp(v: &Value) -> Result<i64, String> {
    let secs_or_ms = |x: f64| {
        if x.abs() >= 1e11 {
            x.round() as i64
        } else {
            (x * 1000.0).round() as i64
        }
    };
    match v {
        Value::Number(n) => n.as_f64().map(secs_or_ms).ok_or_else(|| n.to_string()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(secs_or_ms)
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(s.trim())
                    .ok()
                    .map(|d| d.timestamp_millis())
            })
            .ok_or_else(|| format!("the string {}", shown(v))),
        other => Err(shown(other)),
    }
    .map_err(|what| {
        format!("selected {what}, not a timestamp (Unix seconds or ms, or RFC 3339)")
    })
}

/// The timestamped points of a history answer: the `i`-th timestamp of `times` with the
/// `i`-th value of `values`; a pair whose value is not a finite number is dropped and
/// counted. The two paths must select as many nodes.
pub fn timed_points(
    doc: &Value,
    times: &JsonPath,
    values: &JsonPath,
) -> Result<(Vec<(i64, f64)>, usize), String> {
    let t = times.query(doc).all();
    let v = values.query(doc).all();
    if t.len() != v.len() {
        return Err(format!(
            "time_path selected {} timestamps but json_path {} values: they must pair up",
            t.len(),
            v.len()
        ));
    }
    let mut dropped = 0;
    let mut out = Vec::with_capacity(v.len());
    for (t, v) in t.into_iter().zip(v) {
        let at = timestamp(t)?;
        match number(v) {
            Ok(n) if n.is_finite() => out.push((at, n)),
            _ => dropped += 1,
        }
    }
    out.sort_by_key(|(t, _)| *t);
    Ok((out, dropped))
}

/// The top-level keys of an answer (or its shape), to help fix a path that selected nothing.
pub fn outline(doc: &Value) -> String {
    match doc {
        Value::Object(m) if m.is_empty() => "an empty object".into(),
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().take(8).map(String::as_str).collect();
            let more = if m.len() > 8 { ", …" } else { "" };
            format!("an object with keys {}{more}", keys.join(", "))
        }
        Value::Array(a) => format!("an array of {}", a.len()),
        other => format!("the value {}", shown(other)),
    }
}

/// A value as short JSON (at most 60 characters).
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn history_points_pair_timestamps_with_values() {
        // Prometheus's query_range shape: [t, "v"] pairs, seconds.
        let doc = json!({"values": [[1700000060, "1.5"], [1700000000, "2"], [1700000120, null]]});
        let (times, values) = (super::parse("$.values[*][0]").unwrap(), super::parse("$.values[*][1]").unwrap());
        let (points, dropped) = super::timed_points(&doc, &times, &values).unwrap();
        assert_eq!(points, vec![(1_700_000_000_000, 2.0), (1_700_000_060_000, 1.5)]);
        assert_eq!(dropped, 1);
        // Milliseconds and RFC 3339 are timestamps too; anything else says what it got.
        assert_eq!(super::timestamp(&json!(1_700_000_000_123i64)), Ok(1_700_000_000_123));
        assert_eq!(super::timestamp(&json!("2023-11-14T22:13:20Z")), Ok(1_700_000_000_000));
        assert!(super::timestamp(&json!("soon")).unwrap_err().contains("not a timestamp"));
        assert!(super::timestamp(&json!({"t": 1})).is_err());
        let short = super::parse("$.values[0][0]").unwrap();
        let e = super::timed_points(&doc, &short, &values).unwrap_err();
        assert!(e.contains("1 timestamps but json_path 3 values"), "{e}");
    }

    use super::*;
    use serde_json::json;

    fn sel(doc: Value, path: &str, reduce: Option<Reduce>) -> Result<Selected, String> {
        select(&doc, &parse(path).unwrap(), reduce)
    }

    #[test]
    fn one_number_or_numeric_string_is_the_value() {
        let doc = json!({"data": {"value": [1700000000, "2.5"], "n": 7}});
        assert_eq!(sel(doc.clone(), "$.data.n", None), Ok(Selected::Value(7.0)));
        assert_eq!(sel(doc, "$.data.value[1]", None), Ok(Selected::Value(2.5)));
    }

    #[test]
    fn nothing_null_strings_and_objects_are_never_numbers() {
        let doc = json!({"a": null, "s": "high", "o": {"x": 1}, "b": true, "l": [1, 2]});
        assert_eq!(sel(doc.clone(), "$.missing", None), Ok(Selected::Nothing));
        assert_eq!(sel(doc.clone(), "$.list[*]", None), Ok(Selected::Nothing));
        let err = |p: &str| sel(doc.clone(), p, None).unwrap_err();
        assert!(err("$.a").contains("null"), "{}", err("$.a"));
        assert!(
            err("$.s").contains("\"high\" (not a number)"),
            "{}",
            err("$.s")
        );
        assert!(
            err("$.o").contains("select one of its fields"),
            "{}",
            err("$.o")
        );
        assert!(err("$.b").contains("boolean"), "{}", err("$.b"));
        assert!(err("$.l").contains("[*]"), "{}", err("$.l"));
    }

    #[test]
    fn several_values_need_a_reduce_and_each_must_be_a_number() {
        let doc = json!({"points": [[1, 4.0], [2, 1.0], [3, 7.0]]});
        let e = sel(doc.clone(), "$.points[*][1]", None).unwrap_err();
        assert!(
            e.contains("selected 3 values") && e.contains("reduce"),
            "{e}"
        );
        // Hand-computed over [4, 1, 7].
        for (r, want) in [
            (Reduce::Last, 7.0),
            (Reduce::Mean, 4.0),
            (Reduce::Min, 1.0),
            (Reduce::Max, 7.0),
            (Reduce::Sum, 12.0),
            (Reduce::Count, 3.0),
        ] {
            assert_eq!(
                sel(doc.clone(), "$.points[*][1]", Some(r)),
                Ok(Selected::Value(want)),
                "{r:?}"
            );
        }
        // A null among several is a gap, skipped; a trailing null is missing for `last`.
        let gaps = json!({"points": [[1, 4.0], [2, null], [3, 6.0], [4, null]]});
        let path = "$.points[*][1]";
        assert_eq!(sel(gaps.clone(), path, Some(Reduce::Mean)), Ok(Selected::Value(5.0)));
        assert_eq!(sel(gaps.clone(), path, Some(Reduce::Count)), Ok(Selected::Value(2.0)));
        let e = sel(gaps.clone(), path, Some(Reduce::Last)).unwrap_err();
        assert!(e.contains("value 4 of 4: selected null"), "{e}");
        let e = sel(json!({"p": [null, null]}), "$.p[*]", Some(Reduce::Max)).unwrap_err();
        assert!(e.contains("all null"), "{e}");
        let alerts = json!([{"labels": {"a": 1}}, {"labels": {"a": 2}}, null]);
        assert_eq!(sel(alerts, "$[*]", Some(Reduce::Count)), Ok(Selected::Value(2.0)));
        let e = sel(json!({"p": [1, "x"]}), "$.p[*]", Some(Reduce::Sum)).unwrap_err();
        assert!(e.contains("value 2 of 2: selected the string \"x\""), "{e}");
    }

    #[test]
    fn filters_of_rfc_9535_work() {
        let doc = json!({"series": [{"name": "a", "v": 1}, {"name": "b", "v": 9}]});
        let got = sel(doc, "$.series[?@.name == 'b'].v", None);
        assert_eq!(got, Ok(Selected::Value(9.0)));
    }

    #[test]
    fn range_points_drop_nulls_and_nan_and_count_them() {
        let doc = json!({"values": [[1, "1"], [2, null], [3, "NaN"], [4, "3"]]});
        let (v, dropped) = points(&doc, &parse("$.values[*][1]").unwrap());
        assert_eq!((v, dropped), (vec![1.0, 3.0], 2));
    }

    #[test]
    fn a_bad_path_is_refused_with_the_rfc() {
        let e = parse("$.a[").unwrap_err();
        assert!(e.contains("RFC 9535"), "{e}");
        assert_eq!(
            outline(&json!({"status": 1, "data": 2})),
            "an object with keys data, status"
        );
    }
}
