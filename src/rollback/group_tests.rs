//! The rollback's process group: nothing it starts outlives an attempt, retries never
//! overlap, a cancel kills the group, and a dropped future leaves nothing behind.
//! Liveness is read from /proc (a zombie counts as gone: it runs nothing).

use super::group::live_members;
use super::*;
use std::time::Instant;

fn cfg(script: &str, timeout_ms: u64, retries: u32) -> RollbackConfig {
    RollbackConfig {
        enabled: true,
        idempotent: false,
        command: vec!["sh".into(), "-c".into(), script.into()],
        timeout: Duration::from_millis(timeout_ms),
        retries,
    }
}

fn plan(c: &RollbackConfig) -> RollbackPlan<'_> {
    RollbackPlan {
        config: c,
        deployment: "web",
        run_id: "r-1",
        reason: "test",
        anomalies_file: Path::new("/tmp/a.json"),
        trigger: crate::store::Trigger::Auto,
    }
}

/// Whether `pid` runs (exists and is not a zombie).
fn running(pid: i32) -> bool {
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

/// The `$$ $!` the script wrote: the group leader (= group id) and its background child.
fn pids(file: &Path) -> (i32, i32) {
    let text = std::fs::read_to_string(file).expect("the script wrote its pids");
    let mut it = text.split_whitespace().map(|p| p.parse::<i32>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[tokio::test]
async fn a_timeout_ends_the_whole_group_even_when_it_ignores_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pids");
    let script = format!(
        "trap '' TERM; sleep 100 & echo $$ $! > {}; sleep 100",
        f.display()
    );
    let c = cfg(&script, 300, 0);
    let t = Instant::now();
    let r = execute(&plan(&c), || 0).await;
    assert!(!r.ok && r.reason.contains("timed out"), "{r:?}");
    let (leader, child) = pids(&f);
    assert!(
        !running(leader),
        "the leader {leader} outlived the rollback"
    );
    assert!(
        !running(child),
        "the background child {child} outlived the rollback"
    );
    assert_eq!(live_members(leader), Some(0));
    // SIGTERM was ignored: SIGKILL came after the grace, not 100 s later.
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
}

#[tokio::test]
async fn a_retry_starts_only_after_the_previous_attempt_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("log");
    // The shell and its background job ignore SIGTERM; the job finishes 1 s after the
    // start, long after the 200 ms timeout. If attempts overlapped, the log would read
    // start start end end.
    let script = format!(
        "echo start >> {f}; trap '' TERM; (sleep 1; echo end >> {f}) & wait",
        f = f.display()
    );
    let c = cfg(&script, 200, 2);
    let r = execute(&plan(&c), || 0).await;
    assert_eq!(r.attempts, 3, "{r:?}");
    let log = std::fs::read_to_string(&f).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        ["start", "end", "start", "end", "start", "end"],
        "attempts overlapped"
    );
}

#[tokio::test]
async fn a_successful_command_leaves_no_background_job() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pids");
    let script = format!("sleep 100 & echo $$ $! > {}; echo done", f.display());
    let c = cfg(&script, 10_000, 0);
    let r = execute(&plan(&c), || 0).await;
    assert!(r.ok, "{r:?}");
    assert_eq!(r.stdout.trim(), "done");
    let (leader, child) = pids(&f);
    assert!(
        !running(child),
        "background job {child} outlived a successful rollback"
    );
    assert_eq!(live_members(leader), Some(0));
}

#[tokio::test]
async fn a_cancel_kills_the_group_and_stops_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pids");
    let script = format!("sleep 100 & echo $$ $! > {}; wait", f.display());
    let c = cfg(&script, 30_000, 5);
    let t = Instant::now();
    let cancel = tokio::time::sleep(Duration::from_millis(300));
    let r = execute_until(&plan(&c), || 0, cancel).await;
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(!r.ok && r.exit_status.is_none(), "{r:?}");
    assert_eq!(r.attempts, 1);
    assert!(r.reason.contains("interrupted"), "{}", r.reason);
    let (leader, child) = pids(&f);
    assert!(!running(child) && !running(leader));
}

#[tokio::test]
async fn a_cancel_between_attempts_stops_the_retries() {
    let c = cfg("exit 3", 5_000, 5);
    let cancel = tokio::time::sleep(Duration::from_millis(200));
    let r = execute_until(&plan(&c), || 0, cancel).await;
    assert_eq!(r.attempts, 1, "{r:?}");
    assert!(r.reason.contains("status 3") && r.reason.contains("interrupted"));
}

#[tokio::test]
async fn a_dropped_rollback_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pids");
    let script = format!("sleep 100 & echo $$ $! > {}; wait", f.display());
    let c = cfg(&script, 30_000, 0);
    let p = plan(&c);
    let dropped = tokio::time::timeout(Duration::from_millis(300), execute(&p, || 0)).await;
    assert!(dropped.is_err());
    let (_, child) = pids(&f);
    let until = Instant::now() + Duration::from_secs(3);
    while running(child) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !running(child),
        "background job {child} outlived the dropped rollback"
    );
}
