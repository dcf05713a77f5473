//! One simulated deploy fed to several backends at once: every second it draws the service's
//! error rate (%), p95 latency (ms) and requests per status code, exposes them as Prometheus
//! gauges (a scrape target) and hands the same numbers to each backend's writer (Graphite,
//! InfluxDB, CloudWatch). The test flips it from healthy to bad, and every backend must reach
//! the verdict Prometheus reaches.

use super::config::GateConfig;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One second of the service, as every backend receives it.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Unix seconds.
    pub t: i64,
    pub error_rate: f64,
    pub latency_ms: f64,
    /// Requests answered 200 and 500 in that second.
    pub ok: f64,
    pub errors: f64,
}

/// Writes one point to a backend.
pub type Writer = Box<dyn Fn(&Point) + Send>;

/// The deploy: a feeder thread and a Prometheus scrape target.
pub struct Deploy {
    /// The scrape target's port (`/metrics`).
    pub port: u16,
    error_rate: Arc<AtomicU64>,
    latency_ms: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// The gauges the Prometheus side of a test queries, one per metric.
pub const PROM_ERROR_RATE: &str = "max(deploy_error_rate)";
pub const PROM_LATENCY: &str = "max(deploy_latency_ms)";
pub const PROM_REQUESTS: &str = "sum by (code) (deploy_requests)";

impl Deploy {
    /// Starts healthy (≈1 % errors, ≈50 ms): a point every second to each of `writers`.
    pub fn start(writers: Vec<Writer>) -> Deploy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind target");
        let port = listener.local_addr().unwrap().port();
        let error_rate = Arc::new(AtomicU64::new(1f64.to_bits()));
        let latency_ms = Arc::new(AtomicU64::new(50f64.to_bits()));
        let stop = Arc::new(AtomicBool::new(false));
        let latest: Arc<Mutex<Option<Point>>> = Arc::new(Mutex::new(None));
        let (e, l, s, last) = (
            Arc::clone(&error_rate),
            Arc::clone(&latency_ms),
            Arc::clone(&stop),
            Arc::clone(&latest),
        );
        std::thread::spawn(move || {
            let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(port);
            while !s.load(Ordering::SeqCst) {
                let mut jitter = || {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    0.8 + 0.4 * ((rng >> 11) as f64 / (1u64 << 53) as f64)
                };
                let rate = f64::from_bits(e.load(Ordering::SeqCst)) * jitter();
                let latency = f64::from_bits(l.load(Ordering::SeqCst)) * jitter();
                let total = 100.0 * jitter();
                let p = Point {
                    t: chrono::Utc::now().timestamp(),
                    error_rate: round(rate),
                    latency_ms: round(latency),
                    ok: round(total * (1.0 - rate / 100.0)),
                    errors: round(total * rate / 100.0),
                };
                *last.lock().unwrap() = Some(p);
                for w in &writers {
                    w(&p);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        let (s, last) = (Arc::clone(&stop), Arc::clone(&latest));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let body = last.lock().unwrap().map(exposition).unwrap_or_default();
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Deploy {
            port,
            error_rate,
            latency_ms,
            stop,
        }
    }

    /// `host:port` for a scrape config.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The service from the next second on.
    pub fn set(&self, error_rate: f64, latency_ms: f64) {
        self.error_rate
            .store(error_rate.to_bits(), Ordering::SeqCst);
        self.latency_ms
            .store(latency_ms.to_bits(), Ordering::SeqCst);
    }
}

impl Drop for Deploy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn exposition(p: Point) -> String {
    format!(
        "deploy_error_rate {}\ndeploy_latency_ms {}\ndeploy_requests{{code=\"200\"}} {}\ndeploy_requests{{code=\"500\"}} {}\n",
        p.error_rate, p.latency_ms, p.ok, p.errors
    )
}

/// What a backend's project reads: its `source:` section and its `metrics:` entries (block
/// YAML, indented under `metrics:`).
pub struct Reading {
    pub source: String,
    pub metrics: String,
}

/// The rules, rollback and timing every backend's project shares, reading `r`.
pub fn config(r: &Reading, rollback: &str) -> GateConfig {
    GateConfig::new("1s", "6s")
        .section(&r.source)
        .metrics_yaml(&r.metrics)
        .rules_yaml(
            r#"  - name: high-error-rate
    metric: error_rate
    detector: { threshold: { op: ">", value: 5 } }
    for: 2s
    kind: HIGH_ERROR_RATE
    severity: critical
  - name: slow
    metric: p95_latency_ms
    detector: { threshold: { op: ">", value: 300 } }
    for: 2s
    kind: HIGH_LATENCY
    severity: critical
  - name: traffic-surge          # per status code
    metric: requests
    detector: { threshold: { op: ">", value: 100000 } }
    kind: HIGH_LATENCY
    severity: critical"#,
        )
        .rollback(rollback)
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .policy(r#"critical: 1, max_missing: "30%""#)
}

/// The Prometheus side: a project's `source:` and `metrics:` for the deploy's gauges.
pub fn prometheus_metrics(url: &str) -> Reading {
    Reading {
        source: format!("source:\n  prometheus: {{ url: \"{url}\", timeout: 2s, retries: 1 }}"),
        metrics: format!(
            "  error_rate:\n    query: '{PROM_ERROR_RATE}'\n  p95_latency_ms:\n    query: '{PROM_LATENCY}'\n  requests:\n    query: '{PROM_REQUESTS}'\n    per_series: true\n"
        ),
    }
}

/// `latency_ms` of the canary (`backend`, a backend query) against the stable version
/// (`control`, another) over 6 s: more than 50 % above the control's mean is critical;
/// missing data up to 30 % and an inconclusive run pass.
pub fn control_config(source: &str, backend: &str, control: &str) -> GateConfig {
    GateConfig::new("1s", "6s")
        .section(source)
        .metrics_yaml(&format!(
            "  latency_ms:\n    backend: {backend}\n    control: {{ backend: {control} }}"
        ))
        .rule(r#"{ name: latency-regression, metric: latency_ms, detector: { baseline: { stat: mean, max_change: "50%" } }, severity: critical }"#)
        .rollback(r#"["true"]"#)
        .policy(r#"max_missing: "30%", on_inconclusive: pass"#)
}

/// `error_rate` from `backend` (a backend query) over 2 s, critical above 5; an inconclusive
/// run passes — what each bad-answer case of a backend watches.
pub fn bad_answer_config(source: &str, backend: &str) -> GateConfig {
    GateConfig::new("500ms", "2s")
        .section(source)
        .metric("error_rate", &format!("{{ backend: {backend} }}"))
        .rule(r#"{ name: high, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, severity: critical }"#)
        .rollback(r#"["true"]"#)
        .policy("on_inconclusive: pass")
}

/// Environment for one project's commands (a backend's credentials).
pub type Env = [(&'static str, String)];

/// Runs `vz-monitor ARGS` in every project at once, each with its environment; each one's
/// (exit code, stdout, stderr).
pub fn run_all(
    projects: &[(&super::Project, &Env)],
    args: &[&str],
) -> Vec<(Option<i32>, String, String)> {
    let children: Vec<_> = projects
        .iter()
        .map(|(p, env)| {
            p.std_cmd()
                .args(args)
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start vz-monitor")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (out.status.code(), text(&out.stdout), text(&out.stderr))
        })
        .collect()
}

/// The same deploy through Prometheus and through `backend`: `check --online` answers every
/// metric on both, `baseline` takes every series from a range, a healthy window passes on
/// both (exit 0, nothing missing), and after `deploy.set(bad)` both roll back (exit 1, the
/// command ran once) for the same reasons.
pub fn same_verdicts(
    deploy: &Deploy,
    prom: &super::Project,
    backend: &super::Project,
    name: &str,
    env: &Env,
) {
    let both = [("Prometheus", prom), (name, backend)];
    let runs = [(prom, &[] as &Env), (backend, env)];
    // A few seconds of history on every backend for the baseline's range.
    std::thread::sleep(Duration::from_secs(8));
    for (who, p) in both {
        let out = p
            .cmd()
            .args(["check", "--online", "--output", "json"])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        let report = super::json(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{who}: {report}");
        let online = report["online"].as_array().unwrap();
        assert_eq!(online.len(), 3, "{who}: {report}");
        assert!(
            online.iter().all(|r| r["status"] == "ok"),
            "{who}: {report}"
        );
    }
    let baselines = run_all(
        &runs,
        &[
            "baseline",
            "--window",
            "7s",
            "--interval",
            "1s",
            "--output",
            "json",
        ],
    );
    for ((who, _), (code, out, err)) in both.iter().zip(&baselines) {
        assert_eq!(*code, Some(0), "{who}: {err}");
        let v = super::json(out.as_bytes());
        let series = v["series"]
            .as_object()
            .unwrap_or_else(|| panic!("{who}: {v}"));
        for m in ["error_rate", "p95_latency_ms"] {
            let n = series[m].as_array().map_or(0, Vec::len);
            assert!(n >= 3, "{who}: baseline of {m} has {n} points: {v}");
        }
        assert_eq!(
            series.keys().filter(|k| k.starts_with("requests{")).count(),
            2,
            "{who}: {v}"
        );
    }
    let healthy = run_all(&runs, &["watch", "--duration", "5s", "--output", "json"]);
    for ((who, p), (code, out, err)) in both.iter().zip(&healthy) {
        assert_eq!(*code, Some(0), "{who}: {out} {err}");
        let run = super::json(out.as_bytes());
        assert_eq!(run["verdict"], "healthy", "{who}: {run}");
        for c in run["completeness"].as_array().unwrap() {
            assert_eq!(c["missing"], 0, "{who}: {c}");
        }
        assert_eq!(rollbacks(p), 0, "{who}");
    }
    deploy.set(25.0, 400.0);
    let bad = run_all(&runs, &["watch", "--duration", "20s", "--output", "json"]);
    for ((who, p), (code, out, err)) in both.iter().zip(&bad) {
        assert_eq!(*code, Some(1), "{who}: {out} {err}");
        let run = super::json(out.as_bytes());
        assert_eq!(run["verdict"], "rollback", "{who}: {run}");
        assert_eq!(rollbacks(p), 1, "{who}: the rollback command ran once");
        // The rules that fired: the error rate, the latency or both (both regress at once;
        // which one a backend sees a tick earlier may differ), never the per-series traffic.
        let mut rules: Vec<String> = run["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["rule"].as_str().map(String::from))
            .collect();
        rules.sort();
        rules.dedup();
        assert!(
            !rules.is_empty() && rules.iter().all(|k| k == "high-error-rate" || k == "slow"),
            "{who}: {run}"
        );
    }
    deploy.set(1.0, 50.0);
}

/// Lines in a project's rollback log.
pub fn rollbacks(p: &super::Project) -> usize {
    p.read("rollback.log").map_or(0, |s| s.lines().count())
}
