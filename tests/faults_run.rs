//! Issue 24's fault table, each fault reproduced against the real binary: a dead control,
//! rollbacks run twice or reported wrongly across processes, a store that hangs or is lost,
//! signals at start-up, unbounded reads, leaks and escapes. `bench/faults.sh` replays it N
//! times beside `faults.rs` and `faults_input.rs`.

#[path = "common/badprom.rs"]
mod badprom;
mod common;
#[path = "common/faultkit.rs"]
mod faultkit;

use badprom::{BadProm, Mode};
use common::{json, Project};
use faultkit::{run_bounded, stderr};
use std::time::Duration;

/// A watch of `latency_ms` (a steady probe) against `control` (YAML), failing closed.
fn control_config(p: &Project, control: &str, source: &str) {
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"deployment: web
interval: 200ms
duration: 3s
{source}
metrics:
  latency_ms:
    probe: {{ command: ["echo", "200"] }}
    control: {control}
rules:
  - name: latency-regression
    metric: latency_ms
    detector: {{ baseline: {{ stat: mean, max_change: "10%" }} }}
    severity: critical
rollback:
  command: ["touch", "{}"]
  policy: {{ critical: 1, on_inconclusive: fail }}
"#,
            p.path("rolled-back").display()
        ),
    );
}

/// Fault 1: a control that answers 500, garbage, nothing, NaN, late, or a failing probe is a
/// missing sample of the rule comparing against it: with `on_inconclusive: fail` the watch
/// is inconclusive and rolls back, never HEALTHY.
#[test]
fn a_dead_control_never_passes_a_watch() {
    let prom = BadProm::start();
    let source = format!(
        "source:\n  prometheus: {{ url: \"{}\", timeout: 1s, retries: 0 }}",
        prom.url()
    );
    let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    let cases: Vec<(&str, String, Option<Mode>, Duration)> = vec![
        (
            "failing probe",
            r#"{ probe: { command: ["sh", "-c", "exit 1"] } }"#.into(),
            None,
            Duration::ZERO,
        ),
        (
            "garbage probe",
            r#"{ probe: { command: ["echo", "garbage"] } }"#.into(),
            None,
            Duration::ZERO,
        ),
        (
            "NaN probe",
            r#"{ probe: { command: ["echo", "NaN"] } }"#.into(),
            None,
            Duration::ZERO,
        ),
        (
            "empty probe",
            r#"{ probe: { command: ["true"] } }"#.into(),
            None,
            Duration::ZERO,
        ),
        (
            "HTTP 500",
            "{ query: up }".into(),
            Some(Mode::Raw(500, "boom".into())),
            Duration::ZERO,
        ),
        (
            "garbage body",
            "{ query: up }".into(),
            Some(Mode::Raw(200, "<html>".into())),
            Duration::ZERO,
        ),
        (
            "empty vector",
            "{ query: up }".into(),
            Some(Mode::Raw(200, empty.into())),
            Duration::ZERO,
        ),
        (
            "NaN value",
            "{ query: up }".into(),
            Some(Mode::Value(f64::NAN)),
            Duration::ZERO,
        ),
        (
            "hang",
            "{ query: up }".into(),
            Some(Mode::Value(200.0)),
            Duration::from_secs(30),
        ),
    ];
    for (what, control, mode, delay) in cases {
        let p = Project::new();
        control_config(&p, &control, &source);
        if let Some(m) = mode {
            prom.set(|b| {
                b.mode = m;
                b.delay = delay;
            });
        }
        let out = run_bounded({
            let mut c = p.std_cmd();
            c.args(["watch", "--output", "json"]);
            c
        });
        let s = json(&out.stdout);
        assert_ne!(
            s["verdict"], "healthy",
            "{what}: a dead control passed the gate"
        );
        assert_eq!(s["verdict"], "inconclusive", "{what}: {s}");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what}: stderr: {}",
            stderr(&out)
        );
        assert!(
            p.path("rolled-back").exists(),
            "{what}: fail-closed did not roll back"
        );
        let missing = s["completeness"][0]["missing"].as_u64().unwrap_or(0);
        assert!(
            missing > 0,
            "{what}: the dead control counted 0 missing: {s}"
        );
    }
}

/// Fault 1 offline: `analyze --control` with a control file of empty or NaN cells, and a rule
/// test whose control is all missing (`_x20`), are inconclusive, not healthy.
#[test]
fn a_dead_control_never_passes_analyze_or_a_rule_test() {
    let p = Project::new();
    control_config(&p, r#"{ probe: { command: ["true"] } }"#, "");
    let rows = |cell: &dyn Fn(usize) -> String| {
        let mut s = String::from("timestamp,latency_ms\n");
        for i in 0..20 {
            s.push_str(&format!(
                "{},{}\n",
                1_700_000_000 + i * 15,
                cell(i as usize)
            ));
        }
        s
    };
    p.write("current.csv", &rows(&|_| "200".into()));
    for (name, cell) in [("empty", ""), ("nan", "NaN")] {
        p.write(&format!("{name}.csv"), &rows(&|_| cell.to_string()));
        let out = run_bounded({
            let mut c = p.std_cmd();
            c.args(["analyze", "--current", "current.csv", "--control"]);
            c.arg(format!("{name}.csv"));
            c
        });
        let s = json(&out.stdout);
        assert_eq!(s["verdict"], "inconclusive", "{name} control: {s}");
        assert_ne!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
    p.write(
        "rules.yaml",
        r#"metrics:
  latency_ms: { probe: { command: ["true"] } }
rules:
  - name: latency-regression
    metric: latency_ms
    detector: { baseline: { stat: mean, max_change: "10%" } }
    severity: critical
"#,
    );
    p.write(
        "t.yaml",
        r#"rule_files: [rules.yaml]
interval: 15s
tests:
  - name: a dead control is not a pass
    input: { latency_ms: "200x19" }
    control: { latency_ms: "_x20" }
    expect: { decision: healthy }
"#,
    );
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["test", "t.yaml"]);
        c
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_ne!(
        out.status.code(),
        Some(0),
        "the rule test passed on a dead control: {text}"
    );
    assert!(text.contains("+ inconclusive"), "{text}");
}
