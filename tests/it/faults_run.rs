//! Issue 24's fault table, each fault reproduced against the real binary: a dead control,
//! rollbacks run twice or reported wrongly across processes, a store that hangs or is lost,
//! signals at start-up, unbounded reads, leaks and escapes. `bench/faults.sh` replays it N
//! times beside `faults.rs`, `faults_input.rs` and `faults_store.rs` (the store faults).

use crate::common;
use crate::common::badprom;
use crate::common::faultkit;

use badprom::{BadProm, Mode};
use common::config::GateConfig;
use common::{json, Project};
use faultkit::{bad_watch_config, prom_config, run_bounded, runs_store, stderr};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// A watch of `latency_ms` (a steady probe) against `control` (YAML), failing closed.
fn control_config(p: &Project, control: &str, source: &str) {
    GateConfig::new("200ms", "3s")
        .section(source)
        .metric(
            "latency_ms",
            &format!(r#"{{ probe: {{ command: ["echo", "200"] }}, control: {control} }}"#),
        )
        .rule(r#"{ name: latency-regression, metric: latency_ms, detector: { baseline: { stat: mean, max_change: "10%" } }, severity: critical }"#)
        .rollback(&format!(r#"["touch", "{}"]"#, p.path("rolled-back").display()))
        .policy("critical: 1, on_inconclusive: fail")
        .write(p);
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

/// Starts `n` watches of revision `rev` in `p`, `gap` apart; returns their exit codes and
/// stderr.
fn watches_of_one_revision(p: &Project, n: usize, gap: Duration) -> Vec<(Option<i32>, String)> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut c = p.std_cmd();
            c.args(["watch", "--output", "json"])
                .env("VZ_REVISION", "abc123")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let child = c.spawn().unwrap();
            std::thread::sleep(gap);
            child
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = faultkit::wait_bounded(c, Duration::from_secs(90));
            (out.status.code(), stderr(&out))
        })
        .collect()
}

/// Fault 2: watches of one deploy (one revision) started 40 ms to 1 s apart on one store run
/// the rollback once; every one of them exits 1.
#[test]
fn watches_of_one_revision_roll_back_once() {
    let p = Project::new();
    runs_store(&p);
    let log = p.path("rollback.log");
    let script = format!("echo $VZ_RUN_ID >> {}; sleep 1", log.display());
    bad_watch_config(&p, &faultkit::sh(&script), "20s", "");
    let mut exits = watches_of_one_revision(&p, 3, Duration::from_millis(45));
    exits.extend(watches_of_one_revision(&p, 2, Duration::from_millis(700)));
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ran.lines().count(),
        1,
        "the rollback ran {} times: {ran}\n{exits:?}",
        ran.lines().count()
    );
    for (code, err) in &exits {
        assert_eq!(*code, Some(1), "{err}");
    }
}

/// Fault 3: when the claimed rollback fails, every waiter exits 4 with it, not 1.
#[test]
fn waiters_exit_with_the_claimed_rollbacks_failure() {
    let p = Project::new();
    runs_store(&p);
    let log = p.path("rollback.log");
    let script = format!("echo $VZ_RUN_ID >> {}; sleep 1; exit 3", log.display());
    bad_watch_config(&p, &faultkit::sh(&script), "20s", "");
    let exits = watches_of_one_revision(&p, 4, Duration::from_millis(45));
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ran.lines().count(),
        1,
        "the rollback ran {} times",
        ran.lines().count()
    );
    for (code, err) in &exits {
        assert_eq!(
            *code,
            Some(4),
            "a waiter reported a failed rollback as done: {err}"
        );
    }
}

