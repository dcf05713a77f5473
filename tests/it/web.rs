//! The `web` backend end to end: the real binary against REAL servers on 127.0.0.1 — the
//! Prometheus HTTP API of a real Prometheus scraping a real target, and tests/web/server.py
//! (plain, TLS and mutual TLS with a CA made by `openssl`, an OAuth2 token endpoint, and the
//! bad answers: empty, null, a string, 500, slow, not JSON, 401). Needs `prometheus`,
//! `python3` and `openssl` (.ci/setup.sh): without them these tests fail, never skip.

use crate::common;

use common::config::GateConfig;
use common::history;
use common::prometheus::{encode, Prometheus, Target, ERROR_RATE};
use common::web::{JsonServer, Pki, ACCESS_TOKEN, API_KEY, BEARER, CLIENT_SECRET, PASSWORD};
use common::{exits, json, logging_rollback, Project};
use std::time::Duration;

/// A config with `metrics` (YAML lines under `metrics:`), `rules` and a logging rollback.
fn config(p: &Project, metrics: &str, rules: &str) {
    gate(p, metrics, rules).write(p);
}

/// What [`config`] writes, to add to.
fn gate(p: &Project, metrics: &str, rules: &str) -> GateConfig {
    GateConfig::new("1s", "5s")
        .metrics_yaml(metrics)
        .rules_yaml(rules)
        .rollback(&logging_rollback(p.dir.path()))
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .policy(r#"critical: 1, max_missing: "20%""#)
}

/// A `web` metric named `name` on `url` selecting `path`, with `extra` YAML (indented 8).
fn web(name: &str, url: &str, path: &str, extra: &str) -> String {
    format!(
        "  {name}:\n    backend:\n      web:\n        url: \"{url}\"\n        json_path: \"{path}\"\n{extra}"
    )
}

/// A rule that fires critical when `metric` is above `value`.
fn above(metric: &str, value: f64) -> String {
    format!(
        "  - name: {metric}-high\n    metric: {metric}\n    detector: {{ threshold: {{ op: \">\", value: {value} }} }}\n    kind: HIGH_ERROR_RATE\n    severity: critical\n"
    )
}

fn rollbacks(p: &Project) -> usize {
    p.read("rollback.log").map_or(0, |s| s.lines().count())
}

/// stdout and stderr of a run, together.
fn output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `check --online --output json` row of `metric`.
fn row<'a>(report: &'a serde_json::Value, metric: &str) -> &'a serde_json::Value {
    report["online"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row for {metric}: {report}"))
}

