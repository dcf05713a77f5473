//! A REAL Prometheus for the integration tests, scraping a REAL test target in the test
//! process. Both listen on 127.0.0.1 on free ports; Prometheus keeps its TSDB in a temp dir
//! and is killed on drop. A missing `prometheus` binary fails the test: it never skips.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The target's error rate in percent, p95 latency in ms, and traffic per status code: the
/// queries the Prometheus and the VictoriaMetrics tests both watch it through.
pub const ERROR_RATE: &str = r#"100 * sum(rate(http_requests_total{job="target",code=~"5.."}[5s])) / sum(rate(http_requests_total{job="target"}[5s]))"#;
pub const P95_MS: &str = r#"1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="target"}[5s])))"#;
pub const BY_CODE: &str = r#"sum by (code) (rate(http_requests_total{job="target"}[5s]))"#;

/// The `metrics:` entries of a config watching the target through those queries.
pub fn target_metrics() -> String {
    format!(
        "  error_rate:\n    query: '{ERROR_RATE}'\n    on_empty: zero            # no 5xx series at all = 0 % errors\n  p95_latency_ms:\n    query: '{P95_MS}'\n  requests:\n    query: '{BY_CODE}'\n    per_series: true\n"
    )
}

/// Requests per second the target pretends to serve.
const RPS: f64 = 100.0;

/// Histogram buckets of `http_request_duration_seconds`, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
];

/// A free TCP port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Counters the target exposes; traffic is accrued at each scrape for the time elapsed.
struct Traffic {
    last: Instant,
    ok: f64,
    errors: f64,
    buckets: [f64; BUCKETS.len()],
    sum: f64,
    count: f64,
    rng: u64,
}

impl Traffic {
    fn random(&mut self) -> f64 {
        // xorshift64: enough jitter for latency, no dependency.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A small HTTP service exposing `/metrics` in Prometheus text format:
/// `http_requests_total{code}` and the `http_request_duration_seconds` histogram. The test
/// switches its error rate and latency through shared atomics.
pub struct Target {
    pub port: u16,
    error_percent: Arc<AtomicU64>,
    latency_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Target {
    /// Starts serving on a free loopback port: 0 % errors, 50 ms latency.
    pub fn start() -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind target");
        let port = listener.local_addr().unwrap().port();
        let error_percent = Arc::new(AtomicU64::new(0));
        let latency_ms = Arc::new(AtomicU64::new(50));
        let stop = Arc::new(AtomicBool::new(false));
        let traffic = Arc::new(Mutex::new(Traffic {
            last: Instant::now(),
            ok: 0.0,
            errors: 0.0,
            buckets: [0.0; BUCKETS.len()],
            sum: 0.0,
            count: 0.0,
            rng: 0x2545_f491_4f6c_dd1d ^ u64::from(port),
        }));
        let (e, l, s) = (
            Arc::clone(&error_percent),
            Arc::clone(&latency_ms),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let body = {
                    let mut t = traffic.lock().unwrap();
                    accrue(
                        &mut t,
                        e.load(Ordering::SeqCst) as f64,
                        l.load(Ordering::SeqCst) as f64,
                    );
                    exposition(&t)
                };
                serve(&mut conn, &body);
            }
        });
        Target {
            port,
            error_percent,
            latency_ms,
            stop,
        }
    }

    /// `host:port` for a scrape config.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Share of requests answered with a 500 from now on.
    pub fn set_error_percent(&self, p: u64) {
        self.error_percent.store(p, Ordering::SeqCst);
    }

    /// Typical request latency from now on (each scrape jitters it by ±40 %).
    pub fn set_latency_ms(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::SeqCst);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn accrue(t: &mut Traffic, error_percent: f64, latency_ms: f64) {
    let now = Instant::now();
    let n = RPS * now.duration_since(t.last).as_secs_f64();
    t.last = now;
    let errors = n * error_percent / 100.0;
    t.errors += errors;
    t.ok += n - errors;
    let latency = latency_ms / 1000.0 * (0.6 + 0.8 * t.random());
    for (i, le) in BUCKETS.iter().enumerate() {
        if latency <= *le {
            t.buckets[i] += n;
        }
    }
    t.sum += n * latency;
    t.count += n;
}

fn exposition(t: &Traffic) -> String {
    let mut s = String::new();
    s.push_str("# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n");
    s.push_str(&format!("http_requests_total{{code=\"200\"}} {}\n", t.ok));
    if t.errors > 0.0 {
        // Like a real client library: the 5xx series exists only once there was an error.
        s.push_str(&format!(
            "http_requests_total{{code=\"500\"}} {}\n",
            t.errors
        ));
    }
    s.push_str("# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n");
    for (le, v) in BUCKETS.iter().zip(t.buckets) {
        s.push_str(&format!(
            "http_request_duration_seconds_bucket{{le=\"{le}\"}} {v}\n"
        ));
    }
    s.push_str(&format!(
        "http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
        t.count
    ));
    s.push_str(&format!("http_request_duration_seconds_sum {}\n", t.sum));
    s.push_str(&format!(
        "http_request_duration_seconds_count {}\n",
        t.count
    ));
    s
}

fn serve(conn: &mut TcpStream, body: &str) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    let mut req = Vec::new();
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The `prometheus` binary: on PATH, else /usr/bin/prometheus. Panics (the test FAILS) when
/// there is none.
pub fn prometheus_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("prometheus"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/bin/prometheus")).filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!("prometheus not found: run .ci/setup.sh or apt-get install prometheus")
        })
}

