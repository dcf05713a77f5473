//! Issue 11's fault table, part 2: hostile input against the real binary. Forged
//! workflow commands and escape sequences from a Prometheus-compatible server's error body,
//! label values and probe stderr; series and YAML bombs; servers that echo credentials.
//! Part 1 (`faults.rs`) has the process faults; `bench/faults.sh` replays both N times.

use crate::common;
use crate::common::badprom;
use crate::common::faultkit;

use badprom::{BadProm, Mode};
use common::config::GateConfig;
use common::Project;
use faultkit::{forged_lines, prom_config, run_bounded, sh, stderr};

const FORGED: &str = "bad query\n::error title=forged::X\r::warning::Y \u{1b}[31mred\u{1b}[0m";

#[test]
fn forged_workflow_commands_from_a_prometheus_error_body_are_not_printed_raw() {
    let prom = BadProm::start();
    let p = Project::new();
    prom_config(&p, &prom.url(), "200ms", "1s", "");
    let error = serde_json::json!({"status": "error", "errorType": "bad_data", "error": FORGED});
    for body in [error.to_string(), FORGED.to_string()] {
        for status in [400, 500] {
            prom.set(|b| b.mode = Mode::Raw(status, body.clone()));
            for args in [&["health"][..], &["watch"][..]] {
                let out = run_bounded({
                    let mut c = p.std_cmd();
                    c.args(args);
                    c
                });
                let all = [out.stdout.clone(), out.stderr.clone()].concat();
                // A JSON error is reported with its message; a body that is not JSON is
                // reported as such, never quoted.
                let reported = if body.starts_with('{') {
                    "forged"
                } else {
                    "error_rate"
                };
                assert!(
                    String::from_utf8_lossy(&all).contains(reported),
                    "{args:?} {status}: the error was not reported: {}",
                    stderr(&out)
                );
                assert_eq!(
                    forged_lines(&all),
                    Vec::<String>::new(),
                    "{args:?} {status}"
                );
            }
        }
    }
}

#[test]
fn label_values_with_cr_and_probe_stderr_with_ansi_are_not_printed_raw() {
    let prom = BadProm::start();
    prom.set(|b| {
        b.labels
            .insert("pod".into(), "a\r::error title=forged::L\u{1b}[2J".into());
        b.mode = Mode::Value(1.0);
    });
    let p = Project::new();
    let probe = sh("printf '\\033[31mred\\033[0m\\n::error title=forged::P\\r::x\\n' >&2; exit 1");
    GateConfig::new("200ms", "1s")
        .section(&format!(
            "source:\n  prometheus: {{ url: \"{}\" }}",
            prom.url()
        ))
        .metric("per_pod", "{ query: 'up', per_series: true }")
        .probe("probe", &probe)
        .write(&p);
    for output in ["table", "json"] {
        let out = run_bounded({
            let mut c = p.std_cmd();
            c.args(["health", "--output", output]);
            c
        });
        let all = [out.stdout.clone(), out.stderr.clone()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            text.contains("forged::L") || text.contains("forged"),
            "{text}"
        );
        assert_eq!(forged_lines(&all), Vec::<String>::new(), "{output}: {text}");
    }
}

#[test]
fn series_bombs_in_rule_tests_exit_2_in_bounded_memory() {
    let p = Project::new();
    p.write("rules.yaml", "metrics: {}\nrules: []\n");
    for series in [
        "1x1000000000",
        "_x18446744073709551615",
        "0+1x99999999999999999999",
    ] {
        p.write(
            "t.yaml",
            &format!("rule_files: [rules.yaml]\ntests:\n  - name: bomb\n    input: {{ err: \"{series}\" }}\n"),
        );
        let out = run_bounded({
            let mut c = p.std_cmd();
            c.args(["test", "t.yaml"]);
            c
        });
        assert_eq!(out.status.code(), Some(2), "{series}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("points"),
            "{series}: {}",
            stderr(&out)
        );
    }
}

/// Ten levels of anchors, each ten aliases of the one before: 10^10 nodes expanded.
fn billion_laughs() -> String {
    let mut s = String::from("lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*l{}", i - 1); 10].join(", ");
        s.push_str(&format!("lol{i}: &l{i} [{refs}]\n"));
    }
    s
}