#[test]
fn the_prometheus_json_api_through_web_gates_like_the_prometheus_backend() {
    let target = Target::start();
    let prom = Prometheus::start(&target);
    prom.wait_for(
        r#"sum(rate(http_requests_total{job="target"}[5s])) > 0"#,
        Duration::from_secs(20),
    );
    let p = Project::new();
    let q = encode(ERROR_RATE);
    let base = prom.url();
    let web_metric = format!(
        "{}    on_empty: zero\n",
        web(
            "error_rate",
            &format!("{base}/api/v1/query?query={q}"),
            "$.data.result[*].value[1]",
            &format!(
                "        reduce: max\n        range:\n          url: \"{base}/api/v1/query_range?query={q}&start={{{{start}}}}&end={{{{end}}}}&step={{{{step}}}}\"\n          json_path: \"$.data.result[0].values[*][1]\"\n"
            ),
        ),
    );
    let prom_metric =
        format!("  prom_error_rate:\n    query: '{ERROR_RATE}'\n    on_empty: zero\n");
    let metrics = web_metric + &prom_metric;
    let p_rules = format!(
        "{}{}",
        above("error_rate", 5.0),
        above("prom_error_rate", 5.0)
    );
    gate(&p, &metrics, &p_rules)
        .section(&format!("source:\n  prometheus: {{ url: \"{base}\" }}"))
        .write(&p);

    let out = exits(p.cmd().args(["check", "--online", "--output", "json"]), 0);
    let report = json(&out.stdout);
    // No 5xx series yet: both read the same empty answer, which on_empty: zero makes 0.
    for m in ["error_rate", "prom_error_rate"] {
        assert_eq!(row(&report, m)["status"], "empty", "{report}");
    }

    // A baseline from the range request: Prometheus's points, one per second.
    std::thread::sleep(Duration::from_secs(4));
    exits(
        p.cmd().args([
            "baseline",
            "--window",
            "10s",
            "--interval",
            "1s",
            "--output",
            "base.json",
        ]),
        0,
    );
    let base_json = json(p.read("base.json").unwrap().as_bytes());
    let points = base_json["series"]["error_rate"].as_array().unwrap();
    let prom_points = base_json["series"]["prom_error_rate"].as_array().unwrap();
    assert!(points.len() >= 5, "web range points: {base_json}");
    assert_eq!(points.len(), prom_points.len(), "{base_json}");

    // Healthy: both pass. Bad: both fire, and the one rollback runs.
    let out = exits(
        p.cmd()
            .args(["watch", "--duration", "3s", "--output", "json"]),
        0,
    );
    assert_eq!(json(&out.stdout)["verdict"], "healthy");
    assert_eq!(rollbacks(&p), 0);
    target.set_error_percent(40);
    prom.wait_for(
        r#"sum(rate(http_requests_total{job="target",code="500"}[5s])) > 0"#,
        Duration::from_secs(20),
    );
    // Both read the same instant, so both must see the 5xx series: give it a few scrapes.
    std::thread::sleep(Duration::from_secs(3));
    let out = exits(
        p.cmd()
            .args(["watch", "--duration", "6s", "--output", "json"]),
        1,
    );
    let run = json(&out.stdout);
    let fired: Vec<&str> = run["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["metric"].as_str())
        .collect();
    assert!(fired.contains(&"error_rate"), "web fired: {run}");
    assert!(
        fired.contains(&"prom_error_rate"),
        "prometheus fired: {run}"
    );
    assert_eq!(rollbacks(&p), 1, "{}", output(&out));
}

#[test]
fn check_online_names_each_bad_answer_and_its_fix_without_a_secret() {
    let s = JsonServer::start();
    let p = Project::new();
    let dead = common::prometheus::free_port();
    let metrics = [
        web("ok", &s.url("/value"), "$.data.value", ""),
        web("empty", &s.url("/empty"), "$.data.result[0].value", ""),
        web("null", &s.url("/null"), "$.data.value", ""),
        web("string", &s.url("/string"), "$.data.value", ""),
        web("failing", &s.url("/500"), "$.data.value", ""),
        web(
            "slow",
            &s.url("/slow"),
            "$.data.value",
            "        timeout: 1s\n",
        ),
        web("html", &s.url("/notjson"), "$.data.value", ""),
        web(
            "gone",
            &format!("http://127.0.0.1:{dead}/value"),
            "$.data.value",
            "",
        ),
        web(
            "denied",
            &s.url("/bearer"),
            "$.data.value",
            "        auth: { bearer: \"wrong-${WRONG_TOKEN}\" }\n",
        ),
    ]
    .concat();
    config(&p, &metrics, &above("ok", 100.0));
    let out = exits(
        p.cmd()
            .env("WRONG_TOKEN", "t0ken-that-must-not-print")
            .args(["check", "--online", "--output", "json"]),
        3,
    );
    let report = json(&out.stdout);
    let detail = |m: &str| {
        let r = row(&report, m);
        assert_eq!(
            r["status"],
            if m == "ok" { "ok" } else { "error" },
            "{m}: {r}"
        );
        r["detail"].as_str().unwrap().to_string()
    };
    assert_eq!(detail("ok"), "1");
    let cases = [
        (
            "empty",
            "selected nothing in the answer (an object with keys data)",
        ),
        ("null", "selected null"),
        ("string", "\"high\" (not a number)"),
        ("failing", "answered HTTP 500"),
        ("slow", "within 1s (raise timeout"),
        ("html", "is not JSON"),
        ("gone", "cannot reach"),
        ("denied", "HTTP 401 Unauthorized: check the credentials"),
    ];
    for (metric, says) in cases {
        let d = detail(metric);
        assert!(d.contains(says), "{metric}: {d}");
    }
    // The 401 body echoed the token: it is masked.
    assert!(detail("denied").contains("***"), "{}", detail("denied"));
    assert!(
        !output(&out).contains("t0ken-that-must-not-print"),
        "{}",
        output(&out)
    );

    // The table names the request without its query string.
    let out = exits(
        p.cmd()
            .env("WRONG_TOKEN", "t0ken-that-must-not-print")
            .args(["check", "--online"]),
        3,
    );
    let text = output(&out);
    assert!(
        text.contains(&format!(
            "GET http://127.0.0.1:{}/value → $.data.value",
            s.port
        )),
        "{text}"
    );
}

#[test]
fn a_selection_with_no_number_is_missing_data_in_the_watch_never_a_pass() {
    let s = JsonServer::start();
    let p = Project::new();
    config(
        &p,
        &web("latency", &s.url("/null"), "$.data.value", ""),
        &above("latency", 100.0),
    );
    let out = exits(
        p.cmd()
            .args(["watch", "--duration", "3s", "--output", "json"]),
        3,
    );
    let run = json(&out.stdout);
    assert_eq!(run["verdict"], "inconclusive", "{run}");
    assert!(
        output(&out).contains("latency: missing sample: json_path `$.data.value` selected null")
    );
    assert_eq!(rollbacks(&p), 0);
}

#[test]
fn a_bad_value_rolls_back_and_a_good_one_passes() {
    let s = JsonServer::start();
    let p = Project::new();
    config(
        &p,
        &web("errors", &s.url("/value"), "$.data.value", ""),
        &above("errors", 5.0),
    );
    exits(p.cmd().args(["watch", "--duration", "3s"]), 0);
    s.get("/set?value=12");
    exits(p.cmd().args(["watch", "--duration", "3s"]), 1);
    assert_eq!(rollbacks(&p), 1);
}

#[test]
fn post_body_headers_basic_and_bearer_auth_reach_the_server() {
    let s = JsonServer::start();
    let p = Project::new();
    let metrics = [
        web(
            "posted",
            &s.url("/posted"),
            "$.data.value",
            "        method: POST\n        headers: { X-Api-Key: \"${API_KEY}\" }\n        body: { q: errors }\n",
        ),
        web(
            "basic",
            &s.url("/basic"),
            "$.data.value",
            "        auth: { basic: { username: user, password: \"${PASSWORD}\" } }\n",
        ),
        web(
            "bearer",
            &s.url("/bearer"),
            "$.data.value",
            "        auth: { bearer: \"${BEARER}\" }\n",
        ),
    ]
    .concat();
    config(&p, &metrics, &above("posted", 100.0));
    let out = exits(
        p.cmd()
            .env("API_KEY", API_KEY)
            .env("PASSWORD", PASSWORD)
            .env("BEARER", BEARER)
            .args(["check", "--online", "--output", "json"]),
        0,
    );
    let report = json(&out.stdout);
    for (m, v) in [("posted", "7"), ("basic", "3"), ("bearer", "4")] {
        assert_eq!(row(&report, m)["detail"], v, "{report}");
    }
    // A wrong password: 401, the echoed Basic header masked (base64 of user:password too).
    let out = exits(
        p.cmd()
            .env("API_KEY", API_KEY)
            .env("PASSWORD", "wrong-passw0rd")
            .env("BEARER", BEARER)
            .args(["check", "--online", "--output", "json"]),
        3,
    );
    let text = output(&out);
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(!text.contains("wrong-passw0rd"), "{text}");
    let b64 = "dXNlcjp3cm9uZy1wYXNzdzByZA"; // base64("user:wrong-passw0rd") without padding
    assert!(!text.contains(b64), "{text}");
}

#[test]
fn oauth2_client_credentials_fetch_one_token_for_the_whole_watch() {
    let s = JsonServer::start();
    let p = Project::new();
    let oauth = |secret: &str| {
        format!(
            "        auth:\n          oauth2: {{ token_url: \"{}\", client_id: vz-client, client_secret: \"{secret}\", scopes: [metrics.read] }}\n",
            s.url("/token")
        )
    };
    config(
        &p,
        &web(
            "errors",
            &s.url("/oauth"),
            "$.data.value",
            &oauth("${SECRET}"),
        ),
        &above("errors", 100.0),
    );
    let rejected = web(
        "rejected",
        &s.url("/oauth-reject"),
        "$.data.value",
        &oauth("${SECRET}"),
    );
    let both = web(
        "errors",
        &s.url("/oauth"),
        "$.data.value",
        &oauth("${SECRET}"),
    ) + &rejected;
    let p2 = Project::new();
    config(&p2, &both, &above("errors", 100.0));
    let out = exits(
        p2.cmd()
            .env("SECRET", CLIENT_SECRET)
            .args(["check", "--online", "--output", "json"]),
        3,
    );
    // The resource server echoes the access token it refused: masked.
    let d = row(&json(&out.stdout), "rejected")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(d.contains("HTTP 401") && d.contains("***"), "{d}");
    assert!(!output(&out).contains(ACCESS_TOKEN), "{}", output(&out));
    let before = s.get("/stats")["token_requests"].as_u64().unwrap();
    let out = exits(
        p.cmd().env("SECRET", CLIENT_SECRET).args([
            "watch",
            "--duration",
            "3s",
            "--output",
            "json",
        ]),
        0,
    );
    assert_eq!(json(&out.stdout)["verdict"], "healthy");
    let fetched = s.get("/stats")["token_requests"].as_u64().unwrap() - before;
    assert_eq!(fetched, 1, "one token, reused every tick");
    assert!(!output(&out).contains(ACCESS_TOKEN));

    let out = exits(
        p.cmd()
            .env("SECRET", "not-the-s3cret")
            .args(["check", "--online", "--output", "json"]),
        3,
    );
    let d = row(&json(&out.stdout), "errors")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        d.contains("oauth2 token endpoint") && d.contains("check client_id and client_secret"),
        "{d}"
    );
    assert!(!output(&out).contains("not-the-s3cret"));
}

