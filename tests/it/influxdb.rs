//! The InfluxDB backend against a REAL InfluxDB 1.x (influxd with authentication on,
//! tests/it/common/influxdb.rs, one per test binary): the same deploy reaches the same verdicts
//! as through Prometheus; `GROUP BY` tags are `per_series` series; `control:` reads InfluxDB
//! too; and every bad answer — unreachable, a real 401 for a wrong password, a statement
//! error, garbage, no rows — is a clear `check --online` error naming the metric and missing
//! data in the watch, never a pass and never the password in the output. Needs .ci/setup.sh.

use crate::common;

use common::deploy::{self, Deploy, Point};
use common::echo::Echo;
use common::history;
use common::influxdb::{InfluxDb, PASSWORD, USER};
use common::prometheus::{free_port, Prometheus};
use common::{json, logging_rollback, Project};

/// `source:` + `metrics:` reading the deploy's rows in `db`.
fn metrics(url: &str, db: &str, password: &str) -> deploy::Reading {
    deploy::Reading {
        source: source(url, db, password, "timeout: 2s, retries: 1, lookback: 3s"),
        metrics: "  error_rate:\n    backend: { influxdb: { query: 'SELECT mean(\"error_rate\") FROM \"service\" WHERE $timeFilter GROUP BY time($interval) fill(none)', interval: 1s } }\n  p95_latency_ms:\n    backend: { influxdb: { query: 'SELECT mean(\"latency_ms\") FROM \"service\" WHERE $timeFilter GROUP BY time($interval) fill(none)', interval: 1s } }\n  requests:\n    backend: { influxdb: { query: 'SELECT mean(\"value\") FROM \"requests\" WHERE $timeFilter GROUP BY time($interval), \"code\" fill(none)', interval: 1s } }\n    per_series: true\n".into(),
    }
}

/// `source.influxdb` on `db` as user `USER`, with these further settings.
fn source(url: &str, db: &str, password: &str, settings: &str) -> String {
    format!("source:\n  influxdb: {{ url: \"{url}\", database: {db}, username: {USER}, password: \"{password}\", {settings} }}")
}

fn project(reading: &deploy::Reading) -> Project {
    let p = Project::new();
    deploy::config(reading, &logging_rollback(p.dir.path())).write(&p);
    p
}

fn lines(p: &Point) -> String {
    format!(
        "service error_rate={},latency_ms={} {t}\nrequests,code=200 value={} {t}\nrequests,code=500 value={} {t}\n",
        p.error_rate,
        p.latency_ms,
        p.ok,
        p.errors,
        t = p.t
    )
}

#[test]
fn the_same_deploy_reaches_the_same_verdicts_as_through_prometheus() {
    let influx = InfluxDb::shared();
    let db = influx.database();
    let to = db.clone();
    let writer: deploy::Writer =
        Box::new(move |p: &Point| InfluxDb::shared().write(&to, &lines(p)));
    let d = Deploy::start(vec![writer]);
    let prom = Prometheus::start_scraping(&[d.address()]);
    let on_prom = project(&deploy::prometheus_metrics(&prom.url()));
    let on_influx = project(&metrics(&influx.url(), &db, PASSWORD));
    deploy::same_verdicts(&d, &on_prom, &on_influx, "InfluxDB", &[]);
}

