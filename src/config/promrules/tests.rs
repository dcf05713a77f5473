use super::super::raw::OnEmpty;
use super::*;
use crate::config::parse_text;
use crate::detect::threshold::{Op, ThresholdParams};
use crate::detect::DetectorSpec;
use crate::model::Severity;
use std::path::Path;

#[test]
fn names_become_snake_and_upper_snake() {
    assert_eq!(snake("HighErrorRate"), "high_error_rate");
    assert_eq!(snake("KubePodCrashLooping"), "kube_pod_crash_looping");
    assert_eq!(snake("HTTPErrors5xx"), "http_errors5xx");
    assert_eq!(snake("node-disk full"), "node_disk_full");
    assert_eq!(upper_snake("APIHighLatency"), "API_HIGH_LATENCY");
}

#[test]
fn severity_mapping_is_the_documented_one() {
    assert_eq!(severity_of("page"), Some(Severity::Critical));
    assert_eq!(severity_of("Critical"), Some(Severity::Critical));
    assert_eq!(severity_of("error"), Some(Severity::High));
    assert_eq!(severity_of("warning"), Some(Severity::Medium));
    assert_eq!(severity_of("info"), Some(Severity::Info));
    assert_eq!(severity_of("P1"), None);
}

fn load(rules: &str) -> Result<crate::config::Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alerts.yml"), rules).unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    let text = "source: { prometheus: { url: http://127.0.0.1:9090 } }\ninclude: [alerts.yml]\n";
    std::fs::write(&main, text).unwrap();
    parse_text(text, Some(Path::new(&main)), &|_| None)
}

const FILE: &str = r#"groups:
  - name: web
    interval: 30s
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m])) > 0.05
        for: 2m
        labels: { severity: page, team: checkout }
        annotations: { summary: "5xx above 5%", runbook: "https://runbooks/5xx" }
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{code=~"5.."}[1m])) > 1
        labels: { severity: warning }
      - alert: LabelReplace
        expr: label_replace(up, "host", "${1}", "instance", "(.*):.*") == 0
"#;

#[test]
fn alerts_run_their_expr_as_written_per_series() {
    let c = load(FILE).unwrap();
    let m = c.metric("alert_high_error_rate").unwrap();
    assert!(matches!(&m.source, crate::config::MetricSource::Query(q)
        if q.starts_with("sum(rate(") && q.ends_with("> 0.05")));
    assert!(m.per_series);
    assert_eq!(m.on_empty, OnEmpty::Zero);
    let spec = m.alert.as_ref().expect("an alert metric carries its spec");
    assert_eq!(spec.direction, promql::Direction::Up);
    assert_eq!(spec.labels["team"], "checkout");
    let r = &c.rules[0];
    assert_eq!(r.name, "HighErrorRate");
    assert_eq!(r.kind, "HIGH_ERROR_RATE");
    assert_eq!(r.severity, Severity::Critical);
    assert_eq!(r.for_, Duration::from_secs(120));
    assert_eq!(r.annotations["summary"], "5xx above 5%");
    assert_eq!(r.annotations["label_team"], "checkout");
    assert!(matches!(
        r.detector,
        DetectorSpec::Threshold(ThresholdParams { op: Op::Gt, value }) if value == 0.0
    ));
    // The same alert name twice: both kept, the second named by file and group.
    assert_eq!(c.rules[1].name, "alerts.yml:web:HighErrorRate");
    assert_eq!(c.rules[1].metric, "alert_high_error_rate_2");
    assert_eq!(c.rules[1].severity, Severity::Medium);
    // `${1}` is PromQL here, not an environment variable; no severity label → high.
    assert!(c.metric("alert_label_replace").is_some());
    assert_eq!(c.rules[2].severity, Severity::High);
    // Recording rules: one summary line, however many.
    let rec: Vec<&String> = c
        .warnings
        .iter()
        .filter(|w| w.contains("recording rule"))
        .collect();
    assert_eq!(
        rec,
        ["1 recording rule in 1 file checked; they record, they do not gate a deploy"]
    );
}

