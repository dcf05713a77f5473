//! `watch` end to end through the real binary, fed by command probes.

use crate::common;

use common::config::GateConfig;
use common::{exits, json, logging_rollback, Project};

/// A config with an error-rate and a latency metric fed from series files.
fn config(
    p: &Project,
    errors: &[&str],
    latency: &[&str],
    rollback: &str,
    extra_policy: &str,
) -> String {
    GateConfig::new("200ms", "2s")
        .probe("error_rate", &p.series("error_rate", errors))
        .probe("latency_ms", &p.series("latency_ms", latency))
        .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH_ERROR_RATE }"#)
        .rule("{ name: latency-outlier, metric: latency_ms, detector: { zscore: { threshold: 4, direction: increase } }, kind: HIGH_LATENCY, severity: medium }")
        .rollback(rollback)
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 1")
        .policy(&format!("critical: 1, high: 3 {extra_policy}"))
        .write(p)
}

fn baseline(p: &Project) -> std::path::PathBuf {
    p.baseline(&[
        ("error_rate", vec![0.0, 0.1, 0.0, 0.2, 0.1]),
        ("latency_ms", vec![100.0, 102.0, 98.0, 101.0, 99.0, 100.0]),
    ])
}

/// Runs `watch [flags] --output json --baseline FILE`, checks the exit code, returns the summary.
fn watch_json(p: &Project, b: &std::path::Path, flags: &[&str], code: i32) -> serde_json::Value {
    let out = exits(
        p.cmd()
            .arg("watch")
            .args(flags)
            .args(["--output", "json", "--baseline"])
            .arg(b),
        code,
    );
    json(&out.stdout)
}

#[test]
fn healthy_window_exits_0_without_rollback() {
    let p = Project::new();
    config(
        &p,
        &["0", "0.1", "0"],
        &["100", "101", "99"],
        &logging_rollback(p.dir.path()),
        "",
    );
    let b = baseline(&p);
    let s = watch_json(&p, &b, &[], 0);
    assert_eq!(s["verdict"], "healthy");
    assert!(
        s["ticks"].as_u64().unwrap() >= 5,
        "a 2 s window at 200 ms has ~11 ticks: {}",
        s["ticks"]
    );
    assert!(s["anomalies"].as_array().unwrap().is_empty());
    assert!(
        p.read("rollback.log").is_none(),
        "rollback must not run on a healthy window"
    );
    // Every rule explains itself.
    let rules = s["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert!(rules
        .iter()
        .all(|r| r["status"] == "ok" && !r["reason"].as_str().unwrap().is_empty()));
}

#[test]
fn regression_rolls_back_exactly_once_with_context_in_env() {
    let p = Project::new();
    config(
        &p,
        &["0", "0", "12", "15", "20"],
        &["100"],
        &logging_rollback(p.dir.path()),
        "",
    );
    let b = baseline(&p);
    let s = watch_json(&p, &b, &[], 1);
    assert_eq!(s["verdict"], "rollback");
    assert_eq!(
        s["ticks"], 3,
        "decides at the first critical anomaly, on the third tick"
    );
    assert_eq!(s["rollback"]["ran"], true);
    assert_eq!(s["rollback"]["ok"], true);
    let log = p.read("rollback.log").expect("rollback ran");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "rollback ran exactly once: {log}");
    let parts: Vec<&str> = lines[0].split('|').collect();
    assert_eq!(parts[0], "web");
    assert_eq!(parts[1], s["run_id"].as_str().unwrap());
    assert!(
        parts[2].contains("critical"),
        "VZ_REASON says why: {}",
        parts[2]
    );
    let seen: serde_json::Value =
        serde_json::from_str(&p.read("anomalies-seen.json").unwrap()).unwrap();
    assert_eq!(seen["anomalies"][0]["rule"], "high-error-rate");
    assert_eq!(seen["anomalies"][0]["observed"], 12.0);
    // The watch stopped at the decision: the probe was not called again afterwards.
    assert_eq!(p.calls("error_rate"), 3);
}

