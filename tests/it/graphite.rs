//! The Graphite backend against a REAL Graphite (carbon-cache + graphite-web under gunicorn,
//! tests/it/common/graphite.rs, one per test binary): the same deploy reaches the same verdicts
//! as through Prometheus; trailing nulls are missing data, never zero; `control:` reads
//! Graphite too; and every bad answer — unreachable, 401 echoing the credentials, garbage,
//! no series — is a clear `check --online` error naming the metric and missing data in the
//! watch, never a pass and never a secret in the output. Needs .ci/setup.sh.

use crate::common;

use common::config::GateConfig;
use common::deploy::{self, Deploy, Point};
use common::echo::Echo;
use common::graphite::Graphite;
use common::history;
use common::prometheus::{free_port, Prometheus};
use common::{json, logging_rollback, Project};

/// `source:` + `metrics:` reading the deploy's points under `prefix`.
fn metrics(url: &str, prefix: &str, extra: &str) -> deploy::Reading {
    deploy::Reading {
        source: format!("source:\n  graphite: {{ url: \"{url}\", timeout: 2s, retries: 1, lookback: 3s{extra} }}"),
        metrics: format!(
            "  error_rate:\n    backend: {{ graphite: {{ target: {prefix}.error_rate }} }}\n  p95_latency_ms:\n    backend: {{ graphite: {{ target: {prefix}.latency_ms }} }}\n  requests:\n    backend: {{ graphite: {{ target: \"aliasByNode({prefix}.requests.*, 2)\" }} }}\n    per_series: true\n"
        ),
    }
}

/// The canary's latency under `prefix` against the control `{prefix}.{control}.latency`.
fn control_config(url: &str, prefix: &str, control: &str) -> GateConfig {
    deploy::control_config(
        &format!("source:\n  graphite: {{ url: \"{url}\", timeout: 2s, lookback: 3s }}"),
        &format!("{{ graphite: {{ target: {prefix}.canary.latency }} }}"),
        &format!("{{ graphite: {{ target: {prefix}.{control}.latency }} }}"),
    )
}

fn project(reading: &deploy::Reading) -> Project {
    let p = Project::new();
    deploy::config(reading, &logging_rollback(p.dir.path())).write(&p);
    p
}

#[test]
fn the_same_deploy_reaches_the_same_verdicts_as_through_prometheus() {
    let g = Graphite::shared();
    let prefix = g.prefix();
    let pre = prefix.clone();
    let writer: deploy::Writer = Box::new(move |p: &Point| {
        Graphite::shared().send(&[
            (&format!("{pre}.error_rate"), p.error_rate, p.t),
            (&format!("{pre}.latency_ms"), p.latency_ms, p.t),
            (&format!("{pre}.requests.200"), p.ok, p.t),
            (&format!("{pre}.requests.500"), p.errors, p.t),
        ])
    });
    let d = Deploy::start(vec![writer]);
    let prom = Prometheus::start_scraping(&[d.address()]);
    let on_prom = project(&deploy::prometheus_metrics(&prom.url()));
    let on_graphite = project(&metrics(&g.url(), &prefix, ""));
    deploy::same_verdicts(&d, &on_prom, &on_graphite, "Graphite", &[]);
}

