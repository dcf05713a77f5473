//! Runs the configured rollback command: an argv list (no shell), with a timeout, retries,
//! and the run's context in its environment. Its output and status are returned for storing.

use crate::config::RollbackConfig;
use crate::model::Timestamp;
use crate::store::{RollbackRecord, Trigger};
pub mod group;
#[cfg(test)]
mod group_tests;

use group::{Group, GRACE};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

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
    pub trigger: Trigger,
}

/// Runs the plan: first attempt plus `retries`, each under the timeout. `now` reads the clock
/// (passed in so tests and the store agree on time). Never cancelled: see [`execute_until`].
pub async fn execute(plan: &RollbackPlan<'_>, now: impl Fn() -> Timestamp) -> RollbackRecord {
    execute_until(plan, now, std::future::pending()).await
}

/// Runs the plan like [`execute`], until `cancel` completes: then the running attempt's
/// whole process group is SIGKILLed, no further attempt starts, and the record says the
/// rollback was interrupted (`ok: false`, no exit status: the caller exits 4).
///
/// For the watch loop: the first SIGINT/SIGTERM during a rollback lets it finish; pass the
/// *second* signal as `cancel`, e.g.
/// `rollback::execute_until(&plan, now_ms, async { second_signal.recv().await; })`.
///
/// Each attempt runs in its own process group. When it exits, times out or is cancelled,
/// what is left of the group gets SIGTERM, [`group::GRACE`] to leave, then SIGKILL, and the
/// next attempt starts only once no member is left: attempts never overlap, and nothing
/// the command started outlives the call (nor vz-monitor, if the future is dropped).
pub async fn execute_until(
    plan: &RollbackPlan<'_>,
    now: impl Fn() -> Timestamp,
    cancel: impl Future<Output = ()>,
) -> RollbackRecord {
    let started_at = now();
    let attempts_allowed = plan.config.retries.saturating_add(1);
    let mut cancel = std::pin::pin!(cancel);
    let mut last = Attempt::failed(String::new());
    let mut attempts = 0;
    while attempts < attempts_allowed {
        attempts += 1;
        last = attempt(plan, cancel.as_mut()).await;
        if last.ok || last.cancelled {
            break;
        }
        if attempts < attempts_allowed {
            // Short linear backoff: a rollback is urgent, but a flapping API deserves a breath.
            let pause = Duration::from_millis(500 * attempts as u64);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = cancel.as_mut() => {
                    last.cancelled = true;
                    last.failure = format!("{}; {INTERRUPTED} before the next attempt", last.failure);
                    break;
                }
            }
        }
    }
    RollbackRecord {
        trigger: plan.trigger,
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

/// The failure text of a cancelled rollback.
const INTERRUPTED: &str = "rollback interrupted by a second signal";

struct Attempt {
    exit_status: Option<i32>,
    ok: bool,
    cancelled: bool,
    stdout: String,
    stderr: String,
    failure: String,
}

impl Attempt {
    fn failed(failure: String) -> Attempt {
        Attempt {
            exit_status: None,
            ok: false,
            cancelled: false,
            stdout: String::new(),
            stderr: String::new(),
            failure,
        }
    }
}

/// How an attempt's wait ended.
enum End {
    Exited(std::io::Result<std::process::ExitStatus>),
    TimedOut,
    Cancelled,
}

/// The rollback command, in its own process group, with the run's context in its
/// environment and `marker` to find its descendants by.
fn command(
    plan: &RollbackPlan<'_>,
    program: &str,
    args: &[String],
    marker: &str,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env(group::MARKER, marker)
        .env("VZ_DEPLOYMENT", plan.deployment)
        .env("VZ_RUN_ID", plan.run_id)
        .env("VZ_REASON", plan.reason)
        .env("VZ_ANOMALIES_FILE", plan.anomalies_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a terminal's Ctrl-C does not reach it, and a timeout ends it whole.
        .process_group(0)
        .kill_on_drop(true);
    // vz-monitor ignores SIGXFSZ (lifecycle::signals::arm); the command gets the default.
    // SAFETY: only signal(2), async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            Ok(())
        });
    }
    cmd
}