#[test]
fn failing_rollback_exits_4_after_retries() {
    let p = Project::new();
    config(
        &p,
        &["50"],
        &["100"],
        "[\"sh\", \"-c\", \"echo broken >&2; exit 3\"]",
        "",
    );
    let b = baseline(&p);
    let out = p
        .cmd()
        .args(["watch", "--output", "json", "--baseline"])
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json(&out.stdout);
    assert_eq!(s["rollback"]["ok"], false);
    assert_eq!(
        s["rollback"]["attempts"], 2,
        "first attempt plus retries: 1"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("a human must act"));
}

#[test]
fn dry_run_and_no_rollback_decide_but_never_act() {
    for flag in ["--dry-run", "--no-rollback"] {
        let p = Project::new();
        config(&p, &["50"], &["100"], &logging_rollback(p.dir.path()), "");
        let b = baseline(&p);
        let s = watch_json(&p, &b, &[flag], 1);
        assert_eq!(s["rollback"]["needed"], true);
        assert_eq!(s["rollback"]["ran"], false);
        assert!(
            p.read("rollback.log").is_none(),
            "{flag} must not run the rollback"
        );
    }
}

#[test]
fn missing_data_is_inconclusive_not_bad_and_fail_closed_rolls_back() {
    let p = Project::new();
    config(
        &p,
        &["0", "garbage"],
        &["100"],
        &logging_rollback(p.dir.path()),
        "",
    );
    let b = baseline(&p);
    let s = watch_json(&p, &b, &[], 3);
    assert_eq!(s["verdict"], "inconclusive");
    assert!(s["reasons"].to_string().contains("fail-open"));
    assert!(
        p.read("rollback.log").is_none(),
        "missing data never triggers a rollback when fail-open"
    );

    let p = Project::new();
    config(
        &p,
        &["0", "fail"],
        &["100"],
        &logging_rollback(p.dir.path()),
        ", on_inconclusive: fail",
    );
    let b = baseline(&p);
    let s = watch_json(&p, &b, &[], 1);
    assert_eq!(s["verdict"], "inconclusive", "fail-closed still says why");
    assert_eq!(s["rollback"]["ran"], true, "fail-closed rolls back");
    assert_eq!(p.read("rollback.log").unwrap().lines().count(), 1);
}

#[test]
fn latest_stored_baseline_is_used_and_required() {
    let p = Project::new();
    config(
        &p,
        &["0"],
        &["100", "101", "99", "100", "250"],
        &logging_rollback(p.dir.path()),
        ", medium: 1",
    );
    // No baseline yet: the zscore rule cannot run, nothing is watched.
    let out = p.cmd().args(["watch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a baseline of `latency_ms`"));
    exits(
        p.cmd()
            .args(["baseline", "--samples", "4", "--interval", "50ms"]),
        0,
    );
    // The fifth latency reading (250 ms) is far outside 100 ± 1: medium anomaly, medium: 1 rolls back.
    let out = exits(p.cmd().args(["watch", "--output", "json"]), 1);
    let s = json(&out.stdout);
    assert_eq!(s["anomalies"][0]["rule"], "latency-outlier");
    assert_eq!(s["anomalies"][0]["observed"], 250.0);
}

#[test]
fn service_down_past_its_for_rolls_back() {
    let p = Project::new();
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    GateConfig::new("200ms", "3s")
        .metric(
            "db",
            &format!("{{ probe: {{ tcp: {{ address: \"127.0.0.1:{port}\", timeout: 300ms }} }} }}"),
        )
        .rule("{ name: db-down, metric: db, detector: { down: { for: 600ms } } }")
        .rollback(&logging_rollback(p.dir.path()))
        .write(&p);
    let out = exits(p.cmd().args(["watch", "--output", "json"]), 1);
    let s = json(&out.stdout);
    assert_eq!(s["anomalies"][0]["kind"], "SERVICE_DOWN");
    assert_eq!(s["anomalies"][0]["severity"], "critical");
    assert!(
        s["ticks"].as_u64().unwrap() >= 4,
        "down must hold 600 ms first"
    );
}