/// `control:` is read from InfluxDB over the same ticks: a control equal to the
/// canary passes, judged against the control.
#[test]
fn control_series_come_from_influxdb() {
    let influx = InfluxDb::shared();
    let db = influx.database();
    let to = db.clone();
    let writer: deploy::Writer = Box::new(move |p: &Point| {
        let lines = format!(
            "lat,v=canary value={l} {t}\nlat,v=stable value={l} {t}\n",
            l = p.latency_ms,
            t = p.t
        );
        InfluxDb::shared().write(&to, &lines)
    });
    let _d = Deploy::start(vec![writer]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let p = Project::new();
    let lat = |v: &str| {
        format!("{{ influxdb: {{ query: \"SELECT last(value) FROM lat WHERE $timeFilter AND v = '{v}'\" }} }}")
    };
    deploy::control_config(
        &source(&influx.url(), &db, PASSWORD, "timeout: 2s, lookback: 3s"),
        &lat("canary"),
        &lat("stable"),
    )
    .write(&p);
    let out = p
        .cmd()
        .args(["watch", "--output", "json"])
        .output()
        .unwrap();
    let run = json(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{run}");
    assert_eq!(run["rules"][0]["expected"]["type"], "control", "{run}");
}

/// Each bad answer: `check --online` fails naming the metric and the cause, `watch` counts
/// missing data (inconclusive, exit 3), nothing crashes, and the password never shows.
#[test]
fn bad_answers_are_clear_errors_and_missing_data_never_a_pass_or_a_secret() {
    let influx = InfluxDb::shared();
    let db = influx.database();
    influx.write(&db, "m,host=a v=1\nm,host=b s=\"text\"");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let echo = Echo::start(200, "<html>::error::{headers}</html>");
    let good = "SELECT last(v) FROM m WHERE $timeFilter AND host = 'a'";
    let cases: [(&str, &str, &str, &str); 6] = [
        (&dead, PASSWORD, good, "cannot reach InfluxDB"),
        (&influx.url(), "wrong-pw-1234", good, "HTTP 401"),
        (
            &influx.url(),
            PASSWORD,
            "SELECT last(v) FROM m WHERE $timeFilter AND",
            "refused the query",
        ),
        (&echo.url(), PASSWORD, good, "not an InfluxDB /query answer"),
        (
            &influx.url(),
            PASSWORD,
            "SELECT last(v) FROM nothing WHERE $timeFilter",
            "empty",
        ),
        (
            &influx.url(),
            PASSWORD,
            "SELECT last(s) FROM m WHERE $timeFilter AND host = 'b'",
            "no number",
        ),
    ];
    for (url, password, query, want) in cases {
        let p = Project::new();
        deploy::bad_answer_config(
            &source(url, &db, password, "timeout: 1s, retries: 0, lookback: 1h"),
            &format!("{{ influxdb: {{ query: \"{query}\" }} }}"),
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
            !text.contains(password),
            "{want}: the password leaked: {text}"
        );
        assert_ne!(out.status.code(), Some(0), "{want}: {text}");
        let report = json(&out.stdout);
        let r = &report["online"][0];
        assert_eq!(r["metric"], "error_rate", "{report}");
        let said = format!("{} {}", r["status"], r["detail"]);
        assert!(said.contains(want), "want `{want}`: {said}");

        let out = p
            .cmd()
            .args(["watch", "--output", "json"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !text.contains(password),
            "{want}: the password leaked: {text}"
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "{want}: missing data is inconclusive: {text}"
        );
    }
}

/// A config check before any I/O: a query without `$timeFilter` is refused (exit 2), with
/// the fix.
#[test]
fn a_query_without_time_filter_is_a_config_error() {
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        "source:\n  influxdb: { url: \"http://127.0.0.1:1\", database: d }\nmetrics:\n  x:\n    backend: { influxdb: { query: \"SELECT last(v) FROM m\" } }\nrules:\n  - name: r\n    metric: x\n    detector: { threshold: { op: \">\", value: 5 } }\n",
    );
    let out = p.cmd().args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("metrics.x.backend.influxdb.query") && err.contains("$timeFilter"),
        "{err}"
    );
}

/// [`history::rows`] as line protocol: the service's latency and error rate, one line a
/// minute with its past timestamp.
fn history_lines(rows: &[history::Row]) -> String {
    rows.iter()
        .map(|r| format!("http latency={},errors={} {}\n", r.latency, r.errors, r.t))
        .collect()
}

/// The history's gate on database `db` of the server at `url`.
fn history_config(url: &str, db: &str) -> String {
    let query = |field: &str| {
        format!("{{ backend: {{ influxdb: {{ query: 'SELECT mean(\"{field}\") FROM \"http\" WHERE $timeFilter GROUP BY time($interval) fill(none)' }} }} }}")
    };
    history::config(
        &source(url, db, PASSWORD, "timeout: 5s, retries: 0"),
        &format!(
            "  latency_ms: {}\n  error_rate: {}\n",
            query("latency"),
            query("errors")
        ),
        false,
    )
}

/// Four hours of history written with past timestamps: the backtest rolls back exactly the
/// incident windows by the right rule, reads each metric in one statement, and `analyze` on
/// every window (rows cut by the test from what it wrote) reaches the same verdict.
#[test]
fn backtest_finds_the_incidents_in_influxdb_history_as_analyze_does() {
    let i = InfluxDb::shared();
    let db = i.database();
    let end = history::end();
    let rows = history::rows(end);
    i.write(&db, &history_lines(&rows));
    let p = Project::new();
    p.write("vz-monitor.yaml", &history_config(&i.url(), &db));
    let report = history::backtest(&p, end, &[]);
    assert_eq!(report["source"], "2 range queries over 4h every 1m");
    history::assert_finds_the_incidents(&report, end, false);

    for w in report["replayed"].as_array().unwrap() {
        let e = w["end"].as_i64().unwrap() / 1000;
        p.write("base.csv", &history::csv(&rows, e - 75 * 60, e - 15 * 60));
        p.write("cur.csv", &history::csv(&rows, e - 15 * 60, e));
        let out = p
            .cmd()
            .args(["analyze", "--baseline", "base.csv", "--current", "cur.csv"])
            .output()
            .unwrap();
        let code = out.status.code().unwrap();
        assert_eq!(code == 1, w["rollback"] == true, "window ending {e}: {w}");
        assert_ne!(code, 2, "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A server that answers at most 100 rows (`max-row-limit`) marks longer answers `partial`:
/// the backtest asks again in halves and loses no row (the same incidents, in more
/// statements). One that refuses more than 5 000 buckets per statement (a 1 s step over 4
/// hours needs 14 401) ends the read: exit 2, one line with InfluxDB's reason and the stretch.
#[test]
fn backtest_against_a_limited_influxdb_splits_cut_answers_and_reports_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let i = InfluxDb::start_with(
        dir.path(),
        "  max-row-limit = 100",
        "  max-select-buckets = 5000",
    );
    let db = i.database();
    let end = history::end();
    i.write(&db, &history_lines(&history::rows(end)));
    let p = Project::new();
    p.write("vz-monitor.yaml", &history_config(&i.url(), &db));
    let report = history::backtest(&p, end, &[]);
    // Per metric: 241 rows cut short, 120 cut short, then 60 + 60 + 60 + 60 + 1.
    assert_eq!(report["source"], "14 range queries over 4h every 1m");
    history::assert_finds_the_incidents(&report, end, false);

    let out = common::exits(
        p.cmd()
            .args(["backtest", "--since", "4h", "--interval", "1s", "--until"])
            .arg(end.to_string()),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: no history to replay over the 4h before ")
            && err.contains("(influxdb): the query for ")
            && err.contains("max-select-buckets limit exceeded"),
        "{err}"
    );
    assert!(!err.contains(PASSWORD), "{err}");

    // 101 series in one step are more rows than the limit however short the stretch: the
    // halving stops at one step and says what to raise.
    let wide: String = (0..=100)
        .map(|c| format!("req,code={c} v=1 {}\n", end - 600))
        .collect();
    i.write(&db, &wide);
    p.write(
        "vz-monitor.yaml",
        &history::config(
            &source(&i.url(), &db, PASSWORD, "timeout: 5s, retries: 0"),
            &["latency_ms", "error_rate"]
                .map(|m| format!("  {m}:\n    per_series: true\n    backend: {{ influxdb: {{ query: 'SELECT mean(\"v\") FROM \"req\" WHERE $timeFilter GROUP BY time($interval), \"code\" fill(none)' }} }}\n"))
                .concat(),
            false,
        ),
    );
    let out = common::exits(
        p.cmd()
            .args(["backtest", "--since", "4h", "--until"])
            .arg(end.to_string()),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("InfluxDB cut short its answer for the single step at ")
            && err.contains("raise max-row-limit"),
        "{err}"
    );
}
