//! Issue 11's fault table, each fault reproduced against the real binary: closed pipes,
//! a slow backend, a rollback that leaves children, signals during a rollback, hostile
//! text from servers and probes, a store that fills mid-run, hostile rule tests and YAML,
//! and a server that echoes credentials. `bench/faults.sh` replays this file N times.

#[path = "common/badprom.rs"]
mod badprom;
mod common;
#[path = "common/faultkit.rs"]
mod faultkit;

use badprom::{BadProm, Mode};
use common::{json, Project};
use faultkit::{forged_lines, run_bounded, running, runs, signal, wait_for_file};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A watch of one command-probe metric whose values come from `values` (see
/// `Project::series`), a critical threshold at 5, and `rollback` as the command.
fn probe_config(p: &Project, values: &[&str], duration: &str, rollback: &str, policy: &str) {
    let probe = p.series("error_rate", values);
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"deployment: web
interval: 200ms
duration: {duration}
metrics:
  error_rate:
    probe: {{ command: {probe} }}
rules:
  - name: high-error-rate
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 5 }} }}
    kind: HIGH_ERROR_RATE
rollback:
  command: {rollback}
  timeout: 10s
  retries: 0
  policy: {{ critical: 1 {policy} }}
"#
        ),
    );
}

/// A watch of one Prometheus query against `url`.
fn prom_config(p: &Project, url: &str, interval: &str, duration: &str, extra: &str) {
    let rollback = touch_rollback(p, "rolled-back");
    p.write(
        "vz-monitor.yaml",
        &format!(
            r#"deployment: web
interval: {interval}
duration: {duration}
source:
  prometheus: {{ url: "{url}", timeout: 10s, retries: 0 }}
metrics:
  error_rate:
    query: 'sum(rate(errors_total[1m]))'
rules:
  - name: high-error-rate
    metric: error_rate
    detector: {{ threshold: {{ op: ">", value: 5 }} }}
    kind: HIGH_ERROR_RATE
rollback:
  command: {rollback}
  timeout: 10s
  retries: 0
{extra}
"#
        ),
    );
}

/// A rollback command (YAML argv) that touches `name` in the project folder.
fn touch_rollback(p: &Project, name: &str) -> String {
    format!("[\"touch\", \"{}\"]", p.path(name).display())
}

/// A rollback command (YAML argv) running `script` with `sh -c`.
fn sh(script: &str) -> String {
    serde_json::to_string(&["sh", "-c", script]).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `watch` with one of its pipes closed before it prints anything.
fn watch_with_closed(p: &Project, close_stderr: bool) -> (std::process::ExitStatus, Vec<u8>) {
    let mut child = p
        .std_cmd()
        .args(["watch", "--output", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Read;
    let mut bytes = Vec::new();
    if close_stderr {
        drop(child.stderr.take());
        let _ = child.stdout.take().unwrap().read_to_end(&mut bytes);
    } else {
        drop(child.stdout.take());
        let _ = child.stderr.take().unwrap().read_to_end(&mut bytes);
    }
    (child.wait().unwrap(), bytes)
}

#[test]
fn closed_stderr_still_decides_rolls_back_and_stores_the_run() {
    let p = Project::new();
    let rb = touch_rollback(&p, "rolled-back");
    probe_config(&p, &["0", "12"], "5s", &rb, "");
    let (status, stdout) = watch_with_closed(&p, true);
    assert_eq!(
        status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&stdout)
    );
    assert!(
        p.path("rolled-back").exists(),
        "no rollback with stderr closed"
    );
    assert_eq!(json(&stdout)["verdict"], "rollback");
    let r = runs(&p);
    assert_eq!(r[0]["status"], "finished", "{r:?}");
    assert_eq!(r[0]["exit_code"], 1);
}

#[test]
fn closed_stdout_exits_1_not_101_after_the_rollback() {
    let p = Project::new();
    let rb = touch_rollback(&p, "rolled-back");
    probe_config(&p, &["0", "12"], "5s", &rb, "");
    let (status, stderr) = watch_with_closed(&p, false);
    assert_eq!(
        status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(p.path("rolled-back").exists());
    assert_ne!(runs(&p)[0]["status"], "running");
}

/// The backend answers every query after 3 s; the tick is 500 ms.
fn slow_backend(on_inconclusive: &str, code: i32) -> Project {
    let prom = BadProm::start();
    prom.set(|b| b.delay = Duration::from_secs(3));
    let p = Project::new();
    let policy = format!("  policy: {{ critical: 1, on_inconclusive: {on_inconclusive} }}");
    prom_config(&p, &prom.url(), "500ms", "8s", &policy);
    let t = Instant::now();
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["watch", "--output", "json"]);
        c
    });
    let took = t.elapsed();
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(&out));
    let s = json(&out.stdout);
    assert_ne!(
        s["verdict"], "healthy",
        "a backend slower than the tick passed the gate"
    );
    assert_eq!(s["verdict"], "inconclusive");
    // The window is on the clock: 8 s, not 8 s plus every late answer.
    assert!(took < Duration::from_secs(11), "an 8 s watch ran {took:?}");
    p
}