#[test]
fn sigint_saves_the_run_and_exits_130_without_rollback() {
    let p = Project::new();
    config(&p, &["0"], &["100"], &logging_rollback(p.dir.path()), "");
    let b = baseline(&p);
    let b = b.to_str().unwrap();
    let child = p.spawn(&[
        "watch",
        "--duration",
        "60s",
        "--output",
        "json",
        "--baseline",
        b,
    ]);
    // Wait until it has ticked at least twice, then interrupt.
    for _ in 0..100 {
        if p.calls("error_rate") >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(p.calls("error_rate") >= 2, "watch never ticked");
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json(&out.stdout);
    assert_eq!(s["interrupted"], true);
    assert!(p.read("rollback.log").is_none());
    let h = p
        .cmd()
        .args(["history", "--output", "json"])
        .output()
        .unwrap();
    let runs = json(&h.stdout);
    assert_eq!(runs[0]["status"], "interrupted");
    assert_eq!(runs[0]["exit_code"], 130);
}

#[test]
fn history_lists_runs_with_filters() {
    let p = Project::new();
    config(
        &p,
        &["0", "0", "50"],
        &["100"],
        &logging_rollback(p.dir.path()),
        "",
    );
    let b = baseline(&p);
    p.cmd()
        .args(["watch", "--baseline"])
        .arg(&b)
        .assert()
        .code(1);
    std::fs::remove_file(p.path("series/error_rate.txt.count")).unwrap();
    p.write("series/error_rate.txt", "0\n");
    p.cmd()
        .args(["watch", "--baseline"])
        .arg(&b)
        .assert()
        .code(0);
    let all = json(
        &p.cmd()
            .args(["history", "--output", "json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(all.as_array().unwrap().len(), 2);
    let rb = json(
        &p.cmd()
            .args(["history", "--verdict", "rollback", "--output", "json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(rb.as_array().unwrap().len(), 1);
    assert_eq!(rb[0]["rolled_back"], true);
    assert!(rb[0]["anomalies"].as_i64().unwrap() >= 1);
    let table = p.cmd().arg("history").output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("rollback"));
}

#[test]
fn isolation_forest_trains_on_the_stored_baseline_rows_and_judges_the_joint_vector() {
    let p = Project::new();
    // Baseline: a and b move together (b ≈ 2a); one tick of `a` failed and is stored as null.
    let a_at = |i: usize| 10.0 + ((i * 37) % 100) as f64 / 10.0;
    let a_base: Vec<String> = (0..40).map(|i| format!("{}", a_at(i))).collect();
    let b_base: Vec<String> = (0..40)
        .map(|i| format!("{}", 2.0 * a_at(i) + ((i * 13) % 7) as f64 / 10.0))
        .collect();
    let mut a_vals: Vec<&str> = a_base.iter().map(String::as_str).collect();
    a_vals[5] = "fail";
    let mut b_vals: Vec<&str> = b_base.iter().map(String::as_str).collect();
    // Then the watch: three normal ticks, then a point far from every baseline row.
    // With only 39 training rows an isolated point scores about 0.63 (c(39) ≈ 6.5 bounds
    // the path-length ratio), under the fixed 0.65 default, so the rule takes its threshold
    // from the baseline's own scores (`contamination`), as README advises for small baselines.
    a_vals.extend(["12", "15", "11", "90"]);
    b_vals.extend(["24", "30", "22", "400"]);
    let a = p.series("a", &a_vals);
    let b = p.series("b", &b_vals);
    GateConfig::new("200ms", "3s")
        .probe("a", &a)
        .probe("b", &b)
        .rule("{ name: joint, detector: { isolation_forest: { metrics: [a, b], contamination: 0.05, seed: 7 } }, kind: HIGH_LATENCY, severity: critical }")
        .rollback(&logging_rollback(p.dir.path()))
        .write(&p);
    exits(
        p.cmd().args([
            "baseline",
            "--samples",
            "40",
            "--interval",
            "10ms",
            "--output",
            "b.json",
        ]),
        0,
    );
    let stored: serde_json::Value = serde_json::from_str(&p.read("b.json").unwrap()).unwrap();
    assert!(
        stored["series"]["a"][5].is_null(),
        "a failed tick is kept in place as null: {}",
        stored["series"]["a"]
    );
    assert_eq!(stored["series"]["b"].as_array().unwrap().len(), 40);

    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    let s = json(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", s["rules"]);
    assert_eq!(
        s["ticks"], 4,
        "the first three joint vectors look like the baseline; the fourth does not"
    );
    assert_eq!(s["anomalies"][0]["rule"], "joint");
    assert_eq!(s["anomalies"][0]["detector"], "isolation_forest");
    assert_eq!(p.read("rollback.log").unwrap().lines().count(), 1);
}
