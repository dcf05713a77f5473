//! A fleet of runners on one store: one rollback per deployment across processes (SQLite
//! and PostgreSQL), runs of one runner seen by another, one audit chain under concurrent
//! appends, and runs killed with kill -9 shown as abandoned (leases).

use crate::common;

use common::config::GateConfig;
use common::postgres::Postgres;
use common::{exits, json, Project};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// A deployment whose error rate is 12 from the first tick; the rule must hold 1.5 s, so
/// watches started together all reach the decision after every one of them has started.
/// The rollback logs its run id and takes a second.
fn regressing(p: &Project) {
    let log = p.path("rollback.log");
    GateConfig::new("100ms", "20s")
        .probe("error_rate", ECHO_12)
        .rule(&high_error_rate("1500ms"))
        .rollback(&format!(
            r#"["sh", "-c", "echo $VZ_RUN_ID >> {}; sleep 1"]"#,
            log.display()
        ))
        .rollback_field("timeout: 10s")
        .write(p);
}

/// A probe reading an error rate of 12.
const ECHO_12: &str = r#"["sh", "-c", "echo 12"]"#;

/// Error rate above 5 for `hold` is `HIGH_ERROR_RATE`.
fn high_error_rate(hold: &str) -> String {
    format!(
        r#"{{ name: high-error-rate, metric: error_rate, detector: {{ threshold: {{ op: ">", value: 5 }} }}, for: {hold}, kind: HIGH_ERROR_RATE }}"#
    )
}

fn healthy(p: &Project) {
    GateConfig::new("100ms", "1s")
        .probe("error_rate", r#"["sh", "-c", "echo 1"]"#)
        .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } } }"#)
        .write(p);
}

/// `vz-monitor ARGS` on the store at `url` (None: the project's SQLite file), not waited for.
fn spawn(p: &Project, url: Option<&str>, args: &[&str]) -> Child {
    let mut c = p.std_cmd();
    if let Some(u) = url {
        c.env("VZ_STORE_URL", u);
    }
    c.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start vz-monitor")
}

fn run(p: &Project, url: Option<&str>, args: &[&str], code: i32) -> Output {
    let mut c = p.cmd();
    if let Some(u) = url {
        c.env("VZ_STORE_URL", u);
    }
    exits(c.env("VZ_ACTOR", "bob").args(args), code)
}

/// Starts 8 watches of one regressing deployment together: exactly one runs the command,
/// the other seven say which run did and exit 1.
fn eight_watches_roll_back_once(url: Option<&str>) {
    let p = Project::new();
    regressing(&p);
    // The store exists (migrated) before the race, as on a real fleet. (`prune` writes, so
    // it creates the store; `history` only reads and refuses a store that is not there.)
    run(&p, url, &["prune"], 0);
    let children: Vec<Child> = (0..8)
        .map(|_| spawn(&p, url, &["watch", "--output", "json"]))
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let log = p.read("rollback.log").unwrap_or_default();
    let ran: Vec<&str> = log.lines().collect();
    assert_eq!(
        ran.len(),
        1,
        "the rollback command ran {} times: {log}",
        ran.len()
    );
    let winner = ran[0];
    let mut others = 0;
    for out in &outs {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let s = json(&out.stdout);
        if s["run_id"] == winner {
            assert_eq!(s["rollback"]["ran"], true, "{err}");
        } else {
            others += 1;
            assert_eq!(s["rollback"]["ran"], false, "{err}");
            assert!(
                err.contains(&format!("rolled back by run {winner}")),
                "{err}"
            );
        }
    }
    assert_eq!(others, 7);
    assert_eq!(run(&p, url, &["audit", "verify"], 0).status.code(), Some(0));
}

#[test]
fn eight_watches_of_one_deployment_run_the_rollback_once_on_sqlite() {
    eight_watches_roll_back_once(None);
}

