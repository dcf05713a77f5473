//! A few hours of synthetic history for `backtest` against each backend's REAL server: one
//! point a minute of a latency (and the stable version's latency, a control) and an error
//! rate, quiet noise with injected incidents in known watch windows. Each backend's test
//! writes it into its server (past timestamps), runs `vz-monitor backtest`, and checks the
//! windows that roll back are exactly the incidents, by the right rule.

use super::{exits, json, Noise, Project};
use serde_json::Value;
use std::fmt::Write as _;

/// One point a minute: the coarse step every backend keeps for hours.
pub const STEP: i64 = 60;
/// Hours of history written and read.
pub const HOURS: i64 = 4;
/// Windows end every half hour back from the end: `end − k × 30 min`, k = 0 … 5 (a window
/// needs an hour of baseline and its 15-minute watch).
pub const EVERY: i64 = 1800;
pub const WINDOWS: i64 = 6;
/// The window whose watch has an error rate of 8 % (error-spike).
pub const ERRORS_AT: i64 = 2;
/// The window whose watch has the new version's latency ×1.8 and the stable version's as it
/// was: a regression, against the baseline or the control.
pub const REGRESSION_AT: i64 = 1;
/// The window whose watch has both versions' latency ×1.8 (traffic that hits both): a
/// regression against the baseline, not against the control.
pub const SURGE_AT: i64 = 4;

/// One minute of history (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub t: i64,
    pub latency: f64,
    pub control: f64,
    pub errors: f64,
}

/// The end of the history: two minutes ago, on the minute (every backend has it by then).
pub fn end() -> i64 {
    (chrono::Utc::now().timestamp() - 120) / STEP * STEP
}

/// The end of window `k` (Unix seconds).
pub fn window_end(end: i64, k: i64) -> i64 {
    end - k * EVERY
}

fn in_watch(t: i64, end: i64, k: i64) -> bool {
    let e = window_end(end, k);
    t > e - 15 * 60 && t <= e
}

/// [`HOURS`] of rows ending at `end`, incidents injected.
pub fn rows(end: i64) -> Vec<Row> {
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let start = end - HOURS * 3600;
    (0..=HOURS * 3600 / STEP)
        .map(|i| {
            let t = start + i * STEP;
            let mut latency = 100.0 + 16.0 * (noise.next() - 0.5);
            let mut control = 100.0 + 16.0 * (noise.next() - 0.5);
            let mut errors = 0.5 + 0.5 * noise.next();
            if in_watch(t, end, ERRORS_AT) {
                errors = 8.0 + noise.next();
            }
            if in_watch(t, end, REGRESSION_AT) || in_watch(t, end, SURGE_AT) {
                latency *= 1.8;
            }
            if in_watch(t, end, SURGE_AT) {
                control *= 1.8;
            }
            Row {
                t,
                latency,
                control,
                errors,
            }
        })
        .collect()
}

/// The gate replayed: a 15-minute watch at the 1-minute step, an error rate above 5 % for a
/// minute, and a p95 latency regression of 20 % (against the control with `control`).
pub fn config(source: &str, metrics: &str, control: bool) -> String {
    let against = if control { ", against: control" } else { "" };
    format!(
        "deployment: checkout\ninterval: 60s\nduration: 15m\n{source}\nmetrics:\n{metrics}\
         rules:\n  - name: latency-regression\n    metric: latency_ms\n    detector: {{ baseline: \
         {{ stat: p95, max_change: \"20%\"{against} }} }}\n    kind: HIGH_LATENCY\n    severity: critical\n\
         \x20 - name: error-spike\n    metric: error_rate\n    detector: {{ threshold: {{ op: \">\", value: 5 }} }}\n\
         \x20   for: 1m\n    kind: HIGH_ERROR_RATE\n    severity: critical\n\
         rollback:\n  command: [\"true\"]\n  policy: {{ critical: 1 }}\n"
    )
}

/// `backtest` over the whole history ending at `end`, every half hour, as JSON (exit 0).
pub fn backtest(p: &Project, end: i64, env: &[(&str, String)]) -> Value {
    let since = format!("{HOURS}h");
    let until = end.to_string();
    let out = exits(
        p.cmd().envs(env.iter().map(|(k, v)| (k, v))).args([
            "backtest",
            "--since",
            &since,
            "--every",
            "30m",
            "--until",
            &until,
            "--mde-windows",
            "0",
            "--output",
            "json",
        ]),
        0,
    );
    json(&out.stdout)
}

/// The rules that fired in each window that rolled back, by `k`, and every window's verdict.
pub fn rolled_back(report: &Value, end: i64) -> Vec<(i64, Vec<String>)> {
    let k_of = |w: &Value| (end * 1000 - w["end"].as_i64().unwrap()) / (EVERY * 1000);
    let mut out: Vec<(i64, Vec<String>)> = report["replayed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["rollback"] == true)
        .map(|w| {
            let rules = w["rules"].as_array().unwrap();
            (
                k_of(w),
                rules
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    out.sort();
    out
}

/// What a backtest of [`rows`] must find: every window judged, and rolled back exactly
/// where an incident is, by the rule that watches what moved. Against the control the
/// surge that hits both versions is not a regression.
pub fn assert_finds_the_incidents(report: &Value, end: i64, control: bool) {
    assert_eq!(report["windows"], WINDOWS, "{report:#}");
    assert_eq!(report["judged"], WINDOWS, "{report:#}");
    let latency = || vec!["latency-regression".to_string()];
    let mut expected = vec![
        (REGRESSION_AT, latency()),
        (ERRORS_AT, vec!["error-spike".to_string()]),
    ];
    if !control {
        expected.push((SURGE_AT, latency()));
    }
    expected.sort();
    assert_eq!(rolled_back(report, end), expected, "{report:#}");
}

/// Rows `(t, latency, errors)` in `(from, to]` as an `analyze` CSV.
pub fn csv(rows: &[Row], from: i64, to: i64) -> String {
    let mut s = String::from("timestamp,latency_ms,error_rate\n");
    for r in rows.iter().filter(|r| r.t > from && r.t <= to) {
        writeln!(s, "{},{},{}", r.t, r.latency, r.errors).unwrap();
    }
    s
}
