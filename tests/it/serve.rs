//! `vz-monitor serve`: the real binary serving a real store. Real watches (against a real
//! Prometheus scraping a test target) write the store while a real headless Chromium has
//! the live page open; on SQLite with one runner and on PostgreSQL with two. Then what a
//! release team relies on: read-only (405), a token off loopback, every stored string
//! escaped and secrets masked, the audit chain's verification, a store that is not there
//! yet (503) and then is.

#[path = "serve/cdp.rs"]
mod cdp;
use crate::common;
#[path = "serve/support.rs"]
mod support;

use cdp::{picture, Browser};
use common::postgres::Postgres;
use common::prometheus::{target_metrics, Prometheus, Target};
use common::{exits, json, logging_rollback, Project};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use support::{quick_watch, request, Server};
use vz_monitor::gate::Evaluation;

#[test]
fn only_get_and_head_are_answered_and_a_missing_store_is_a_503_until_it_appears() {
    let p = Project::new();
    let server = Server::start(&p, "store/vz.db", &[]);
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        for path in ["/runs", "/api/runs", "/nope"] {
            let r = request(server.port, method, path, &[]);
            assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
            assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method} {path}");
        }
    }
    // No store yet: a clear page, 503, the CSP on it, and no store created by reading.
    let r = request(server.port, "GET", "/runs", &[]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("no store at"), "{}", r.body);
    let csp = r.header("content-security-policy").expect("a CSP");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(!p.path("store").exists(), "a read created the store");
    let r = request(server.port, "HEAD", "/api/health", &[]);
    assert_eq!((r.status, r.body.as_str()), (503, ""));
    let r = request(
        server.port,
        "GET",
        "/runs",
        &[("Host", "attacker.example:8080")],
    );
    assert_eq!(
        r.status, 421,
        "a rebound host name is refused without a token"
    );
    // The store appears (a watch runs): the same server answers from it.
    quick_watch(&p, "store/vz.db", "web", &[]);
    let r = request(server.port, "GET", "/api/runs", &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let runs = json(r.body.as_bytes());
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs["runs"][0]["deployment"], "web");
    // The JSON twin by Accept is the same document as /api/.
    let r = request(
        server.port,
        "GET",
        "/runs",
        &[("Accept", "application/json")],
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(json(r.body.as_bytes())["runs"], runs["runs"]);
}

#[test]
fn an_unreachable_postgresql_store_is_a_503_page_without_its_password() {
    let p = Project::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://vz:pw-0123456789abcdef@127.0.0.1:{closed}/vz");
    let server = Server::start(&p, &url, &[]);
    for _ in 0..2 {
        // Twice: the first failure neither ends the server nor stops it trying again.
        let r = request(server.port, "GET", "/runs", &[]);
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert!(r.body.contains("does not answer"), "{}", r.body);
        assert!(!r.body.contains("pw-0123456789abcdef"), "{}", r.body);
    }
    let r = request(server.port, "GET", "/api/live", &[]);
    assert_eq!(r.status, 503);
    assert!(
        json(r.body.as_bytes())["error"]
            .as_str()
            .is_some_and(|e| e.contains("connect")),
        "{}",
        r.body
    );
    let health = json(
        request(server.port, "GET", "/api/health", &[])
            .body
            .as_bytes(),
    );
    assert!(
        !health.to_string().contains("pw-0123456789abcdef"),
        "{health}"
    );
}