/// A running Prometheus server, killed on drop.
pub struct Prometheus {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus on a free loopback port with `scrape_interval: 1s`, scraping
    /// `target` as job `target`, and waits until it has scraped it (`up == 1`).
    pub fn start(target: &Target) -> Prometheus {
        Prometheus::start_scraping(&[target.address()])
    }

    /// Starts Prometheus scraping every address of `targets` as job `target` (an address
    /// nobody listens on is a dead target), and waits until one of them is up.
    pub fn start_scraping(targets: &[String]) -> Prometheus {
        let bin = prometheus_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: target\n    static_configs:\n      - targets: [{}]\n",
                list.join(", ")
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(&bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let p = Prometheus {
            port,
            child: Some(child),
            dir,
        };
        p.wait_for("up{job=\"target\"} == 1", Duration::from_secs(30));
        p
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The result rows of an instant query, or None when the server did not answer.
    pub fn query(&self, promql: &str) -> Option<Vec<serde_json::Value>> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let body = http_get(self.port, &path)?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"].as_array().cloned()
    }

    /// Polls `promql` until it returns at least one series; panics with the server log after
    /// `limit`.
    pub fn wait_for(&self, promql: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.query(promql).is_some_and(|r| !r.is_empty()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "Prometheus never returned a series for `{promql}` within {limit:?}; its log:\n{}",
            std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
        );
    }

    /// The single value of an instant query, if it returns exactly one series.
    pub fn value(&self, promql: &str) -> Option<f64> {
        let rows = self.query(promql)?;
        match rows.as_slice() {
            [row] => row["value"][1].as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// Polls until the single value of `promql` satisfies `ok`.
    pub fn wait_until(&self, promql: &str, ok: impl Fn(f64) -> bool, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.value(promql).is_some_and(&ok) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "`{promql}` never reached the expected value within {limit:?} (last: {:?})",
            self.value(promql)
        );
    }

    /// Kills the server now (a Prometheus outage in the middle of a watch).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A plain HTTP/1.0 GET on loopback (HTTP/1.0 so the body is never chunked).
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then(|| body.to_string())
}

/// Percent-encodes a query parameter.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `promtool` binary (it comes with Debian's `prometheus` package): on PATH, else
/// /usr/bin/promtool. Panics (the test FAILS) when there is none.
pub fn promtool_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/bin/promtool")).filter(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!("promtool not found: run .ci/setup.sh or apt-get install prometheus")
        })
}

impl Prometheus {
    /// Starts Prometheus on a TSDB that already holds `openmetrics` (an OpenMetrics text
    /// ending in `# EOF`, written into its data directory with `promtool tsdb
    /// create-blocks-from openmetrics` before it starts), scraping nothing and keeping 60
    /// days, with `flags` added; waits until `ready` returns a series. Panics with
    /// promtool's or the server's output when either fails.
    pub fn start_with_history(openmetrics: &str, ready: &str, flags: &[&str]) -> Prometheus {
        let bin = prometheus_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("history.om");
        std::fs::write(&input, openmetrics).unwrap();
        let data = dir.path().join("data");
        let out = Command::new(promtool_binary())
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(&data)
            .output()
            .unwrap_or_else(|e| panic!("cannot run promtool: {e}"));
        assert!(
            out.status.success(),
            "promtool tsdb create-blocks-from openmetrics failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(&bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=60d")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .args(flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let p = Prometheus {
            port,
            child: Some(child),
            dir,
        };
        p.wait_for(ready, Duration::from_secs(60));
        p
    }

    /// The points of a range query `[start, end]` (Unix seconds) every `step` seconds, per
    /// series (labels as `{k="v",…}`, empty for none), read in pieces of at most 10 000
    /// points; panics when the server does not answer.
    pub fn range(&self, promql: &str, start: i64, end: i64, step: i64) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        let mut from = start;
        while from <= end {
            let to = (from + 9_999 * step).min(end);
            let path = format!(
                "/api/v1/query_range?query={}&start={from}&end={to}&step={step}",
                encode(promql)
            );
            let body = http_get(self.port, &path).expect("a range query answer");
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            let rows = v["data"]["result"].as_array().cloned().unwrap_or_default();
            assert!(rows.len() <= 1, "one series expected for {promql}: {body}");
            for row in rows {
                for p in row["values"].as_array().unwrap() {
                    let t = p[0].as_f64().unwrap().round() as i64;
                    let x: f64 = p[1].as_str().unwrap().parse().unwrap();
                    out.push((t, x));
                }
            }
            from = to + step;
        }
        out
    }
}
