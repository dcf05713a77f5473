//! CloudWatch's GetMetricData and ListMetrics over the JSON protocol (`POST /`,
//! `X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, `application/x-amz-json-1.0`):
//! request bodies and answers. A result with no value, a `PartialData`/`InternalError`
//! status, or an error answer is never a number.

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The JSON-protocol target prefix of CloudWatch's operations.
pub const TARGET_PREFIX: &str = "GraniteServiceVersion20100801";
/// Content type of the JSON protocol.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// GetMetricData takes at most this many queries per call.
pub const MAX_QUERIES: usize = 500;
/// GetMetricData returns at most this many datapoints per call, all queries together.
pub const MAX_DATAPOINTS: usize = 100_800;
/// Pages (NextToken) followed for one call before giving up, saying so.
pub const MAX_PAGES: usize = 100;

/// One CloudWatch metric: namespace, name and dimensions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricId {
    pub namespace: String,
    pub metric_name: String,
    /// Dimension name → value, sorted.
    pub dimensions: BTreeMap<String, String>,
}

/// One answer row of GetMetricData.
#[derive(Debug, Clone, PartialEq)]
pub struct DataResult {
    pub id: String,
    /// `(unix seconds, value)`, in the order CloudWatch gave them.
    pub points: Vec<(i64, f64)>,
    /// `Complete`, `PartialData`, `InternalError`, `Forbidden`.
    pub status: String,
    /// What CloudWatch said about the result, if anything.
    pub messages: Vec<String>,
}

impl DataResult {
    /// The newest point.
    pub fn latest(&self) -> Option<(i64, f64)> {
        self.points.iter().copied().max_by_key(|(t, _)| *t)
    }
}

/// A GetMetricData body: `MetricStat` queries `m0`, `m1`, … over `[start, end)` (Unix seconds).
pub fn get_metric_data(
    metrics: &[MetricId],
    stat: &str,
    period_secs: u64,
    (start, end): (i64, i64),
    next_token: Option<&str>,
) -> Value {
    let queries: Vec<Value> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "Id": format!("m{i}"),
                "MetricStat": {
                    "Metric": metric_json(m),
                    "Period": period_secs,
                    "Stat": stat,
                },
                "ReturnData": true,
            })
        })
        .collect();
    let mut body = json!({
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampDescending",
    });
    if let Some(t) = next_token {
        body["NextToken"] = json!(t);
    }
    body
}

fn metric_json(m: &MetricId) -> Value {
    let dims: Vec<Value> = m
        .dimensions
        .iter()
        .map(|(k, v)| json!({"Name": k, "Value": v}))
        .collect();
    json!({"Namespace": m.namespace, "MetricName": m.metric_name, "Dimensions": dims})
}

/// A ListMetrics body: the metrics named `metric_name` in `namespace` whose dimensions
/// include `filters` (a filter without a value matches any value).
pub fn list_metrics(
    namespace: &str,
    metric_name: &str,
    filters: &BTreeMap<String, Option<String>>,
    next_token: Option<&str>,
) -> Value {
    let dims: Vec<Value> = filters
        .iter()
        .map(|(k, v)| match v {
            Some(v) => json!({"Name": k, "Value": v}),
            None => json!({"Name": k}),
        })
        .collect();
    let mut body = json!({"Namespace": namespace, "MetricName": metric_name, "Dimensions": dims});
    if let Some(t) = next_token {
        body["NextToken"] = json!(t);
    }
    body
}

fn parse_json(body: &str) -> Result<Value, String> {
    serde_json::from_str(body)
        .map_err(|e| format!("not a CloudWatch JSON answer ({e}); is endpoint_url CloudWatch's?"))
}