#[test]
fn a_non_loopback_listen_needs_a_token_which_is_never_shown() {
    let p = Project::new();
    let out = exits(
        p.cmd()
            .args(["serve", "--listen", "0.0.0.0:0", "--db", "vz.db"]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to serve on 0.0.0.0"), "{err}");
    assert!(err.contains("VZ_SERVE_TOKEN"), "{err}");
    let out = exits(
        p.cmd()
            .args(["serve", "--listen", "0.0.0.0:0", "--db", "vz.db"])
            .env("VZ_SERVE_TOKEN", "short"),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter than"));

    let token = "tok-9f8e7d6c5b4a39281706";
    // A run whose name holds the token: the dashboard must still not show it.
    quick_watch(&p, "vz.db", &format!("web-{token}"), &[]);
    let server = Server::start_with(&p, "vz.db", "0.0.0.0:0", &[("VZ_SERVE_TOKEN", token)]);
    assert_eq!(request(server.port, "GET", "/api/runs", &[]).status, 401);
    let wrong = request(
        server.port,
        "GET",
        "/api/runs",
        &[("Authorization", "Bearer tok-wrong-but-long-enough")],
    );
    assert_eq!(wrong.status, 401);
    let bearer = format!("Bearer {token}");
    let r = request(
        server.port,
        "GET",
        "/api/runs",
        &[("Authorization", &bearer)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(token), "the token is shown: {}", r.body);
    assert!(r.body.contains("web-***"), "{}", r.body);
    let page = request(server.port, "GET", "/runs", &[("Authorization", &bearer)]);
    assert!(page.status == 200 && !page.body.contains(token));
    let logged = server.stop();
    assert!(logged.contains("bearer token required"), "{logged}");
    assert!(!logged.contains(token), "the token was printed: {logged}");
}

#[test]
fn stored_markup_is_escaped_on_every_page_and_an_abandoned_watch_shows_as_such() {
    let p = Project::new();
    let evil = "<i>x</i>&\"'";
    quick_watch(&p, "vz.db", evil, &[]);
    // A watch that dies without a word: killed, and its lease lapses.
    let steady = p.series("steady", &["0.5"]);
    p.write(
        "slow.yaml",
        &format!("interval: 200ms\nduration: 30s\nmetrics:\n  error_rate:\n    probe: {{ command: {steady} }}\nrules:\n  - name: high-error-rate\n    metric: error_rate\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n    kind: HIGH_ERROR_RATE\n"),
    );
    let mut dead = p.spawn(&[
        "watch",
        "--config",
        "slow.yaml",
        "--db",
        "vz.db",
        "--deployment",
        "dead",
    ]);
    let t = Instant::now();
    let conn = rusqlite::Connection::open(p.path("vz.db")).unwrap();
    let running = || -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM runs WHERE deployment = 'dead' AND live IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0)
    };
    while running() == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the watch never ticked"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    dead.kill().unwrap();
    dead.wait().unwrap();
    conn.execute(
        "UPDATE runs SET lease_until = 1 WHERE deployment = 'dead'",
        [],
    )
    .unwrap();
    let server = Server::start(&p, "vz.db", &[]);
    let id = json(
        request(
            server.port,
            "GET",
            "/api/runs?deployment=%3Ci%3Ex%3C%2Fi%3E%26%22%27",
            &[],
        )
        .body
        .as_bytes(),
    )["runs"][0]["id"]
        .as_str()
        .expect("the run, found by its filter")
        .to_string();
    for path in [
        "/runs",
        &format!("/runs/{id}"),
        "/live",
        "/health",
        "/alerts",
        "/audit",
    ] {
        let r = request(server.port, "GET", path, &[]);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(
            !r.body.contains("<i>x</i>"),
            "{path} shows stored markup as markup"
        );
        assert!(
            r.body.contains("&lt;i&gt;x&lt;/i&gt;&amp;"),
            "{path} lacks the escaped name"
        );
    }
    let live = json(
        request(server.port, "GET", "/api/live", &[])
            .body
            .as_bytes(),
    );
    let abandoned = live["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["deployment"] == "dead")
        .expect("the dead watch is listed");
    assert_eq!(abandoned["status"], "abandoned", "{abandoned}");
    let page = request(server.port, "GET", "/live", &[]).body;
    assert!(page.contains("data-status=\"abandoned\""), "{page}");
    assert!(page.contains("abandoned: its runner stopped renewing its lease"));
    let health = json(
        request(server.port, "GET", "/api/health", &[])
            .body
            .as_bytes(),
    );
    assert_eq!(health["runs"]["abandoned"], 1, "{health}");
    assert_eq!(health["schema_version"], health["schema_known"]);
}

#[test]
fn a_tampered_audit_row_shows_broken_at_entry_n() {
    let p = Project::new();
    quick_watch(&p, "vz.db", "web", &[]);
    let server = Server::start(&p, "vz.db", &[]);
    let audit = json(
        request(server.port, "GET", "/api/audit", &[])
            .body
            .as_bytes(),
    );
    assert_eq!(
        audit["verification"]["outcome"]["status"], "intact",
        "{audit}"
    );
    let entries = audit["entries"].as_array().unwrap().len();
    assert!(entries >= 3, "{audit}");
    let starts = json(
        request(server.port, "GET", "/api/audit?action=run_start", &[])
            .body
            .as_bytes(),
    );
    let starts = starts["entries"].as_array().unwrap();
    assert!(!starts.is_empty() && starts.iter().all(|e| e["action"] == "run_start"));

    let conn = rusqlite::Connection::open(p.path("vz.db")).unwrap();
    conn.execute(
        "UPDATE audit SET details = '{\"forged\":true}' WHERE seq = 2",
        [],
    )
    .unwrap();
    let page = request(server.port, "GET", "/audit", &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("broken at entry 2"), "{}", page.body);
    let audit = json(
        request(server.port, "GET", "/api/audit", &[])
            .body
            .as_bytes(),
    );
    assert_eq!(audit["verification"]["outcome"]["status"], "broken");
    assert_eq!(audit["verification"]["outcome"]["seq"], 2);
    // The same verification `audit verify` does.
    let out = p
        .cmd()
        .args(["audit", "verify", "--db", "vz.db"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN at entry 2"));
}

/// vz-monitor.yaml for watches of the test target through `prom`.
fn prometheus_project(prom: &Prometheus) -> Project {
    let p = Project::new();
    let rollback = logging_rollback(p.dir.path());
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"interval: 1s
duration: 9s
source:
  prometheus: {{ url: "{}", timeout: 2s, retries: 1 }}
metrics:
{}rules:
  - name: high-error-rate
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 5 }} }}
    kind: HIGH_ERROR_RATE
    severity: critical
  - name: slow
    metric: p95_latency_ms
    detector: {{ threshold: {{ op: ">", value: 100000 }} }}
    kind: HIGH_LATENCY
    severity: high
rollback:
  command: {rollback}
  timeout: 10s
  policy: {{ critical: 1, high: 3, max_missing: "30%" }}
"#,
            prom.url(),
            target_metrics()
        ),
    );
    p
}

