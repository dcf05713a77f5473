use super::*;
use crate::model::Severity;

fn env(name: &str) -> Option<String> {
    match name {
        "PROM_TOKEN" => Some("tok".into()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_text(text, Some(Path::new("vz-monitor.yaml")), &env)
}

const GOOD: &str = r#"
deployment: checkout-api
interval: 30s
duration: 15m
metrics:
  health:
    probe: { http: { url: "http://127.0.0.1:8080/healthz", expect_status: 200, timeout: 2s } }
  queue_depth:
    probe: { command: ["./q.sh"] }
rules:
  - name: service-down
    metric: health
    detector: { down: { for: 60s } }
    kind: SERVICE_DOWN
  - name: queue-outlier
    metric: queue_depth
    detector: { iqr: { k: 3 } }
    for: 2m
    kind: HIGH_LATENCY
    severity: medium
rollback:
  command: ["kubectl", "rollout", "undo", "deployment/checkout"]
  policy: { critical: 1, high: 3, max_downtime: 60s, max_missing: "25%", on_inconclusive: fail }
"#;

#[test]
fn parses_the_design_shape() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.deployment, "checkout-api");
    assert_eq!(c.interval, Duration::from_secs(30));
    assert_eq!(c.metrics.len(), 2);
    assert_eq!(
        c.rules[0].severity,
        Severity::Critical,
        "SERVICE_DOWN defaults to critical"
    );
    assert_eq!(c.rules[1].for_, Duration::from_secs(120));
    assert!(
        c.rollback.enabled,
        "a command enables rollback unless told otherwise"
    );
    assert_eq!(c.policy.max_missing, 25.0);
    assert_eq!(c.policy.on_inconclusive, OnInconclusive::Fail);
}

#[test]
fn unknown_detector_names_file_line_and_field() {
    let text = GOOD.replace("iqr: { k: 3 }", "zscor: { threshold: 3 }");
    let e = parse(&text).unwrap_err();
    let line = text.lines().position(|l| l.contains("zscor")).unwrap() + 1;
    assert_eq!(e.line, Some(line), "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("vz-monitor.yaml:{line}:")),
        "{shown}"
    );
    assert!(shown.contains("rules[1].detector"), "{shown}");
    assert!(
        shown.contains("zscor") && shown.contains("zscore"),
        "{shown}"
    );
}

#[test]
fn unknown_metric_in_rule_points_at_the_rule() {
    let text = GOOD.replace("metric: queue_depth", "metric: queue_dept");
    let e = parse(&text).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.contains("queue_dept\r") || l.trim() == "metric: queue_dept")
        .unwrap()
        + 1;
    assert_eq!(e.line, Some(line), "{e}");
    assert_eq!(e.field, "rules[1].metric");
    assert!(e.message.contains("unknown metric `queue_dept`"), "{e}");
}

#[test]
fn unknown_keys_and_bad_values_are_errors() {
    let e = parse(&GOOD.replace("interval: 30s", "intervall: 30s")).unwrap_err();
    assert!(e.to_string().contains("unknown field `intervall`"), "{e}");
    assert_eq!(e.line, Some(3));
    let e = parse(&GOOD.replace("interval: 30s", "interval: soon")).unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    let e = parse(&GOOD.replace("k: 3", "k: -1")).unwrap_err();
    assert_eq!(e.field, "rules[1].detector.iqr.k", "{e}");
}

#[test]
fn env_interpolation_and_missing_variables() {
    let text = "source:\n  prometheus:\n    url: http://127.0.0.1:9090\n    headers: { Authorization: \"Bearer ${PROM_TOKEN}\" }\n";
    let c = parse(text).unwrap();
    assert_eq!(c.prometheus.unwrap().headers["Authorization"], "Bearer tok");
    let e = parse("deployment: ${NOT_SET_ANYWHERE}\n").unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("NOT_SET_ANYWHERE"));
}

#[test]
fn rollback_enabled_without_command_is_an_error() {
    let e = parse("rollback: { enabled: true }\n").unwrap_err();
    assert_eq!(e.field, "rollback.command");
    assert_eq!(e.line, Some(1));
}

#[test]
fn query_needs_prometheus() {
    let e = parse("metrics:\n  er:\n    query: up\n").unwrap_err();
    assert_eq!(e.field, "metrics.er.query");
    assert_eq!(e.line, Some(3));
}

#[test]
fn includes_are_read_relative_to_the_config_and_errors_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("r.yaml"), "rules:\n  - name: cpu-high\n    metric: cpu\n    detector: { threshold: { op: \">\", value: 90 } }\n").unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    std::fs::write(
        &main,
        "metrics:\n  cpu:\n    probe: { system: cpu_percent }\ninclude: [rules/r.yaml]\n",
    )
    .unwrap();
    let c = load(Some(&main), &env).unwrap();
    assert_eq!(c.rules.len(), 1);
    assert!(c.rules[0].origin.ends_with("r.yaml"));
    std::fs::write(rules.join("r.yaml"), "rules:\n  - name: cpu-high\n    metric: cpu\n    detector: { threshold: { op: \"~\", value: 90 } }\n").unwrap();
    let e = load(Some(&main), &env).unwrap_err();
    assert!(e.file.ends_with("r.yaml"), "{e}");
    assert_eq!(e.line, Some(4), "{e}");
}

