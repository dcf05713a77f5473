//! `backtest` end to end: a REAL Prometheus holding a week of synthetic history (written as
//! OpenMetrics and loaded with `promtool tsdb create-blocks-from openmetrics` before the
//! server starts), the binary replaying the gate over every hour of it, and `analyze` run
//! on the same windows (cut from Prometheus by the test itself) as the yardstick. Offline
//! histories (`--history FILE`) cover bad input and pin the output formats.

use crate::common;

use common::prometheus::Prometheus;
use common::Noise;
use common::{exits, json, Project};
use serde_json::Value;
use std::fmt::Write as _;

const STEP: i64 = 15;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Hours before the end at which the watched window of an incident ends.
const LATENCY_INCIDENT_H: i64 = 100;
const ERROR_INCIDENT_H: i64 = 30;

/// Whether `t` lies in the incident of the window ending `hours` before `end`: from the
/// start of its 15-minute watch (its baseline is clean) to 10 minutes after it.
fn in_incident(t: i64, end: i64, hours: i64) -> bool {
    let at = end - hours * HOUR;
    t > at - 15 * 60 && t <= at + 10 * 60
}

/// `days` of 15 s points ending at `end` (Unix s): a latency with a daily cycle and an error
/// rate, both stationary noise, with a latency incident (×1.8) and an error incident (8 %).
fn synthetic(end: i64, days: i64) -> Vec<(i64, f64, f64)> {
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let start = end - days * DAY;
    (0..=(days * DAY / STEP))
        .map(|i| {
            let t = start + i * STEP;
            let cycle = (2.0 * std::f64::consts::PI * (t % DAY) as f64 / DAY as f64).sin();
            let mut latency = 100.0 + 15.0 * cycle + 16.0 * (noise.next() - 0.5);
            let mut errors = 0.5 + 0.5 * noise.next();
            if in_incident(t, end, LATENCY_INCIDENT_H) {
                latency *= 1.8;
            }
            if in_incident(t, end, ERROR_INCIDENT_H) {
                errors = 8.0 + noise.next();
            }
            (t, latency, errors)
        })
        .collect()
}

/// The points as OpenMetrics, one gauge family per metric, each in time order.
fn openmetrics(points: &[(i64, f64, f64)]) -> String {
    let mut s = String::from("# TYPE synth_latency_ms gauge\n");
    for (t, l, _) in points {
        writeln!(s, "synth_latency_ms {l} {t}").unwrap();
    }
    s.push_str("# TYPE synth_error_percent gauge\n");
    for (t, _, e) in points {
        writeln!(s, "synth_error_percent {e} {t}").unwrap();
    }
    s.push_str("# EOF\n");
    s
}

const RULES: &str = r#"rules:
  - name: latency-regression
    metric: latency_ms
    detector: { baseline: { stat: p95, max_change: "20%" } }
    kind: HIGH_LATENCY
    severity: critical
  - name: error-spike
    metric: error_rate
    detector: { threshold: { op: ">", value: 5 } }
    for: 1m
    kind: HIGH_ERROR_RATE
    severity: critical
rollback:
  command: ["true"]
  policy: { critical: 1 }
"#;

/// The gate: a p95 latency regression of 20 % and an error rate above 5 % for a minute,
/// watched 15 minutes every 15 s, reading `source` (a `source:` block, or nothing).
fn config(source: &str) -> String {
    format!(
        "deployment: checkout\ninterval: 15s\nduration: 15m\n{source}metrics:\n  latency_ms: {{ query: 'synth_latency_ms' }}\n  error_rate: {{ query: 'synth_error_percent' }}\n{RULES}"
    )
}

/// Rows `(t, latency, errors)` as an `analyze` CSV, latency multiplied by `factor`.
fn csv(rows: &[(i64, f64, f64)], factor: f64) -> String {
    let mut s = String::from("timestamp,latency_ms,error_rate\n");
    for (t, l, e) in rows {
        writeln!(s, "{t},{},{e}", l * factor).unwrap();
    }
    s
}

