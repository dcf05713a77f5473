//! The CloudWatch backend against a REAL CloudWatch API: moto_server in IAM mode
//! (tests/it/common/cloudwatch.rs, one per test binary), which recomputes every SigV4 signature
//! with botocore, so these tests also prove our signer end to end. The same deploy reaches
//! the same verdicts as through Prometheus; dimension sets are `per_series` series (found
//! with ListMetrics); `control:` reads CloudWatch too; and every bad answer — unreachable,
//! a real 403 for a wrong secret or an unknown key, no credentials, garbage, no datapoint —
//! is a clear `check --online` error naming the metric and missing data in the watch, never
//! a pass and never a secret in the output. Needs .ci/setup.sh.

use crate::common;

use common::cloudwatch::{Moto, REGION};
use common::deploy::{self, Deploy, Point};
use common::echo::Echo;
use common::history;
use common::prometheus::{free_port, Prometheus};
use common::{json, logging_rollback, Project};

/// `source:` + `metrics:` reading the deploy's datapoints in namespace `ns`.
fn metrics(endpoint: &str, ns: &str) -> deploy::Reading {
    deploy::Reading {
        source: format!("source:\n  cloudwatch: {{ endpoint_url: \"{endpoint}\", timeout: 3s, retries: 1, lookback: 3s }}"),
        metrics: format!(
            "  error_rate:\n    backend: {{ cloudwatch: {{ namespace: {ns}, metric: ErrorRate, period: 1s }} }}\n  p95_latency_ms:\n    backend: {{ cloudwatch: {{ namespace: {ns}, metric: LatencyMs, stat: Maximum, period: 1s }} }}\n  requests:\n    backend: {{ cloudwatch: {{ namespace: {ns}, metric: Requests, dimensions: {{ Code: \"*\" }}, stat: Sum, period: 1s }} }}\n    per_series: true\n"
        ),
    }
}

fn project(reading: &deploy::Reading) -> Project {
    let p = Project::new();
    deploy::config(reading, &logging_rollback(p.dir.path())).write(&p);
    p
}

fn put(ns: &str, p: &Point) {
    Moto::shared().put(
        ns,
        &[
            ("ErrorRate", &[], p.error_rate, p.t),
            ("LatencyMs", &[], p.latency_ms, p.t),
            ("Requests", &[("Code", "200")], p.ok, p.t),
            ("Requests", &[("Code", "500")], p.errors, p.t),
        ],
    );
}

#[test]
fn the_same_deploy_reaches_the_same_verdicts_as_through_prometheus() {
    let moto = Moto::shared();
    let ns = moto.namespace();
    let to = ns.clone();
    let d = Deploy::start(vec![Box::new(move |p: &Point| put(&to, p))]);
    let prom = Prometheus::start_scraping(&[d.address()]);
    let on_prom = project(&deploy::prometheus_metrics(&prom.url()));
    let on_cw = project(&metrics(&moto.url(), &ns));
    deploy::same_verdicts(&d, &on_prom, &on_cw, "CloudWatch", &moto.env());
}

