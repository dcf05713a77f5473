//! What a newcomer is told: duration mistakes, history filters, `check` on a gate that can
//! never fail. Messages are snapshots (insta); exit codes are asserted.

mod common;

use common::{exits, Project};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn months_are_refused_with_a_hint_on_flags_and_variables() {
    let p = Project::new();
    let flag = exits(p.cmd().args(["watch", "--duration", "15M"]), 2);
    insta::assert_snapshot!("duration_15M_flag", stderr(&flag));
    let var = exits(p.cmd().arg("watch").env("VZ_DURATION", "2 months"), 2);
    assert!(
        stderr(&var).contains("months and years are not accepted"),
        "{}",
        stderr(&var)
    );
    let long = exits(p.cmd().args(["watch", "--duration", "25h"]), 2);
    insta::assert_snapshot!("duration_over_a_day", stderr(&long));
    p.write("vz-monitor.yaml", "duration: 30d\nmetrics:\n  cpu: { probe: { system: cpu_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: critical }\n");
    let yaml = exits(p.cmd().arg("check"), 2);
    assert!(
        stderr(&yaml).contains("vz-monitor.yaml:1") && stderr(&yaml).contains("24h"),
        "{}",
        stderr(&yaml)
    );
}

#[test]
fn a_bare_number_is_seconds_everywhere() {
    let p = Project::new();
    p.write("vz-monitor.yaml", "interval: 1\nduration: 90\nmetrics:\n  cpu: { probe: { system: cpu_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: critical }\n");
    exits(p.cmd().arg("check"), 0);
    // Flags and variables parse the same way (a parse error would exit 2 before running).
    exits(p.cmd().args(["prune", "--older-than", "30"]), 0);
    exits(p.cmd().arg("prune").args(["--older-than", "86400"]), 0);
    let help = exits(p.cmd().args(["watch", "--help"]), 0);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("a bare number is seconds"), "{help}");
}

#[test]
fn history_verdict_values_are_checked() {
    let p = Project::new();
    let out = exits(p.cmd().args(["history", "--verdict", "failed"]), 2);
    insta::assert_snapshot!("history_verdict_failed", stderr(&out));
    exits(p.cmd().arg("prune"), 0); // a store to read (history never makes one)
    exits(p.cmd().args(["history", "--verdict", "rolled-back"]), 0);
    let help = exits(p.cmd().args(["history", "--help"]), 0);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("At most this many runs") && help.contains("Output format"),
        "{help}"
    );
}

#[test]
fn check_warns_when_the_gate_can_never_fail() {
    let p = Project::new();
    p.write("vz-monitor.yaml", "deployment: web\nmetrics:\n  cpu: { probe: { system: cpu_percent } }\n  mem: { probe: { system: memory_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: medium }\n  - { name: m, metric: mem, detector: { threshold: { op: \">\", value: 90 } }, kind: MEM, severity: high }\n");
    let out = exits(p.cmd().arg("check"), 0);
    insta::assert_snapshot!("check_unreachable_policy", stderr(&out));
    p.write(
        "vz-monitor.yaml",
        "deployment: web\nmetrics:\n  cpu: { probe: { system: cpu_percent } }\nrules: []\n",
    );
    let out = exits(p.cmd().arg("check"), 0);
    assert!(
        stderr(&out).contains("`rules` is empty"),
        "{}",
        stderr(&out)
    );
    // Two high rules against `high: 2` can: no warning.
    p.write("vz-monitor.yaml", "deployment: web\nmetrics:\n  cpu: { probe: { system: cpu_percent } }\n  mem: { probe: { system: memory_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: high }\n  - { name: m, metric: mem, detector: { threshold: { op: \">\", value: 90 } }, kind: MEM, severity: high }\nrollback: { policy: { high: 2 } }\n");
    let out = exits(p.cmd().arg("check"), 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    // And the built-in defaults (no file at all) can fail too.
    let q = Project::new();
    let out = exits(q.cmd().arg("check"), 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn baseline_out_to_a_missing_folder_names_it_and_stores_nothing() {
    let p = Project::new();
    p.write("vz-monitor.yaml", "metrics:\n  cpu: { probe: { system: cpu_percent } }\nrules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: critical }\n");
    let out = exits(
        p.cmd()
            .args(["baseline", "--samples", "1", "--out", "nodir/b.json"]),
        2,
    );
    assert!(
        stderr(&out).contains("nodir/b.json") && !stderr(&out).contains("tmp~"),
        "{}",
        stderr(&out)
    );
    // Nothing was recorded: not even a store was made, so a reading command says so.
    let h = exits(p.cmd().args(["audit", "export"]), 2);
    assert!(stderr(&h).contains("no store at"), "{}", stderr(&h));
}

/// Issue 25.6: in a CI log (no terminal) `history` broke timestamps and words mid-way; every
/// table now keeps words whole.
#[test]
fn history_in_a_ci_log_keeps_timestamps_and_words_whole() {
    let p = Project::new();
    p.write("vz-monitor.yaml", "deployment: checkout-api-eu-west-1-canary-blue\ninterval: 100ms\nduration: 300ms\nmetrics:\n  http_request_duration_seconds_p95: { probe: { command: [echo, \"9\"] } }\nrules:\n  - { name: checkout-latency-regression-p95, metric: http_request_duration_seconds_p95, detector: { threshold: { op: \">\", value: 5 } }, kind: HIGH_LATENCY, severity: critical }\nrollback: { enabled: false }\n");
    exits(p.cmd().arg("watch"), 1);
    let out = exits(p.cmd().arg("history"), 0);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let runs = exits(p.cmd().args(["history", "-o", "json"]), 0);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    let reason = runs[0]["reason"].as_str().unwrap_or_default().to_string();
    let stamp = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z").unwrap();
    assert!(stamp.is_match(&table), "a whole timestamp:\n{table}");
    for word in reason
        .split_whitespace()
        .chain(["checkout-api-eu-west-1-canary-blue"])
    {
        if word.chars().count() <= 24 {
            assert!(table.contains(word), "`{word}` broken:\n{table}");
        }
    }
}