/// Fault 2: the claim holder is killed (-9) mid-command. Its command's group ends with it;
/// a later watch of the same deploy does not rerun the command (not declared idempotent): it
/// exits 4, naming the dead run.
#[test]
fn a_holder_killed_mid_command_is_not_rerun_and_its_command_dies_with_it() {
    let p = Project::new();
    runs_store(&p);
    let (started, pid) = (p.path("started"), p.path("cmd.pid"));
    let script = format!(
        "echo $$ > {}; echo x >> {}; sleep 60",
        pid.display(),
        started.display()
    );
    bad_watch_config(&p, &faultkit::sh(&script), "2m", "");
    let mut holder = p.std_cmd();
    holder
        .args(["watch", "--output", "json"])
        .env("VZ_REVISION", "abc123")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut holder = holder.spawn().unwrap();
    faultkit::wait_for_file(&started, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    let cmd: i32 = p.read("cmd.pid").unwrap().trim().parse().unwrap();
    faultkit::signal(holder.id(), libc::SIGKILL);
    let _ = holder.wait();
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while faultkit::running(cmd) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let survived = faultkit::running(cmd);
    if survived {
        // SAFETY: ends the test's own stray process.
        unsafe { libc::kill(cmd, libc::SIGKILL) };
    }
    assert!(
        !survived,
        "the dead holder's rollback command {cmd} kept running"
    );
    let dead = faultkit::runs(&p)[0]["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let waiter = watches_of_one_revision(&p, 1, Duration::ZERO);
    let ran = p.read("started").unwrap_or_default();
    assert_eq!(
        ran.lines().count(),
        1,
        "the rollback was run again: {waiter:?}"
    );
    let (code, err) = &waiter[0];
    assert_eq!(*code, Some(4), "{err}");
    assert!(
        err.contains(&dead) && err.contains("a human must act"),
        "{dead}: {err}"
    );
}

/// Fault 6: a SIGTERM that arrives before a command has done anything (here: `rollback`
/// still waiting to read its config from a FIFO) is handled, not a death by signal: the
/// rollback is not started, nothing is left `running`, exit 130.
#[test]
fn sigterm_before_a_manual_rollback_starts_is_handled_and_runs_nothing() {
    let p = Project::new();
    bad_watch_config(&p, &faultkit::touch_rollback(&p, "rolled-back"), "5s", "");
    let text = p.read("vz-monitor.yaml").unwrap();
    let fifo = p.path("config.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in the test's own temp folder.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let child = p.spawn(&["--config", "config.fifo", "rollback", "--reason", "by hand"]);
    std::thread::sleep(Duration::from_millis(300));
    faultkit::signal(child.id(), libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(100));
    // The config arrives after the signal (a process killed by it never opens the FIFO:
    // open it non-blocking so the test does not wait for a reader that is gone).
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
    {
        use std::io::Write;
        let _ = f.write_all(text.as_bytes());
    }
    let out = faultkit::wait_bounded(child, Duration::from_secs(30));
    assert_eq!(
        out.status.code(),
        Some(130),
        "{:?}: {}",
        out.status,
        stderr(&out)
    );
    assert!(
        !p.path("rolled-back").exists(),
        "the rollback ran after the signal"
    );
    for r in faultkit::runs(&p) {
        assert_ne!(r["status"], "running", "{r}");
    }
}

/// Fault 8: a rollback descendant that calls `setsid` (leaving the command's process group)
/// still ends when the rollback times out.
#[test]
fn a_setsid_descendant_ends_with_a_timed_out_rollback() {
    let p = Project::new();
    let pid = p.path("escaped.pid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 100' & sleep 100",
        pid.display()
    );
    bad_watch_config(&p, &faultkit::sh(&script), "1s", "");
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["watch", "--output", "json"]);
        c
    });
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let escaped: i32 = p.read("escaped.pid").unwrap().trim().parse().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let alive = faultkit::running(escaped);
    if alive {
        // SAFETY: ends the test's own stray process.
        unsafe { libc::kill(escaped, libc::SIGKILL) };
    }
    assert!(
        !alive,
        "the setsid descendant {escaped} outlived the rollback's timeout"
    );
}

/// A healthy one-tick-a-200ms watch of `probe` (YAML) for `duration`.
fn probe_watch(p: &Project, probe: &str, duration: &str, rollback: &str) {
    GateConfig::new("200ms", duration)
        .metric("errors", &format!("{{ probe: {probe} }}"))
        .rule(r#"{ name: errors, metric: errors, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH_ERROR_RATE }"#)
        .rollback(rollback)
        .rollback_field("timeout: 5s")
        .rollback_field("retries: 0")
        .policy("critical: 1")
        .write(p);
}

/// Fault 7: a log probe on a command that never stops printing (`yes`) reads a bounded
/// amount: the watch's peak resident memory stays under 150 MB (it grew by gigabytes).
#[test]
fn a_log_probe_on_an_endless_command_reads_a_bounded_amount() {
    let p = Project::new();
    probe_watch(
        &p,
        r#"{ log: { command: ["yes"], patterns: ["y"], timeout: 4s } }"#,
        "3s",
        r#"["true"]"#,
    );
    let mut child = p.spawn(&["watch", "--output", "json"]);
    let pid = child.id() as i32;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for (and reaps) the test's own child, reading its resource usage.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid);
    let _ = child.wait(); // already reaped by wait4: for the lint's sake
    let peak_mb = usage.ru_maxrss / 1024;
    assert!(peak_mb < 150, "the watch of `yes` peaked at {peak_mb} MB");
    assert!(libc::WIFEXITED(status), "killed: {status}");
    assert!(
        matches!(libc::WEXITSTATUS(status), 0 | 3),
        "exit {}",
        libc::WEXITSTATUS(status)
    );
}

/// Fault 7: a Prometheus whose answer never ends (a 200 JSON vector streamed forever) is
/// read up to a bound: the tick is missing with a reason, and the watch's peak resident memory
/// stays under 200 MB (it grew to 2.9 GB in 8 s).
#[test]
fn a_prometheus_answer_that_never_ends_is_read_up_to_a_bound() {
    let prom = BadProm::start();
    prom.set(|b| b.mode = Mode::Endless);
    let p = Project::new();
    // Ticks far enough apart that the bounded read ends within its tick even on a loaded
    // machine (64 MiB over loopback).
    prom_config(&p, &prom.url(), "3s", "3s", "");
    let mut child = p.spawn(&["watch", "--output", "json"]);
    let pid = child.id() as i32;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: waits for (and reaps) the test's own child, reading its resource usage.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid);
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut s) = child.stdout.take() {
        std::io::Read::read_to_string(&mut s, &mut out).unwrap();
    }
    if let Some(mut s) = child.stderr.take() {
        std::io::Read::read_to_string(&mut s, &mut err).unwrap();
    }
    let _ = child.wait(); // already reaped by wait4: for the lint's sake
    let peak_mb = usage.ru_maxrss / 1024;
    assert!(peak_mb < 200, "the watch peaked at {peak_mb} MB");
    assert!(libc::WIFEXITED(status), "killed: {status}");
    // Every tick missing: inconclusive (3) under the default policy, never healthy.
    assert_eq!(libc::WEXITSTATUS(status), 3, "exit; stdout: {out}");
    assert!(out.contains("samples missing"), "no missing data: {out}");
    assert!(err.contains("larger than 64 MiB"), "no reason given: {err}");
}

