//! Tools for the fault tests: run the real binary under resource limits (address space,
//! file size: a store that "fills"), look at processes through /proc, send signals, and
//! read what a run left in the store.
#![allow(dead_code)]

use crate::common::config::{GateConfig, HIGH_ERROR_RATE};
use crate::common::Project;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Address space a parser case may use: hostile input must stay far below it.
pub const MEMORY_LIMIT: u64 = 1 << 30;
/// A command that has not finished by then is a hang.
pub const HANG: Duration = Duration::from_secs(60);

/// Limits a spawned command: `RLIMIT_AS` to `memory` bytes and, when given, `RLIMIT_FSIZE`
/// to `file_size` bytes with SIGXFSZ ignored, so that a write past it fails with EFBIG as
/// on a full disk instead of killing the process.
pub fn limit(cmd: &mut Command, memory: Option<u64>, file_size: Option<u64>) {
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(m) = memory {
                let r = libc::rlimit {
                    rlim_cur: m,
                    rlim_max: m,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if let Some(f) = file_size {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let r = libc::rlimit {
                    rlim_cur: f,
                    rlim_max: f,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Runs `cmd` to completion under [`MEMORY_LIMIT`], killing it (and failing) after [`HANG`].
pub fn run_bounded(mut cmd: Command) -> Output {
    limit(&mut cmd, Some(MEMORY_LIMIT), None);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("start vz-monitor");
    wait_bounded(child, HANG)
}

/// Waits for `child`, killing it and failing the test if it runs longer than `limit`.
pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let until = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        if Instant::now() > until {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "hang: still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .map(|r| r.1.trim_start())
                .unwrap_or("");
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill only sends a signal to the child this test started.
    let rc = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

/// Waits until `path` exists; fails after `limit`.
pub fn wait_for_file(path: &Path, limit: Duration) {
    let until = Instant::now() + limit;
    while !path.exists() {
        assert!(
            Instant::now() < until,
            "{} did not appear within {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The runs `history --output json` lists (newest first); none where no store was made.
pub fn runs(p: &Project) -> Vec<serde_json::Value> {
    let out = p
        .cmd()
        .args(["history", "--output", "json"])
        .output()
        .unwrap();
    match serde_json::from_slice(&out.stdout) {
        Ok(serde_json::Value::Array(v)) => v,
        // Nothing ever made a store: no run at all.
        _ if String::from_utf8_lossy(&out.stderr).contains("no store at") => Vec::new(),
        _ => panic!(
            "history printed no JSON list: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The lines of an output that GitHub Actions would read as a workflow command, or that
/// carry a carriage return or an escape sequence: must be empty for untrusted text.
pub fn forged_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.split('\n')
        .filter(|l| l.trim_start().starts_with("::") || l.contains('\r') || l.contains('\x1b'))
        .map(str::to_string)
        .collect()
}

/// Base64 (standard alphabet, padded), for what a Basic Authorization header carries.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c.iter().fold(0u32, |n, b| (n << 8) | *b as u32) << (8 * (3 - c.len()));
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// A watch of one Prometheus query against `url`.
pub fn prom_config(p: &Project, url: &str, interval: &str, duration: &str, extra: &str) {
    GateConfig::new(interval, duration)
        .section(&format!(
            r#"source:
  prometheus: {{ url: "{url}", timeout: 10s, retries: 0 }}"#
        ))
        .metric("error_rate", "{ query: 'sum(rate(errors_total[1m]))' }")
        .rule(r#"{ name: high-error-rate, metric: error_rate, detector: { threshold: { op: ">", value: 5 } }, kind: HIGH_ERROR_RATE }"#)
        .rollback(&touch_rollback(p, "rolled-back"))
        .rollback_field("timeout: 10s")
        .rollback_field("retries: 0")
        .tail(extra)
        .write(p);
}

/// A rollback command (YAML argv) that touches `name` in the project folder.
pub fn touch_rollback(p: &Project, name: &str) -> String {
    format!("[\"touch\", \"{}\"]", p.path(name).display())
}

/// A rollback command (YAML argv) running `script` with `sh -c`.
pub fn sh(script: &str) -> String {
    serde_json::to_string(&["sh", "-c", script]).unwrap()
}

/// A command's stderr as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A watch of one command-probe metric bad from its first tick (critical threshold), on a
/// shared store, with `rollback` as the command; `extra` is further `rollback:` fields, one
/// `key: value` a line.
pub fn bad_watch_config(p: &Project, rollback: &str, timeout: &str, extra: &str) {
    let mut config = GateConfig::new("200ms", "20s")
        .probe("error_rate", r#"["echo", "12"]"#)
        .rule(HIGH_ERROR_RATE)
        .rollback(rollback)
        .rollback_field(&format!("timeout: {timeout}"))
        .rollback_field("retries: 0");
    for field in extra.lines().map(str::trim).filter(|l| !l.is_empty()) {
        config = config.rollback_field(field);
    }
    config.policy("critical: 1").write(p);
}

/// The store exists before the watches start (they race only for the claim). `prune`
/// writes, so it creates the store; `history` only reads and refuses a missing one.
pub fn runs_store(p: &Project) {
    let out = p.cmd().arg("prune").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "prune could not create the store: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
