//! Prometheus rule files offline: a corpus of realistic rule files in every shape found in
//! the wild (tests/fixtures/promrules/) loads with `check`; broken PromQL, templates, names
//! and groups are exit 2 with file:line; `test` runs promtool unit-test files as promtool does
//! (compared with the real promtool) and bounds
//! series expansion. No server is needed here; tests/prometheus_alerts.rs runs the alerts.

use crate::common;

use common::{exits, json, Project};
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/promrules")
        .join(rel)
}

/// The valid corpus: (file, alerting rules it holds).
const CORPUS: [(&str, usize); 11] = [
    ("node-exporter.yml", 4), // plain groups, recording rules, multi-line exprs
    ("kube-prometheus-rule.yaml", 2), // PrometheusRule manifest (spec.groups)
    ("multi-document.yml", 2), // two documents and an empty third
    ("merge-keys.yml", 2),    // anchors and `<<:` merge keys
    ("empty-mixin.yml", 0),   // just `null`: 0 rules, as promtool says
    ("group-labels.yml", 2),  // group-level labels
    ("watchdog.yml", 3),      // vector(1), a scalar `1`, an expr ending in a comment
    ("duplicate-a.yml", 2),   // the same alert name twice in one group…
    ("duplicate-b.yml", 1),   // …and once more in another file
    ("thanos.yml", 1),        // partial_response_strategy
    ("group-settings.yml", 3), // limit, query_offset, interval, recorded input, templates
];

fn config_including(p: &Project, files: &[PathBuf], extra: &str) {
    let list: Vec<String> = files
        .iter()
        .map(|f| format!("\"{}\"", f.display()))
        .collect();
    p.write(
        "vz-monitor.yaml",
        &format!(
            "source: {{ prometheus: {{ url: \"http://127.0.0.1:9\" }} }}\nduration: 20m\ninclude: [{}]\n{extra}",
            list.join(", ")
        ),
    );
}

#[test]
fn the_corpus_loads_in_every_shape() {
    let p = Project::new();
    let files: Vec<PathBuf> = CORPUS.iter().map(|(f, _)| fixture(f)).collect();
    config_including(&p, &files, "");
    let out = exits(p.cmd().args(["check", "--output", "json"]), 0);
    let report = json(&out.stdout);
    let alerts: usize = CORPUS.iter().map(|(_, n)| n).sum();
    assert_eq!(report["rules"], alerts, "{report}");
    assert_eq!(report["metrics"], alerts, "{report}");

    // Each warning once, in `check --output json` as on stderr; none per recording rule.
    let warnings: Vec<String> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    let expected: [&[&str]; 10] = [
        &["NodeFilesystemAlmostOutOfSpace", "for: 30m", "never fire"],
        &["NodeNetworkReceiveErrs", "for: 1h"],
        &[
            "multi-document.yml: 2 YAML documents",
            "load only the first",
        ],
        &["3 recording rules in 2 files checked"],
        &[
            "group-settings.yml:6: group `recorded`: `interval: 1m`",
            "(30s)",
        ],
        &[
            "alert `ApiErrorBudgetBurn` reads `job:api_errors:ratio_rate5m`",
            "missing data, never healthy",
        ],
        &[
            "ApiErrorBudgetBurn",
            "severity is a template",
            "counts as critical",
        ],
        &[
            "1 alert call template functions that need a live Prometheus",
            "ApiErrorBudgetBurn (first, query, value)",
        ],
        &["1 alert read $externalLabels", "`alerting.external_labels`"],
        &[
            "group-settings.yml: 1 duplicate rule(s) found",
            "ApiDown{severity=\"critical\"}",
        ],
    ];
    for words in expected {
        assert!(
            warnings.iter().any(|w| words.iter().all(|x| w.contains(x))),
            "no warning with {words:?} in {warnings:#?}"
        );
    }
    assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for w in &warnings {
        assert!(stderr.contains(w.as_str()), "{w} not on stderr: {stderr}");
    }
}

