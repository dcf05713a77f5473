//! The Prometheus source end to end: the real binary against a REAL Prometheus (started by
//! the test on a free loopback port) scraping a REAL target whose error rate and latency the
//! test switches. Needs `prometheus` installed (.ci/setup.sh): without it these tests fail.

use crate::common;

use common::config::GateConfig;
use common::prometheus::{free_port, target_metrics, Prometheus, Target, P95_MS};
use common::{json, logging_rollback, Project};
use std::time::Duration;

/// A started Prometheus that has at least two scrapes of the target (rates answer).
fn prometheus(target: &Target) -> Prometheus {
    let prom = Prometheus::start(target);
    prom.wait_for(
        r#"sum(rate(http_requests_total{job="target"}[5s])) > 0"#,
        Duration::from_secs(20),
    );
    prom
}

/// vz-monitor.yaml watching the target through `url`, with `rules` and `policy` appended.
fn write_config(p: &Project, url: &str, rules: &str, policy: &str, extra: &str) {
    GateConfig::new("1s", "8s")
        .section(&format!(
            r#"source:
  prometheus: {{ url: "{url}", timeout: 2s, retries: 1 }}"#
        ))
        .metrics_yaml(&target_metrics())
        .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, for: 2s, kind: HIGH_ERROR_RATE, severity: critical }"#)
        .rule(r#"{ name: traffic-gone, metric: requests, detector: { threshold: { op: "<", value: 1 } }, kind: SERVICE_DOWN, severity: critical }"#)
        .rules_yaml(rules)
        .rollback(&logging_rollback(p.dir.path()))
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .policy(&format!(r#"critical: 1, high: 1, max_missing: "20%" {policy}"#))
        .tail(extra)
        .write(p);
}

fn rollbacks(p: &Project) -> usize {
    p.read("rollback.log")
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn healthy_deploy_exits_0_and_gates_each_series() {
    let target = Target::start();
    let prom = prometheus(&target);
    let p = Project::new();
    write_config(&p, &prom.url(), "", "", "");
    let out = p
        .cmd()
        .args(["watch", "--duration", "4s", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(rollbacks(&p), 0);
    let run = json(&out.stdout);
    assert_eq!(run["verdict"], "healthy");
    // The per-series metric was judged per label set, named `metric{label="v"}`.
    let series: Vec<&str> = run["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["series"].as_str())
        .collect();
    assert!(
        series.contains(&r#"requests{code="200"}"#),
        "series judged: {series:?}"
    );
    // The error rate's empty vector (no 5xx series yet) was 0, not a missing sample.
    let er = run["completeness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "error_rate")
        .expect("error_rate completeness");
    assert_eq!(er["missing"], 0, "{er}");
}

#[test]
fn error_rate_regression_rolls_back_exactly_once() {
    let target = Target::start();
    let prom = prometheus(&target);
    let p = Project::new();
    write_config(&p, &prom.url(), "", "", "");
    let mut watch = p.spawn(&["watch", "--duration", "20s"]);
    // A couple of healthy ticks, then the new version starts failing 30 % of requests.
    std::thread::sleep(Duration::from_secs(2));
    target.set_error_percent(30);
    let status = watch.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(watch.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "stderr: {err}");
    assert_eq!(rollbacks(&p), 1, "the rollback command ran exactly once");
    assert!(err.contains("HIGH_ERROR_RATE"), "stderr: {err}");
}

#[test]
fn latency_regression_is_caught_by_the_baseline_detector() {
    let target = Target::start();
    let prom = prometheus(&target);
    let p = Project::new();
    let rule = r#"  - name: latency-regression
    metric: p95_latency_ms
    detector: { baseline: { stat: p95, direction: increase, max_change: "20%", p_value: 0.01 } }
    kind: HIGH_LATENCY
    severity: high
"#;
    write_config(&p, &prom.url(), rule, "", "");
    // Let Prometheus collect a healthy history, then take the baseline from it.
    std::thread::sleep(Duration::from_secs(10));
    let out = p
        .cmd()
        .args([
            "baseline",
            "--window",
            "15s",
            "--interval",
            "1s",
            "--output",
            "baseline.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let base = json(p.read("baseline.json").unwrap().as_bytes());
    let p95 = base["series"]["p95_latency_ms"].as_array().unwrap();
    assert!(p95.len() >= 5, "range query points: {p95:?}");
    assert!(
        base["series"]["requests{code=\"200\"}"].is_array(),
        "{base}"
    );
    assert!(base["source"]
        .as_str()
        .unwrap()
        .contains("Prometheus range"));

    // The new version is ~10x slower; wait until Prometheus's 5s rate window shows it.
    target.set_latency_ms(500);
    prom.wait_until(P95_MS, |v| v > 300.0, Duration::from_secs(15));
    let out = p
        .cmd()
        .args(["watch", "--duration", "12s", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(rollbacks(&p), 1);
    let run = json(&out.stdout);
    let a = &run["anomalies"][0];
    assert_eq!(a["kind"], "HIGH_LATENCY", "{run}");
    assert_eq!(a["detector"], "baseline", "{a}");
    assert!(a["p_value"].as_f64().unwrap() < 0.01, "{a}");
}

/// Starts a watch, kills Prometheus after a few ticks, returns (exit code, stderr).
fn watch_through_an_outage(p: &Project, prom: &mut Prometheus) -> (Option<i32>, String) {
    let mut watch = p.spawn(&["watch", "--duration", "8s"]);
    std::thread::sleep(Duration::from_secs(3));
    prom.stop();
    let status = watch.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(watch.stderr.as_mut().unwrap(), &mut err).unwrap();
    (status.code(), err)
}

#[test]
fn prometheus_outage_is_inconclusive_without_rollback() {
    let target = Target::start();
    let mut prom = prometheus(&target);
    let p = Project::new();
    write_config(&p, &prom.url(), "", "", "");
    let (code, err) = watch_through_an_outage(&p, &mut prom);
    assert_eq!(code, Some(3), "stderr: {err}");
    assert_eq!(rollbacks(&p), 0, "fail-open: no rollback");
    // Each metric's missing samples are logged with the reason, once when they start.
    assert!(
        err.contains("error_rate: missing sample: cannot reach Prometheus"),
        "stderr: {err}"
    );
    assert!(
        err.contains(r#"requests{code="200"}: missing sample"#),
        "{err}"
    );
}

#[test]
fn prometheus_outage_fails_closed_when_asked() {
    let target = Target::start();
    let mut prom = prometheus(&target);
    let p = Project::new();
    write_config(&p, &prom.url(), "", ", on_inconclusive: fail", "");
    let (code, err) = watch_through_an_outage(&p, &mut prom);
    assert_eq!(code, Some(1), "stderr: {err}");
    assert_eq!(rollbacks(&p), 1, "fail-closed: rolled back once");
}

#[test]
fn alerting_rule_file_gates_the_deploy() {
    let target = Target::start();
    let prom = prometheus(&target);
    let p = Project::new();
    p.write(
        "alerts.yml",
        r#"groups:
  - name: target
    rules:
      - record: job:http_requests:rate5s
        expr: sum by (job) (rate(http_requests_total[5s]))
      - alert: TargetDown
        expr: up{job="target"} == 0
        for: 5s
        labels: { severity: critical }
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{job="target",code=~"5.."}[5s])) / sum(rate(http_requests_total{job="target"}[5s])) > 0.05
        for: 2s
        labels: { severity: page, team: checkout }
        annotations:
          summary: "More than 5% of requests fail"
          runbook_url: "https://runbooks.example/5xx"
"#,
    );
    // Gate on the alert file alone: the built-in error-rate rule is not in this config.
    GateConfig::new("1s", "20s")
        .section(&format!(
            "source:\n  prometheus: {{ url: \"{}\", timeout: 2s }}",
            prom.url()
        ))
        .section("include: [alerts.yml]")
        .rollback(&logging_rollback(p.dir.path()))
        .policy("critical: 1")
        .write(&p);
    let check = p.cmd().args(["check"]).output().unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let warn = stderr(&check);
    // Recording rules are checked and said in one summary line (issue 23), not one line each.
    assert!(
        warn.contains("1 recording rule in 1 file checked; they record, they do not gate a deploy"),
        "stderr: {warn}"
    );

    target.set_error_percent(40);
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(rollbacks(&p), 1);
    let run = json(&out.stdout);
    let fired: Vec<&serde_json::Value> = run["anomalies"].as_array().unwrap().iter().collect();
    assert_eq!(fired.len(), 1, "only HighErrorRate fires: {run}");
    let a = fired[0];
    assert_eq!(a["kind"], "HIGH_ERROR_RATE");
    assert_eq!(a["rule"], "HighErrorRate");
    assert_eq!(a["severity"], "critical", "severity: page → critical");
    assert_eq!(a["annotations"]["summary"], "More than 5% of requests fail");
    assert_eq!(a["annotations"]["label_team"], "checkout");
}

#[test]
fn check_online_tells_ok_empty_and_error_apart() {
    let target = Target::start();
    let prom = prometheus(&target);
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"source:
  prometheus: {{ url: "{}", timeout: 2s }}
metrics:
  rps:
    query: 'sum(rate(http_requests_total{{job="target"}}[5s]))'
  errors_or_zero:
    query: 'sum(rate(http_requests_total{{job="target",code="503"}}[5s]))'
    on_empty: zero
  errors_missing:
    query: 'sum(rate(http_requests_total{{job="target",code="503"}}[5s]))'
  many_to_many:
    query: 'http_request_duration_seconds_bucket{{job="target"}} + on() http_request_duration_seconds_bucket{{job="target"}}'
  buckets:
    query: 'rate(http_request_duration_seconds_bucket{{job="target"}}[5s])'
"#,
            prom.url()
        ),
    );
    let out = p
        .cmd()
        .args(["check", "--online", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let report = json(&out.stdout);
    let status = |m: &str| {
        let r = report["online"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap_or_else(|| panic!("{m} missing from {report}"))
            .clone();
        (
            r["status"].as_str().unwrap().to_string(),
            r["detail"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(status("rps").0, "ok");
    assert_eq!(status("errors_or_zero").0, "empty");
    assert_eq!(status("errors_missing").0, "empty");
    // Valid PromQL (a typo is caught offline now) that the server refuses to execute.
    let (s, detail) = status("many_to_many");
    assert_eq!(s, "error");
    assert!(
        detail.contains("Prometheus rejected the query") && detail.contains("many-to-many"),
        "{detail}"
    );
    let (s, detail) = status("buckets");
    assert_eq!(s, "error");
    assert!(detail.contains("where one was expected"), "{detail}");

    // And with nothing listening at all: every query is an error saying why.
    let out = p
        .cmd()
        .env(
            "VZ_PROMETHEUS_URL",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .args(["check", "--online", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let report = json(&out.stdout);
    for r in report["online"].as_array().unwrap() {
        assert_eq!(r["status"], "error", "{r}");
        assert!(
            r["detail"]
                .as_str()
                .unwrap()
                .contains("cannot reach Prometheus"),
            "{r}"
        );
    }
}