/// `control:` is read from CloudWatch over the same ticks: a control equal to the
/// canary passes, judged against the control.
#[test]
fn control_series_come_from_cloudwatch() {
    let moto = Moto::shared();
    let ns = moto.namespace();
    let to = ns.clone();
    let writer: deploy::Writer = Box::new(move |p: &Point| {
        Moto::shared().put(
            &to,
            &[
                ("Latency", &[("Version", "canary")], p.latency_ms, p.t),
                ("Latency", &[("Version", "stable")], p.latency_ms, p.t),
            ],
        )
    });
    let _d = Deploy::start(vec![writer]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let p = Project::new();
    let latency = |version: &str| {
        format!("{{ cloudwatch: {{ namespace: {ns}, metric: Latency, dimensions: {{ Version: {version} }}, period: 1s }} }}")
    };
    deploy::control_config(
        &format!(
            "source:\n  cloudwatch: {{ endpoint_url: \"{}\", timeout: 3s, lookback: 3s }}",
            moto.url()
        ),
        &latency("canary"),
        &latency("stable"),
    )
    .write(&p);
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .envs(moto.env())
        .output()
        .unwrap();
    let run = json(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{run}");
    assert_eq!(run["rules"][0]["expected"]["type"], "control", "{run}");
}

/// Each bad answer: `check --online` fails naming the metric and the cause, `watch` counts
/// missing data (inconclusive, exit 3), nothing crashes, and no secret shows.
#[test]
fn bad_answers_are_clear_errors_and_missing_data_never_a_pass_or_a_secret() {
    const TOKEN: &str = "s3ssion-t0ken-abcdef";
    let moto = Moto::shared();
    let ns = moto.namespace();
    let now = chrono::Utc::now().timestamp();
    moto.put(&ns, &[("Errors", &[], 1.0, now - 1)]);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let echo = Echo::start(403, "<html>denied: {headers}</html>");
    let garbage = Echo::start(200, "<html>::error::not json</html>");
    let hung = Echo::start(0, "");
    let good = moto.env();
    let secret = moto.secret_access_key.clone();
    let with = |k: &'static str, v: &str| -> Vec<(&'static str, String)> {
        good.iter()
            .map(|(n, old)| (*n, if *n == k { v.to_string() } else { old.clone() }))
            .collect()
    };
    let mut echo_env = good.clone();
    echo_env.push(("AWS_SESSION_TOKEN", TOKEN.to_string()));
    let no_credentials = vec![("AWS_REGION", REGION.to_string())];
    // (endpoint, environment, metric, what check --online must say)
    type Case<'a> = (String, Vec<(&'static str, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (dead, good.clone(), "Errors", "cannot reach CloudWatch"),
        (
            moto.url(),
            with("AWS_SECRET_ACCESS_KEY", "wrong-secret-123"),
            "Errors",
            "SignatureDoesNotMatch",
        ),
        (
            moto.url(),
            with("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN0000"),
            "Errors",
            "InvalidClientTokenId",
        ),
        (moto.url(), no_credentials, "Errors", "no AWS credentials"),
        (echo.url(), echo_env, "Errors", "HTTP 403"),
        (
            garbage.url(),
            good.clone(),
            "Errors",
            "not a CloudWatch JSON answer",
        ),
        (
            hung.url(),
            good.clone(),
            "Errors",
            "no answer from CloudWatch within 2s",
        ),
        (moto.url(), good.clone(), "NoSuchMetric", "empty"),
    ];
    for (url, env, metric, want) in cases {
        let p = Project::new();
        deploy::bad_answer_config(
            &format!("source:\n  cloudwatch: {{ endpoint_url: \"{url}\", timeout: 2s, retries: 0, lookback: 1h }}"),
            &format!("{{ cloudwatch: {{ namespace: {ns}, metric: {metric}, period: 1s }} }}"),
        )
        .write(&p);
        let leaked = |text: &str| {
            [secret.as_str(), "wrong-secret-123", TOKEN]
                .into_iter()
                .find(|s| text.contains(s))
                .map(String::from)
        };
        let out = p
            .cmd()
            .args(["check", "--online", "--output", "json"])
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .envs(env.clone())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(leaked(&text), None, "{want}: a secret leaked: {text}");
        assert_ne!(out.status.code(), Some(0), "{want}: {text}");
        let report = json(&out.stdout);
        let r = &report["online"][0];
        assert_eq!(r["metric"], "error_rate", "{report}");
        let said = format!("{} {}", r["status"], r["detail"]);
        assert!(said.contains(want), "want `{want}`: {said}");

        let out = p
            .cmd()
            .args(["watch", "--output", "json"])
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .envs(env)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(leaked(&text), None, "{want}: a secret leaked: {text}");
        assert_eq!(
            out.status.code(),
            Some(3),
            "{want}: missing data is inconclusive: {text}"
        );
    }
}

/// Four hours of datapoints put with past timestamps (moto keeps two weeks), the stable
/// version's latency as a control and a 15-minute gap in a quiet watch: the backtest reads
/// every series at the metrics' 60 s period, rolls back exactly the new version's
/// regression and the error incident, and calls the gap's window inconclusive, never
/// healthy. A step that is not a whole number of periods is exit 2, one line, saying so.
#[test]
fn backtest_reads_cloudwatch_history_with_its_control_and_gaps() {
    let moto = Moto::shared();
    let ns = moto.namespace();
    let end = history::end();
    let gap = history::window_end(end, 3);
    let rows: Vec<history::Row> = history::rows(end)
        .into_iter()
        .filter(|r| r.t <= gap - 15 * 60 || r.t > gap)
        .collect();
    let data: Vec<common::cloudwatch::Datum> = rows
        .iter()
        .flat_map(|r| {
            [
                ("Latency", &[("Version", "new")][..], r.latency, r.t),
                ("Latency", &[("Version", "stable")][..], r.control, r.t),
                ("ErrorRate", &[][..], r.errors, r.t),
            ]
        })
        .collect();
    for chunk in data.chunks(500) {
        moto.put(&ns, chunk);
    }
    let metric = |name: &str, dims: &str| {
        format!("{{ cloudwatch: {{ namespace: {ns}, metric: {name}, dimensions: {{ {dims} }}, period: 60s }} }}")
    };
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &history::config(
            &format!(
                "source:\n  cloudwatch: {{ endpoint_url: \"{}\", timeout: 5s, retries: 0 }}",
                moto.url()
            ),
            &format!(
                "  latency_ms:\n    backend: {}\n    control: {{ backend: {} }}\n  error_rate:\n    backend: {}\n",
                metric("Latency", "Version: new"),
                metric("Latency", "Version: stable"),
                metric("ErrorRate", "")
            ),
            true,
        ),
    );
    let env = moto.env();
    let report = history::backtest(&p, end, &env);
    assert_eq!(report["source"], "3 range queries over 4h every 1m");
    history::assert_finds_the_incidents(&report, end, true);
    let gapped = report["replayed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["end"] == gap * 1000)
        .unwrap();
    assert_eq!(gapped["verdict"], "inconclusive", "{gapped}");

    let out = common::exits(
        p.cmd()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(["backtest", "--since", "4h", "--interval", "90s", "--until"])
            .arg(end.to_string()),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("(cloudwatch): the backtest's step 90s (--interval) is not a multiple of the metric's period 60s"),
        "{err}"
    );
    assert!(!err.contains(&moto.secret_access_key), "{err}");
}