#[test]
fn scalar_and_commented_exprs_are_kept_as_written() {
    let c = load(
        "groups:\n  - name: g\n    rules:\n      - alert: Always\n        expr: 1\n      - alert: Commented\n        expr: |\n          up == 0\n          # a trailing comment\n",
    )
    .unwrap();
    let q = |n: &str| match &c.metric(n).unwrap().source {
        crate::config::MetricSource::Query(q) => q.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(q("alert_always"), "1");
    assert_eq!(q("alert_commented"), "up == 0\n# a trailing comment");
}

#[test]
fn promql_and_templates_are_checked_offline_with_their_line() {
    let err =
        load("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: sum(rate(x[5m])\n")
            .unwrap_err();
    assert_eq!(err.line, Some(5), "{err}");
    assert!(err.message.contains("PromQL"), "{err}");
    let err = load(
        "groups:\n  - name: g\n    rules:\n      - record: r:x\n        expr: sum(rate(x[5m])\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(5), "recording rules are checked too: {err}");
    let err = load("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up == 0\n        annotations:\n          summary: \"{{ $labels.x \"\n").unwrap_err();
    assert_eq!(err.line, Some(7), "{err}");
    assert!(err.message.contains("template"), "{err}");
    let err =
        load("groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n").unwrap_err();
    assert_eq!(err.line, Some(4), "{err}");
    assert!(err.message.contains("repeated"), "{err}");
}

#[test]
fn errors_name_the_rule_file_and_line() {
    let err = load("groups:\n  - name: g\n    rules:\n      - alert: NoExpr\n        for: 1m\n")
        .unwrap_err();
    assert!(err.file.ends_with("alerts.yml"), "{err}");
    assert_eq!(err.line, Some(4), "{err}");
    assert!(err.message.contains("expr"), "{err}");
    let err = load(
        "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n        for: soon\n",
    )
    .unwrap_err();
    assert!(err.file.ends_with("alerts.yml"), "{err}");
    assert_eq!(err.line, Some(6), "{err}");
}

#[test]
fn alert_files_need_a_prometheus_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up == 0\n",
    )
    .unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    let err = parse_text("include: [a.yml]\n", Some(&main), &|_| None).unwrap_err();
    assert!(err.file.ends_with("a.yml"), "{err}");
    assert_eq!(err.line, Some(4), "{err}");
    assert!(err.message.contains("source.prometheus"), "{err}");
}

#[test]
fn group_limit_offset_interval_and_recorded_inputs_are_honoured_or_said() {
    let c = load(
        r#"groups:
  - name: rec
    rules:
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
  - name: alerts
    interval: 5m
    limit: 3
    query_offset: 1m
    rules:
      - alert: Errors
        expr: job:errors:rate5m > 1
      - alert: Raw
        expr: increase(errors_total[10m]) > 0
"#,
    )
    .unwrap();
    let spec = |m: &str| c.metric(m).unwrap().alert.clone().unwrap();
    let errors = spec("alert_errors");
    assert_eq!(errors.limit, Some(3));
    assert_eq!(errors.query_offset, Duration::from_secs(60));
    assert_eq!(
        errors.recorded_inputs,
        [(
            "job:errors:rate5m".to_string(),
            "alerts.yml:rec".to_string()
        )]
    );
    assert_eq!(errors.block, Duration::from_secs(60), "no range: a minute");
    let raw = spec("alert_raw");
    assert!(raw.recorded_inputs.is_empty());
    assert_eq!(raw.block, Duration::from_secs(600), "its longest range");
    let w = c.warnings.join("\n");
    assert!(
        w.contains("alerts.yml:7: group `alerts`: `interval: 5m`") && w.contains("(30s)"),
        "{w}"
    );
    assert!(
        w.contains("alert `Errors` reads `job:errors:rate5m` (alerts.yml:rec)")
            && w.contains("missing data, never healthy"),
        "{w}"
    );
}

#[test]
fn external_labels_and_url_reach_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alerts.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        annotations: { summary: \"{{ $externalLabels.cluster }} {{ $externalURL }}\" }\n",
    )
    .unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    let text = "source: { prometheus: { url: http://127.0.0.1:9090 } }\ninclude: [alerts.yml]\nalerting: { external_labels: { cluster: eu-1 }, external_url: \"https://prom.example.com\" }\n";
    let c = parse_text(text, Some(Path::new(&main)), &|_| None).unwrap();
    let spec = c.metric("alert_down").unwrap().alert.clone().unwrap();
    let a = spec.annotations_for(&BTreeMap::new(), 0.0);
    assert_eq!(a["summary"], "eu-1 https://prom.example.com");
    assert!(
        !c.warnings.iter().any(|w| w.contains("$externalLabels")),
        "{:?}",
        c.warnings
    );
}
