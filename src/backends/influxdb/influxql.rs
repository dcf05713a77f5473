//! InfluxDB 1.x's query API: `GET /query?db=…&q=…&epoch=s` with InfluxQL, and its answer.
//!
//! A metric's InfluxQL names its time range with Grafana's placeholders, so the same text
//! serves a tick and a baseline: `$timeFilter` becomes `time > now() - 1m` for a tick's
//! sample (the newest non-null row is the value) and `time >= …s AND time <= …s` for a
//! range; `$interval` becomes the step (`GROUP BY time($interval)`). A statement error, a
//! missing database, a null, a string or an empty result is never a number.

use std::collections::BTreeMap;
use std::time::Duration;

/// The placeholder for the time range.
pub const TIME_FILTER: &str = "$timeFilter";
/// The placeholder for the step of a range.
pub const INTERVAL: &str = "$interval";

/// One series of an answer: its tags (`GROUP BY`) and `(unix seconds, value)` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub measurement: String,
    pub tags: BTreeMap<String, String>,
    /// `None` where the value is null or not a number.
    pub points: Vec<(i64, Option<f64>)>,
    /// InfluxDB cut the answer short (`"partial": true`: more rows than its
    /// `max-row-limit`): rows are missing from it.
    pub partial: bool,
}

impl Series {
    /// The newest row holding a number.
    pub fn latest(&self) -> Option<(i64, f64)> {
        self.points
            .iter()
            .filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v)))
            .max_by_key(|(t, _)| *t)
    }
}

/// Checks a metric's InfluxQL: one `SELECT` using `$timeFilter`.
pub fn validate(q: &str) -> Result<(), String> {
    let t = q.trim();
    if !t.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("select")) {
        return Err("must be one InfluxQL SELECT statement".into());
    }
    if t.trim_end_matches(';').contains(';') {
        return Err("must be one statement (no `;` between statements)".into());
    }
    if !t.contains(TIME_FILTER) {
        return Err(format!(
            "must bound its time with {TIME_FILTER} (e.g. `WHERE {TIME_FILTER}`): vz-monitor \
             sets it to the lookback for a tick and to the window for a baseline"
        ));
    }
    Ok(())
}

/// InfluxQL duration literal for `d` (whole seconds, at least 1s).
fn literal(d: Duration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// The statement for a tick: the newest rows within `lookback` of the server's `now()`.
pub fn instant(q: &str, lookback: Duration, step: Duration) -> String {
    q.replace(
        TIME_FILTER,
        &format!("time > now() - {}", literal(lookback)),
    )
    .replace(INTERVAL, &literal(step))
}

/// The statement for a range `[start, end]` (Unix seconds) every `step`.
pub fn range(q: &str, start: i64, end: i64, step: Duration) -> String {
    q.replace(TIME_FILTER, &format!("time >= {start}s AND time <= {end}s"))
        .replace(INTERVAL, &literal(step))
}

/// The statement for one stretch of a history: the `steps` steps from `from` (Unix
/// seconds), each its `GROUP BY time($interval)` bucket `[t, t + step)`, so stretches side by
/// side neither overlap nor leave a row out.
pub fn stretch(q: &str, from: i64, steps: usize, step: Duration) -> String {
    let until = from + steps as i64 * step.as_secs().max(1) as i64;
    q.replace(TIME_FILTER, &format!("time >= {from}s AND time < {until}s"))
        .replace(INTERVAL, &literal(step))
}

/// The query string of a `/query` request (`epoch=s`: timestamps as Unix seconds).
pub fn params(database: &str, statement: &str) -> Vec<(&'static str, String)> {
    vec![
        ("db", database.to_string()),
        ("q", statement.to_string()),
        ("epoch", "s".to_string()),
    ]
}

/// Reads a `/query` answer: the first statement's series, or its error.
pub fn parse(body: &str) -> Result<Vec<Series>, String> {
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("not an InfluxDB /query answer ({e}); is the URL InfluxDB 1.x's?"))?;
    if let Some(e) = v["error"].as_str() {
        return Err(format!("InfluxDB refused the query: {e}"));
    }
    let Some(result) = v["results"].get(0) else {
        return Err("not an InfluxDB /query answer: no `results`".into());
    };
    if let Some(e) = result["error"].as_str() {
        return Err(format!("InfluxDB refused the query: {e}"));
    }
    let Some(series) = result["series"].as_array() else {
        return Ok(Vec::new());
    };
    let partial = result["partial"].as_bool() == Some(true);
    series
        .iter()
        .map(|s| {
            let mut s = series_of(s)?;
            s.partial |= partial;
            Ok(s)
        })
        .collect()
}