#[test]
fn same_alert_names_become_distinct_rules() {
    let p = Project::new();
    p.write(
        "t.yaml",
        &format!(
            "rule_files: [\"{}\", \"{}\"]\ninterval: 1m\ntests:\n  - name: each fires after its own for\n    input: {{ alert_high_latency: \"1x5\", alert_high_latency_3: \"1x15\" }}\n    expect:\n      anomalies:\n        - {{ rule: HighLatency, tick: 5, severity: medium }}\n        - {{ rule: \"duplicate-b.yml:worker:HighLatency\", tick: 15, severity: medium }}\n  - name: the second of one group is named by file and group\n    input: {{ alert_high_latency_2: \"1x5\" }}\n    expect:\n      anomalies: [{{ rule: \"duplicate-a.yml:api:HighLatency\", tick: 5, severity: critical }}]\n      decision: rollback\n",
            fixture("duplicate-a.yml").display(),
            fixture("duplicate-b.yml").display()
        ),
    );
    let out = exits(p.cmd().args(["test", "t.yaml"]), 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
}

/// Invalid files: (file, line, words the message must contain).
const INVALID: [(&str, usize, &[&str]); 10] = [
    ("unbalanced-expr.yml", 5, &["expr", "PromQL", "parenthesis"]),
    ("unbalanced-record.yml", 5, &["expr", "PromQL"]),
    ("range-vector.yml", 5, &["range vector"]),
    ("duplicate-group.yml", 6, &["group `api` is repeated"]),
    ("bad-label-name.yml", 7, &["team-name", "label name"]),
    (
        "bad-annotation-name.yml",
        7,
        &["run book", "annotation name"],
    ),
    ("bad-template.yml", 7, &["template", "no closing"]),
    ("unknown-variable.yml", 7, &["unknown variable `$lables`"]),
    (
        "bad-record-name.yml",
        4,
        &["job-http-requests", "metric name"],
    ),
    ("bad-manifest-expr.yaml", 8, &["PromQL"]),
];

#[test]
fn promql_templates_and_names_are_checked_offline_with_file_and_line() {
    for (file, line, words) in INVALID {
        let p = Project::new();
        config_including(&p, &[fixture(&format!("invalid/{file}"))], "");
        let out = exits(p.cmd().args(["check"]), 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{file}:{line}:")), "{file}: {err}");
        for w in words {
            assert!(err.contains(w), "{file}: `{w}` not in: {err}");
        }
    }
}

#[test]
fn an_unbalanced_query_fails_check_offline() {
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        "source: { prometheus: { url: \"http://127.0.0.1:9\" } }\nmetrics:\n  errors:\n    query: sum(rate(http_requests_total{code=~\"5..\"}[5m])\nrules:\n  - { name: e, metric: errors, detector: { threshold: { op: \">\", value: 1 } } }\n",
    );
    let out = exits(p.cmd().args(["check"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("vz-monitor.yaml:4:"), "{err}");
    assert!(
        err.contains("metrics.errors.query") && err.contains("PromQL"),
        "{err}"
    );
}

/// Names of the cases `promtool test rules` reports as failed (`name: X,` lines).
fn promtool_failures(file: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("/usr/bin/promtool")
        .args(["test", "rules"])
        .arg(file)
        .output()
        .expect("promtool not found: run .ci/setup.sh (Debian's prometheus package)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("name: "))
        .map(|n| n.trim_end_matches(',').to_string())
        .collect()
}

#[test]
fn promtool_unit_test_files_run_as_promtool_runs_them() {
    for (file, exit) in [("unit.yml", 0), ("failing.yml", 1)] {
        let path = fixture(&format!("unittest/{file}"));
        let p = Project::new();
        let out = exits(p.cmd().args(["test", "--output", "json"]).arg(&path), exit);
        let cases = json(&out.stdout);
        let ours: Vec<String> = cases
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] == false)
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ours, promtool_failures(&path), "{file}: {cases}");
    }
    // The failure says what differs: the alert fired at 4m, not at 3m (Prometheus's timing).
    let p = Project::new();
    let out = exits(p.cmd().arg("test").arg(fixture("unittest/failing.yml")), 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("alert InstanceDown at 3m: - {alertname=\"InstanceDown\"")
            && stdout.contains("+ none"),
        "{stdout}"
    );
}

#[test]
fn test_names_what_it_cannot_evaluate_and_bounds_series() {
    let p = Project::new();
    p.write("alerts.yml", "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1m\n");
    p.write(
        "promtool.yml",
        "rule_files: [alerts.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'x_bucket{le=\"1\"}'\n        values: '1 2 3'\n    promql_expr_test:\n      - expr: predict_linear(x_bucket[2m], 60)\n        eval_time: 2m\n",
    );
    let out = exits(p.cmd().args(["test", "promtool.yml"]), 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL")
            && stdout.contains("the function `predict_linear` is not supported"),
        "{stdout}"
    );

    for values in ["1x1000000000", "_x18446744073709551615"] {
        p.write(
            "huge.yml",
            &format!("rule_files: [alerts.yml]\ninterval: 1m\ntests:\n  - name: huge\n    input: {{ alert_down: \"{values}\" }}\n"),
        );
        let out = exits(p.cmd().args(["test", "huge.yml"]), 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(values) && err.contains("limit"), "{err}");
    }

    // promtool's notation: `_x2` is two missing samples, so `for: 1m` holds at tick 5
    // (3 missing of 16 ticks stay under the default max_missing of 20%).
    p.write(
        "ok.yml",
        "rule_files: [alerts.yml]\ninterval: 30s\ntests:\n  - name: down after a gap\n    input: { alert_down: \"0 _x2 1+0x11 stale\" }\n    expect:\n      anomalies: [{ rule: Down, tick: 5 }]\n",
    );
    let out = exits(p.cmd().args(["test", "ok.yml"]), 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn every_error_of_a_file_is_reported_with_its_place_in_the_expression() {
    let p = Project::new();
    p.write(
        "alerts.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          sum(rate(x[5m]))\n            / on (job) sum(rate(y[5m]) > 1\n      - alert: B\n        expr: rate(x[5m]) >\n      - alert: C\n        expr: up == 0\n        annotations: { summary: \"{{ $lables.job }}\" }\n",
    );
    config_including(&p, &[p.path("alerts.yml")], "");
    let out = exits(p.cmd().args(["check"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("alerts.yml:5:")
            && err.contains("at 2:17 of the expression (`  / on (job) sum⟨here⟩(rate(y[5m]) > 1`)"),
        "{err}"
    );
    assert!(err.contains("2 more error(s) in this file"), "{err}");
    assert!(
        err.contains("alerts.yml:9:") && err.contains("at 1:14 of the expression"),
        "{err}"
    );
    assert!(
        err.contains("alerts.yml:12:") && err.contains("unknown variable `$lables`"),
        "{err}"
    );
}

#[test]
fn a_policy_no_alert_can_reach_says_so_without_a_wrapped_count() {
    let p = Project::new();
    p.write(
        "alerts.yml",
        "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: x > 1\n        labels: { severity: warning }\n",
    );
    config_including(&p, &[p.path("alerts.yml")], "");
    let out = exits(p.cmd().args(["check", "--output", "json"]), 0);
    let report = json(&out.stdout);
    let w = report["warnings"].to_string();
    assert!(
        w.contains("any number of medium (one per alert series)"),
        "{w}"
    );
    assert!(!w.contains("4294967295"), "{w}");
}
