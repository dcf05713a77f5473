//! What a newcomer is told: duration mistakes, history filters, `check` on a gate that can
//! never fail. Messages are snapshots (insta); exit codes are asserted.

use crate::common;

use common::config::GateConfig;
use common::{exits, Project};

/// Metric `m` always 1 and a critical rule it never breaks: a healthy watch, rollback off.
fn echo_one(duration: &str) -> GateConfig {
    GateConfig::new("100ms", duration)
        .metric("m", r#"{ probe: { command: [echo, "1"] } }"#)
        .rule(r#"{ name: hi, metric: m, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH, severity: critical }"#)
}

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
    // CPU and memory above 90, at these severities.
    let gate = |cpu: &str, mem: &str| {
        GateConfig::bare()
            .metric("cpu", "{ probe: { system: cpu_percent } }")
            .metric("mem", "{ probe: { system: memory_percent } }")
            .rule(&format!(r#"{{ name: c, metric: cpu, detector: {{ threshold: {{ op: ">", value: 90 }} }}, kind: CPU, severity: {cpu} }}"#))
            .rule(&format!(r#"{{ name: m, metric: mem, detector: {{ threshold: {{ op: ">", value: 90 }} }}, kind: MEM, severity: {mem} }}"#))
    };
    gate("medium", "high").write(&p);
    let out = exits(p.cmd().arg("check"), 0);
    insta::assert_snapshot!("check_unreachable_policy", stderr(&out));
    GateConfig::bare()
        .metric("cpu", "{ probe: { system: cpu_percent } }")
        .write(&p);
    let out = exits(p.cmd().arg("check"), 0);
    assert!(
        stderr(&out).contains("`rules` is empty"),
        "{}",
        stderr(&out)
    );
    // Two high rules against `high: 2` can: no warning.
    gate("high", "high").policy("high: 2").write(&p);
    let out = exits(p.cmd().arg("check"), 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    // And the built-in defaults (no file at all) can fail too.
    let q = Project::new();
    let out = exits(q.cmd().arg("check"), 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn check_says_what_a_probe_baseline_costs_a_statistical_rule() {
    let p = Project::new();
    let rule = |extra: &str| {
        GateConfig::bare()
            .metric("cpu", "{ probe: { system: cpu_percent } }")
            .rule(&format!(
                r#"{{ name: drift, metric: cpu, detector: {{ baseline: {{ stat: mean, max_change: "10%"{extra} }} }}, kind: CPU, severity: critical }}"#
            ))
    };
    rule("").write(&p);
    let out = exits(p.cmd().arg("check"), 0);
    let err = stderr(&out);
    assert!(
        err.contains("rule `drift` compares probe metric `cpu` with a probe baseline")
            && err.contains("takes the ticks as independent")
            && err.contains("`baseline --samples 60`"),
        "{err}"
    );
    // One line, no runs of spaces where a line was broken.
    let line = err.lines().find(|l| l.contains("drift")).unwrap();
    assert!(!line.contains("  "), "{line}");
    // A rule that says its ticks are independent has nothing to warn about.
    rule(", dependence: none").write(&p);
    let out = exits(p.cmd().arg("check"), 0);
    assert!(!stderr(&out).contains("probe baseline"), "{}", stderr(&out));
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

#[test]
fn init_names_the_one_minute_quick_start_as_its_next_step() {
    let p = Project::new();
    let out = exits(p.cmd().arg("init"), 0);
    insta::assert_snapshot!("init_next_step", String::from_utf8_lossy(&out.stdout));
    // What it wrote passes `check` as it stands.
    exits(p.cmd().arg("check"), 0);
}

/// The help a newcomer reads (issue 25.7): `watch --help` with examples and exit codes and
/// the right flag for a baseline file; `report` takes `--output` like every command;
/// `rollback` and `history` say what `--deployment` does. Whole help texts are snapshots.
#[test]
fn help_has_examples_exit_codes_and_the_flags_that_exist() {
    let p = Project::new();
    let help = |args: &[&str]| {
        let out = exits(p.cmd().args(args).env("COLUMNS", "100"), 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let watch = help(&["watch", "--help"]);
    insta::assert_snapshot!("help_watch", watch);
    assert!(watch.contains("baseline --out FILE"), "{watch}");
    assert!(watch.contains("Exit codes: 0 healthy"), "{watch}");
    assert!(watch.contains("Examples:"), "{watch}");
    let report = help(&["report", "--help"]);
    insta::assert_snapshot!("help_report", report);
    assert!(report.contains("-o, --output"), "{report}");
    assert!(
        !report.contains("--format"),
        "the old spelling stays hidden: {report}"
    );
    let rollback = help(&["rollback", "--help"]);
    insta::assert_snapshot!("help_rollback", rollback);
    assert!(rollback.contains("Deployment to roll back"), "{rollback}");
    let history = help(&["history", "--help"]);
    assert!(
        history.contains("Only runs of this deployment"),
        "{history}"
    );
    for cmd in ["baseline", "check", "analyze", "history"] {
        let h = help(&[cmd, "--help"]);
        assert!(h.contains("Examples:"), "{cmd}: {h}");
    }
    let top = help(&["--help"]);
    assert!(
        top.contains("Examples:") && top.contains("Exit codes:"),
        "{top}"
    );
}

/// `report -o json` works (it was refused with a hint), and `-f`/`--format` keep working.
#[test]
fn report_takes_output_like_every_command_and_still_format() {
    let p = Project::new();
    echo_one("300ms").write(&p);
    exits(p.cmd().arg("watch"), 0);
    for args in [
        &["report", "latest", "-o", "json"][..],
        &["report", "latest", "--output", "json"],
        &["report", "latest", "-f", "json"],
        &["report", "latest", "--format", "json"],
    ] {
        let out = exits(p.cmd().args(args), 0);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(v["deployment"], "web", "{args:?}");
    }
    let md = exits(p.cmd().args(["report", "latest", "-o", "markdown"]), 0);
    assert!(String::from_utf8_lossy(&md.stdout).contains("web"));
}

/// `VZ_DRY_RUN=0` means "no" (it was refused as "invalid value '0' for '--dry-run'"), and a
/// value that is neither names the variable.
#[test]
fn boolean_variables_take_0_and_1_and_errors_name_the_variable() {
    let p = Project::new();
    echo_one("200ms").write(&p);
    for v in ["0", "1", "false", "true", "no", "yes"] {
        exits(p.cmd().arg("watch").env("VZ_DRY_RUN", v), 0);
        exits(p.cmd().arg("watch").env("VZ_NO_ROLLBACK", v), 0);
    }
    let out = exits(p.cmd().arg("watch").env("VZ_DRY_RUN", "maybe"), 2);
    insta::assert_snapshot!("dry_run_variable_invalid", stderr(&out));
    assert!(stderr(&out).contains("VZ_DRY_RUN"), "{}", stderr(&out));
}

/// Messages that did not say what was wrong (issue 25.7): a tab in YAML, a rollback command
/// written as one string, a rollback program that is not installed, an unreachable
/// Prometheus without its URL.
#[test]
fn config_and_source_mistakes_say_what_to_fix() {
    let p = Project::new();
    let rules = "rules:\n  - { name: c, metric: cpu, detector: { threshold: { op: \">\", value: 90 } }, kind: CPU, severity: critical }\n";
    p.write(
        "vz-monitor.yaml",
        &format!("metrics:\n  cpu:\n\tprobe: {{ system: cpu_percent }}\n{rules}"),
    );
    let tab = exits(p.cmd().arg("check"), 2);
    insta::assert_snapshot!("yaml_tab", stderr(&tab));
    assert!(stderr(&tab).contains("tab"), "{}", stderr(&tab));

    p.write(
        "vz-monitor.yaml",
        &format!("metrics:\n  cpu: {{ probe: {{ system: cpu_percent }} }}\n{rules}rollback:\n  command: kubectl rollout undo deployment/web\n"),
    );
    let string = exits(p.cmd().arg("check"), 2);
    insta::assert_snapshot!("rollback_command_string", stderr(&string));
    assert!(
        stderr(&string).contains(r#"command: ["kubectl", "rollout", "undo", "deployment/web"]"#),
        "{}",
        stderr(&string)
    );

    p.write(
        "vz-monitor.yaml",
        &format!("metrics:\n  cpu: {{ probe: {{ system: cpu_percent }} }}\n{rules}rollback:\n  command: [vz-no-such-program-25, undo]\n"),
    );
    let missing = exits(p.cmd().arg("check"), 0);
    insta::assert_snapshot!("rollback_program_missing", stderr(&missing));
    assert!(
        stderr(&missing).contains("`vz-no-such-program-25` is not on PATH"),
        "{}",
        stderr(&missing)
    );
    exits(p.cmd().args(["check", "--online"]), 3);
    // An installed program, by name or by path, is no warning.
    p.write(
        "vz-monitor.yaml",
        &format!("metrics:\n  cpu: {{ probe: {{ system: cpu_percent }} }}\n{rules}rollback:\n  command: [sh, -c, \"true\"]\n"),
    );
    let ok = exits(p.cmd().arg("check"), 0);
    assert!(!stderr(&ok).contains("rollback.command"), "{}", stderr(&ok));

    // Port 1 on loopback: nothing listens there.
    p.write(
        "vz-monitor.yaml",
        "source:\n  prometheus: { url: \"http://127.0.0.1:1\", timeout: 2s, retries: 0 }\nmetrics:\n  errors: { query: \"up\" }\nrules:\n  - { name: e, metric: errors, detector: { threshold: { op: \">\", value: 1 } }, kind: E, severity: critical }\n",
    );
    let online = exits(p.cmd().args(["check", "--online", "-o", "json"]), 3);
    let v: serde_json::Value = serde_json::from_slice(&online.stdout).unwrap();
    let detail = v["online"][0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("cannot reach Prometheus at http://127.0.0.1:1"),
        "{detail}"
    );
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
