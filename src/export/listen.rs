//! `--listen ADDR`: serves live Prometheus metrics at `http://ADDR/metrics` while the run
//! lasts — ticks so far, firing rules, anomalies, the latest value of every judged series,
//! and the verdict once known. A hand-written HTTP/1.1 responder on a tokio `TcpListener`:
//! one GET route, `Connection: close`, bounded reads; hyper would add a dependency tree
//! for nothing more.

use super::promtext::{Exposition, CONTENT_TYPE};
use crate::gate::{Gate, RuleStatus, TickReport};
use crate::observe::{At, Observer};
use crate::policy::Decision;
use crate::run::RunSummary;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What `/metrics` shows, updated by the observer each tick.
#[derive(Debug, Default, Clone)]
pub struct Live {
    deployment: String,
    run_id: String,
    running: bool,
    ticks: u32,
    firing: usize,
    anomalies: u32,
    by_kind: BTreeMap<(String, String), u32>,
    values: BTreeMap<String, f64>,
    rules: BTreeMap<(String, String), bool>,
    verdict: Option<String>,
    exit_code: Option<u8>,
}

/// The live metrics observer.
#[derive(Debug)]
pub struct Listen {
    addr: String,
    state: Arc<Mutex<Live>>,
}

impl Listen {
    /// Serves on `addr` (bound when the run starts).
    pub fn new(addr: &str) -> Listen {
        Listen {
            addr: addr.to_string(),
            state: Arc::new(Mutex::new(Live::default())),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Live)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }
}

/// The text exposition of the live state.
pub fn render(s: &Live) -> String {
    let d = s.deployment.as_str();
    let mut e = Exposition::new();
    e.family(
        "vz_monitor_run_info",
        "gauge",
        "The run being watched; 1 while it runs, 0 once it ended.",
    )
    .sample(
        "vz_monitor_run_info",
        &[("deployment", d), ("run_id", &s.run_id)],
        if s.running { 1.0 } else { 0.0 },
    );
    e.family("vz_monitor_ticks", "gauge", "Ticks evaluated so far.")
        .sample("vz_monitor_ticks", &[("deployment", d)], s.ticks as f64);
    e.family(
        "vz_monitor_firing_rules",
        "gauge",
        "Rule-series firing at the latest tick.",
    )
    .sample(
        "vz_monitor_firing_rules",
        &[("deployment", d)],
        s.firing as f64,
    );
    e.family("vz_monitor_anomalies", "gauge", "Anomalies fired so far.")
        .sample(
            "vz_monitor_anomalies",
            &[("deployment", d)],
            s.anomalies as f64,
        );
    e.family(
        "vz_monitor_anomalies_total",
        "counter",
        "Anomalies fired so far, by kind and severity.",
    );
    for ((kind, sev), n) in &s.by_kind {
        let labels = [
            ("deployment", d),
            ("kind", kind.as_str()),
            ("severity", sev),
        ];
        e.sample("vz_monitor_anomalies_total", &labels, *n as f64);
    }
    e.family(
        "vz_monitor_series_value",
        "gauge",
        "Latest observed value of each series a rule judges.",
    );
    for (series, v) in &s.values {
        let labels = [("deployment", d), ("series", series.as_str())];
        e.sample("vz_monitor_series_value", &labels, *v);
    }
    e.family(
        "vz_monitor_rule_firing",
        "gauge",
        "1 while a rule fires on a series, else 0.",
    );
    for ((rule, series), firing) in &s.rules {
        let labels = [
            ("deployment", d),
            ("rule", rule.as_str()),
            ("series", series),
        ];
        e.sample(
            "vz_monitor_rule_firing",
            &labels,
            if *firing { 1.0 } else { 0.0 },
        );
    }
    if let Some(v) = &s.verdict {
        e.family("vz_monitor_verdict", "gauge", "The verdict, once known.")
            .sample(
                "vz_monitor_verdict",
                &[("deployment", d), ("verdict", v)],
                1.0,
            );
    }
    if let Some(c) = s.exit_code {
        e.family("vz_monitor_exit_code", "gauge", "Exit code, once known.")
            .sample("vz_monitor_exit_code", &[("deployment", d)], c as f64);
    }
    e.finish()
}

