//! A stand-in for what moto cannot do but CloudWatch does: answer GetMetricData a page at a
//! time (`NextToken`, as CloudWatch does past its page size) and refuse a call that asks
//! more datapoints than its limit (`InvalidParameterCombination`, as CloudWatch does past
//! 100 800). Datapoints are made up from a function of time; signatures are not checked
//! (moto checks them in every other CloudWatch test).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One GetMetricData call as received: its time range and whether it carried a NextToken.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub start: i64,
    pub end: i64,
    pub token: bool,
}

/// The server; stops on drop.
pub struct PagingCloudWatch {
    pub port: u16,
    pub calls: Arc<Mutex<Vec<Call>>>,
    stop: Arc<AtomicBool>,
}

impl PagingCloudWatch {
    /// Datapoints `value(t)` every period from StartTime, `page` per answer, calls asking
    /// more than `limit` datapoints refused.
    pub fn start(page: usize, limit: usize, value: fn(i64) -> f64) -> PagingCloudWatch {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (s, c) = (Arc::clone(&stop), Arc::clone(&calls));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(conn) = conn {
                    answer(conn, page, limit, value, &c);
                }
            }
        });
        PagingCloudWatch { port, calls, stop }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The GetMetricData calls received so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for PagingCloudWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request (headers and a Content-Length body) and answers it.
fn answer(
    mut conn: TcpStream,
    page: usize,
    limit: usize,
    value: fn(i64) -> f64,
    calls: &Mutex<Vec<Call>>,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut req = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while req.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let body: serde_json::Value =
        serde_json::from_slice(&req[head_end..head_end + length]).unwrap_or_default();
    let (status, text) = get_metric_data(&body, page, limit, value, calls);
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn get_metric_data(
    body: &serde_json::Value,
    page: usize,
    limit: usize,
    value: fn(i64) -> f64,
    calls: &Mutex<Vec<Call>>,
) -> (u16, String) {
    let (start, end) = (
        body["StartTime"].as_i64().unwrap_or(0),
        body["EndTime"].as_i64().unwrap_or(0),
    );
    let token = body["NextToken"].as_str();
    calls.lock().unwrap().push(Call {
        start,
        end,
        token: token.is_some(),
    });
    let queries = body["MetricDataQueries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let period = queries
        .first()
        .and_then(|q| q["MetricStat"]["Period"].as_i64())
        .unwrap_or(60)
        .max(1);
    let per_query = ((end - start) / period).max(0) as usize;
    if per_query * queries.len() > limit {
        let e = serde_json::json!({
            "__type": "InvalidParameterCombination",
            "message": format!("You have requested up to {} datapoints, which exceeds the limit of {limit}.", per_query * queries.len()),
        });
        return (400, e.to_string());
    }
    let from: usize = token.and_then(|t| t.parse().ok()).unwrap_or(0);
    let times: Vec<i64> = (0..per_query as i64)
        .map(|i| start + i * period)
        .skip(from)
        .take(page)
        .collect();
    let values: Vec<f64> = times.iter().map(|t| value(*t)).collect();
    let results: Vec<serde_json::Value> = queries
        .iter()
        .map(|q| {
            serde_json::json!({
                "Id": q["Id"], "Timestamps": times, "Values": values,
                "StatusCode": if from + page < per_query { "PartialData" } else { "Complete" },
            })
        })
        .collect();
    let mut out = serde_json::json!({ "MetricDataResults": results });
    if from + page < per_query {
        out["NextToken"] = serde_json::json!((from + page).to_string());
    }
    (200, out.to_string())
}