#[test]
fn tls_needs_the_ca_and_mutual_tls_the_client_certificate() {
    let pki = Pki::new();
    let tls = JsonServer::tls(&pki, false);
    let mtls = JsonServer::tls(&pki, true);
    let p = Project::new();
    let ca = format!("        ca_file: {}\n", pki.path("ca.pem"));
    let client = format!(
        "{ca}        client_cert: {}\n        client_key: {}\n",
        pki.path("client.pem"),
        pki.path("client.key")
    );
    let metrics = [
        web("with_ca", &tls.url("/value"), "$.data.value", &ca),
        web("without_ca", &tls.url("/value"), "$.data.value", ""),
        web(
            "insecure",
            &tls.url("/value"),
            "$.data.value",
            "        insecure: true\n",
        ),
        web("mtls", &mtls.url("/value"), "$.data.value", &client),
        web("mtls_no_cert", &mtls.url("/value"), "$.data.value", &ca),
    ]
    .concat();
    config(&p, &metrics, &above("with_ca", 100.0));
    let out = exits(p.cmd().args(["check", "--online", "--output", "json"]), 3);
    let report = json(&out.stdout);
    for m in ["with_ca", "insecure", "mtls"] {
        assert_eq!(row(&report, m)["status"], "ok", "{m}: {report}");
    }
    let d = row(&report, "without_ca")["detail"].as_str().unwrap();
    assert!(d.contains("TLS failed: set ca_file"), "{d}");
    let d = row(&report, "mtls_no_cert")["detail"].as_str().unwrap();
    assert!(
        d.contains("CertificateRequired") && d.contains("client_cert/client_key"),
        "{d}"
    );
}