/// `analyze`'s exit code on the window `(end − 15m, end]` against the hour before it, the
/// window's latency multiplied by `factor`: 1 rolled back, 0 healthy, 3 inconclusive.
fn analyze(p: &Project, rows: &[(i64, f64, f64)], end_ms: i64, factor: f64) -> i32 {
    let end = end_ms / 1000;
    let (start, from) = (end - 15 * 60, end - 15 * 60 - HOUR);
    let base: Vec<_> = rows
        .iter()
        .copied()
        .filter(|r| r.0 > from && r.0 <= start)
        .collect();
    let cur: Vec<_> = rows
        .iter()
        .copied()
        .filter(|r| r.0 > start && r.0 <= end)
        .collect();
    assert_eq!((base.len(), cur.len()), (240, 60), "window ending {end}");
    // Files of their own, so calls can run side by side.
    let (b, c) = (
        format!("base-{end_ms}-{factor}.csv"),
        format!("cur-{end_ms}-{factor}.csv"),
    );
    p.write(&b, &csv(&base, 1.0));
    p.write(&c, &csv(&cur, factor));
    let out = p
        .cmd()
        .args(["analyze", "--baseline", &b, "--current", &c])
        .output()
        .unwrap();
    out.status.code().unwrap()
}

/// [`analyze`] of each `(end_ms, factor)`, four processes at a time (the suite's budget:
/// a week is 167 windows).
fn analyze_all(p: &Project, rows: &[(i64, f64, f64)], jobs: &[(i64, f64)]) -> Vec<i32> {
    let mut codes = vec![0; jobs.len()];
    std::thread::scope(|s| {
        for (chunk, out) in jobs
            .chunks(jobs.len().div_ceil(4).max(1))
            .zip(codes.chunks_mut(jobs.len().div_ceil(4).max(1)))
        {
            s.spawn(move || {
                for ((end_ms, factor), code) in chunk.iter().zip(out.iter_mut()) {
                    *code = analyze(p, rows, *end_ms, *factor);
                }
            });
        }
    });
    codes
}

/// The week as Prometheus holds it, read back by the test with its own range queries.
fn read_back(prom: &Prometheus, start: i64, end: i64) -> Vec<(i64, f64, f64)> {
    let l = prom.range("synth_latency_ms", start, end, STEP);
    let e = prom.range("synth_error_percent", start, end, STEP);
    assert_eq!(l.len(), e.len(), "both series cover the week");
    l.iter()
        .zip(&e)
        .map(|((t, l), (t2, e))| {
            assert_eq!(t, t2);
            (*t, *l, *e)
        })
        .collect()
}