/// What the live page shows of each watch, read from its DOM.
const READ_PAGE: &str = r#"JSON.stringify(Array.from(document.querySelectorAll('article.watch')).map(a => ({
  id: a.dataset.runId, status: a.dataset.status,
  verdict: a.querySelector('.verdict').textContent,
  tick: a.querySelector('.tick').textContent,
  origin: a.querySelector('.origin').textContent,
  rules: Array.from(a.querySelectorAll('tr[data-rule]')).map(r => ({
    rule: r.dataset.rule, series: r.dataset.series,
    state: r.querySelector('.state').textContent, value: r.querySelector('.value').textContent }))
})))"#;

/// Real watches of `deployments` (one runner each) write `db` while Chromium has the live
/// page open; the page reaches each run's verdict and values as `report --format json`
/// gives them, with no console complaint, no request off 127.0.0.1, and a drawn screenshot.
fn live_page_follows_real_watches(db: &str, deployments: &[&str]) {
    let target = Target::start();
    let prom = Prometheus::start(&target);
    prom.wait_for(
        r#"sum(rate(http_requests_total{job="target"}[5s])) > 0"#,
        Duration::from_secs(20),
    );
    let p = prometheus_project(&prom);
    let server = Server::start(&p, db, &[]);
    let mut watches: Vec<_> = deployments
        .iter()
        .enumerate()
        .map(|(i, d)| {
            p.std_cmd()
                .args(["watch", "--db", db, "--deployment", d, "--output", "json"])
                .env("RUNNER_NAME", format!("runner-{i}"))
                .env("VZ_ACTOR", format!("ci-{i}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Open the page once every watch has ticked.
    let t = Instant::now();
    loop {
        let live = json(
            request(server.port, "GET", "/api/live", &[])
                .body
                .as_bytes(),
        );
        let ticking = live["runs"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter(|r| r["status"] == "running" && r["tick"].as_u64() >= Some(1))
                    .count()
            })
            .unwrap_or(0);
        if ticking == deployments.len() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the watches never showed up live: {live}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut browser = Browser::start();
    let base = format!("http://127.0.0.1:{}", server.port);
    browser.navigate(&format!("{base}/live"));
    let opened = Instant::now();
    let mut ticks: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut broke = false;
    let shown: Vec<Value> = loop {
        let text = browser.eval(READ_PAGE);
        let shown: Vec<Value> = text
            .as_str()
            .map(|s| serde_json::from_str(s).unwrap())
            .unwrap_or_default();
        for w in &shown {
            if w["verdict"] == "RUNNING" {
                ticks
                    .entry(w["id"].as_str().unwrap().into())
                    .or_default()
                    .insert(w["tick"].as_str().unwrap().into());
            }
        }
        if !broke && opened.elapsed() > Duration::from_millis(2500) {
            // The new version starts failing: the watches see it through Prometheus.
            target.set_error_percent(40);
            broke = true;
        }
        let done =
            shown.len() == deployments.len() && shown.iter().all(|w| w["verdict"] != "RUNNING");
        if done {
            break shown;
        }
        assert!(
            opened.elapsed() < Duration::from_secs(40),
            "the page never reached the verdicts: {shown:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for w in watches.iter_mut() {
        let status = w.wait().unwrap();
        assert_eq!(status.code(), Some(1), "each watch rolled back");
    }
    for w in &shown {
        let id = w["id"].as_str().unwrap();
        let seen = ticks.get(id).map(|s| s.len()).unwrap_or(0);
        assert!(
            seen >= 2,
            "the page saw {seen} tick(s) of {id} while it ran: not live"
        );
        let out = exits(
            p.cmd().args(["report", id, "--format", "json", "--db", db]),
            0,
        );
        let report = json(&out.stdout);
        assert_eq!(
            w["verdict"].as_str().unwrap().to_lowercase(),
            report["verdict"].as_str().unwrap(),
            "{w}"
        );
        let rules: Vec<Evaluation> = serde_json::from_value(report["rules"].clone()).unwrap();
        assert!(!rules.is_empty());
        let rows = w["rules"].as_array().unwrap();
        assert_eq!(rows.len(), rules.len(), "{w}");
        for r in &rules {
            let row = rows
                .iter()
                .find(|x| x["rule"] == r.rule.as_str() && x["series"] == r.series.as_str())
                .unwrap_or_else(|| panic!("no row for {} on {}: {w}", r.rule, r.series));
            assert_eq!(row["state"], r.status_text().as_str(), "{}", r.rule);
            assert_eq!(row["value"], r.observed_text().as_str(), "{}", r.rule);
        }
    }
    let origins: BTreeSet<String> = shown
        .iter()
        .map(|w| w["origin"].as_str().unwrap().to_string())
        .collect();
    for i in 0..deployments.len() {
        assert!(
            origins
                .iter()
                .any(|o| o.contains(&format!("by ci-{i} @ runner-{i}"))),
            "who/where of runner {i}: {origins:?}"
        );
    }
    let shot = browser.screenshot();
    keep_screenshot("live", &shot);
    check_drawn(&shot, "live page");

    // The runs page lists every runner's run; a run page draws its charts.
    browser.navigate(&format!("{base}/runs"));
    std::thread::sleep(Duration::from_millis(500));
    let listed = browser.eval("document.querySelectorAll('table.runs tr').length - 1");
    assert_eq!(listed.as_u64(), Some(deployments.len() as u64));
    let id = shown[0]["id"].as_str().unwrap();
    browser.navigate(&format!("{base}/runs/{id}"));
    std::thread::sleep(Duration::from_millis(500));
    let charts = browser.eval("document.querySelectorAll('figure svg').length");
    assert!(
        charts.as_u64().unwrap_or(0) >= 2,
        "one chart per judged series: {charts}"
    );
    let text = browser
        .eval("document.body.innerText")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        text.contains("HIGH_ERROR_RATE") || text.contains("high-error-rate"),
        "{text}"
    );
    let shot = browser.screenshot();
    keep_screenshot("run", &shot);
    check_drawn(&shot, "run page");

    assert_eq!(
        browser.complaints(),
        Vec::<String>::new(),
        "console or CSP complaints"
    );
    let requests = browser.requests();
    assert!(
        requests.iter().any(|u| u.ends_with("/live/events")),
        "{requests:?}"
    );
    let off: Vec<&String> = requests
        .iter()
        .filter(|u| {
            !u.starts_with(&format!("{base}/")) && !u.starts_with("data:") && *u != "about:blank"
        })
        .collect();
    assert!(off.is_empty(), "requests off 127.0.0.1: {off:?}");
}

#[test]
fn the_browser_checks_see_a_console_error_a_request_elsewhere_and_a_blank_page() {
    // The checks of the live page are only worth something if they can fail.
    let mut browser = Browser::start();
    browser.navigate("data:text/html,<body style='background:%23fff'><script>console.error('boom'); fetch('http://example.invalid/x').catch(() => {});</script></body>");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(browser.eval("1 + 1").as_i64(), Some(2));
    let complaints = browser.complaints();
    assert!(
        complaints.iter().any(|c| c.contains("boom")),
        "{complaints:?}"
    );
    let requests = browser.requests();
    assert!(
        requests
            .iter()
            .any(|u| u.starts_with("http://example.invalid/")),
        "{requests:?}"
    );
    let (colours, drawn) = picture(&browser.screenshot());
    assert!(
        colours <= 2 && drawn < 0.001,
        "{colours} colours, {drawn} drawn"
    );
}

fn check_drawn(png: &[u8], what: &str) {
    let (colours, drawn) = picture(png);
    assert!(
        colours > 20,
        "{what}: a blank-looking screenshot ({colours} colours)"
    );
    assert!(
        drawn > 0.02,
        "{what}: a blank-looking screenshot ({drawn} drawn)"
    );
}

/// `VZ_KEEP_SCREENSHOT=DIR` keeps the screenshots for a person to look at.
fn keep_screenshot(name: &str, png: &[u8]) {
    if let Ok(dir) = std::env::var("VZ_KEEP_SCREENSHOT") {
        std::fs::create_dir_all(&dir).unwrap();
        let n = std::process::id();
        std::fs::write(format!("{dir}/serve-{name}-{n}.png"), png).unwrap();
    }
}

#[test]
fn the_live_page_follows_a_real_watch_to_the_verdict_report_gives() {
    live_page_follows_real_watches("vz.db", &["checkout"]);
}

#[test]
fn two_runners_on_one_postgresql_store_show_in_one_list() {
    let pg = Postgres::start();
    let url = pg.url("serve");
    live_page_follows_real_watches(&url, &["checkout", "payments"]);
}
