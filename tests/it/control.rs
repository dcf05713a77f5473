//! Canary against control: `control:` sampled by `watch` over the same ticks, and
//! `analyze --control FILE`. A surge on both passes; a regression on top of it rolls back.
//! And `min_volume:`: a rate over too few requests is "not enough data".

use crate::common;

use common::config::GateConfig;
use common::{exits, json, Project};

/// Readings of a surge: twice the pre-deploy ~100, wobbling.
fn surge(scale: f64) -> Vec<String> {
    (0..40)
        .map(|i| format!("{}", (200.0 + f64::from(i % 5) * 4.0) * scale))
        .collect()
}

fn config(p: &Project, canary: &str, control: &str) {
    GateConfig::new("300ms", "6s")
        .metric(
            "latency_ms",
            &format!("{{ probe: {{ command: {canary} }}, control: {{ probe: {{ command: {control} }} }} }}"),
        )
        .rule(r#"{ name: latency-regression, metric: latency_ms, detector: { baseline: { stat: mean, max_change: "10%" } }, severity: critical }"#)
        .rollback(r#"["true"]"#)
        .policy(r#"max_missing: "50%""#)
        .write(p);
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn watch_samples_the_control_and_a_shared_surge_passes_while_a_regression_rolls_back() {
    let p = Project::new();
    let both = surge(1.0);
    let canary = p.series("canary", &refs(&both));
    let control = p.series("stable", &refs(&both));
    config(&p, &canary, &control);
    let out = exits(p.cmd().args(["watch", "--output", "json"]), 0);
    let v = json(&out.stdout);
    assert_eq!(v["verdict"], "healthy");
    assert!(p.calls("stable") >= 10, "the control is sampled every tick");
    let rule = &v["rules"][0];
    assert_eq!(rule["expected"]["type"], "control", "{rule}");
    let e = |k: &str| rule["expected"][k].as_f64().unwrap();
    assert!(e("low") < e("value") && e("value") < e("high"), "{rule}");
    assert!((200.0..=216.0).contains(&e("value")), "{rule}");
    let reason = rule["reason"].as_str().unwrap();
    assert!(reason.contains("; control mean 2"), "{reason}");
    assert!(reason.contains(" (95% CI "), "{reason}");

    let p = Project::new();
    let canary = p.series("canary", &refs(&surge(1.5)));
    let control = p.series("stable", &refs(&both));
    config(&p, &canary, &control);
    let out = exits(p.cmd().args(["watch", "--output", "json"]), 1);
    let v = json(&out.stdout);
    assert_eq!(v["verdict"], "rollback");
    let reason = v["anomalies"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("% above control"), "{reason}");
    assert!(reason.contains("whole-watch alpha"), "{reason}");
}

fn csv(values: &[String]) -> String {
    let mut s = String::from("timestamp,latency_ms\n");
    for (i, v) in values.iter().take(20).enumerate() {
        s.push_str(&format!("{},{v}\n", 1_700_000_000 + i as i64 * 15));
    }
    s
}

#[test]
fn analyze_replays_a_control_file() {
    let p = Project::new();
    config(&p, "[\"true\"]", "[\"true\"]");
    let quiet: Vec<String> = (0..20).map(|i| format!("{}", 100 + i % 5)).collect();
    p.write("baseline.csv", &csv(&quiet));
    p.write("surge.csv", &csv(&surge(1.0)));
    p.write("regressed.csv", &csv(&surge(1.5)));
    let analyze = |current: &str, control: Option<&str>, code: i32| {
        let mut cmd = p.cmd();
        cmd.args([
            "analyze",
            "--baseline",
            "baseline.csv",
            "--current",
            current,
        ]);
        if let Some(c) = control {
            cmd.args(["--control", c]);
        }
        json(&exits(&mut cmd, code).stdout)
    };
    // Against the pre-deploy baseline a surge is a +100 % change: rolled back.
    assert_eq!(analyze("surge.csv", None, 1)["verdict"], "rollback");
    // Against the control over the same ticks it is no change at all.
    let v = analyze("surge.csv", Some("surge.csv"), 0);
    assert_eq!(v["rules"][0]["expected"]["type"], "control");
    // A regression on top of the surge is caught.
    let v = analyze("regressed.csv", Some("surge.csv"), 1);
    let reason = v["anomalies"][0]["reason"].as_str().unwrap();
    assert!(reason.contains(" is 50% above control 20"), "{reason}");
    // The explanation table names the control's value and interval (reviewed snapshot).
    let mut cmd = p.cmd();
    cmd.args([
        "analyze",
        "--current",
        "regressed.csv",
        "--control",
        "surge.csv",
    ]);
    cmd.args(["--output", "table"]);
    let table = String::from_utf8(exits(&mut cmd, 1).stdout).unwrap();
    insta::assert_snapshot!("analyze_against_control_table", table);
    // --control alone is enough when every rule compares against it.
    let mut cmd = p.cmd();
    cmd.args([
        "analyze",
        "--current",
        "surge.csv",
        "--control",
        "surge.csv",
    ]);
    exits(&mut cmd, 0);

    // A control row at a tick the current file does not have is an input error.
    p.write(
        "shifted.csv",
        &csv(&surge(1.0)).replace("1700000000,", "1700000001,"),
    );
    let mut cmd = p.cmd();
    cmd.args([
        "analyze",
        "--current",
        "surge.csv",
        "--control",
        "shifted.csv",
    ]);
    let err = String::from_utf8_lossy(&exits(&mut cmd, 2).stderr).to_string();
    assert!(
        err.contains("no current row at the same timestamp"),
        "{err}"
    );
}

#[test]
fn rule_tests_take_control_series() {
    let p = Project::new();
    p.write(
        "rules.yaml",
        r#"metrics:
  latency_ms: { probe: { command: ["true"] } }
rules:
  - name: latency-regression
    metric: latency_ms
    # A hand-made sawtooth of 5 ticks: its rank order repeats, which `dependence: auto`
    # rightly reads as dependent ticks; these cases are about the control, so say they are not.
    detector: { baseline: { stat: mean, max_change: "10%", dependence: none } }
    severity: critical
"#,
    );
    p.write(
        "t.yaml",
        r#"rule_files: [rules.yaml]
interval: 15s
tests:
  - name: a surge on canary and control alike passes
    input: { latency_ms: "200 204 208 212 216 200 204 208 212 216 200 204 208 212 216" }
    control: { latency_ms: "201 203 209 211 217 199 205 207 213 215 201 203 209 211 217" }
    expect: { anomalies: [], decision: healthy }
  - name: a regression on top of the surge rolls back
    input: { latency_ms: "300 306 312 318 324 300 306 312 318 324 300 306 312 318 324" }
    control: { latency_ms: "201 203 209 211 217 199 205 207 213 215 201 203 209 211 217" }
    expect:
      anomalies: [{ rule: latency-regression, tick: 6 }]
      decision: rollback
      decided_at: 6
"#,
    );
    let out = exits(p.cmd().args(["test", "t.yaml"]), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 passed"), "{text}");
    // Without a control series the same rule compares against a baseline, which the case
    // must then give.
    p.write(
        "bad.yaml",
        r#"rule_files: [rules.yaml]
tests:
  - name: no control, no baseline
    input: { latency_ms: "1 2 3" }
"#,
    );
    let out = exits(p.cmd().args(["test", "bad.yaml"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a baseline of `latency_ms`"), "{err}");
}

#[test]
fn below_min_volume_an_error_rate_is_not_enough_data_never_a_pass_or_a_fail() {
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        r#"interval: 15s
duration: 5m
metrics:
  error_rate:
    probe: { command: ["true"] }
    min_volume: { metric: requests_per_sec, min: 5 }
  requests_per_sec: { probe: { command: ["true"] } }
rules:
  - name: high-error-rate
    metric: error_rate
    detector: { threshold: { op: ">", value: 5 } }
    severity: critical
rollback:
  command: ["true"]
"#,
    );
    let file = |rps: f64| {
        let mut s = String::from("timestamp,error_rate,requests_per_sec\n");
        for i in 0..20 {
            s.push_str(&format!("{},50,{rps}\n", 1_700_000_000 + i * 15));
        }
        s
    };
    p.write("b.csv", "timestamp,error_rate,requests_per_sec\n0,0,100\n");
    // 50 % errors at 2 requests per second: not measured, so the run is inconclusive.
    p.write("low.csv", &file(2.0));
    let mut cmd = p.cmd();
    cmd.args(["analyze", "--baseline", "b.csv", "--current", "low.csv"]);
    let v = json(&exits(&mut cmd, 3).stdout);
    assert_eq!(v["verdict"], "inconclusive");
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 0);
    let reason = v["rules"][0]["reason"].as_str().unwrap();
    assert!(
        reason
            .contains("not enough data: request volume 2 (requests_per_sec) is below min_volume 5"),
        "{reason}"
    );
    // The same error rate at 80 requests per second rolls back.
    p.write("high.csv", &file(80.0));
    let mut cmd = p.cmd();
    cmd.args(["analyze", "--baseline", "b.csv", "--current", "high.csv"]);
    assert_eq!(json(&exits(&mut cmd, 1).stdout)["verdict"], "rollback");
}

#[test]
fn check_online_runs_the_control_too() {
    let p = Project::new();
    let canary = p.series("canary", &["200"]);
    let control = p.series("stable", &["190"]);
    config(&p, &canary, &control);
    let out = exits(p.cmd().args(["check", "--online", "--output", "json"]), 0);
    let v = json(&out.stdout);
    let rows: Vec<(String, String)> = v["online"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"].as_str().unwrap().to_string(),
                r["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        rows.contains(&("latency_ms".into(), "200".into())),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("latency_ms (control)".into(), "190".into())),
        "{rows:?}"
    );
}