fn windows_with(report: &Value, rule: &str) -> Vec<i64> {
    report["rolled_back"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["rules"].as_array().unwrap().iter().any(|r| r == rule))
        .map(|w| w["end"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_week_in_prometheus_finds_both_incidents_agrees_with_analyze_and_its_mde_holds() {
    // The last point a minute ago, on the 15 s grid: within retention, before the head.
    let now = chrono::Utc::now().timestamp();
    let end = (now - 60) / STEP * STEP;
    let points = synthetic(end, 7);
    let prom = Prometheus::start_with_history(&openmetrics(&points), "synth_latency_ms", &[]);
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &config(&format!(
            "source:\n  prometheus: {{ url: \"{}\", timeout: 10s, retries: 1 }}\n",
            prom.url()
        )),
    );
    // `check --online` prints the latency's figure from the current baseline, in one line
    // (first: the history ends a minute before the test began, and the instant queries of
    // the online check look back 5 minutes).
    let check = exits(p.cmd().args(["check", "--online"]), 0);
    let text = String::from_utf8_lossy(&check.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("minimum detectable effect of latency_ms: +"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("% of windows caught"), "{line}");

    let out = exits(
        p.cmd().args([
            "backtest",
            "--since",
            "7d",
            "--every",
            "1h",
            "--until",
            &end.to_string(),
            "--output",
            "json",
        ]),
        0,
    );
    let report = json(&out.stdout);

    // One range query per metric per 11 000 points: a week at 15 s is 4 of them each.
    assert_eq!(
        report["source"], "8 range queries over 7days every 15s",
        "{report:#}"
    );
    // Every hour of the week that has an hour of history before it: 7 × 24 − 1.
    assert_eq!(report["windows"], 167);
    assert_eq!(report["judged"], 167);

    // Both incidents found, by the rule watching the metric that moved.
    let at = |h: i64| (end - h * HOUR) * 1000;
    assert_eq!(
        windows_with(&report, "latency-regression"),
        vec![at(LATENCY_INCIDENT_H)]
    );
    assert_eq!(
        windows_with(&report, "error-spike"),
        vec![at(ERROR_INCIDENT_H)]
    );

    // `analyze` on every window, cut from Prometheus by the test: the same verdicts, so the
    // false-rollback rate on the quiet stretches is the one analyze gives.
    let rows = read_back(&prom, end - 7 * DAY, end);
    assert_eq!(rows.len(), points.len());
    let mut quiet = (0, 0, 0); // (windows, backtest rollbacks, analyze rollbacks)
    let replayed = report["replayed"].as_array().unwrap();
    let jobs: Vec<(i64, f64)> = replayed
        .iter()
        .map(|w| (w["end"].as_i64().unwrap(), 1.0))
        .collect();
    let codes = analyze_all(&p, &rows, &jobs);
    for (w, code) in replayed.iter().zip(codes) {
        let end_ms = w["end"].as_i64().unwrap();
        let backtest = w["rollback"].as_bool().unwrap();
        assert_eq!(code == 1, backtest, "window ending {end_ms}: {w}");
        let incident = end_ms == at(LATENCY_INCIDENT_H) || end_ms == at(ERROR_INCIDENT_H);
        if !incident {
            quiet.0 += 1;
            quiet.1 += usize::from(backtest);
            quiet.2 += usize::from(code == 1);
        }
    }
    assert_eq!(quiet.0, 165);
    assert_eq!(quiet.1, quiet.2);
    assert_eq!(report["rollbacks"], quiet.1 + 2);
    assert_eq!(report["rolled_back"].as_array().unwrap().len(), quiet.1 + 2);
    // A stationary week with a daily cycle: the gate stays within its alpha of 1 %.
    assert!(quiet.1 <= 2, "{} false rollbacks on quiet windows", quiet.1);

    // The minimum detectable effect of the latency, confirmed by injecting it directly into
    // the same windows' files: analyze catches it in the share reported (≥ 80 %), and the
    // shift tried below it in fewer than 80 %.
    let mde = report["min_detectable_effect"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "latency_ms")
        .unwrap()
        .clone();
    let effect = mde["effect"].as_f64().expect("a figure");
    let power = mde["power"].as_f64().unwrap();
    assert!(power >= 0.8, "{mde}");
    // A p95 judged by its confidence bound against a 20 % max_change, on ±8 ms noise:
    // somewhere past 20 %, well below 100 %.
    assert!((20.0..100.0).contains(&effect), "{mde}");
    let used: Vec<i64> = report["mde_windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_i64().unwrap())
        .collect();
    assert_eq!(used.len(), 40);
    let caught = |percent: f64| {
        let jobs: Vec<(i64, f64)> = used.iter().map(|e| (*e, 1.0 + percent / 100.0)).collect();
        let n = analyze_all(&p, &rows, &jobs)
            .into_iter()
            .filter(|c| *c == 1)
            .count();
        n as f64 / used.len() as f64
    };
    assert_eq!(caught(effect), power, "{mde}");
    let below = mde["below"].as_array().expect("a shift below it was tried");
    let (shift, below_power) = (below[0].as_f64().unwrap(), below[1].as_f64().unwrap());
    assert!(below_power < 0.8);
    assert_eq!(caught(shift), below_power, "{mde}");
}

#[test]
fn a_prometheus_that_refuses_a_long_range_is_a_clear_error() {
    let now = chrono::Utc::now().timestamp();
    let end = (now - 60) / STEP * STEP;
    // A server that loads at most 1 000 samples per query refuses every 11 000-point piece.
    let prom = Prometheus::start_with_history(
        &openmetrics(&synthetic(end, 1)),
        "synth_latency_ms",
        &["--query.max-samples=1000"],
    );
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &config(&format!(
            "source:\n  prometheus: {{ url: \"{}\", timeout: 10s, retries: 0 }}\n",
            prom.url()
        )),
    );
    let out = exits(p.cmd().args(["backtest", "--since", "1d"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: no history to replay over the 1day before ")
            && err.contains("metric `")
            && err.contains("the range query for ")
            && err.contains("too many samples"),
        "{err}"
    );
}

/// `hours` of 15 s rows ending at `end` as an `analyze` CSV, rows in `(from, to]` dropped
/// (a gap).
fn history_file(end: i64, hours: i64, gap: Option<(i64, i64)>) -> String {
    let points: Vec<_> = synthetic(end, 1)
        .into_iter()
        .filter(|r| r.0 > end - hours * HOUR)
        .filter(|r| gap.is_none_or(|(a, b)| r.0 <= a || r.0 > b))
        .collect();
    csv(&points, 1.0)
}

/// A fixed end for the offline histories (2026-01-01T00:00:00Z).
const END: i64 = 1_767_225_600;

/// The gate with a Prometheus nobody listens on: `--history FILE` never asks it.
fn offline_config() -> String {
    config("source:\n  prometheus: { url: \"http://127.0.0.1:9\" }\n")
}

#[test]
fn a_history_shorter_than_one_window_says_how_long_it_is_and_what_it_needs() {
    let p = Project::new();
    p.write("vz-monitor.yaml", &offline_config());
    p.write("h.csv", &history_file(END, 1, None));
    let out = exits(p.cmd().args(["backtest", "--history", "h.csv"]), 2);
    insta::assert_snapshot!("backtest_too_short", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn gaps_leave_windows_unjudged_with_the_reason_and_never_crash() {
    let p = Project::new();
    p.write("vz-monitor.yaml", &offline_config());
    // 6 h with nothing between 2 h and 4 h before the end: windows every 10 minutes.
    p.write(
        "h.csv",
        &history_file(END, 6, Some((END - 4 * HOUR, END - 2 * HOUR))),
    );
    let out = exits(
        p.cmd().args([
            "backtest",
            "--history",
            "h.csv",
            "--every",
            "10m",
            "-o",
            "json",
        ]),
        0,
    );
    let r = json(&out.stdout);
    let windows = r["replayed"].as_array().unwrap();
    let unjudged: Vec<&Value> = windows.iter().filter(|w| w["verdict"].is_null()).collect();
    assert!(!unjudged.is_empty(), "{r:#}");
    assert!(
        unjudged.iter().all(|w| {
            let why = w["reason"].as_str().unwrap();
            why.contains("(a gap)") && !w["rollback"].as_bool().unwrap()
        }),
        "{unjudged:#?}"
    );
    assert_eq!(
        r["judged"].as_u64().unwrap() as usize,
        windows.len() - unjudged.len()
    );
    // Windows whose baseline lies in the gap: (start − 1h, start] within it.
    assert_eq!(unjudged.len(), 6, "{unjudged:#?}");
    // The window whose watch begins 5 minutes before the gap, on a whole baseline: its
    // missing two thirds are missing data: inconclusive, never a pass.
    let straddling = windows
        .iter()
        .find(|w| w["end"].as_i64() == Some((END - 4 * HOUR + 10 * 60) * 1000))
        .unwrap();
    assert_eq!(straddling["verdict"], "inconclusive", "{straddling}");
    assert_eq!(straddling["rollback"], false);
}

#[test]
fn bad_flags_and_histories_are_exit_2_with_one_line() {
    let p = Project::new();
    p.write("vz-monitor.yaml", &offline_config());
    p.write("h.csv", "timestamp,latency_ms\n0,abc\n");
    let out = exits(p.cmd().args(["backtest", "--history", "h.csv"]), 2);
    insta::assert_snapshot!("backtest_bad_cell", String::from_utf8_lossy(&out.stderr));
    p.write("h.csv", "timestamp,other\n0,1\n15,1\n");
    let out = exits(p.cmd().args(["backtest", "--history", "h.csv"]), 2);
    insta::assert_snapshot!(
        "backtest_no_rule_can_run",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = exits(
        p.cmd()
            .args(["backtest", "--history", "h.csv", "--every", "0s"]),
        2,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --every must be greater than 0\n"
    );
    // Only probes and no file: nothing to read.
    p.write("vz-monitor.yaml", "metrics:\n  cpu: { probe: { system: cpu_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: critical }\n");
    let out = exits(p.cmd().args(["backtest"]), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--history FILE"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A day of offline history with both incidents of the week shifted into it.
fn day_with_incidents(p: &Project) {
    p.write("vz-monitor.yaml", &offline_config());
    let points: Vec<_> = synthetic(END, 1)
        .into_iter()
        .map(|(t, l, e)| {
            let l = if in_incident(t, END, 5) { l * 1.8 } else { l };
            let e = if in_incident(t, END, 12) { 8.5 } else { e };
            (t, l, e)
        })
        .collect();
    p.write("h.csv", &csv(&points, 1.0));
}

#[test]
fn table_json_and_markdown_are_pinned() {
    let p = Project::new();
    day_with_incidents(&p);
    let args = ["backtest", "--history", "h.csv", "--mde-windows", "10"];
    for (format, name) in [
        ("table", "backtest_table"),
        ("markdown", "backtest_markdown"),
        ("json", "backtest_json"),
    ] {
        let out = exits(p.cmd().args(args).args(["-o", format]), 0);
        insta::assert_snapshot!(name, String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn the_html_page_draws_one_chart_per_metric_with_the_rolled_back_windows() {
    let p = Project::new();
    day_with_incidents(&p);
    let out = exits(
        p.cmd().args([
            "backtest",
            "--history",
            "h.csv",
            "--mde-windows",
            "0",
            "-o",
            "html",
        ]),
        0,
    );
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert_eq!(page.matches("<svg").count(), 2, "a chart per metric");
    assert!(page.contains("<figcaption>latency_ms</figcaption>"));
    // Each chart marks the window its rule rolled back: the latency's and the error rate's.
    assert_eq!(page.matches("▲ rollback fired").count(), 2, "{page}");
    let latency = &page[page.find("<figcaption>latency_ms").unwrap()..];
    assert!(
        latency.contains("latency-regression on latency_ms"),
        "{latency}"
    );
    // A day is labelled in hours.
    assert!(page.contains(">+12h<"), "{page}");
    // At most 600 points per chart, not a day's 5 761.
    assert!(page.matches("<circle").count() <= 2 * 600);
    assert!(!page.contains("<script"), "self-contained, no script");
    // And it renders in a real headless Chromium, as report's page does: no console
    // message, a drawn screenshot.
    let file = p.write("backtest.html", &page);
    let (console, png) = crate::html_report::chromium(&file, &p.path("backtest.png"));
    assert!(console.is_empty(), "console messages: {console:?}");
    let (colours, drawn) = crate::html_report::picture(&png);
    assert!(
        colours > 50,
        "a blank-looking screenshot: {colours} colours"
    );
    assert!(drawn > 0.02, "a blank-looking screenshot: {drawn} drawn");
}

/// `--history FILE` with a `<metric> (control)` column (the name `watch` stores a control
/// under): rules against the control replay as `analyze --control` would, so the surge both
/// versions share does not roll back and the new version's own regression does. Without
/// the column the rule is left out, with a note saying which column is missing.
#[test]
fn a_history_file_with_a_control_column_replays_rules_against_the_control() {
    use common::history;
    let end = END;
    let rows = history::rows(end);
    let file = |control: bool| {
        let mut s = String::from("timestamp,latency_ms,error_rate");
        s.push_str(if control {
            ",latency_ms (control)\n"
        } else {
            "\n"
        });
        for r in &rows {
            write!(s, "{},{},{}", r.t, r.latency, r.errors).unwrap();
            if control {
                write!(s, ",{}", r.control).unwrap();
            }
            s.push('\n');
        }
        s
    };
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &history::config(
            "source:\n  prometheus: { url: \"http://127.0.0.1:9\" }",
            "  latency_ms: { query: 'new_latency', control: { query: 'stable_latency' } }\n  error_rate: { query: 'errors' }\n",
            true,
        ),
    );
    let run = |name: &str| {
        let out = exits(
            p.cmd().args([
                "backtest",
                "--history",
                name,
                "--since",
                "4h",
                "--every",
                "30m",
                "--mde-windows",
                "0",
                "-o",
                "json",
            ]),
            0,
        );
        json(&out.stdout)
    };
    p.write("with.csv", &file(true));
    let report = run("with.csv");
    history::assert_finds_the_incidents(&report, end, true);
    assert_eq!(report["notes"], serde_json::json!([]), "{report:#}");

    p.write("without.csv", &file(false));
    let report = run("without.csv");
    assert_eq!(
        history::rolled_back(&report, end),
        vec![(history::ERRORS_AT, vec!["error-spike".to_string()])]
    );
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("rule `latency-regression` left out: it compares `latency_ms` against a control, but the history has no `latency_ms (control)` values"),
        "{notes}"
    );
}