/// Fault 8: a Pushgateway that echoes the request's `Authorization: Basic …` (the URL's
/// `user:password`) in its error body: neither the password nor its base64 is printed.
#[test]
fn a_pushgateway_echoing_basic_auth_leaks_nothing() {
    let gw = BadProm::start();
    gw.set(|b| b.mode = Mode::EchoHeaders);
    let p = Project::new();
    probe_watch(&p, r#"{ command: ["echo", "0"] }"#, "1s", r#"["true"]"#);
    let url = format!("http://pushuser:s3cr3t-pw@127.0.0.1:{}", gw.port);
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["watch", "--output", "json", "--pushgateway", &url]);
        c
    });
    let err = stderr(&out);
    assert!(
        gw.seen()
            .iter()
            .any(|s| s.headers.contains_key("authorization")),
        "the gateway saw no Authorization header: the fault was not injected"
    );
    let token = faultkit::base64(b"pushuser:s3cr3t-pw");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
    assert!(!err.contains(&token), "the Basic token leaked: {err}");
}

/// Fault 8: raw ESC and BEL bytes (here in a failed rollback's stderr) never reach
/// `$GITHUB_STEP_SUMMARY`.
#[test]
fn the_step_summary_carries_no_raw_escape_or_bell() {
    let p = Project::new();
    let rollback = faultkit::sh("printf '\\033[31mboom\\007\\n' >&2; exit 1");
    probe_watch(&p, r#"{ command: ["echo", "12"] }"#, "5s", &rollback);
    let summary = p.path("summary.md");
    let out = run_bounded({
        let mut c = p.std_cmd();
        c.args(["watch", "--output", "json"])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary);
        c
    });
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let md = std::fs::read(&summary).expect("a step summary was written");
    assert!(
        String::from_utf8_lossy(&md).contains("boom"),
        "the rollback's stderr is not in the summary: the fault was not injected"
    );
    assert!(
        !md.iter().any(|b| *b == 0x1b || *b == 0x07),
        "raw ESC/BEL in the step summary"
    );
}

/// The structure behind fault 2: a manual `rollback` of a deploy that a watch is rolling back
/// goes through the same claim: it does not run the command a second time, and takes the
/// watch's outcome (exit 0: rolled back).
#[test]
fn a_manual_rollback_during_a_watchs_rollback_does_not_run_it_twice() {
    let p = Project::new();
    runs_store(&p);
    let (log, started) = (p.path("rollback.log"), p.path("started"));
    let script = format!(
        "echo $VZ_RUN_ID >> {}; touch {}; sleep 2",
        log.display(),
        started.display()
    );
    bad_watch_config(&p, &faultkit::sh(&script), "20s", "");
    let mut watch = p.std_cmd();
    watch
        .args(["watch", "--output", "json"])
        .env("VZ_REVISION", "abc123")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let watch = watch.spawn().unwrap();
    faultkit::wait_for_file(&started, Duration::from_secs(30));
    let manual = run_bounded({
        let mut c = p.std_cmd();
        c.args(["rollback", "--reason", "by hand"])
            .env("VZ_REVISION", "abc123");
        c
    });
    let watched = faultkit::wait_bounded(watch, Duration::from_secs(60));
    let ran = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ran.lines().count(),
        1,
        "the command ran twice: {}",
        stderr(&manual)
    );
    assert_eq!(manual.status.code(), Some(0), "{}", stderr(&manual));
    assert_eq!(watched.status.code(), Some(1), "{}", stderr(&watched));
}
