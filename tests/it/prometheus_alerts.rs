//! Prometheus alerting rules as gates, end to end: the real binary against a REAL
//! Prometheus (started by the test on a free loopback port) scraping two REAL targets and a
//! dead one. Each label set of an alert is its own series with its own `for`; series already
//! firing before the watch (the dead target, a Watchdog) do not roll back a healthy deploy.
//! Needs `prometheus` installed (.ci/setup.sh): without it these tests fail.

use crate::common;

use common::config::GateConfig;
use common::prometheus::{free_port, Prometheus, Target};
use common::{json, logging_rollback, Project};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const RULES: &str = r#"groups:
  - name: targets
    rules:
      - alert: TargetDown
        expr: up{job="target"} == 0
        for: FOR
        labels: { severity: SEVERITY }
        annotations:
          summary: "{{ $labels.instance }} of job {{ $labels.job }} is down"
  - name: meta
    rules:
      # Always firing, as in most packs; critical here so that counting it would roll back.
      - alert: Watchdog
        expr: vector(1)
        labels: { severity: critical }
      - alert: DeadMansSwitch
        expr: |
          1
          # a scalar expression, ending in a comment line
        labels: { severity: critical }
"#;

/// Two live targets and a dead address, all scraped by one Prometheus that has seen the
/// dead one down and the live ones up.
fn cluster() -> (Target, Target, String, Prometheus) {
    let (a, b) = (Target::start(), Target::start());
    let dead = format!("127.0.0.1:{}", free_port());
    let prom = Prometheus::start_scraping(&[a.address(), b.address(), dead.clone()]);
    prom.wait_for(
        &format!(r#"up{{instance="{dead}"}} == 0"#),
        Duration::from_secs(20),
    );
    prom.wait_for(
        r#"count(up{job="target"} == 1) == 2"#,
        Duration::from_secs(20),
    );
    (a, b, dead, prom)
}

fn project(prom: &Prometheus, for_: &str, severity: &str, extra: &str) -> Project {
    let p = Project::new();
    p.write(
        "alerts.yml",
        &RULES.replace("FOR", for_).replace("SEVERITY", severity),
    );
    GateConfig::new("1s", "30s")
        .section(&format!(
            "source:\n  prometheus: {{ url: \"{}\", timeout: 2s }}",
            prom.url()
        ))
        .section("include: [alerts.yml]")
        .section(extra)
        .rollback(&logging_rollback(p.dir.path()))
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .policy("critical: 1, medium: 2")
        .write(&p);
    p
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn rollbacks(p: &Project) -> usize {
    p.read("rollback.log")
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_dead_target_and_a_watchdog_do_not_roll_back_a_healthy_watch() {
    let (_a, _b, dead, prom) = cluster();
    let p = project(&prom, "2s", "critical", "");
    let started = std::time::Instant::now();
    let out = p
        .cmd()
        .args(["watch", "--duration", "6s", "--output", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let run = json(&out.stdout);
    assert_eq!(run["verdict"], "healthy", "{run}");
    assert_eq!(run["anomalies"].as_array().unwrap().len(), 0, "{run}");
    assert_eq!(rollbacks(&p), 0);
    assert!(
        stderr.contains("alert_target_down: 1 series already firing before the watch")
            && stderr.contains("alert_watchdog: 1 series already firing")
            && stderr.contains("alert_dead_mans_switch: 1 series already firing"),
        "{stderr}"
    );
    eprintln!(
        "healthy watch with a dead target and a Watchdog: exit 0 in {:.1}s, {} ticks",
        started.elapsed().as_secs_f64(),
        run["ticks"]
    );

    // The same world with `pre_existing: count`: the old incidents roll back at once, so
    // the healthy verdict above was the lookback's doing.
    let p = project(
        &prom,
        "2s",
        "critical",
        "alerting: { pre_existing: count }\n",
    );
    let out = p
        .cmd()
        .args(["watch", "--duration", "6s", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = json(&out.stdout);
    let fired: Vec<String> = run["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} {}", a["rule"], a["series"]))
        .collect();
    assert!(
        fired.iter().any(|f| f.contains("Watchdog")) || fired.iter().any(|f| f.contains(&dead)),
        "{fired:?}"
    );
    assert_eq!(rollbacks(&p), 1);
}

#[test]
fn a_target_killed_during_the_watch_rolls_back_with_its_labels_and_summary() {
    let (_a, b, dead, prom) = cluster();
    let p = project(&prom, "2s", "critical", "");
    let victim = b.address();
    let watch = p.spawn(&["watch", "--output", "json"]);
    std::thread::sleep(Duration::from_secs(4));
    let killed_at = now_ms();
    drop(b);
    let out = watch.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(rollbacks(&p), 1);
    let run = json(&out.stdout);
    let fired = run["anomalies"].as_array().unwrap();
    assert_eq!(
        fired.len(),
        1,
        "only the killed target's series fires: {run}"
    );
    let a = &fired[0];
    assert_eq!(a["rule"], "TargetDown");
    assert_eq!(a["severity"], "critical");
    let series = a["series"].as_str().unwrap();
    assert!(
        series.starts_with("alert_target_down{")
            && series.contains(&format!("instance=\"{victim}\"")),
        "{series}"
    );
    assert!(!series.contains(&dead), "{series}");
    assert_eq!(
        a["annotations"]["summary"],
        format!("{victim} of job target is down")
    );
    assert_eq!(a["annotations"]["label_instance"], victim.as_str());
    assert_eq!(a["annotations"]["label_job"], "target");
    assert_eq!(a["annotations"]["alertname"], "TargetDown");
    assert_eq!(
        a["observed"], 0.0,
        "the alert's value (up == 0), not the gate's 1"
    );
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{victim} of job target is down")),
        "{a}"
    );
    let after_kill = a["fired_at"].as_i64().unwrap() - killed_at;
    assert!(
        (2000..15000).contains(&after_kill),
        "fired {after_kill} ms after the kill; `for: 2s` counts from when the series appeared"
    );
    eprintln!(
        "killed target: TargetDown{{instance=\"{victim}\"}} fired {after_kill} ms after the kill \
         (for: 2s, scrape 1s, tick 1s); run decided {} ms after its start",
        run["decided_at"].as_i64().unwrap() - run["started_at"].as_i64().unwrap()
    );
}

#[test]
fn each_series_for_counts_from_when_its_own_condition_began() {
    let (a, b, _dead, prom) = cluster();
    // Warnings (medium): the first does not roll back (policy medium: 2), so both fire.
    let p = project(&prom, "4s", "warning", "");
    let (first, second) = (a.address(), b.address());
    let watch = p.spawn(&["watch", "--output", "json"]);
    std::thread::sleep(Duration::from_secs(3));
    let killed_a = now_ms();
    drop(a);
    std::thread::sleep(Duration::from_secs(4));
    let killed_b = now_ms();
    drop(b);
    let out = watch.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let run = json(&out.stdout);
    let fired_at = |who: &str| -> i64 {
        run["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["series"].as_str().unwrap().contains(who))
            .unwrap_or_else(|| panic!("no anomaly for {who}: {run}"))["fired_at"]
            .as_i64()
            .unwrap()
    };
    let (fa, fb) = (fired_at(&first), fired_at(&second));
    // Each waited its own 4 s: the second did not inherit the first one's pending time.
    assert!(
        fa - killed_a >= 4000,
        "first fired {} ms after its kill",
        fa - killed_a
    );
    assert!(
        fb - killed_b >= 4000,
        "second fired {} ms after its kill",
        fb - killed_b
    );
    assert!(
        fb - fa >= 1000,
        "second fired {} ms after the first",
        fb - fa
    );
    eprintln!(
        "per-series for (4s): first target fired {} ms after its kill, second {} ms after \
         its kill, {} ms apart (kills {} ms apart)",
        fa - killed_a,
        fb - killed_b,
        fb - fa,
        killed_b - killed_a
    );
}

#[test]
fn check_online_runs_scalar_and_commented_alerts_as_written() {
    let (_a, _b, _dead, prom) = cluster();
    let p = project(&prom, "2s", "critical", "");
    let out = p
        .cmd()
        .args(["check", "--online", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    for r in report["online"].as_array().unwrap() {
        assert_ne!(r["status"], "error", "{r}");
    }
    let status = |m: &str| {
        report["online"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == m)
            .unwrap_or_else(|| panic!("{m}: {report}"))["status"]
            .clone()
    };
    assert_eq!(status("alert_dead_mans_switch"), "ok");
    assert_eq!(status("alert_watchdog"), "ok");
    assert_eq!(status("alert_target_down"), "ok");
}