#[test]
fn eight_watches_of_one_deployment_run_the_rollback_once_on_postgres() {
    let pg = Postgres::start();
    eight_watches_roll_back_once(Some(&pg.url("fleet")));
}

#[test]
fn runs_on_one_runner_are_seen_held_and_audited_on_another() {
    let pg = Postgres::start();
    let url = pg.url("shared");
    let (a, b) = (Project::new(), Project::new());
    healthy(&a);
    healthy(&b);
    run(
        &a,
        Some(&url),
        &["baseline", "--samples", "3", "--interval", "50ms"],
        0,
    );
    let out = run(&a, Some(&url), &["watch", "--output", "json"], 0);
    let run_id = json(&out.stdout)["run_id"].as_str().unwrap().to_string();
    // Runner B has no file of its own: everything comes from the server.
    let h = json(&run(&b, Some(&url), &["history", "--output", "json"], 0).stdout);
    let runs = h.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{h}");
    assert_eq!(runs[0]["id"], run_id.as_str());
    assert_eq!(runs[0]["status"], "finished");
    assert_eq!(runs[0]["verdict"], "healthy");
    let r = json(
        &run(
            &b,
            Some(&url),
            &["report", &run_id[..8], "--format", "json"],
            0,
        )
        .stdout,
    );
    assert_eq!(r["run_id"], run_id.as_str());
    run(
        &b,
        Some(&url),
        &["hold", "--deployment", "web", "--reason", "freeze"],
        0,
    );
    assert!(
        !b.path(".vz-monitor/vz.db").exists(),
        "runner B must not write a SQLite file"
    );
    let export = run(&a, Some(&url), &["audit", "export"], 0);
    let actions: Vec<serde_json::Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for want in ["baseline", "run_start", "decision", "run_finish", "hold"] {
        assert!(
            actions.iter().any(|e| e["action"] == want),
            "no {want} entry: {actions:?}"
        );
    }
    run(&a, Some(&url), &["audit", "verify"], 0);
    assert_eq!(
        pg.psql("shared", "SELECT version FROM vz_schema"),
        vz_monitor::store::migrations::VERSION.to_string()
    );
}

#[test]
fn concurrent_appends_from_many_runners_keep_one_chain_on_postgres() {
    let pg = Postgres::start();
    let url = pg.url("chain");
    let p = Project::new();
    healthy(&p);
    run(&p, Some(&url), &["history"], 0);
    let children: Vec<Child> = (0..12)
        .map(|i| {
            let kind = if i % 2 == 0 { "hold" } else { "release" };
            spawn(
                &p,
                Some(&url),
                &[kind, "--deployment", "web", "--reason", "load"],
            )
        })
        .chain((0..2).map(|_| spawn(&p, Some(&url), &["watch"])))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = run(&p, Some(&url), &["audit", "verify", "--output", "json"], 0);
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(text.contains("intact"), "{text}");
    let entries = pg.psql("chain", "SELECT COUNT(*) FROM audit");
    let max = pg.psql("chain", "SELECT MAX(seq) FROM audit");
    assert_eq!(entries, max, "seq has gaps or duplicates");
    assert_eq!(pg.psql("chain", "SELECT COUNT(*) FROM overrides"), "12");
}