/// 9 % errors in the quarter hour before 10:15 UTC each day, 1 % otherwise.
fn daily_incident(t: i64) -> f64 {
    if ((t - 1) / 900).rem_euclid(96) == 40 {
        9.0
    } else {
        1.0
    }
}

/// A backtest of `since` on a stand-in CloudWatch at `url` (error rate, 60 s period).
fn paged_backtest(url: &str, until: i64, code: i32) -> std::process::Output {
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: checkout\ninterval: 60s\nduration: 15m\nsource:\n  cloudwatch: {{ endpoint_url: \"{url}\", timeout: 5s, retries: 0 }}\nmetrics:\n  error_rate:\n    backend: {{ cloudwatch: {{ namespace: App, metric: ErrorRate, period: 60s }} }}\nrules:\n  - {{ name: error-spike, metric: error_rate, detector: {{ threshold: {{ op: \">\", value: 5 }} }}, for: 1m, kind: HIGH_ERROR_RATE, severity: critical }}\nrollback:\n  command: [\"true\"]\n"
        ),
    );
    let until = until.to_string();
    common::exits(
        p.cmd()
            .env("AWS_ACCESS_KEY_ID", "AKIDSTANDIN")
            .env("AWS_SECRET_ACCESS_KEY", "standin-secret-5678")
            .env("AWS_REGION", REGION)
            .args([
                "backtest",
                "--since",
                "2d",
                "--every",
                "15m",
                "--until",
                &until,
                "--mde-windows",
                "0",
                "-o",
                "json",
            ]),
        code,
    )
}

/// What moto does not do and CloudWatch does, from a purpose-built stand-in: an answer
/// given a page (1 000 datapoints) at a time is followed through every NextToken, so the
/// incidents on the last pages are found; a call over the server's datapoint limit is
/// refused, and the backtest says so with CloudWatch's reason and the stretch (exit 2).
#[test]
fn backtest_follows_cloudwatch_pages_and_reports_a_refused_call() {
    let until = (chrono::Utc::now().timestamp() - 3600) / 900 * 900;
    let cw = common::pagingcw::PagingCloudWatch::start(1000, 100_800, daily_incident);
    let out = paged_backtest(&cw.url(), until, 0);
    let report = json(&out.stdout);
    // Two days at 60 s: 2 881 datapoints, one call answered in three pages.
    assert_eq!(report["source"], "3 range queries over 2days every 1m");
    let calls = cw.calls();
    assert_eq!(
        calls.iter().map(|c| c.token).collect::<Vec<_>>(),
        [false, true, true],
        "{calls:?}"
    );
    assert_eq!(report["judged"], report["windows"], "{report:#}");
    let start = until - 2 * 86_400;
    let expected: Vec<i64> = (0..=2 * 96)
        .map(|k| until - k * 900)
        .filter(|e| e.rem_euclid(86_400) == 36_900 && e - 75 * 60 >= start - 60)
        .map(|e| e * 1000)
        .rev()
        .collect();
    let rolled: Vec<i64> = report["rolled_back"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["end"].as_i64().unwrap())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(rolled, expected, "{report:#}");

    let strict = common::pagingcw::PagingCloudWatch::start(1000, 1000, daily_incident);
    let out = paged_backtest(&strict.url(), until, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("metric `error_rate` (cloudwatch): GetMetricData for ")
            && err.contains("CloudWatch answered HTTP 400: InvalidParameterCombination: You have requested up to 2881 datapoints"),
        "{err}"
    );
    assert!(!err.contains("standin-secret-5678"), "{err}");
}