#[test]
fn yaml_bombs_exit_2_in_bounded_time_and_memory() {
    let deep = format!("x: {}\n", "[".repeat(100_000));
    let deep_block = format!("x:\n  {}y\n", "- ".repeat(100_000));
    let laughs = billion_laughs();
    let p = Project::new();
    p.write("rules.yaml", "metrics: {}\nrules: []\n");
    let mut cases: Vec<(&str, Vec<&str>)> = Vec::new();
    for (i, bomb) in [&deep, &deep_block, &laughs].into_iter().enumerate() {
        // The main config.
        p.write(
            &format!("main{i}.yaml"),
            &format!("deployment: web\n{bomb}"),
        );
        // An included rule file, plain and Prometheus-style.
        p.write(
            &format!("inc{i}.yaml"),
            &format!("deployment: web\ninclude: [r{i}.yaml, g{i}.yaml]\n"),
        );
        p.write(&format!("r{i}.yaml"), &format!("rules: []\n{bomb}"));
        p.write(&format!("g{i}.yaml"), &format!("groups: []\n{bomb}"));
        p.write(
            &format!("g_only{i}.yaml"),
            &format!("deployment: web\ninclude: [g{i}.yaml]\n"),
        );
        // A rule-test file.
        p.write(
            &format!("t{i}.yaml"),
            &format!("rule_files: [rules.yaml]\ntests: []\n{bomb}"),
        );
    }
    let names: Vec<[String; 4]> = (0..3)
        .map(|i| {
            [
                format!("main{i}.yaml"),
                format!("inc{i}.yaml"),
                format!("g_only{i}.yaml"),
                format!("t{i}.yaml"),
            ]
        })
        .collect();
    for n in &names {
        cases.push(("check", vec!["--config", &n[0], "check"]));
        cases.push(("check", vec!["--config", &n[1], "check"]));
        cases.push(("check", vec!["--config", &n[2], "check"]));
        cases.push(("test", vec!["test", &n[3]]));
    }
    for (what, args) in cases {
        let out = run_bounded({
            let mut c = p.std_cmd();
            c.args(&args);
            c
        });
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what} {args:?}: {}",
            stderr(&out)
        );
        let e = stderr(&out);
        assert!(
            e.contains("nesting") || e.contains("aliases"),
            "{args:?}: {e}"
        );
    }
    // Baselines are JSON: serde_json's recursion limit holds.
    GateConfig::new("200ms", "1s")
        .probe("m", r#"["echo", "1"]"#)
        .write(&p);
    p.write("deep.json", &"[".repeat(100_000));
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["watch", "--baseline", "deep.json"]);
        c
    });
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn credentials_echoed_by_alertmanager_are_not_printed_or_stored_in_any_encoding() {
    let am = BadProm::start();
    am.set(|b| b.mode = Mode::EchoHeaders);
    let p = Project::new();
    let url = format!("http://alice:s3cret-pw@127.0.0.1:{}", am.port);
    GateConfig::bare()
        .tail(&format!(
            "notify:\n  channels:\n    am: {{ alertmanager: {{ url: \"{url}\" }} }}"
        ))
        .write(&p);
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["notify", "test", "am"]);
        c
    });
    let basic = faultkit::base64(b"alice:s3cret-pw");
    // The fault is real: the server got the credentials and echoed them.
    let seen = am.seen();
    assert!(
        seen.iter()
            .any(|s| s.headers.get("authorization") == Some(&format!("Basic {basic}"))),
        "the client sent no Basic credentials: {seen:?}"
    );
    let history = p
        .cmd()
        .args(["notify", "history", "--output", "json"])
        .output()
        .unwrap();
    let all = [out.stdout, out.stderr, history.stdout, history.stderr].concat();
    let text = String::from_utf8_lossy(&all);
    assert!(
        text.contains("***"),
        "the echoed body was not reported: {text}"
    );
    for secret in [basic.as_str(), "s3cret-pw", "alice:s3cret", "s3cret%2Dpw"] {
        assert!(!text.contains(secret), "`{secret}` leaked: {text}");
    }
}

#[test]
fn credentials_echoed_by_a_prometheus_source_are_not_printed_in_any_encoding() {
    let prom = BadProm::start();
    prom.set(|b| b.mode = Mode::EchoHeadersAsPromError);
    let p = Project::new();
    let url = format!("http://bob:pr0m-pass@127.0.0.1:{}", prom.port);
    GateConfig::new("200ms", "1s")
        .section(&format!(
            "source:\n  prometheus: {{ url: \"{url}\", headers: {{ X-Token: \"tok-abc-123\" }} }}"
        ))
        .metric("m", "{ query: 'up' }")
        .write(&p);
    let basic = faultkit::base64(b"bob:pr0m-pass");
    for args in [&["health"][..], &["watch", "--output", "json"][..]] {
        let out = run_bounded({
            let mut c = p.std_cmd();
            c.args(args);
            c
        });
        let all = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            text.contains("you sent"),
            "{args:?}: the echo was not reported: {text}"
        );
        for secret in [basic.as_str(), "pr0m-pass", "tok-abc-123"] {
            assert!(
                !text.contains(secret),
                "{args:?}: `{secret}` leaked: {text}"
            );
        }
    }
    let seen = prom.seen();
    assert!(
        seen.iter()
            .any(|s| s.headers.get("authorization") == Some(&format!("Basic {basic}"))),
        "the client sent no Basic credentials: {seen:?}"
    );
}
