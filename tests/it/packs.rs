//! Every shipped rule pack passes its unit tests (`vz-monitor test rules/tests/*.yaml`), and
//! `test` reports a failing expectation as a readable diff with exit 1.

use crate::common;
use common::{exits, Project};
use std::path::Path;

#[test]
fn every_shipped_rule_pack_passes_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("rules/tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    // Each pack under rules/ has a test file of the same name.
    for pack in std::fs::read_dir(root.join("rules")).unwrap() {
        let p = pack.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let name = p.file_name().unwrap();
            assert!(
                root.join("rules/tests").join(name).exists(),
                "no tests for {p:?}"
            );
        }
    }
    let out = Project::new()
        .cmd()
        .arg("test")
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn a_wrong_expectation_prints_a_diff_and_exits_1() {
    let p = Project::new();
    p.write(
        "rules.yaml",
        "metrics:\n  m:\n    probe: { command: [x] }\nrules:\n  - { name: hi, metric: m, detector: { threshold: { op: '>', value: 5 } }, for: 30s, kind: HIGH_ERROR_RATE }\n",
    );
    p.write(
        "t.yaml",
        "rule_files: [rules.yaml]\ninterval: 30s\ntests:\n  - name: spike\n    input: { m: \"1 9x3\" }\n    expect: { anomalies: [{ rule: hi, tick: 1 }], decision: healthy }\n",
    );
    let out = p.cmd().args(["test", "t.yaml"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL t.yaml: spike"), "{stdout}");
    assert!(
        stdout.contains("anomaly: - hi at tick 1 (fired at tick 2)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("decision: - healthy + rollback"),
        "{stdout}"
    );
    let bad = p.write(
        "bad.yaml",
        "rule_files: [rules.yaml]\ntests:\n  - name: x\n    input: { nope: \"1\" }\n",
    );
    let out = p.cmd().arg("test").arg(bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`nope` is not a metric"));
}

#[test]
fn rule_tests_run_offline_even_when_the_config_queries_prometheus() {
    // A config with PromQL metrics and no `source.prometheus`: `watch` refuses it, but a rule
    // test gives every value itself, so it needs no Prometheus (and none is contacted).
    let p = Project::new();
    p.write(
        "vz.yaml",
        "metrics:\n  err: { query: 'sum(rate(http_errors_total[1m]))' }\nrules:\n  - { name: errs, metric: err, detector: { threshold: { op: '>', value: 5 } }, severity: critical }\nrollback: { policy: { critical: 1 } }\n",
    );
    p.write(
        "t.yaml",
        "config: vz.yaml\ninterval: 30s\ntests:\n  - name: spike\n    input: { err: \"1 9\" }\n    expect: { anomalies: [{ rule: errs, tick: 1 }], decision: rollback }\n",
    );
    let out = exits(
        p.cmd()
            .env_remove("VZ_PROMETHEUS_URL")
            .args(["test", "t.yaml"]),
        0,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok   t.yaml: spike"), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    // `check` still needs a source for it.
    exits(p.cmd().args(["check", "--config", "vz.yaml"]), 2);
}
