//! `report` (table, JSON, Markdown, JUnit) from stored runs, `history` filters, and `health`.

use crate::common;

use common::config::GateConfig;
use common::{exits, json, logging_rollback, Project};

/// Two rules: the error rate regresses (fires), the latency stays fine.
fn project(p: &Project, deployment: &str, errors: &[&str]) {
    let er = p.series(&format!("error_rate_{deployment}"), errors);
    let lat = p.series(&format!("latency_{deployment}"), &["100"]);
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: {deployment}\ninterval: 100ms\nduration: 600ms\nmetrics:\n  error_rate:\n    probe: {{ command: {er} }}\n  latency_ms:\n    probe: {{ command: {lat} }}\nrules:\n  - name: high-error-rate\n    metric: error_rate\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n    kind: HIGH_ERROR_RATE\n    description: \"errors <above> 5 & rising\"\n  - name: slow\n    metric: latency_ms\n    detector: {{ threshold: {{ op: \">\", value: 500 }} }}\n    kind: HIGH_LATENCY\nrollback:\n  command: {}\n",
            logging_rollback(p.dir.path())
        ),
    );
}

/// Runs a watch and returns its JSON summary.
fn watch(p: &Project) -> serde_json::Value {
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn report(p: &Project, id: &str, format: &str) -> String {
    let out = exits(p.cmd().args(["report", id, "--format", format]), 0);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn junit_parses_and_has_one_testcase_per_rule_with_failures_for_fired_rules() {
    let p = Project::new();
    project(&p, "web", &["0", "12"]);
    let s = watch(&p);
    assert_eq!(s["verdict"], "rollback");
    let id = s["run_id"].as_str().unwrap();
    let xml = report(&p, &id[..8], "junit");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1, "one testsuite per run");
    let suite = suites[0];
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let rules = s["rules"].as_array().unwrap();
    assert_eq!(cases.len(), rules.len(), "one testcase per rule: {xml}");
    assert_eq!(
        suite.attribute("tests"),
        Some(rules.len().to_string().as_str())
    );
    let failed: Vec<_> = cases
        .iter()
        .filter_map(|c| {
            c.children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| (c.attribute("name").unwrap(), f))
        })
        .collect();
    assert_eq!(failed.len(), 1, "{xml}");
    assert!(failed[0].0.starts_with("high-error-rate"));
    let fired = rules
        .iter()
        .find(|r| r["rule"] == "high-error-rate")
        .unwrap();
    assert_eq!(failed[0].1.attribute("message"), fired["reason"].as_str());
    assert_eq!(suite.attribute("failures"), Some("1"));
    let prop = |name: &str| {
        suite
            .descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
            .and_then(|n| n.attribute("value"))
            .map(str::to_string)
    };
    assert_eq!(prop("verdict").as_deref(), Some("rollback"));
    assert_eq!(prop("deployment").as_deref(), Some("web"));
    assert_eq!(prop("run_id").as_deref(), Some(id));
}

#[test]
fn markdown_json_and_table_render_the_stored_run() {
    let p = Project::new();
    project(&p, "web", &["0", "12"]);
    let s = watch(&p);
    let id = s["run_id"].as_str().unwrap();
    let md = report(&p, id, "markdown");
    assert!(md.contains("vz-monitor: ROLLBACK — `web`"), "{md}");
    assert!(md.contains("| Rule | Series |"), "{md}");
    assert!(
        md.contains("| high-error-rate | error_rate | critical | **FIRING** |"),
        "{md}"
    );
    assert!(md.contains("| slow | latency_ms |"), "{md}");
    assert!(md.contains("| Rollback | ran, succeeded"), "{md}");
    let j: serde_json::Value = serde_json::from_str(&report(&p, &id[..6], "json")).unwrap();
    assert_eq!(j["run_id"], s["run_id"]);
    assert_eq!(j["rules"], s["rules"]);
    assert_eq!(j["verdict"], "rollback");
    let t = report(&p, "latest", "table");
    assert!(
        t.contains("high-error-rate") && t.contains("ROLLBACK (exit 1)"),
        "{t}"
    );
}