#[test]
fn baseline_without_range_samples_and_with_range_reads_the_window() {
    let s = JsonServer::start();
    let p = Project::new();
    let range = format!(
        "        range:\n          url: \"{}?start={{{{start}}}}&end={{{{end}}}}&step={{{{step}}}}\"\n          json_path: \"$.values[*][1]\"\n",
        s.url("/range")
    );
    let metrics = [
        web("ranged", &s.url("/value"), "$.data.value", &range),
        web("sampled", &s.url("/value"), "$.data.value", ""),
    ]
    .concat();
    config(&p, &metrics, &above("ranged", 100.0));
    let out = exits(
        p.cmd().args([
            "baseline",
            "--window",
            "10s",
            "--interval",
            "1s",
            "--samples",
            "3",
            "--output",
            "base.json",
        ]),
        0,
    );
    let base = json(p.read("base.json").unwrap().as_bytes());
    // 11 points a second apart over 10s, one of them null: dropped and reported.
    assert_eq!(
        base["series"]["ranged"].as_array().unwrap().len(),
        10,
        "{base}"
    );
    assert_eq!(
        base["series"]["sampled"].as_array().unwrap().len(),
        3,
        "{base}"
    );
    assert!(
        output(&out).contains("ranged: 1 samples failed (last: NaN or Inf points dropped)"),
        "{}",
        output(&out)
    );
}

