//! VictoriaMetrics as a second Prometheus-compatible backend: the real binary runs the same
//! config (same queries, rules and policy) against a REAL Prometheus and a REAL
//! VictoriaMetrics, both scraping the same REAL target every second, and must reach the same
//! verdicts. Needs `prometheus` and `victoria-metrics` installed (.ci/setup.sh): without
//! either, or if a server cannot start, these tests fail saying which.

use crate::common;

use common::config::GateConfig;
use common::prometheus::{target_metrics, Prometheus, Target, ERROR_RATE, P95_MS};
use common::victoria::VictoriaMetrics;
use common::{json, logging_rollback, Project};
use std::time::Duration;

const TRAFFIC: &str = r#"sum(rate(http_requests_total{job="target"}[5s])) > 0"#;

/// One project per backend, the same config but for the URL.
fn project(url: &str) -> Project {
    let p = Project::new();
    GateConfig::new("1s", "20s")
        .section(&format!(
            "source:\n  prometheus: {{ url: \"{url}\", timeout: 2s, retries: 1 }}"
        ))
        .metrics_yaml(&target_metrics())
        .rules_yaml(
            r#"  - name: high-error-rate
    metric: error_rate
    detector: { threshold: { op: ">", value: 5 } }
    for: 2s
    kind: HIGH_ERROR_RATE
    severity: critical
  - name: slow
    metric: p95_latency_ms
    detector: { threshold: { op: ">", value: 400 } }
    for: 2s
    kind: HIGH_LATENCY
    severity: critical
  - name: traffic-surge          # per status code; a code whose traffic stops is no surge
    metric: requests
    detector: { threshold: { op: ">", value: 10000 } }
    kind: HIGH_LATENCY
    severity: critical"#,
        )
        .rollback(&logging_rollback(p.dir.path()))
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .policy(r#"critical: 1, max_missing: "20%""#)
        .write(&p);
    p
}

fn rollbacks(p: &Project) -> usize {
    p.read("rollback.log").map_or(0, |s| s.lines().count())
}

/// Both servers, each with at least a few scrapes of the target (rates answer).
fn servers(target: &Target) -> (Prometheus, VictoriaMetrics) {
    let prom = Prometheus::start(target);
    let mut vm = VictoriaMetrics::start(target);
    prom.wait_for(TRAFFIC, Duration::from_secs(20));
    vm.wait_for(TRAFFIC, Duration::from_secs(20));
    (prom, vm)
}

/// Runs `watch ARGS` in every project at once; returns each one's (exit code, summary,
/// stderr).
fn watch_all(
    projects: &[&Project],
    args: &[&str],
) -> Vec<(Option<i32>, serde_json::Value, String)> {
    let children: Vec<_> = projects
        .iter()
        .map(|p| p.spawn(&[&["watch", "--output", "json"], args].concat()))
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            let summary = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("no JSON summary ({e}); stderr: {err}"));
            (out.status.code(), summary, err)
        })
        .collect()
}

#[test]
fn healthy_stays_healthy_and_a_regression_rolls_back_on_both_backends() {
    let target = Target::start();
    let (prom, mut vm) = servers(&target);
    let (on_prom, on_vm) = (project(&prom.url()), project(&vm.url()));
    let both = [("Prometheus", &on_prom), ("VictoriaMetrics", &on_vm)];

    // Every query answers on both servers, with the same shapes (the error-rate query is an
    // empty vector while there is no 5xx series: `on_empty: zero` on both).
    for (name, p) in both {
        let out = p
            .cmd()
            .args(["check", "--online", "--output", "json"])
            .output()
            .unwrap();
        let report = json(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {report}");
        for r in report["online"].as_array().unwrap() {
            assert!(r["status"] == "ok" || r["status"] == "empty", "{name}: {r}");
        }
    }

    // A healthy deploy: healthy on both, every sample of every tick answered, each series of
    // the per-series metric judged under the same name.
    let healthy = watch_all(&[&on_prom, &on_vm], &["--duration", "5s"]);
    for ((name, p), (code, run, err)) in both.iter().zip(&healthy) {
        assert_eq!(*code, Some(0), "{name}: {err}");
        assert_eq!(run["verdict"], "healthy", "{name}: {run}");
        assert_eq!(rollbacks(p), 0, "{name}");
        for c in run["completeness"].as_array().unwrap() {
            assert_eq!(c["missing"], 0, "{name}: {c}");
        }
        let series: Vec<&str> = run["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["series"].as_str())
            .collect();
        assert!(
            series.contains(&r#"requests{code="200"}"#),
            "{name}: {series:?}"
        );
    }

    // The new version fails 30 % of its requests: both roll back once, for the error rate.
    target.set_error_percent(30);
    let regressed = watch_all(&[&on_prom, &on_vm], &[]);
    for ((name, p), (code, run, err)) in both.iter().zip(&regressed) {
        assert_eq!(*code, Some(1), "{name}: {err}");
        assert_eq!(run["verdict"], "rollback", "{name}: {run}");
        assert_eq!(rollbacks(p), 1, "{name}: the command ran once");
        let kinds: Vec<&str> = run["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["HIGH_ERROR_RATE"], "{name}: {run}");
    }

    // And a latency regression (errors back to 0): both roll back for the p95.
    target.set_error_percent(0);
    target.set_latency_ms(900);
    for promql in [format!("{P95_MS} > 400"), format!("{ERROR_RATE} < 1")] {
        prom.wait_for(&promql, Duration::from_secs(20));
        vm.wait_for(&promql, Duration::from_secs(20));
    }
    let slow = watch_all(&[&on_prom, &on_vm], &[]);
    for ((name, p), (code, run, err)) in both.iter().zip(&slow) {
        assert_eq!(*code, Some(1), "{name}: {err}");
        assert_eq!(rollbacks(p), 2, "{name}");
        let kinds: Vec<&str> = run["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"HIGH_LATENCY"), "{name}: {run}");
        assert!(!kinds.contains(&"HIGH_ERROR_RATE"), "{name}: {run}");
    }
}