#[test]
fn built_in_defaults_and_init_template_are_valid() {
    let c = parse_text(defaults::YAML, None, &env).unwrap();
    assert_eq!(c.metrics.len(), 3);
    assert!(!c.rollback.enabled);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/local.yaml"), defaults::INIT_RULES).unwrap();
    let main = dir.path().join("vz-monitor.yaml");
    std::fs::write(&main, defaults::INIT_CONFIG).unwrap();
    let c = load(Some(&main), &env).unwrap();
    assert_eq!(c.rules.len(), 3);
}

#[test]
fn composite_references_must_exist_and_not_loop() {
    let base = "metrics:\n  m:\n    probe: { command: [x] }\nrules:\n  - { name: a, metric: m, detector: { threshold: { op: '>', value: 1 } } }\n";
    let unknown = format!(
        "{base}  - {{ name: c, detector: {{ composite: {{ op: or, rules: [a, nope] }} }} }}\n"
    );
    let e = parse_text(&unknown, Some(Path::new("t.yaml")), &|_| None).unwrap_err();
    assert!(e.message.contains("unknown rule `nope`"), "{e}");
    assert_eq!(e.line, Some(6), "{e}");
    let cycle = format!("{base}  - {{ name: c, detector: {{ composite: {{ op: or, rules: [a, d] }} }} }}\n  - {{ name: d, detector: {{ composite: {{ op: and, rules: [c] }} }} }}\n");
    let e = parse_text(&cycle, Some(Path::new("t.yaml")), &|_| None).unwrap_err();
    assert!(e.message.contains("cycle: c -> d -> c"), "{e}");
    let ok = format!("{base}  - {{ name: c, detector: {{ composite: {{ op: at_least, k: 1, rules: [a] }} }} }}\n");
    let c = parse_text(&ok, Some(Path::new("t.yaml")), &|_| None).unwrap();
    assert_eq!(
        c.rules[1].metric, "m",
        "anchored on its first plain rule's metric"
    );
}

#[test]
fn isolation_forest_rules_take_metrics_instead_of_metric() {
    let base =
        "metrics:\n  m:\n    probe: { command: [x] }\n  n:\n    probe: { command: [x] }\nrules:\n";
    let ok = format!("{base}  - {{ name: j, detector: {{ isolation_forest: {{ metrics: [m, n], contamination: 0.01 }} }} }}\n");
    let c = parse_text(&ok, Some(Path::new("t.yaml")), &|_| None).unwrap();
    assert_eq!(c.rules[0].metric, "m");
    let bad = format!(
        "{base}  - {{ name: j, detector: {{ isolation_forest: {{ metrics: [m, zz] }} }} }}\n"
    );
    let e = parse_text(&bad, Some(Path::new("t.yaml")), &|_| None).unwrap_err();
    assert!(e.message.contains("unknown metric `zz`"), "{e}");
    let one =
        format!("{base}  - {{ name: j, detector: {{ isolation_forest: {{ metrics: [m] }} }} }}\n");
    let e = parse_text(&one, Some(Path::new("t.yaml")), &|_| None).unwrap_err();
    assert!(e.message.contains("at least 2 metrics"), "{e}");
    let no_metric =
        format!("{base}  - {{ name: j, detector: {{ threshold: {{ op: '>', value: 1 }} }} }}\n");
    let e = parse_text(&no_metric, Some(Path::new("t.yaml")), &|_| None).unwrap_err();
    assert!(e.message.contains("missing"), "{e}");
}

#[test]
fn a_query_timeout_longer_than_the_interval_is_warned_about() {
    let text = "interval: 500ms\nsource:\n  prometheus: { url: \"http://127.0.0.1:9090\", timeout: 10s }\nmetrics:\n  m: { query: up }\n";
    let c = parse_text(text, Some(Path::new("t.yaml")), &|_| None).unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("timeout 10s is longer than the interval 500ms")),
        "{:?}",
        c.warnings
    );
    let text = text.replace("timeout: 10s", "timeout: 400ms");
    let c = parse_text(&text, Some(Path::new("t.yaml")), &|_| None).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

/// Issue 25.6: a rule without `kind` was labelled HIGH_LATENCY whatever it watched.
#[test]
fn a_rule_without_kind_is_named_after_itself_or_its_detector() {
    let c = parse(
        "metrics:\n  health:\n    probe: { http: { url: \"http://127.0.0.1:1/\" } }\n  queue_depth:\n    probe: { command: [\"./q.sh\"] }\nrules:\n  - { name: queue-outlier, metric: queue_depth, detector: { iqr: { k: 3 } } }\n  - { name: health-gone, metric: health, detector: { down: { for: 60s } } }\n",
    )
    .unwrap();
    assert_eq!(c.rules[0].kind, "QUEUE_OUTLIER");
    assert_eq!(
        c.rules[0].severity,
        Severity::High,
        "the default severity is what it was"
    );
    assert_eq!(
        c.rules[1].kind, "SERVICE_DOWN",
        "a `down` rule says what it finds"
    );
    assert_eq!(c.rules[1].severity, Severity::Critical);
}
