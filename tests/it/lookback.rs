//! `baseline --lookback`: how consecutive ticks depend on each other, estimated from hours
//! of a REAL Prometheus's history (written with `promtool tsdb create-blocks-from
//! openmetrics` before it starts), stored with the baseline, and shown per series.

use crate::common;

use common::prometheus::Prometheus;
use common::{exits, json, Noise, Project};
use std::fmt::Write as _;

const STEP: i64 = 15;

/// 7 h of 15 s points ending at `end` (Unix s): `wander`, an AR(1) series (φ 0.9 on the log
/// scale, as a latency that drifts for minutes), and `steady`, independent ticks.
fn history(end: i64) -> String {
    let mut g = Noise(0x9E37_79B9_7F4A_7C15);
    let n = 7 * 3600 / STEP;
    let mut x = g.normal();
    let (mut wander, mut steady) = (String::new(), String::new());
    for i in 0..=n {
        let t = end - (n - i) * STEP;
        x = 0.9 * x + (1.0f64 - 0.81).sqrt() * g.normal();
        writeln!(wander, "lb_wander {} {t}", 100.0 * (0.3 * x).exp()).unwrap();
        writeln!(steady, "lb_steady {} {t}", 100.0 * (0.3 * g.normal()).exp()).unwrap();
    }
    format!("# TYPE lb_wander gauge\n{wander}# TYPE lb_steady gauge\n{steady}# EOF\n")
}

/// The `lag-1 ≤` cell of `series` in `baseline`'s table.
fn lag1_cell(table: &str, series: &str) -> f64 {
    let row = table
        .lines()
        .find(|l| l.split(['│', '|', '┆']).any(|c| c.trim() == series))
        .unwrap_or_else(|| panic!("no row for {series}:\n{table}"));
    let cells: Vec<&str> = row
        .split(['│', '|', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    // series, n, mean, p50, p95, min, max, lag-1 ≤, effective n, failed
    cells[7]
        .parse()
        .unwrap_or_else(|_| panic!("lag-1 cell of {row}"))
}

#[test]
fn six_hours_of_history_show_each_series_dependence_and_are_stored_with_the_baseline() {
    let end = (chrono::Utc::now().timestamp() - 60) / STEP * STEP;
    let prom = Prometheus::start_with_history(&history(end), "lb_wander", &[]);
    let p = Project::new();
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: lb\ninterval: 15s\nduration: 5m\nsource:\n  prometheus: {{ url: \"{}\" }}\n\
             metrics:\n  wander: {{ query: 'lb_wander' }}\n  steady: {{ query: 'lb_steady' }}\n\
             rules:\n  - {{ name: w, metric: wander, detector: {{ baseline: {{ stat: mean, max_change: '10%' }} }} }}\n\
             \x20 - {{ name: s, metric: steady, detector: {{ baseline: {{ stat: mean, max_change: '10%' }} }} }}\n",
            prom.url()
        ),
    );

    // The default: an hour of baseline, and 6 h of lookback for the dependence.
    let out = exits(p.cmd().args(["baseline", "--output", "json"]), 0);
    let set = json(&out.stdout);
    // Prometheus carries the last point forward over its lookback: 241 steps.
    assert_eq!(set["series"]["wander"].as_array().unwrap().len(), 241);
    for s in ["wander", "steady"] {
        let l = &set["lookback"][s];
        // 6 h at 15 s in 6 stretches.
        assert_eq!(
            (&l["values"], &l["runs"]),
            (&1441.into(), &6.into()),
            "{s}: {l}"
        );
    }
    assert!(
        set["source"]
            .as_str()
            .unwrap()
            .contains("dependence over 6h every 15s"),
        "{}",
        set["source"]
    );
    let table = String::from_utf8(exits(p.cmd().arg("baseline"), 0).stdout).unwrap();
    // AR(1) φ 0.9 on the log scale: rank autocorrelation (6/π)·asin(0.45) ≈ 0.89.
    let wander = lag1_cell(&table, "wander");
    assert!((0.84..=0.95).contains(&wander), "{wander}\n{table}");
    // Independent ticks: the upper bound from 1,441 values is a few hundredths.
    let steady = lag1_cell(&table, "steady");
    assert!(steady <= 0.06, "{steady}\n{table}");

    // Without a lookback the baseline's own 241 ticks are all there is: no lookback is
    // stored, and the independent series' bound is wider.
    let out = exits(
        p.cmd()
            .args(["baseline", "--lookback", "0s", "--output", "json"]),
        0,
    );
    let set = json(&out.stdout);
    assert!(set.get("lookback").is_none(), "{set}");
    let table =
        String::from_utf8(exits(p.cmd().args(["baseline", "--lookback", "0s"]), 0).stdout).unwrap();
    assert!(
        lag1_cell(&table, "wander") > 0.6,
        "the hour alone still shows the wander:\n{table}"
    );
}
