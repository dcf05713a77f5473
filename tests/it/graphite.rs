//! The Graphite backend against a REAL Graphite (carbon-cache + graphite-web under gunicorn,
//! tests/it/common/graphite.rs, one per test binary): the same deploy reaches the same verdicts
//! as through Prometheus; trailing nulls are missing data, never zero; `control:` reads
//! Graphite too; and every bad answer — unreachable, 401 echoing the credentials, garbage,
//! no series — is a clear `check --online` error naming the metric and missing data in the
//! watch, never a pass and never a secret in the output. Needs .ci/setup.sh.

use crate::common;

use common::deploy::{self, Deploy, Point};
use common::echo::Echo;
use common::graphite::Graphite;
use common::prometheus::{free_port, Prometheus};
use common::{json, logging_rollback, Project};

/// `source:` + `metrics:` reading the deploy's points under `prefix`.
fn metrics(url: &str, prefix: &str, extra: &str) -> String {
    format!(
        "source:\n  graphite: {{ url: \"{url}\", timeout: 2s, retries: 1, lookback: 3s{extra} }}\nmetrics:\n  error_rate:\n    backend: {{ graphite: {{ target: {prefix}.error_rate }} }}\n  p95_latency_ms:\n    backend: {{ graphite: {{ target: {prefix}.latency_ms }} }}\n  requests:\n    backend: {{ graphite: {{ target: \"aliasByNode({prefix}.requests.*, 2)\" }} }}\n    per_series: true\n"
    )
}

fn project(source_and_metrics: &str) -> Project {
    let p = Project::new();
    let rollback = logging_rollback(p.dir.path());
    p.write(
        "vz-monitor.yaml",
        &deploy::config(source_and_metrics, &rollback),
    );
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
    let rollback = logging_rollback(p.dir.path());
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: web\ninterval: 1s\nduration: 4s\nsource:\n  graphite: {{ url: \"{}\", timeout: 2s, lookback: 5s }}\nmetrics:\n  rps:\n    backend: {{ graphite: {{ target: {prefix}.rps }} }}\nrules:\n  - name: no-traffic\n    metric: rps\n    detector: {{ threshold: {{ op: \"<\", value: 1 }} }}\n    kind: SERVICE_DOWN\n    severity: critical\nrollback:\n  command: {rollback}\n  policy: {{ critical: 1, max_missing: \"20%\", on_inconclusive: pass }}\n",
            g.url()
        ),
    );
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
    let config = |control: &str| {
        format!(
            "deployment: web\ninterval: 1s\nduration: 6s\nsource:\n  graphite: {{ url: \"{}\", timeout: 2s, lookback: 3s }}\nmetrics:\n  latency_ms:\n    backend: {{ graphite: {{ target: {prefix}.canary.latency }} }}\n    control: {{ backend: {{ graphite: {{ target: {prefix}.{control}.latency }} }} }}\nrules:\n  - name: latency-regression\n    metric: latency_ms\n    detector: {{ baseline: {{ stat: mean, max_change: \"50%\" }} }}\n    severity: critical\nrollback:\n  command: [\"true\"]\n  policy: {{ max_missing: \"30%\", on_inconclusive: pass }}\n",
            g.url()
        )
    };
    p.write("vz-monitor.yaml", &config("stable"));
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
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: web\ninterval: 1s\nduration: 6s\nsource:\n  graphite: {{ url: \"{}\", timeout: 2s, lookback: 3s }}\nmetrics:\n  latency_ms:\n    backend: {{ graphite: {{ target: {prefix}.canary.latency }} }}\n    control: {{ backend: {{ graphite: {{ target: {prefix}.nothing.latency }} }} }}\nrules:\n  - name: latency-regression\n    metric: latency_ms\n    detector: {{ baseline: {{ stat: mean, max_change: \"50%\" }} }}\n    severity: critical\nrollback:\n  command: [\"true\"]\n  policy: {{ max_missing: \"30%\", on_inconclusive: pass }}\n",
            g.url()
        ),
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
        p.write(
            "vz-monitor.yaml",
            &format!(
                "deployment: web\ninterval: 500ms\nduration: 2s\nsource:\n  graphite:\n    url: \"{url}\"\n    timeout: 1s\n    retries: 0\n    headers: {{ Authorization: \"{TOKEN}\" }}\nmetrics:\n  error_rate:\n    backend: {{ graphite: {{ target: {target} }} }}\nrules:\n  - name: high\n    metric: error_rate\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n    severity: critical\nrollback:\n  command: [\"true\"]\n  policy: {{ on_inconclusive: pass }}\n"
            ),
        );
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
