//! Manual overrides through the real binary: hold (no automatic rollback), release, and
//! abort from a second process while a watch runs.

use crate::common;

use common::config::{GateConfig, HIGH_ERROR_RATE};
use common::{exits, json, logging_rollback, Project};
use std::process::Child;
use std::time::{Duration, Instant};

/// A config whose error rate follows `errors` (threshold 5, critical: one firing rolls back).
fn project(errors: &[&str]) -> Project {
    let p = Project::new();
    GateConfig::new("200ms", "2s")
        .probe("error_rate", &p.series("error_rate", errors))
        .rule(HIGH_ERROR_RATE)
        .rollback(&logging_rollback(p.dir.path()))
        .rollback_field("timeout: 10s")
        .write(&p);
    p
}

fn run(p: &Project, args: &[&str]) -> std::process::Output {
    exits(p.cmd().env("VZ_ACTOR", "bob").args(args), 0)
}

/// Waits for the child at most `limit`; kills it and fails if it is still running.
fn wait(mut child: Child, limit: Duration) -> std::process::Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "watch still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn wait_for_calls(p: &Project, n: usize) {
    let start = Instant::now();
    while p.calls("error_rate") < n {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the watch never ticked {n} times"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn actions(p: &Project) -> Vec<serde_json::Value> {
    let out = run(p, &["audit", "export"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hold_makes_a_regressing_watch_exit_1_without_rolling_back() {
    let p = project(&["0", "12"]);
    run(
        &p,
        &["hold", "--deployment", "web", "--reason", "investigating"],
    );
    let out = exits(p.cmd().args(["watch", "--output", "json"]), 1);
    let s = json(&out.stdout);
    assert_eq!(s["verdict"], "rollback");
    assert_eq!(s["rollback"]["ran"], false);
    let note = s["rollback"]["note"].as_str().unwrap();
    assert!(note.contains("on hold by bob: investigating"), "{note}");
    assert!(
        p.read("rollback.log").is_none(),
        "a hold must stop the automatic rollback"
    );
    let log = actions(&p);
    assert!(log.iter().any(|e| e["action"] == "hold"
        && e["actor"] == "bob"
        && e["details"]["reason"] == "investigating"));
    assert!(log
        .iter()
        .any(|e| e["action"] == "override_seen" && e["details"]["override"] == "hold"));
    assert_eq!(run(&p, &["audit", "verify"]).status.code(), Some(0));
}

#[test]
fn release_during_a_watch_lets_it_roll_back_again() {
    // Healthy for 40 ticks, then regressing: the release lands well before.
    let mut values = vec!["0"; 40];
    values.push("12");
    let p = project(&values);
    run(&p, &["hold", "--reason", "freeze"]);
    let child = p.spawn(&["watch", "--duration", "30s", "--output", "json"]);
    wait_for_calls(&p, 2);
    run(&p, &["release"]);
    let out = wait(child, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("hold released by bob"), "{err}");
    let s = json(&out.stdout);
    assert_eq!(s["rollback"]["ran"], true, "{s}");
    let log = p.read("rollback.log").expect("the rollback ran");
    assert_eq!(log.lines().count(), 1);
}

#[test]
fn abort_from_a_second_process_rolls_back_a_running_watch_within_a_tick() {
    let p = project(&["0"]);
    let child = p.spawn(&["watch", "--duration", "30s", "--output", "json"]);
    wait_for_calls(&p, 2);
    let out = run(
        &p,
        &["abort", "--deployment", "web", "--reason", "bad deploy"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 running watch"));
    // The window is 30 s; the watch must end long before it on the abort.
    let out = wait(child, Duration::from_secs(25));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let s = json(&out.stdout);
    assert_eq!(s["verdict"], "rollback");
    assert!(
        s["reasons"][0]
            .as_str()
            .unwrap()
            .contains("aborted by bob: bad deploy"),
        "{s}"
    );
    assert_eq!(s["rollback"]["ran"], true);
    let log = p.read("rollback.log").expect("the rollback ran");
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("aborted by bob: bad deploy"), "{log}");
    let audit = actions(&p);
    let seen = audit
        .iter()
        .find(|e| e["action"] == "override_seen")
        .expect("the watch recorded taking the abort");
    assert_eq!(seen["details"]["override"], "abort");
    assert_eq!(seen["run_id"], s["run_id"]);
    assert!(audit
        .iter()
        .any(|e| e["action"] == "rollback" && e["details"]["trigger"] == "auto"));
}

#[test]
fn an_abort_placed_before_a_watch_started_does_not_touch_it() {
    let p = project(&["0"]);
    run(&p, &["abort", "--reason", "for an earlier run"]);
    std::thread::sleep(Duration::from_millis(20));
    exits(
        p.cmd()
            .args(["watch", "--duration", "600ms", "--output", "json"]),
        0,
    );
    assert!(p.read("rollback.log").is_none());
}

#[test]
fn abort_needs_a_reason() {
    let p = project(&["0"]);
    let out = p.cmd().args(["abort"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
