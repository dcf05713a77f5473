//! `analyze` replays files through the same gate as `watch`: same data, same decision.

use crate::common;

use common::config::GateConfig;
use common::{json, Project};

const ERRORS: [&str; 8] = ["0", "0.2", "0.1", "0", "0.3", "7", "9", "11"];
const LATENCY: [&str; 8] = ["100", "101", "99", "300", "100", "102", "98", "100"];

fn write_config(p: &Project, er: &str, lat: &str) {
    GateConfig::new("200ms", "3s")
        .probe("error_rate", er)
        .probe("latency_ms", lat)
        .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, consecutive_failures: 2, kind: HIGH_ERROR_RATE }"#)
        .rule("{ name: latency-spike, metric: latency_ms, detector: { iqr: { k: 3 } }, kind: HIGH_LATENCY }")
        .rollback(r#"["true"]"#)
        .write(p);
}

#[test]
fn analyze_reaches_the_same_decision_as_watch_on_the_same_data() {
    let p = Project::new();
    let er = p.series("error_rate", &ERRORS);
    let lat = p.series("latency_ms", &LATENCY);
    write_config(&p, &er, &lat);
    let b = p.baseline(&[
        ("error_rate", vec![0.0, 0.1, 0.2, 0.1]),
        ("latency_ms", vec![98.0, 100.0, 101.0, 99.0, 102.0]),
    ]);
    let watch = p
        .cmd()
        .args(["watch", "--output", "json", "--baseline"])
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(
        watch.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&watch.stderr)
    );
    let w = json(&watch.stdout);

    // The same readings as CSV, 200 ms apart, and the baseline as CSV.
    let mut csv = String::from("timestamp,error_rate,latency_ms\n");
    for (i, (e, l)) in ERRORS.iter().zip(LATENCY).enumerate() {
        csv.push_str(&format!("{},{e},{l}\n", 1_700_000_000.0 + i as f64 * 0.2));
    }
    p.write("current.csv", &csv);
    p.write("baseline.csv", "timestamp,error_rate,latency_ms\n2023-11-14 22:00:00,0,98\n2023-11-14 22:00:30,0.1,100\n2023-11-14 22:01:00,0.2,101\n2023-11-14 22:01:30,0.1,99\n2023-11-14 22:02:00,,102\n");
    let an = p
        .cmd()
        .args([
            "analyze",
            "--baseline",
            "baseline.csv",
            "--current",
            "current.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(
        an.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&an.stderr)
    );
    let a = json(&an.stdout);

    assert_eq!(a["verdict"], w["verdict"]);
    assert_eq!(a["ticks"], w["ticks"], "decided at the same tick");
    assert_eq!(
        a["ticks"], 7,
        "latency-spike is one high (<3); two error-rate ticks > 5 fire the critical at tick 7"
    );
    let rules = |v: &serde_json::Value| {
        v["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["rule"].as_str().unwrap().to_string(),
                    a["observed"].as_f64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(rules(&a), rules(&w));
    assert_eq!(
        rules(&a),
        vec![
            ("latency-spike".into(), 300.0),
            ("high-error-rate".into(), 9.0)
        ]
    );
    // Timestamps come from the file: fired at the 4th and 7th rows.
    assert_eq!(a["anomalies"][0]["fired_at"], 1_700_000_000_600i64);
    assert_eq!(a["decided_at"], 1_700_000_001_200i64);
    assert_eq!(a["rollback"]["ran"], false, "analyze never acts");
}

#[test]
fn analyze_healthy_and_bad_input() {
    let p = Project::new();
    write_config(&p, "[\"true\"]", "[\"true\"]");
    p.write(
        "b.csv",
        "timestamp,error_rate,latency_ms\n0,0,100\n30,0,101\n60,0,99\n",
    );
    p.write(
        "c.csv",
        "timestamp,error_rate,latency_ms\n0,0,100\n30,0,100\n",
    );
    let out = p
        .cmd()
        .args(["analyze", "--baseline", "b.csv", "--current", "c.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out.stdout)["verdict"], "healthy");
    p.write(
        "c.csv",
        "timestamp,error_rate,latency_ms\n0,0,100\n30,zero,100\n",
    );
    let out = p
        .cmd()
        .args(["analyze", "--baseline", "b.csv", "--current", "c.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("c.csv:3: error_rate: `zero` is not a number"),
        "{err}"
    );
}