fn next_token(v: &Value) -> Option<String> {
    v["NextToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(String::from)
}

/// Reads a GetMetricData answer: its results and the token of the next page.
pub fn parse_data(body: &str) -> Result<(Vec<DataResult>, Option<String>), String> {
    let v = parse_json(body)?;
    let rows = v["MetricDataResults"]
        .as_array()
        .ok_or("not a GetMetricData answer: no MetricDataResults")?;
    let results = rows
        .iter()
        .map(|r| {
            let stamps = r["Timestamps"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            let values = r["Values"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            if stamps.len() != values.len() {
                return Err("a result whose Timestamps and Values differ in length".to_string());
            }
            let points = stamps
                .iter()
                .zip(values)
                .filter_map(|(t, v)| Some((timestamp(t)?, v.as_f64().filter(|v| v.is_finite())?)))
                .collect();
            Ok(DataResult {
                id: r["Id"].as_str().unwrap_or_default().to_string(),
                points,
                status: r["StatusCode"].as_str().unwrap_or("Complete").to_string(),
                messages: r["Messages"]
                    .as_array()
                    .map(|m| {
                        m.iter()
                            .filter_map(|m| m["Value"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((results, next_token(&v)))
}

/// A JSON-protocol timestamp: epoch seconds (a number), or an ISO 8601 string.
fn timestamp(t: &Value) -> Option<i64> {
    t.as_f64().map(|s| s as i64).or_else(|| {
        chrono::DateTime::parse_from_rfc3339(t.as_str()?)
            .ok()
            .map(|d| d.timestamp())
    })
}

/// Reads a ListMetrics answer: the metrics and the token of the next page.
pub fn parse_list(body: &str) -> Result<(Vec<MetricId>, Option<String>), String> {
    let v = parse_json(body)?;
    let rows = v["Metrics"]
        .as_array()
        .ok_or("not a ListMetrics answer: no Metrics")?;
    let metrics = rows
        .iter()
        .map(|m| MetricId {
            namespace: m["Namespace"].as_str().unwrap_or_default().to_string(),
            metric_name: m["MetricName"].as_str().unwrap_or_default().to_string(),
            dimensions: m["Dimensions"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|d| {
                            Some((
                                d["Name"].as_str()?.to_string(),
                                d["Value"].as_str()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    Ok((metrics, next_token(&v)))
}

/// The code and message of an AWS error answer, JSON (`__type`, `message`) or XML
/// (`<Code>`, `<Message>`), or None when the body is neither.
pub fn error_of(body: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let code = v["__type"].as_str().or(v["code"].as_str())?;
        let code = code.rsplit('#').next().unwrap_or(code);
        let message = v["message"]
            .as_str()
            .or(v["Message"].as_str())
            .unwrap_or("");
        return Some(
            format!("{code}: {message}")
                .trim_end_matches(": ")
                .to_string(),
        );
    }
    let between = |open: &str, close: &str| {
        let start = body.find(open)? + open.len();
        Some(body[start..start + body[start..].find(close)?].to_string())
    };
    let code = between("<Code>", "</Code>")?;
    let message = between("<Message>", "</Message>").unwrap_or_default();
    Some(format!("{code}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(dims: &[(&str, &str)]) -> MetricId {
        MetricId {
            namespace: "Checkout".into(),
            metric_name: "ErrorRate".into(),
            dimensions: dims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn request_bodies() {
        let b = get_metric_data(
            &[id(&[("Service", "api")])],
            "p99",
            60,
            (100, 200),
            Some("t"),
        );
        assert_eq!(b["MetricDataQueries"][0]["Id"], "m0");
        assert_eq!(b["MetricDataQueries"][0]["MetricStat"]["Stat"], "p99");
        assert_eq!(
            b["MetricDataQueries"][0]["MetricStat"]["Metric"]["Dimensions"][0],
            json!({"Name": "Service", "Value": "api"})
        );
        assert_eq!(
            (b["StartTime"].as_i64(), b["NextToken"].as_str()),
            (Some(100), Some("t"))
        );
        let filters = BTreeMap::from([("Service".to_string(), None)]);
        let l = list_metrics("Checkout", "ErrorRate", &filters, None);
        assert_eq!(l["Dimensions"][0], json!({"Name": "Service"}));
    }

    /// Shapes as moto_server answers them (captured from the test server).
    #[test]
    fn answers() {
        let (r, next) = parse_data(r#"{"MetricDataResults": [{"Id": "m0", "Label": "ErrorRate Average", "Timestamps": [1796525362, 1796525361], "Values": [2.5, 1.5], "StatusCode": "Complete"}]}"#).unwrap();
        assert_eq!(r[0].latest(), Some((1796525362, 2.5)));
        assert_eq!(next, None);
        let (r, _) = parse_data(r#"{"MetricDataResults": [{"Id": "m0", "Timestamps": [], "Values": [], "StatusCode": "Complete"}], "NextToken": "abc"}"#).unwrap();
        assert_eq!(r[0].latest(), None);
        assert!(parse_data(
            r#"{"MetricDataResults": [{"Id": "m0", "Timestamps": [1], "Values": []}]}"#
        )
        .is_err());
        assert!(parse_data("<html>").is_err());
        assert!(parse_data("{}").is_err());
        let (m, _) = parse_list(r#"{"Metrics": [{"Namespace": "Checkout", "MetricName": "ErrorRate", "Dimensions": [{"Name": "Service", "Value": "api"}]}]}"#).unwrap();
        assert_eq!(m, vec![id(&[("Service", "api")])]);
    }

    #[test]
    fn errors_json_and_xml() {
        assert_eq!(
            error_of(r#"{"__type": "com.amazonaws.cloudwatch#InvalidParameterValue", "message": "bad period"}"#).unwrap(),
            "InvalidParameterValue: bad period"
        );
        assert_eq!(
            error_of("<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error></Errors></ErrorResponse>").unwrap(),
            "SignatureDoesNotMatch: The request signature we calculated does not match"
        );
        assert_eq!(error_of("<html>500</html>"), None);
    }
}