#[test]
fn an_unknown_or_ambiguous_run_id_is_a_usage_error() {
    let p = Project::new();
    project(&p, "web", &["0"]);
    watch(&p);
    let c = rusqlite::Connection::open(p.path(".vz-monitor/vz.db")).unwrap();
    for id in ["aaaa1111", "aaaa2222"] {
        c.execute(
            "INSERT INTO runs (id, deployment, kind, started_at, status, config_digest) VALUES (?1, 'web', 'watch', 1, 'running', 'x')",
            [id],
        )
        .unwrap();
    }
    let out = p.cmd().args(["report", "zzzz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run matches"));
    let out = p.cmd().args(["report", "aaaa"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("matches 2 runs (aaaa"), "{err}");
    // A unique prefix of a run still running (no summary yet) reports what is known.
    let t = report(&p, "aaaa2", "table");
    assert!(t.contains("run aaaa2222 (watch, running)"), "{t}");
}

#[test]
fn a_manual_rollback_reports_with_no_rules() {
    let p = Project::new();
    project(&p, "web", &["0"]);
    let out = p
        .cmd()
        .args(["rollback", "--reason", "by hand"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let xml = report(&p, "latest", "junit");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        0
    );
    assert!(
        xml.contains("name=\"verdict\" value=\"rolled_back\""),
        "{xml}"
    );
    assert!(report(&p, "latest", "markdown").contains("ran, succeeded"));
}

#[test]
fn history_filters_by_deployment_verdict_and_age() {
    let p = Project::new();
    project(&p, "web", &["0", "12"]);
    watch(&p);
    project(&p, "api", &["0"]);
    watch(&p);
    let list = |args: &[&str]| {
        let out = p
            .cmd()
            .arg("history")
            .args(args)
            .args(["--output", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        json(&out.stdout).as_array().unwrap().clone()
    };
    assert_eq!(list(&[]).len(), 2);
    let web = list(&["--deployment", "web"]);
    assert_eq!(web.len(), 1);
    assert_eq!(web[0]["verdict"], "rollback");
    let healthy = list(&["--verdict", "healthy"]);
    assert_eq!(healthy.len(), 1);
    assert_eq!(healthy[0]["deployment"], "api");
    assert_eq!(list(&["--since", "1h"]).len(), 2);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(list(&["--since", "1s"]).len(), 0);
}

#[test]
fn health_exits_0_when_every_probe_answers_and_1_when_one_fails() {
    let p = Project::new();
    let good = p.series("good", &["42"]);
    GateConfig::bare().probe("good", &good).write(&p);
    let out = p.cmd().arg("health").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("good") && text.contains("42"), "{text}");

    let bad = p.series("bad", &["fail"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    GateConfig::bare()
        .probe("good", &good)
        .probe("bad", &bad)
        .metric(
            "db",
            &format!("{{ probe: {{ tcp: {{ address: \"127.0.0.1:{port}\", timeout: 500ms }} }} }}"),
        )
        .write(&p);
    let out = p.cmd().arg("health").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("1 of 3 metrics answered"), "{text}");
    let out = p
        .cmd()
        .args(["health", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = json(&out.stdout);
    let status = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["series"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("good"), "ok");
    assert_eq!(status("bad"), "missing");
    assert_eq!(status("db"), "down");
}

/// Commands that only read the store never create one: a store that is not there is "no
/// store at X" (exit 2), and neither the file nor its folders appear (issue 25, item 5).
#[test]
fn reading_commands_never_create_a_store() {
    let p = Project::new();
    let missing = p.path("nonexistent/dir/x.db");
    let db = missing.display().to_string();
    for args in [
        vec!["history"],
        vec!["report", "latest"],
        vec!["audit", "verify"],
        vec!["audit", "export"],
    ] {
        let out = p.cmd().args(["--db", &db]).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no store at {db}")),
            "{args:?}: {err}"
        );
        assert!(
            !p.path("nonexistent").exists(),
            "{args:?} created the folders"
        );
    }
}