#[test]
fn slow_backend_is_inconclusive_fail_open_exits_3() {
    let p = slow_backend("pass", 3);
    assert!(!p.path("rolled-back").exists());
}

#[test]
fn slow_backend_is_inconclusive_fail_closed_rolls_back() {
    let p = slow_backend("fail", 1);
    assert!(p.path("rolled-back").exists());
}

#[test]
fn a_rollback_that_times_out_leaves_no_process_behind() {
    let p = Project::new();
    let pid = p.path("bg.pid");
    let script = format!("sleep 100 & echo $! > {}; sleep 100", pid.display());
    probe_config(&p, &["12"], "5s", &sh(&script), "");
    let text = p
        .read("vz-monitor.yaml")
        .unwrap()
        .replace("timeout: 10s", "timeout: 1s");
    p.write("vz-monitor.yaml", &text);
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["watch", "--output", "json"]);
        c
    });
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    let bg: i32 = p.read("bg.pid").unwrap().trim().parse().unwrap();
    assert!(
        !running(bg),
        "the rollback's background child {bg} outlived vz-monitor"
    );
}

/// A watch that rolls back at once with `script`, started; returns the child.
fn rolling_back(p: &Project, script: &str) -> std::process::Child {
    probe_config(&p, &["12"], "30s", &sh(script), "");
    p.spawn(&["watch", "--output", "json"])
}