/// Accepts connections until the runtime shuts down (the process ends with the run).
async fn serve(listener: tokio::net::TcpListener, state: Arc<Mutex<Live>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), respond(stream, state)).await;
        });
    }
}

/// Reads one request head (at most 8 KiB) and answers it.
async fn respond(mut stream: tokio::net::TcpStream, state: Arc<Mutex<Live>>) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let snapshot = state.lock().map(|s| s.clone()).unwrap_or_default();
            ("200 OK", CONTENT_TYPE, render(&snapshot))
        }
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "vz-monitor: live metrics at /metrics\n".to_string(),
        ),
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", "not found\n".into()),
        _ => ("405 Method Not Allowed", "text/plain", "only GET\n".into()),
    };
    let mut resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        resp.extend_from_slice(body.as_bytes());
    }
    let _ = stream.write_all(&resp).await;
    let _ = stream.shutdown().await;
}

impl Observer for Listen {
    fn on_start(&mut self, at: &mut At<'_>) {
        let ctx = at.ctx;
        self.update(|s| {
            s.deployment = ctx.deployment.clone();
            s.run_id = ctx.run_id.clone();
            s.running = true;
        });
        let bound = std::net::TcpListener::bind(&self.addr).and_then(|l| {
            l.set_nonblocking(true)?;
            tokio::net::TcpListener::from_std(l)
        });
        match bound {
            Ok(l) => {
                let shown = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
                errln!("serving live metrics at http://{shown}/metrics");
                tokio::spawn(serve(l, self.state.clone()));
            }
            Err(e) => errln!(
                "warning: cannot serve metrics on {}: {e} (the watch goes on)",
                self.addr
            ),
        }
    }

    fn on_tick(&mut self, _at: &mut At<'_>, report: &TickReport, gate: &Gate) {
        let evaluations = gate.evaluations();
        self.update(|s| {
            s.ticks += 1;
            s.firing = gate.firing();
            s.anomalies = gate.anomalies().len() as u32;
            for a in &report.fired {
                let key = (a.kind.clone(), a.severity.to_string());
                *s.by_kind.entry(key).or_default() += 1;
            }
            for e in evaluations {
                if let Some(v) = e.observed {
                    s.values.insert(e.series.clone(), v);
                }
                let firing = e.status == RuleStatus::Firing;
                s.rules.insert((e.rule, e.series), firing);
            }
        });
    }

    fn on_decision(&mut self, _at: &mut At<'_>, d: &Decision) {
        self.update(|s| s.verdict = Some(d.verdict.to_string()));
    }

    fn on_finish<'a>(&'a mut self, _at: At<'a>, summary: &'a RunSummary) -> BoxFuture<'a, ()> {
        self.update(|s| {
            s.running = false;
            s.verdict = Some(summary.verdict.to_string());
            s.exit_code = Some(summary.exit_code);
        });
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_verdict_only_once_known() {
        let mut s = Live {
            deployment: "web".into(),
            ticks: 3,
            ..Live::default()
        };
        s.values.insert("error_rate".into(), 7.5);
        let text = render(&s);
        assert!(
            text.contains("vz_monitor_ticks{deployment=\"web\"} 3\n"),
            "{text}"
        );
        assert!(text
            .contains("vz_monitor_series_value{deployment=\"web\",series=\"error_rate\"} 7.5\n"));
        assert!(!text.contains("vz_monitor_verdict{"));
        s.verdict = Some("rollback".into());
        assert!(
            render(&s).contains("vz_monitor_verdict{deployment=\"web\",verdict=\"rollback\"} 1\n")
        );
    }
}
