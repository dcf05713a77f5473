//! Offline input for `analyze` and `test`: wide CSV (`timestamp,<metric>,…`) or JSON rows.
//!
//! Cells: a number is a value, an empty cell (or JSON null) a missing sample, `down` a
//! down reading. Timestamps: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds.

use crate::model::{Reading, Sample, Timestamp};
use std::collections::BTreeMap;
use std::path::Path;

/// One row: a tick and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at: Timestamp,
    pub samples: Vec<Sample>,
}

/// A parsed series file.
#[derive(Debug, Clone, Default)]
pub struct SeriesFile {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl SeriesFile {
    /// Each column in row order, NaN where a row has no value (for multivariate rules,
    /// which pair the columns of one row by index).
    pub fn aligned(&self) -> BTreeMap<String, Vec<f64>> {
        let mut out: BTreeMap<String, Vec<f64>> = self
            .columns
            .iter()
            .map(|c| (c.clone(), vec![f64::NAN; self.rows.len()]))
            .collect();
        for (i, row) in self.rows.iter().enumerate() {
            for s in &row.samples {
                if let (Reading::Value(v), Some(col)) = (&s.reading, out.get_mut(&s.series)) {
                    col[i] = *v;
                }
            }
        }
        out
    }

    /// The values of each column (for a baseline), dropping missing and down cells.
    pub fn values(&self) -> BTreeMap<String, Vec<f64>> {
        let mut out: BTreeMap<String, Vec<f64>> = self
            .columns
            .iter()
            .map(|c| (c.clone(), Vec::new()))
            .collect();
        for row in &self.rows {
            for s in &row.samples {
                if let Reading::Value(v) = s.reading {
                    out.entry(s.series.clone()).or_default().push(v);
                }
            }
        }
        out
    }
}

/// The current rows with the control's readings of the same ticks added (marked
/// `control`). A control row must have the timestamp of a current row: the control is the
/// stable version over the *same* ticks. A current row without a control row simply has no
/// control reading at that tick.
pub fn with_control(
    current: &SeriesFile,
    control: Option<&SeriesFile>,
) -> Result<Vec<Row>, String> {
    let mut rows = current.rows.clone();
    let Some(control) = control else {
        return Ok(rows);
    };
    for c in &control.rows {
        let Ok(i) = rows.binary_search_by_key(&c.at, |r| r.at) else {
            return Err(format!(
                "control row at {} has no current row at the same timestamp (the control is \
                 read over the same ticks)",
                c.at as f64 / 1000.0
            ));
        };
        rows[i].samples.extend(c.samples.iter().map(|s| Sample {
            control: true,
            ..s.clone()
        }));
    }
    Ok(rows)
}

/// Parses a timestamp in any of the accepted forms.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return secs
            .is_finite()
            .then_some((secs * 1000.0).round() as Timestamp);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

fn cell(text: &str) -> Result<Reading, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Reading::Missing("empty cell".into()));
    }
    if t.eq_ignore_ascii_case("down") {
        return Ok(Reading::Down("down in input".into()));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Reading::Value(v)),
        Ok(_) => Ok(Reading::Missing(format!("value is {t}"))),
        Err(_) => Err(format!(
            "`{t}` is not a number (use a number, an empty cell, or `down`)"
        )),
    }
}

/// Parses a CSV or JSON series file's text, by its name's extension (`.json` is JSON,
/// anything else CSV); `name` prefixes errors. Reading the file is the caller's (the core
/// does no I/O).
pub fn parse(name: &str, text: &str) -> Result<SeriesFile, String> {
    if Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        parse_json(name, text)
    } else {
        parse_csv(name, text)
    }
}

/// Parses wide CSV text; `name` prefixes errors as `name:line: …`.
pub fn parse_csv(name: &str, text: &str) -> Result<SeriesFile, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| format!("{name}:1: {e}"))?.clone();
    if headers.get(0).map(str::to_ascii_lowercase).as_deref() != Some("timestamp") {
        return Err(format!(
            "{name}:1: the first column must be `timestamp`, found `{}`",
            headers.get(0).unwrap_or("")
        ));
    }
    let columns: Vec<String> = headers.iter().skip(1).map(str::to_string).collect();
    if columns.is_empty() {
        return Err(format!("{name}:1: no metric columns after `timestamp`"));
    }
    let mut rows = Vec::new();
    let mut last: Option<Timestamp> = None;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            format!(
                "{name}:{}: {e}",
                e.position().map(|p| p.line()).unwrap_or(0)
            )
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let at = parse_timestamp(&rec[0]).ok_or_else(|| format!("{name}:{line}: timestamp: `{}` is not RFC 3339, `YYYY-MM-DD HH:MM:SS` or Unix seconds", &rec[0]))?;
        if last.is_some_and(|l| at <= l) {
            return Err(format!(
                "{name}:{line}: timestamp: rows must be in increasing time order"
            ));
        }
        last = Some(at);
        let mut samples = Vec::with_capacity(columns.len());
        for (i, col) in columns.iter().enumerate() {
            let reading = cell(rec.get(i + 1).unwrap_or(""))
                .map_err(|e| format!("{name}:{line}: {col}: {e}"))?;
            samples.push(Sample::new(col, reading));
        }
        rows.push(Row { at, samples });
    }
    Ok(SeriesFile { columns, rows })
}

