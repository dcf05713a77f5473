//! Graphite's render API: `GET /render?target=…&format=json&from=…&until=…`, and its answer
//! read honestly. Graphite fills every step of the window, so the steps after the newest
//! write (the current second, a dead sender) come back `null`: those are missing data, never
//! zero. A tick's sample is the newest non-null point within the lookback; a baseline range
//! keeps only non-null points.

use std::collections::BTreeMap;

/// One series of a render answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The target as Graphite names it (`servers.web1.errors`, or an alias).
    pub target: String,
    /// `(unix seconds, value)`; `None` where Graphite has no point.
    pub points: Vec<(i64, Option<f64>)>,
}

impl Series {
    /// The newest point that holds a number.
    pub fn latest(&self) -> Option<(i64, f64)> {
        self.points
            .iter()
            .rev()
            .find_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v)))
    }

    /// How many trailing steps are null (how stale the series is, in steps).
    pub fn trailing_nulls(&self) -> usize {
        self.points
            .iter()
            .rev()
            .take_while(|(_, v)| v.is_none())
            .count()
    }

    /// The series' labels for `per_series`: its target.
    pub fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("target".to_string(), self.target.clone())])
    }
}

/// The query string of a render request for `target` over `[from, until]` (Unix seconds).
pub fn query(target: &str, from: i64, until: i64) -> Vec<(&'static str, String)> {
    vec![
        ("target", target.to_string()),
        ("format", "json".to_string()),
        ("from", from.to_string()),
        ("until", until.to_string()),
    ]
}

/// Reads a `format=json` render answer: `[{"target": …, "datapoints": [[value, ts], …]}]`.
pub fn parse(body: &str) -> Result<Vec<Series>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| {
        format!("not Graphite render JSON ({e}); is the URL graphite-web's, and the target valid?")
    })?;
    let rows = v
        .as_array()
        .ok_or("not Graphite render JSON: expected a list of series")?;
    rows.iter()
        .map(|row| {
            let target = row["target"]
                .as_str()
                .ok_or("a series without `target`")?
                .to_string();
            let points = row["datapoints"]
                .as_array()
                .ok_or("a series without `datapoints`")?
                .iter()
                .map(|p| {
                    let t = p[1].as_f64().ok_or("a datapoint without a timestamp")?;
                    // null, or anything that is not a number, is no data.
                    Ok((t as i64, p[0].as_f64()))
                })
                .collect::<Result<Vec<_>, &str>>()?;
            Ok(Series { target, points })
        })
        .collect::<Result<Vec<_>, &str>>()
        .map_err(|e| format!("not Graphite render JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_nulls_are_missing_not_zero() {
        let s = &parse(
            r#"[{"target": "svc.err", "tags": {"name": "svc.err"}, "datapoints": [[null, 10], [1.5, 11], [2.5, 12], [null, 13], [null, 14]]}]"#,
        )
        .unwrap()[0];
        assert_eq!(s.latest(), Some((12, 2.5)));
        assert_eq!(s.trailing_nulls(), 2);
        let dead = &parse(r#"[{"target": "x", "datapoints": [[null, 1], [null, 2]]}]"#).unwrap()[0];
        assert_eq!(dead.latest(), None);
    }

    #[test]
    fn several_series_keep_their_targets() {
        let all = parse(
            r#"[{"target": "a", "datapoints": [[1, 1]]}, {"target": "b", "datapoints": [[2, 1]]}]"#,
        )
        .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].labels()["target"], "b");
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_answer() {
        for body in [
            "<html>502</html>",
            "{}",
            r#"[{"datapoints": []}]"#,
            r#"[{"target": "a", "datapoints": [["x"]]}]"#,
        ] {
            assert!(parse(body).is_err(), "{body}");
        }
        // A string where a value belongs is no data, not a number.
        let s = &parse(r#"[{"target": "a", "datapoints": [["7", 1]]}]"#).unwrap()[0];
        assert_eq!(s.latest(), None);
    }
}
