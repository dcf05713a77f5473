//! Runs the configured rollback command: an argv list (no shell), with a timeout, retries,
//! and the run's context in its environment. Its output and status are returned for storing.

use crate::config::RollbackConfig;
use crate::model::Timestamp;
use crate::store::RollbackRecord;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Keep at most this much of the command's stdout and stderr each.
const MAX_OUTPUT: usize = 64 * 1024;

/// What the rollback runs for: who asked, and the context passed in its environment.
pub struct RollbackPlan<'a> {
    pub config: &'a RollbackConfig,
    pub deployment: &'a str,
    pub run_id: &'a str,
    pub reason: &'a str,
    /// JSON file with the anomalies that led here (`VZ_ANOMALIES_FILE`).
    pub anomalies_file: &'a Path,
    /// `auto` or `manual`.
    pub trigger: &'a str,
}

/// Runs the plan: first attempt plus `retries`, each under the timeout. `now` reads the clock
/// (passed in so tests and the store agree on time).
pub async fn execute(plan: &RollbackPlan<'_>, now: impl Fn() -> Timestamp) -> RollbackRecord {
    let started_at = now();
    let attempts_allowed = plan.config.retries + 1;
    let mut last = Attempt {
        exit_status: None,
        ok: false,
        stdout: String::new(),
        stderr: String::new(),
        failure: String::new(),
    };
    let mut attempts = 0;
    while attempts < attempts_allowed {
        attempts += 1;
        last = attempt(plan).await;
        if last.ok {
            break;
        }
        if attempts < attempts_allowed {
            // Short linear backoff: a rollback is urgent, but a flapping API deserves a breath.
            tokio::time::sleep(Duration::from_millis(500 * attempts as u64)).await;
        }
    }
    RollbackRecord {
        trigger: plan.trigger.to_string(),
        started_at,
        ended_at: now(),
        attempts,
        argv: plan.config.command.clone(),
        exit_status: last.exit_status,
        ok: last.ok,
        stdout: last.stdout,
        stderr: last.stderr,
        reason: if last.ok {
            plan.reason.to_string()
        } else {
            last.failure
        },
    }
}

struct Attempt {
    exit_status: Option<i32>,
    ok: bool,
    stdout: String,
    stderr: String,
    failure: String,
}

async fn attempt(plan: &RollbackPlan<'_>) -> Attempt {
    let argv = &plan.config.command;
    let fail = |failure: String| Attempt {
        exit_status: None,
        ok: false,
        stdout: String::new(),
        stderr: String::new(),
        failure,
    };
    let Some((program, args)) = argv.split_first() else {
        return fail("no rollback command configured".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("VZ_DEPLOYMENT", plan.deployment)
        .env("VZ_RUN_ID", plan.run_id)
        .env("VZ_REASON", plan.reason)
        .env("VZ_ANOMALIES_FILE", plan.anomalies_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot run `{program}`: {e}")),
    };
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let read_both = async {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let _ = tokio::join!(out.read_to_end(&mut o), err.read_to_end(&mut e));
        (o, e)
    };
    let run = async {
        let (o, e) = read_both.await;
        (child.wait().await, o, e)
    };
    let timeout = plan.config.timeout;
    match tokio::time::timeout(timeout, run).await {
        Err(_) => {
            // kill_on_drop reaps the child when `run` is dropped here.
            fail(format!(
                "rollback command timed out after {}",
                humantime::format_duration(timeout)
            ))
        }
        Ok((Err(e), _, _)) => fail(format!("waiting for `{program}` failed: {e}")),
        Ok((Ok(status), o, e)) => {
            let stderr = truncate(e);
            let how = match status.code() {
                Some(c) => format!("rollback command exited with status {c}"),
                None => "rollback command was killed by a signal".into(),
            };
            Attempt {
                exit_status: status.code(),
                ok: status.success(),
                stdout: truncate(o),
                failure: match stderr_tail(&stderr) {
                    Some(tail) => format!("{how}: {tail}"),
                    None => how,
                },
                stderr,
            }
        }
    }
}

/// The last lines of a failed command's stderr, for the one-line failure note every
/// report shows (`deployments.apps "checkout" not found`): at most 3 non-empty lines
/// joined by ` / `, at most 300 characters (the start cut, the end kept).
pub fn stderr_tail(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    let n = tail.chars().count();
    match n {
        0 => None,
        ..=300 => Some(tail),
        _ => Some(format!("…{}", tail.chars().skip(n - 299).collect::<String>())),
    }
}

fn truncate(mut bytes: Vec<u8>) -> String {
    bytes.truncate(MAX_OUTPUT);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(cmd: &[&str], timeout_ms: u64, retries: u32) -> RollbackConfig {
        RollbackConfig {
            enabled: true,
            command: cmd.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_millis(timeout_ms),
            retries,
        }
    }

    async fn run(c: &RollbackConfig) -> RollbackRecord {
        let plan = RollbackPlan {
            config: c,
            deployment: "web",
            run_id: "r-1",
            reason: "3 high anomalies",
            anomalies_file: Path::new("/tmp/a.json"),
            trigger: "auto",
        };
        execute(&plan, || 0).await
    }

    #[test]
    fn a_failure_note_keeps_the_last_stderr_lines() {
        assert_eq!(stderr_tail(" \n"), None);
        assert_eq!(
            stderr_tail("a\nb\n\nc\nError from server (NotFound): deployments.apps \"checkout\" not found\n")
                .unwrap(),
            "b / c / Error from server (NotFound): deployments.apps \"checkout\" not found"
        );
        let long = "x".repeat(1000);
        assert_eq!(stderr_tail(&long).unwrap().chars().count(), 300);
    }

    #[tokio::test]
    async fn passes_context_in_the_environment_without_a_shell() {
        let c = cfg(
            &[
                "sh",
                "-c",
                "echo \"$VZ_DEPLOYMENT|$VZ_RUN_ID|$VZ_REASON|$VZ_ANOMALIES_FILE\"",
                "$(touch /nonexistent)",
            ],
            5000,
            0,
        );
        let r = run(&c).await;
        assert!(r.ok, "{r:?}");
        assert_eq!(r.stdout.trim(), "web|r-1|3 high anomalies|/tmp/a.json");
        assert_eq!(r.attempts, 1);
    }

    #[tokio::test]
    async fn retries_then_reports_the_failure() {
        let r = run(&cfg(&["sh", "-c", "echo nope >&2; exit 7"], 5000, 2)).await;
        assert!(!r.ok);
        assert_eq!(r.attempts, 3);
        assert_eq!(r.exit_status, Some(7));
        assert_eq!(r.stderr.trim(), "nope");
        assert!(r.reason.contains("status 7"));
    }

    #[tokio::test]
    async fn times_out_and_missing_programs_fail_cleanly() {
        let r = run(&cfg(&["sleep", "30"], 200, 0)).await;
        assert!(!r.ok && r.reason.contains("timed out"), "{r:?}");
        let r = run(&cfg(&["/no/such/rollback"], 1000, 0)).await;
        assert!(!r.ok && r.reason.contains("cannot run"), "{r:?}");
    }
}
