//! A purpose-built MISBEHAVING HTTP server on 127.0.0.1 for the fault tests: it speaks the
//! Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`, `/-/ready`) well enough
//! for vz-monitor, and can be told to answer late, answer with a hostile error body, carry
//! hostile label values, or echo the request's headers (an Alertmanager that puts the
//! `Authorization` header in its error body). Stops on drop.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers with.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A one-sample vector with this value (and the configured labels).
    Value(f64),
    /// This HTTP status and raw body.
    Raw(u16, String),
    /// 401 with every request header echoed in the body, `Authorization` included.
    EchoHeaders,
    /// The same echo inside a Prometheus API error (400, JSON), which clients report.
    EchoHeadersAsPromError,
    /// A 200 JSON vector that never ends: series after series until the client hangs up.
    Endless,
}

/// Shared behaviour, changeable while the server runs.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub mode: Mode,
    /// Wait this long before answering each request.
    pub delay: Duration,
    /// Labels of the sample (values may hold anything: `\r`, `::`, ANSI).
    pub labels: BTreeMap<String, String>,
}

/// One request seen: method, path and headers (names lower-cased).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
}

/// The server.
pub struct BadProm {
    pub port: u16,
    behaviour: Arc<Mutex<Behaviour>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl BadProm {
    /// Starts on a free loopback port, answering the value 0 at once.
    pub fn start() -> BadProm {
        let listener = TcpListener::bind("127.0.0.1:0")
            .expect("the misbehaving test server could not bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let behaviour = Arc::new(Mutex::new(Behaviour {
            mode: Mode::Value(0.0),
            delay: Duration::ZERO,
            labels: BTreeMap::new(),
        }));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s, st) = (behaviour.clone(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (b, s) = (b.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &b, &s));
            }
        });
        BadProm {
            port,
            behaviour,
            seen,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Changes the behaviour from now on.
    pub fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.behaviour.lock().unwrap());
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for BadProm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, behaviour: &Mutex<Behaviour>, seen: &Mutex<Vec<Seen>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut out = conn;
    // Keep-alive: one connection may carry many requests.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.lock().unwrap().push(Seen {
            method,
            path: path.clone(),
            headers: headers.clone(),
        });
        let b = behaviour.lock().unwrap().clone();
        std::thread::sleep(b.delay);
        if matches!(b.mode, Mode::Endless) {
            endless(out);
            return;
        }
        let (status, body) = answer(&b, &path, &headers);
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Writes a vector answer with no length that never ends, until the client hangs up.
fn endless(mut out: TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n\
                {\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[";
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    let series = "{\"metric\":{\"pod\":\"x\"},\"value\":[1,\"1\"]},".repeat(1 << 12);
    while out.write_all(series.as_bytes()).is_ok() {}
}

fn answer(b: &Behaviour, path: &str, headers: &BTreeMap<String, String>) -> (u16, String) {
    if path.starts_with("/-/") {
        return (200, "ok".into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    match &b.mode {
        Mode::Raw(status, body) => (*status, body.clone()),
        Mode::EchoHeaders | Mode::EchoHeadersAsPromError => {
            let echoed: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let text = format!("unauthorized; you sent {}", echoed.join("; "));
            match b.mode {
                Mode::EchoHeaders => (401, text),
                _ => (
                    400,
                    serde_json::json!({"status": "error", "errorType": "bad_data", "error": text})
                        .to_string(),
                ),
            }
        }
        Mode::Endless => unreachable!("answered by `endless`"),
        Mode::Value(v) => {
            let metric = serde_json::to_value(&b.labels).unwrap();
            let body = if path.starts_with("/api/v1/query_range") {
                serde_json::json!({"status": "success", "data": {"resultType": "matrix",
                    "result": [{"metric": metric, "values": [[now, v.to_string()]]}]}})
            } else {
                serde_json::json!({"status": "success", "data": {"resultType": "vector",
                    "result": [{"metric": metric, "value": [now, v.to_string()]}]}})
            };
            (200, body.to_string())
        }
    }
}