fn series_of(s: &serde_json::Value) -> Result<Series, String> {
    let columns: Vec<&str> = s["columns"]
        .as_array()
        .ok_or("a series without `columns`")?
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    let time = columns.iter().position(|c| *c == "time");
    let fields: Vec<(usize, &str)> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != time)
        .map(|(i, c)| (i, *c))
        .collect();
    let value = match fields.as_slice() {
        [(i, _)] => *i,
        [] => return Err("the query selects no field".into()),
        many => {
            let names: Vec<&str> = many.iter().map(|(_, c)| *c).collect();
            return Err(format!(
                "the query selects {} fields ({}); select exactly one",
                names.len(),
                names.join(", ")
            ));
        }
    };
    let time = time.ok_or("the answer has no `time` column")?;
    let points = s["values"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| Some((row.get(time)?.as_f64()? as i64, row.get(value)?.as_f64())))
                .collect()
        })
        .unwrap_or_default();
    let tags = s["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Series {
        measurement: s["name"].as_str().unwrap_or_default().to_string(),
        tags,
        points,
        partial: s["partial"].as_bool() == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_the_lookback_or_the_window() {
        let q = r#"SELECT mean("v") FROM "http" WHERE $timeFilter GROUP BY time($interval)"#;
        assert_eq!(
            instant(q, Duration::from_secs(60), Duration::from_secs(10)),
            r#"SELECT mean("v") FROM "http" WHERE time > now() - 60s GROUP BY time(10s)"#
        );
        assert_eq!(
            stretch(q, 120, 3, Duration::from_secs(60)),
            r#"SELECT mean("v") FROM "http" WHERE time >= 120s AND time < 300s GROUP BY time(60s)"#
        );
        assert_eq!(
            range(q, 100, 200, Duration::from_millis(500)),
            r#"SELECT mean("v") FROM "http" WHERE time >= 100s AND time <= 200s GROUP BY time(1s)"#
        );
    }

    #[test]
    fn validation_names_the_fix() {
        assert!(validate("SELECT last(v) FROM m WHERE $timeFilter").is_ok());
        assert!(validate("SELECT last(v) FROM m")
            .unwrap_err()
            .contains("$timeFilter"));
        assert!(validate("DROP DATABASE x").is_err());
        assert!(validate("SELECT v FROM m WHERE $timeFilter; DROP DATABASE x").is_err());
    }

    /// Shapes as influxd 1.6 answers them (captured from the test server).
    #[test]
    fn answers() {
        let two = r#"{"results":[{"statement_id":0,"series":[{"name":"http","tags":{"code":"200"},"columns":["time","last"],"values":[[1796525372,1.5]]},{"name":"http","tags":{"code":"500"},"columns":["time","last"],"values":[[1796525373,2.5],[1796525374,null]]}]}]}"#;
        let s = parse(two).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].tags["code"], "500");
        assert_eq!(s[1].latest(), Some((1796525373, 2.5)));
        assert!(parse(r#"{"results":[{"statement_id":0}]}"#)
            .unwrap()
            .is_empty());
        let no_db = parse(r#"{"results":[{"statement_id":0,"error":"database not found: nodb"}]}"#);
        assert!(no_db.unwrap_err().contains("database not found"));
        assert!(parse(r#"{"error":"error parsing query: found SELEC"}"#).is_err());
        assert!(parse("<html>").is_err());
        let fields = r#"{"results":[{"series":[{"name":"m","columns":["time","a","b"],"values":[[1,1,2]]}]}]}"#;
        assert!(parse(fields).unwrap_err().contains("select exactly one"));
        // Cut short at max-row-limit, as influxd 1.6 marks it.
        let cut = r#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","mean"],"values":[[1699999980,null],[1700000040,1]],"partial":true}]}]}"#;
        assert!(parse(cut).unwrap()[0].partial);
        assert!(!s[0].partial);
        let text =
            r#"{"results":[{"series":[{"name":"m","columns":["time","v"],"values":[[1,"up"]]}]}]}"#;
        assert_eq!(parse(text).unwrap()[0].latest(), None);
    }
}