#[test]
fn a_bad_json_path_or_auth_is_a_config_error_before_any_request() {
    let p = Project::new();
    config(
        &p,
        &web("m", "http://127.0.0.1:1/x", "$.a[", ""),
        &above("m", 1.0),
    );
    let out = exits(p.cmd().args(["check"]), 2);
    let text = output(&out);
    assert!(
        text.contains("metrics.m.backend.web.json_path") && text.contains("RFC 9535"),
        "{text}"
    );
    config(
        &p,
        &web(
            "m",
            "http://127.0.0.1:1/x",
            "$.a",
            "        client_cert: c.pem\n",
        ),
        &above("m", 1.0),
    );
    let text = output(&exits(p.cmd().args(["check"]), 2));
    assert!(
        text.contains("needs both client_cert and client_key"),
        "{text}"
    );
}

/// POSTs `body` (JSON) to `path` on 127.0.0.1:`port`; the status.
fn post(port: u16, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn alertmanagers_api_counted_through_an_rfc_9535_filter_gates_the_deploy() {
    let am = common::servers::Alertmanager::start();
    let alerts = r#"[{"labels":{"alertname":"HighErrors","service":"checkout","severity":"critical"}},{"labels":{"alertname":"Slow","service":"checkout","severity":"warning"}},{"labels":{"alertname":"Disk","service":"search","severity":"critical"}}]"#;
    assert_eq!(post(am.port, "/api/v2/alerts", alerts), 200);
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while am.alerts().len() < 3 {
        assert!(std::time::Instant::now() < until, "alerts never listed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let p = Project::new();
    let url = format!("{}/api/v2/alerts?active=true", am.url());
    let metrics = [
        web(
            "checkout_critical",
            &url,
            "$[?@.labels.service == 'checkout' && @.labels.severity == 'critical']",
            "        reduce: count\n",
        ),
        web(
            "search_any",
            &url,
            "$[?@.labels.service == 'search']",
            "        reduce: count\n",
        ),
        format!(
            "{}    on_empty: zero\n",
            web(
                "cart_any",
                &url,
                "$[?@.labels.service == 'cart']",
                "        reduce: count\n"
            )
        ),
    ]
    .concat();
    config(&p, &metrics, &above("checkout_critical", 0.0));
    let out = exits(p.cmd().args(["check", "--online", "--output", "json"]), 0);
    let report = json(&out.stdout);
    assert_eq!(row(&report, "checkout_critical")["detail"], "1", "{report}");
    assert_eq!(row(&report, "search_any")["detail"], "1", "{report}");
    assert_eq!(row(&report, "cart_any")["status"], "empty", "{report}");
    exits(p.cmd().args(["watch", "--duration", "3s"]), 1);
    assert_eq!(rollbacks(&p), 1);
}

#[test]
fn health_samples_web_metrics_once_and_fails_on_missing_data() {
    let s = JsonServer::start();
    let p = Project::new();
    config(
        &p,
        &web("ok", &s.url("/value"), "$.data.value", ""),
        &above("ok", 100.0),
    );
    exits(p.cmd().args(["health"]), 0);
    config(
        &p,
        &[
            web("ok", &s.url("/value"), "$.data.value", ""),
            web("broken", &s.url("/string"), "$.data.value", ""),
        ]
        .concat(),
        &above("ok", 100.0),
    );
    let out = exits(p.cmd().args(["health"]), 1);
    assert!(output(&out).contains("not a number"), "{}", output(&out));
}

#[test]
fn victoria_metrics_json_api_through_web_reads_the_same_traffic() {
    let target = Target::start();
    let mut vm = common::victoria::VictoriaMetrics::start(&target);
    let traffic = r#"sum(rate(http_requests_total{job="target"}[5s]))"#;
    vm.wait_for(&format!("{traffic} > 0"), Duration::from_secs(30));
    let p = Project::new();
    let q = encode(traffic);
    let base = vm.url();
    let range = format!(
        "        range:\n          url: \"{base}/api/v1/query_range?query={q}&start={{{{start}}}}&end={{{{end}}}}&step={{{{step}}}}\"\n          json_path: \"$.data.result[0].values[*][1]\"\n"
    );
    config(
        &p,
        &web(
            "rps",
            &format!("{base}/api/v1/query?query={q}"),
            "$.data.result[0].value[1]",
            &range,
        ),
        &above("rps", 1e9),
    );
    let out = exits(p.cmd().args(["check", "--online", "--output", "json"]), 0);
    let report = json(&out.stdout);
    let rps: f64 = row(&report, "rps")["detail"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The target serves 100 requests a second (tests/it/common/prometheus.rs).
    assert!((50.0..150.0).contains(&rps), "{report}");
    std::thread::sleep(Duration::from_secs(3));
    exits(
        p.cmd().args([
            "baseline",
            "--window",
            "5s",
            "--interval",
            "1s",
            "--output",
            "base.json",
        ]),
        0,
    );
    let base_json = json(p.read("base.json").unwrap().as_bytes());
    assert!(
        base_json["series"]["rps"].as_array().unwrap().len() >= 3,
        "{base_json}"
    );
}

#[test]
fn a_refused_token_echoed_by_the_server_reaches_neither_the_watch_nor_the_store() {
    let s = JsonServer::start();
    let p = Project::new();
    config(
        &p,
        &web(
            "errors",
            &s.url("/bearer"),
            "$.data.value",
            "        auth: { bearer: \"${TOKEN}\" }\n",
        ),
        &above("errors", 100.0),
    );
    let token = "st0len-if-printed-31337";
    let watch = exits(
        p.cmd()
            .env("TOKEN", token)
            .args(["watch", "--duration", "3s", "--output", "json"]),
        3,
    );
    let text = output(&watch);
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(!text.contains(token), "{text}");
    for format in ["json", "markdown", "html"] {
        let out = exits(
            p.cmd()
                .env("TOKEN", token)
                .args(["report", "latest", "--format", format]),
            0,
        );
        assert!(
            !output(&out).contains(token),
            "report --format {format} shows the token"
        );
    }
    // The store (its WAL too) holds the reason, masked.
    let mut db = std::fs::read(p.path(".vz-monitor/vz.db")).unwrap_or_default();
    db.extend(std::fs::read(p.path(".vz-monitor/vz.db-wal")).unwrap_or_default());
    let has = |needle: &[u8]| db.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"answered HTTP 401"), "the reason is not stored at all");
    assert!(!has(token.as_bytes()), "the token is in the store");
}

#[test]
fn per_series_is_refused_for_web_which_reduces_to_one_number() {
    let p = Project::new();
    config(
        &p,
        &format!(
            "{}    per_series: true\n",
            web("m", "http://127.0.0.1:1/x", "$.a", "")
        ),
        &above("m", 1.0),
    );
    let text = output(&exits(p.cmd().args(["check"]), 2));
    assert!(text.contains("metrics.m.per_series"), "{text}");
}

/// [`history::rows`] as OpenMetrics: the latency and the error rate, one gauge family each.
fn history_openmetrics(rows: &[history::Row]) -> String {
    let mut s = String::from("# TYPE hist_latency_ms gauge\n");
    for r in rows {
        s.push_str(&format!("hist_latency_ms {} {}\n", r.latency, r.t));
    }
    s.push_str("# TYPE hist_error_percent gauge\n");
    for r in rows {
        s.push_str(&format!("hist_error_percent {} {}\n", r.errors, r.t));
    }
    s.push_str("# EOF\n");
    s
}

/// A `web` metric on Prometheus's JSON API: `query_range` as its `range:`, each point's
/// timestamp selected by `time_path` (`[t, "v"]` pairs), with `extra` range lines.
fn web_history(name: &str, base: &str, q: &str, time_path: &str) -> String {
    web(
        name,
        &format!("{base}/api/v1/query?query={q}"),
        "$.data.result[0].value[1]",
        &format!(
            "        range:\n          url: \"{base}/api/v1/query_range?query={q}&start={{{{start}}}}&end={{{{end}}}}&step={{{{step}}}}\"\n          json_path: \"$.data.result[0].values[*][1]\"\n{time_path}"
        ),
    )
}

/// Four hours of history in a REAL Prometheus, read through the `web` backend with
/// `range.time_path`: the incidents are found as through any backend. Without `time_path`
/// there is no history (exit 2, saying what to set); a bad `time_path` is a config error
/// naming file, line and field.
#[test]
fn backtest_reads_a_web_history_timed_by_time_path() {
    let end = history::end();
    let rows = history::rows(end);
    let prom = Prometheus::start_with_history(&history_openmetrics(&rows), "hist_latency_ms", &[]);
    let base = prom.url();
    let timed = "          time_path: \"$.data.result[0].values[*][0]\"\n";
    let metrics = |time_path: &str| {
        web_history("latency_ms", &base, "hist_latency_ms", time_path)
            + &web_history("error_rate", &base, "hist_error_percent", time_path)
    };
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &history::config("", &metrics(timed), false),
    );
    let report = history::backtest(&p, end, &[]);
    assert_eq!(report["source"], "2 range queries over 4h every 1m");
    history::assert_finds_the_incidents(&report, end, false);

    p.write("vz-monitor.yaml", &history::config("", &metrics(""), false));
    let until = end.to_string();
    let out = exits(
        p.cmd()
            .args(["backtest", "--since", "4h", "--until", &until]),
        2,
    );
    let err = output(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("set range.time_path"), "{err}");

    let bad = "          time_path: \"$.data[\"\n";
    p.write(
        "vz-monitor.yaml",
        &history::config("", &metrics(bad), false),
    );
    let err = output(&exits(p.cmd().args(["check"]), 2));
    assert!(
        err.contains("vz-monitor.yaml:")
            && err.contains(".backend.web.range.time_path: `$.data[` is not a JSONPath"),
        "{err}"
    );
}