/// A series whose sender stopped: Graphite answers nulls for the recent steps. Read as zero,
/// `< 1` would roll back; read honestly, the samples are missing and the run inconclusive.
#[test]
fn trailing_nulls_are_missing_data_not_zero() {
    let g = Graphite::shared();
    let prefix = g.prefix();
    let now = chrono::Utc::now().timestamp();
    let old: Vec<(String, f64, i64)> = (20..30)
        .map(|s| (format!("{prefix}.rps"), 50.0, now - s))
        .collect();
    let refs: Vec<(&str, f64, i64)> = old.iter().map(|(p, v, t)| (p.as_str(), *v, *t)).collect();
    g.send(&refs);
    g.wait_for(&format!("{prefix}.rps"));
    let p = Project::new();
    GateConfig::new("1s", "4s")
        .section(&format!(
            "source:\n  graphite: {{ url: \"{}\", timeout: 2s, lookback: 5s }}",
            g.url()
        ))
        .metric("rps", &format!("{{ backend: {{ graphite: {{ target: {prefix}.rps }} }} }}"))
        .rule(r#"{ name: no-traffic, metric: rps, detector: { threshold: { op: "<", value: 1 } }, kind: SERVICE_DOWN, severity: critical }"#)
        .rollback(&logging_rollback(p.dir.path()))
        .policy(r#"critical: 1, max_missing: "20%", on_inconclusive: pass"#)
        .write(&p);
    let out = p
        .cmd()
        .args(["check", "--online", "--output", "json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{report}");
    let r = &report["online"][0];
    assert_eq!(
        (r["metric"].as_str(), r["status"].as_str()),
        (Some("rps"), Some("error")),
        "{report}"
    );
    assert!(
        r["detail"].as_str().unwrap().contains("only null points"),
        "{report}"
    );

    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    let run = json(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "inconclusive, not a rollback: {run}"
    );
    assert_eq!(run["verdict"], "inconclusive", "{run}");
    assert_eq!(deploy::rollbacks(&p), 0);
    // Widen the lookback past the last point: the same data is then a real 50.
    let text = p
        .read("vz-monitor.yaml")
        .unwrap()
        .replace("lookback: 5s", "lookback: 1m");
    p.write("vz-monitor.yaml", &text);
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `control:` is read from Graphite over the same ticks: a control equal to the canary
/// passes, judged against the control.
#[test]
fn control_series_come_from_graphite() {
    let g = Graphite::shared();
    let prefix = g.prefix();
    let pre = prefix.clone();
    let writer: deploy::Writer = Box::new(move |p: &Point| {
        let jitter = p.latency_ms;
        Graphite::shared().send(&[
            (&format!("{pre}.canary.latency"), jitter, p.t),
            (&format!("{pre}.stable.latency"), jitter, p.t),
        ])
    });
    let _d = Deploy::start(vec![writer]);
    g.wait_for(&format!("{prefix}.stable.latency"));
    let p = Project::new();
    control_config(&g.url(), &prefix, "stable").write(&p);
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    let run = json(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{run}");
    assert_eq!(run["rules"][0]["expected"]["type"], "control", "{run}");
}

/// DESIGN: "a control reading that is missing is a missing sample of every rule that
/// compares against it: a dead control never lets a deploy pass", with a real backend: the
/// control's target has no data, so every tick misses a sample and the watch is
/// inconclusive (exit 3), never healthy.
#[test]
fn a_dead_control_never_lets_a_deploy_pass() {
    let g = Graphite::shared();
    let prefix = g.prefix();
    let pre = prefix.clone();
    let writer: deploy::Writer = Box::new(move |p: &Point| {
        Graphite::shared().send(&[(&format!("{pre}.canary.latency"), p.latency_ms, p.t)])
    });
    let _d = Deploy::start(vec![writer]);
    g.wait_for(&format!("{prefix}.canary.latency"));
    let p = Project::new();
    control_config(&g.url(), &prefix, "nothing").write(&p);
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    let run = json(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a dead control is inconclusive: {run}"
    );
}

/// Each bad answer: `check --online` fails naming the metric and the cause, `watch` counts
/// missing data (inconclusive, exit 3), nothing crashes, and the credentials never show.
#[test]
fn bad_answers_are_clear_errors_and_missing_data_never_a_pass_or_a_secret() {
    const TOKEN: &str = "Bearer gr4phite-t0ken-xyz";
    let g = Graphite::shared();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let unauthorized = Echo::start(401, "<html>401: bad credentials, you sent {headers}</html>");
    let garbage = Echo::start(200, "\u{1b}[31m<html>::error::not json</html>");
    let hung = Echo::start(0, "");
    let cases = [
        (dead.as_str(), "", "cannot reach Graphite"),
        (&unauthorized.url(), "", "HTTP 401"),
        (&garbage.url(), "", "not Graphite render JSON"),
        (&hung.url(), "", "no answer from Graphite within 1s"),
        (&g.url(), "nothing.here", "empty"),
    ];
    for (url, target, want) in cases {
        let p = Project::new();
        let target = if target.is_empty() {
            "svc.errors"
        } else {
            target
        };
        deploy::bad_answer_config(
            &format!("source:\n  graphite:\n    url: \"{url}\"\n    timeout: 1s\n    retries: 0\n    headers: {{ Authorization: \"{TOKEN}\" }}"),
            &format!("{{ graphite: {{ target: {target} }} }}"),
        )
        .write(&p);
        let out = p
            .cmd()
            .args(["check", "--online", "--output", "json"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !text.contains("gr4phite-t0ken"),
            "{url}: the token leaked: {text}"
        );
        assert!(
            !text.contains('\u{1b}'),
            "{url}: an escape reached the output: {text}"
        );
        assert_ne!(out.status.code(), Some(0), "{url}: {text}");
        let report = json(&out.stdout);
        let r = &report["online"][0];
        assert_eq!(r["metric"], "error_rate", "{report}");
        let said = format!("{} {}", r["status"], r["detail"]);
        assert!(said.contains(want), "{url}: want `{want}`: {said}");

        let out = p
            .cmd()
            .args(["watch", "--output", "json"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !text.contains("gr4phite-t0ken"),
            "{url}: the token leaked: {text}"
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{url}: missing data is inconclusive: {text}"
        );
        assert_eq!(json(&out.stdout)["verdict"], "inconclusive", "{url}");
    }
}

/// Several series where one was expected is an error that says how to fix it.
#[test]
fn a_glob_without_per_series_says_how_to_aggregate() {
    let g = Graphite::shared();
    let prefix = g.prefix();
    let now = chrono::Utc::now().timestamp();
    g.send(&[
        (&format!("{prefix}.a.x"), 1.0, now - 1),
        (&format!("{prefix}.b.x"), 2.0, now - 1),
    ]);
    g.wait_for(&format!("{prefix}.b.x"));
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &format!(
            "source:\n  graphite: {{ url: \"{}\", lookback: 1m }}\nmetrics:\n  x:\n    backend: {{ graphite: {{ target: \"{prefix}.*.x\" }} }}\nrules:\n  - name: r\n    metric: x\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n",
            g.url()
        ),
    );
    let out = p
        .cmd()
        .args(["check", "--online", "--output", "json"])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    let detail = report["online"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("2 series") && detail.contains("sumSeries"),
        "{report}"
    );
}

/// Four hours of history sent to carbon with past timestamps (the test carbon keeps 1 s
/// points for 6 hours), the stable version's latency beside the new one's: the backtest
/// reads the control too and rolls back the new version's own regression but not the surge
/// both versions share; with the control a probe (no history) that rule is left out, said.
#[test]
fn backtest_reads_graphite_history_and_its_control() {
    let g = Graphite::shared();
    let prefix = g.prefix();
    let end = history::end();
    let rows = history::rows(end);
    let names = [
        format!("{prefix}.latency"),
        format!("{prefix}.stable.latency"),
        format!("{prefix}.errors"),
    ];
    let points: Vec<(&str, f64, i64)> = rows
        .iter()
        .flat_map(|r| {
            [
                (names[0].as_str(), r.latency, r.t),
                (names[1].as_str(), r.control, r.t),
                (names[2].as_str(), r.errors, r.t),
            ]
        })
        .collect();
    g.send(&points);
    wait_for_history(g, &names, rows.len());
    // One request at a time: each renders 14 400 one-second points, and graphite-web's two
    // workers also serve the other Graphite tests, whose timeouts are a second.
    let source = format!(
        "source:\n  graphite: {{ url: \"{}\", timeout: 5s, retries: 0, max_connections: 1 }}",
        g.url()
    );
    let metrics = |control: &str| {
        format!(
            "  latency_ms:\n    backend: {{ graphite: {{ target: {} }} }}\n    control: {control}\n  error_rate:\n    backend: {{ graphite: {{ target: {} }} }}\n",
            names[0], names[2]
        )
    };
    let p = Project::new();
    let control = format!("{{ backend: {{ graphite: {{ target: {} }} }} }}", names[1]);
    p.write(
        "vz-monitor.yaml",
        &history::config(&source, &metrics(&control), true),
    );
    let report = history::backtest(&p, end, &[]);
    // One render request per series: the canary's, its control's, the error rate's.
    assert_eq!(report["source"], "3 range queries over 4h every 1m");
    history::assert_finds_the_incidents(&report, end, true);

    let probe = r#"{ probe: { command: ["echo", "100"] } }"#;
    p.write(
        "vz-monitor.yaml",
        &history::config(&source, &metrics(probe), true),
    );
    let report = history::backtest(&p, end, &[]);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("rule `latency-regression` left out: it compares `latency_ms` against a control, whose control is a probe"),
        "{notes}"
    );
    assert_eq!(
        history::rolled_back(&report, end),
        vec![(history::ERRORS_AT, vec!["error-spike".to_string()])]
    );

    // A target graphite-web refuses: exit 2, one line with its answer and the stretch.
    let refused = format!(
        "  latency_ms:\n    backend: {{ graphite: {{ target: \"noSuchFunction({})\" }} }}\n  error_rate:\n    backend: {{ graphite: {{ target: \"noSuchFunction({})\" }} }}\n",
        names[0], names[2]
    );
    p.write(
        "vz-monitor.yaml",
        &history::config(&source, &refused, false),
    );
    let until = end.to_string();
    let out = common::exits(
        p.cmd()
            .args(["backtest", "--since", "4h", "--until", &until]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("(graphite): the render request for ")
            && err.contains("Graphite answered HTTP"),
        "{err}"
    );
}

/// Waits until graphite-web shows `points` non-null points of each target over the last
/// five hours (carbon has written them all).
fn wait_for_history(g: &Graphite, targets: &[String], points: usize) {
    let start = std::time::Instant::now();
    let count = |t: &str| {
        g.render(t, 5 * 3600).map_or(0, |v| {
            v[0]["datapoints"]
                .as_array()
                .map_or(0, |p| p.iter().filter(|p| p[0].is_number()).count())
        })
    };
    while targets.iter().any(|t| count(t) < points) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "graphite never showed {points} points of each of {targets:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