fn status(p: &Project) -> String {
    let h = json(&run(p, None, &["history", "--output", "json"], 0).stdout);
    h[0]["status"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_watch_killed_with_sigkill_is_abandoned_within_its_lease_and_not_live_for_abort() {
    let p = Project::new();
    let probe = p.series("error_rate", &["1"]);
    GateConfig::new("200ms", "60s")
        .probe("error_rate", &probe)
        .rule(r#"{ name: r, metric: error_rate, detector: { threshold: { op: ">", value: 5 } } }"#)
        .write(&p);
    let mut child = spawn(&p, None, &["watch"]);
    let start = Instant::now();
    while p.calls("error_rate") < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the watch never ticked"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status(&p), "running");
    child.kill().unwrap(); // SIGKILL: no chance to record anything
    child.wait().unwrap();
    let killed = Instant::now();
    // Lease: max(3 × 200 ms, 10 s) from the last stored tick.
    let out = run(&p, None, &["abort", "--reason", "x"], 0);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("no running watch"),
        "within its lease the run still counts as live"
    );
    while status(&p) != "abandoned" {
        assert!(
            killed.elapsed() < Duration::from_secs(12),
            "the killed run is not abandoned 12 s after kill -9"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        killed.elapsed() > Duration::from_secs(8),
        "abandoned before its lease lapsed"
    );
    let out = run(&p, None, &["abort", "--reason", "x"], 0);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no running watch"),
        "an abandoned run must not count as live: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A watch that wins the rollback claim is killed with kill -9 while its command runs; a
/// watch of the same deploy (started before the claim) waits, sees the claimer's lease lapse
/// without a recorded rollback, and — the command being declared idempotent — takes the
/// claim over and runs the command itself. (Not idempotent: exit 4, tests/faults_run.rs.)
fn a_killed_claimer_is_taken_over(url: Option<&str>) {
    let p = Project::new();
    let (log, first) = (p.path("rollback.log"), p.path("first.pid"));
    // The first rollback hangs (its process group id saved, to clean up); the second is quick.
    let command = format!(
        "[\"sh\", \"-c\", \"echo $VZ_RUN_ID >> {}; if [ ! -e {f} ]; then echo $$ > {f}; sleep 60; fi\"]",
        log.display(),
        f = first.display()
    );
    for (file, hold) in [("fast.yaml", "0s"), ("slow.yaml", "3s")] {
        let config = GateConfig::new("100ms", "60s")
            .probe("error_rate", ECHO_12)
            .rule(&high_error_rate(hold))
            .rollback(&command)
            .rollback_field("timeout: 120s")
            .rollback_field("idempotent: true");
        p.write(file, &config.yaml());
    }
    run(&p, url, &["prune"], 0);
    let waiter = spawn(
        &p,
        url,
        &["--config", "slow.yaml", "watch", "--output", "json"],
    );
    std::thread::sleep(Duration::from_millis(500));
    let mut claimer = spawn(&p, url, &["--config", "fast.yaml", "watch"]);
    let start = Instant::now();
    while p.read("first.pid").is_none_or(|s| !s.ends_with('\n')) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first watch never started its rollback"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    claimer.kill().unwrap(); // SIGKILL, between its claim and its recorded rollback
    claimer.wait().unwrap();
    let killed = Instant::now();
    let out = waiter.wait_with_output().unwrap();
    let took = killed.elapsed();
    let pgid = p.read("first.pid").unwrap().trim().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-9", "--", &format!("-{pgid}")])
        .status();
    let err = String::from_utf8_lossy(&out.stderr);
    let ran: Vec<String> = p
        .read("rollback.log")
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(ran.len(), 2, "the command ran {ran:?}; waiter: {err}");
    let s = json(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(s["run_id"], ran[1].as_str(), "the waiter ran it second");
    assert_eq!(s["rollback"]["ran"], true, "{err}");
    assert!(
        err.contains(&format!("run {} claimed the rollback of web", ran[0]))
            && err.contains("taking over"),
        "{err}"
    );
    // Not before the claimer's lease (10 s from its last 2 s heartbeat) lapsed.
    assert!(
        took > Duration::from_secs(7) && took < Duration::from_secs(30),
        "took over {took:?} after the kill"
    );
}

#[test]
fn a_watch_killed_after_winning_the_claim_is_taken_over_on_sqlite() {
    a_killed_claimer_is_taken_over(None);
}

#[test]
fn a_watch_killed_after_winning_the_claim_is_taken_over_on_postgres() {
    let pg = Postgres::start();
    a_killed_claimer_is_taken_over(Some(&pg.url("takeover")));
}