/// How the command ended: (exit status, ok, cancelled, the one-line failure note); waits
/// for a command that was ended (timed out or cancelled) to be reaped.
async fn ending(
    end: End,
    child: &mut tokio::process::Child,
    program: &str,
    timeout: std::time::Duration,
) -> (Option<i32>, bool, bool, String) {
    match end {
        End::Exited(Ok(status)) => (
            status.code(),
            status.success(),
            false,
            match status.code() {
                Some(c) => format!("rollback command exited with status {c}"),
                None => "rollback command was killed by a signal".into(),
            },
        ),
        End::Exited(Err(e)) => (
            None,
            false,
            false,
            format!("waiting for `{program}` failed: {e}"),
        ),
        End::TimedOut => {
            let _ = child.wait().await;
            let after = humantime::format_duration(timeout);
            (
                None,
                false,
                false,
                format!("rollback command timed out after {after}"),
            )
        }
        End::Cancelled => {
            let _ = child.wait().await;
            (
                None,
                false,
                true,
                format!("{INTERRUPTED}: its process group was killed"),
            )
        }
    }
}

async fn attempt(plan: &RollbackPlan<'_>, cancel: Pin<&mut impl Future<Output = ()>>) -> Attempt {
    let argv = &plan.config.command;
    let Some((program, args)) = argv.split_first() else {
        return Attempt::failed("no rollback command configured".into());
    };
    let marker = uuid::Uuid::new_v4().to_string();
    let mut cmd = command(plan, program, args, &marker);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Attempt::failed(format!("cannot run `{program}`: {e}")),
    };
    let mut group = child.id().and_then(Group::led_by);
    // Should this process die mid-command, the command's group dies with it.
    let guardian = group.as_ref().and_then(|g| group::Guardian::watch(g.id()));
    let out = child.stdout.take().map(|p| tokio::spawn(drain(p)));
    let err = child.stderr.take().map(|p| tokio::spawn(drain(p)));
    let timeout = plan.config.timeout;
    let end = tokio::select! {
        r = child.wait() => End::Exited(r),
        _ = tokio::time::sleep(timeout) => End::TimedOut,
        _ = cancel => End::Cancelled,
    };
    // Whatever the command left behind (`cmd &`) goes with it, before anything else starts.
    let gone = match (&end, group.as_mut()) {
        (_, None) => true,
        (End::Cancelled, Some(g)) => g.kill().await,
        (_, Some(g)) => g.terminate(GRACE).await,
    };
    let (exit_status, ok, cancelled, failure) = ending(end, &mut child, program, timeout).await;
    // Descendants that left the group (setsid) were re-parented here: end them too.
    let escaped = group::end_marked_descendants(&marker);
    drop(guardian);
    if escaped > 0 {
        errln!("ended {escaped} process(es) the rollback command left behind outside its group");
    }
    let survivors = if gone {
        ""
    } else {
        " (some of its processes survived SIGKILL)"
    };
    let stderr = collect(err).await;
    // A failed command's own last words (`deployments.apps "checkout" not found`) go in
    // the one-line note every report shows.
    let said = match stderr_tail(&stderr) {
        Some(tail) if !ok => format!(": {tail}"),
        _ => String::new(),
    };
    Attempt {
        exit_status,
        ok,
        cancelled,
        stdout: collect(out).await,
        stderr,
        failure: format!("{failure}{survivors}{said}"),
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
        1..=300 => Some(tail),
        _ => Some(format!(
            "…{}",
            tail.chars().skip(n - 299).collect::<String>()
        )),
    }
}

/// Reads a pipe to its end, keeping the first [`MAX_OUTPUT`] bytes (the rest is drained so
/// the command never blocks on a full pipe).
async fn drain(mut pipe: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

/// The output a reader kept. The group is gone, so the pipe is closed unless a process
/// escaped into its own session: then what was read so far is enough.
async fn collect(reader: Option<tokio::task::JoinHandle<Vec<u8>>>) -> String {
    let Some(mut handle) = reader else {
        return String::new();
    };
    match tokio::time::timeout(Duration::from_secs(1), &mut handle).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => {
            handle.abort();
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(cmd: &[&str], timeout_ms: u64, retries: u32) -> RollbackConfig {
        RollbackConfig {
            enabled: true,
            idempotent: false,
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
            trigger: Trigger::Auto,
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
