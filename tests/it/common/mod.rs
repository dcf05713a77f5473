//! Shared helpers for the integration tests: a scratch project folder and the real binary.
#![allow(dead_code)]

pub mod badprom;
pub mod cloudwatch;
pub mod config;
pub mod daemon;
pub mod deploy;
pub mod echo;
pub mod faultkit;
pub mod graphite;
pub mod history;
pub mod influxdb;
pub mod pagingcw;
pub mod postgres;
pub mod prometheus;
pub mod servers;
pub mod victoria;
pub mod web;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

/// A temporary project folder: config, scripts, store and logs live here.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path(rel)).ok()
    }

    /// `vz-monitor` as a std `Command` in this folder, with `VZ_` and `GITHUB_` variables of
    /// the test's own environment removed and `NO_COLOR` set: what every command a test runs
    /// or spawns starts from.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("vz-monitor"));
        c.current_dir(self.dir.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("VZ_") || k.starts_with("GITHUB_") {
                c.env_remove(k);
            }
        }
        c.env("NO_COLOR", "1");
        c
    }

    /// [`Project::std_cmd`] as an `assert_cmd` command, to run to completion.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// `vz-monitor ARGS` started without waiting (stdout and stderr piped), for tests that act
    /// while it runs.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.std_cmd()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vz-monitor")
    }

    /// A command probe that prints the next line of `values` at each call (the last repeats).
    /// Lines may be a number, `garbage`, or `fail` (exit 1). Returns the YAML argv.
    pub fn series(&self, name: &str, values: &[&str]) -> String {
        let data = self.write(&format!("series/{name}.txt"), &(values.join("\n") + "\n"));
        let script = self.write(
            &format!("series/{name}.sh"),
            "#!/bin/sh\nf=\"$1\"; c=\"$f.count\"\nn=$(cat \"$c\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$c\"\nv=$(sed -n \"${n}p\" \"$f\")\n[ -n \"$v\" ] || v=$(tail -n 1 \"$f\")\n[ \"$v\" = fail ] && exit 1\necho \"$v\"\n",
        );
        format!("[\"sh\", \"{}\", \"{}\"]", script.display(), data.display())
    }

    /// How many times the series script of `name` was called (0 while the script is between
    /// truncating and rewriting its count: callers poll).
    pub fn calls(&self, name: &str) -> usize {
        self.read(&format!("series/{name}.txt.count"))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// A baseline JSON file as `baseline --output` writes it.
    pub fn baseline(&self, series: &[(&str, Vec<f64>)]) -> PathBuf {
        let map: serde_json::Map<String, serde_json::Value> = series
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        let body = serde_json::json!({ "deployment": "web", "created_at": 0, "source": "test", "config_digest": "", "series": map });
        self.write("baseline.json", &body.to_string())
    }
}

/// Runs `cmd` and asserts it exits with `code`, the command's stderr in the message if not.
pub fn exits(cmd: &mut Command, code: i32) -> Output {
    let out = cmd.output().expect("run vz-monitor");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{cmd:?}: stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fixed pseudo-random sequence (xorshift64), so synthetic series are the same every run.
pub struct Noise(pub u64);

impl Noise {
    /// The next value in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next standard normal value (Box–Muller over two values, neither 0).
    pub fn normal(&mut self) -> f64 {
        let (a, b) = (self.next().max(1e-300), self.next().max(1e-300));
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
}

/// Parses a command's stdout as JSON.
pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// A rollback command that logs each call with its environment to `rollback.log`.
pub fn logging_rollback(dir: &Path) -> String {
    let log = dir.join("rollback.log");
    let copy = dir.join("anomalies-seen.json");
    format!(
        "[\"sh\", \"-c\", \"echo \\\"$VZ_DEPLOYMENT|$VZ_RUN_ID|$VZ_REASON\\\" >> {}; cp \\\"$VZ_ANOMALIES_FILE\\\" {}\"]",
        log.display(),
        copy.display()
    )
}