/// Parses JSON: `[{"timestamp": …, "<metric>": number|null|"down"}, …]`, or a baseline file
/// `{"series": {"<metric>": [numbers]}}` (as `baseline --output` writes).
pub fn parse_json(name: &str, text: &str) -> Result<SeriesFile, String> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{name}:{}:{}: {e}", e.line(), e.column()))?;
    if let Some(series) = v.get("series").and_then(|s| s.as_object()) {
        let mut columns = Vec::new();
        let mut rows: Vec<Row> = Vec::new();
        for (col, values) in series {
            columns.push(col.clone());
            let values = values
                .as_array()
                .ok_or_else(|| format!("{name}: series.{col}: expected a list of numbers"))?;
            for (i, x) in values.iter().enumerate() {
                let x = x
                    .as_f64()
                    .ok_or_else(|| format!("{name}: series.{col}[{i}]: expected a number"))?;
                if rows.len() <= i {
                    rows.push(Row {
                        at: i as Timestamp,
                        samples: Vec::new(),
                    });
                }
                rows[i].samples.push(Sample::new(col, Reading::Value(x)));
            }
        }
        return Ok(SeriesFile { columns, rows });
    }
    let arr = v
        .as_array()
        .ok_or_else(|| format!("{name}: expected a list of rows or {{\"series\": …}}"))?;
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (i, row) in arr.iter().enumerate() {
        let obj = row
            .as_object()
            .ok_or_else(|| format!("{name}: [{i}]: expected an object"))?;
        let ts = obj
            .get("timestamp")
            .ok_or_else(|| format!("{name}: [{i}].timestamp: missing"))?;
        let at = match ts {
            serde_json::Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as Timestamp),
            serde_json::Value::String(s) => parse_timestamp(s),
            _ => None,
        }
        .ok_or_else(|| format!("{name}: [{i}].timestamp: not a timestamp"))?;
        let mut samples = Vec::new();
        for (k, x) in obj.iter().filter(|(k, _)| *k != "timestamp") {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
            let reading = match x {
                serde_json::Value::Null => Reading::Missing("null".into()),
                serde_json::Value::Number(n) => Reading::Value(n.as_f64().unwrap_or(f64::NAN)),
                serde_json::Value::String(s) => {
                    cell(s).map_err(|e| format!("{name}: [{i}].{k}: {e}"))?
                }
                _ => {
                    return Err(format!(
                        "{name}: [{i}].{k}: expected a number, null or \"down\""
                    ))
                }
            };
            samples.push(Sample::new(k, reading));
        }
        rows.push(Row { at, samples });
    }
    Ok(SeriesFile { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_three_forms() {
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000_000));
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-14 22:13:20"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn csv_cells_and_errors_name_the_line() {
        let f = parse_csv("c.csv", "timestamp,a,b\n0,1.5,\n30,down,2\n").unwrap();
        assert_eq!(f.columns, vec!["a", "b"]);
        assert_eq!(f.rows[1].at, 30_000);
        assert_eq!(
            f.rows[0].samples[1].reading,
            Reading::Missing("empty cell".into())
        );
        assert!(matches!(f.rows[1].samples[0].reading, Reading::Down(_)));
        assert_eq!(f.values()["b"], vec![2.0]);
        let aligned = f.aligned();
        assert!(aligned["b"][0].is_nan() && aligned["b"][1] == 2.0);
        assert!(aligned["a"][0] == 1.5 && aligned["a"][1].is_nan());
        let e = parse_csv("c.csv", "timestamp,a\n0,1\n30,abc\n").unwrap_err();
        assert!(e.starts_with("c.csv:3: a: `abc` is not a number"), "{e}");
        let e = parse_csv("c.csv", "timestamp,a\n30,1\n0,1\n").unwrap_err();
        assert!(e.contains("c.csv:3: timestamp"), "{e}");
        assert!(parse_csv("c.csv", "time,a\n")
            .unwrap_err()
            .contains("first column"));
    }

    #[test]
    fn json_rows_and_baseline_files() {
        let f = parse_json(
            "j",
            r#"[{"timestamp": 0, "a": 1}, {"timestamp": "1970-01-01T00:00:30Z", "a": null}]"#,
        )
        .unwrap();
        assert_eq!(f.rows.len(), 2);
        assert!(matches!(f.rows[1].samples[0].reading, Reading::Missing(_)));
        let b = parse_json("j", r#"{"deployment": "x", "series": {"a": [1, 2, 3]}}"#).unwrap();
        assert_eq!(b.values()["a"], vec![1.0, 2.0, 3.0]);
    }
}