#[test]
fn sigterm_during_the_rollback_lets_it_finish_and_exits_1() {
    let p = Project::new();
    let (started, done) = (p.path("started"), p.path("done"));
    let script = format!(
        "touch {}; sleep 2; touch {}",
        started.display(),
        done.display()
    );
    let child = rolling_back(&p, &script);
    wait_for_file(&started, Duration::from_secs(20));
    signal(child.id(), libc::SIGTERM);
    let out = faultkit::wait_bounded(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(done.exists(), "the rollback was abandoned half-way");
    assert_ne!(runs(&p)[0]["status"], "running");
}

#[test]
fn a_second_sigterm_during_the_rollback_kills_its_group_and_exits_4() {
    let p = Project::new();
    let (started, pid) = (p.path("started"), p.path("bg.pid"));
    let script = format!(
        "sleep 100 & echo $! > {}; touch {}; wait",
        pid.display(),
        started.display()
    );
    let child = rolling_back(&p, &script);
    wait_for_file(&started, Duration::from_secs(20));
    signal(child.id(), libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    signal(child.id(), libc::SIGTERM);
    let out = faultkit::wait_bounded(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr(&out));
    let bg: i32 = p.read("bg.pid").unwrap().trim().parse().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(!running(bg), "the rollback group survived a second signal");
    assert_ne!(runs(&p)[0]["status"], "running");
}

#[test]
fn sigterm_at_start_exits_130_and_never_leaves_a_run_running() {
    let mut exits_130 = 0;
    for delay_ms in [0, 2, 5, 10, 15, 25, 40, 80, 200] {
        let p = Project::new();
        probe_config(&p, &["0"], "30s", &touch_rollback(&p, "rolled-back"), "");
        let child = p.spawn(&["watch", "--output", "json"]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        signal(child.id(), libc::SIGTERM);
        let out = faultkit::wait_bounded(child, Duration::from_secs(30));
        let r = runs(&p);
        match out.status.code() {
            Some(130) => {
                exits_130 += 1;
                assert!(
                    r.is_empty() || r[0]["status"] == "interrupted",
                    "after {delay_ms} ms: {r:?}"
                );
            }
            // Killed before the handler was installed: then nothing was recorded yet.
            None => assert!(
                r.is_empty(),
                "after {delay_ms} ms: killed with a run left: {r:?}"
            ),
            other => panic!("after {delay_ms} ms: exit {other:?}: {}", stderr(&out)),
        }
        assert!(!p.path("rolled-back").exists());
    }
    assert!(exits_130 > 0, "no SIGTERM was handled");
}

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
    p.write(
        "vz-monitor.yaml",
        &format!(
            "deployment: web\ninterval: 200ms\nduration: 1s\nsource:\n  prometheus: {{ url: \"{}\" }}\nmetrics:\n  per_pod:\n    query: 'up'\n    per_series: true\n  probe:\n    probe: {{ command: {probe} }}\n",
            prom.url()
        ),
    );
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
fn a_store_that_fills_mid_run_changes_neither_the_decision_nor_the_rollback() {
    let p = Project::new();
    let rb = touch_rollback(&p, "rolled-back");
    let mut values = vec!["0"; 25];
    values.push("12");
    probe_config(&p, &values, "20s", &rb, "");
    // The store exists first (schema: ~90 KB); then every file may grow to 110 KB only:
    // the write-ahead log hits that limit after ~10 ticks, as on a full disk (EFBIG).
    runs(&p);
    let mut c = p.std_cmd();
    c.args(["watch", "--output", "json"]);
    faultkit::limit(&mut c, None, Some(110_000));
    let out = run_bounded(c);
    assert!(
        stderr(&out).contains("store"),
        "the store never failed, the fault was not injected: {}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        p.path("rolled-back").exists(),
        "no rollback once the store was full"
    );
    let s = json(&out.stdout);
    assert_eq!(s["verdict"], "rollback");
    assert_eq!(s["rollback"]["ok"], true);
}

#[test]
fn vz_anomalies_file_is_absolute_and_written_before_the_command_runs() {
    let p = Project::new();
    let script = format!(
        "case \"$VZ_ANOMALIES_FILE\" in /*) ;; *) exit 9;; esac; test -s \"$VZ_ANOMALIES_FILE\" || exit 8; cp \"$VZ_ANOMALIES_FILE\" {}",
        p.path("seen.json").display()
    );
    probe_config(&p, &["12"], "5s", &sh(&script), "");
    // A relative store path: the file must still reach the command as an absolute path.
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["--db", "state/rel.db", "watch", "--output", "json"]);
        c
    });
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let seen = json(
        p.read("seen.json")
            .expect("the command saw the file")
            .as_bytes(),
    );
    assert_eq!(seen["deployment"], "web");
    assert!(!seen["anomalies"].as_array().unwrap().is_empty());
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
    p.write("vz-monitor.yaml", "deployment: web\ninterval: 200ms\nduration: 1s\nmetrics:\n  m:\n    probe: { command: [\"echo\", \"1\"] }\n");
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
    p.write(
        "vz-monitor.yaml",
        &format!("deployment: web\nnotify:\n  channels:\n    am: {{ alertmanager: {{ url: \"{url}\" }} }}\n"),
    );
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
