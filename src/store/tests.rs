//! The SQLite back-end end to end: migrations from older stores, round trips, leases,
//! claims. (The same behaviour on PostgreSQL is exercised by tests/it/fleet.rs.)

use super::*;
use crate::model::{Reading, Sample};
use crate::run::RunVerdict;
use std::collections::BTreeMap;
use std::time::Duration;

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("sub/vz.db")).unwrap()
}

#[test]
fn migrates_and_round_trips_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    assert_eq!(s.schema_version().unwrap(), migrations::VERSION);
    let mut series = BTreeMap::new();
    series.insert("cpu".to_string(), vec![1.0, f64::NAN]);
    let b = BaselineSet {
        deployment: "d".into(),
        created_at: 5,
        source: "probes".into(),
        config_digest: "x".into(),
        series,
        lookback: BTreeMap::new(),
    };
    s.save_baseline(&b).unwrap();
    assert!(s.latest_baseline("d").unwrap().unwrap().lookback.is_empty());
    let mut newer = b.clone();
    newer.created_at = 9;
    newer.series.insert("mem".into(), vec![3.0]);
    let lag1 = crate::detect::stats::dependence::Lag1::of_chunks(&[1.0, 3.0, 2.0, 5.0, 4.0], 3);
    newer.lookback.insert("cpu".into(), lag1);
    s.save_baseline(&newer).unwrap();
    let got = s.latest_baseline("d").unwrap().unwrap();
    assert_eq!(got.created_at, 9);
    assert!(got.series["cpu"][1].is_nan());
    // The lookback's sums come back as they were written.
    assert_eq!(got.lookback["cpu"], lag1);
    assert_eq!(s.latest_baseline("other").unwrap(), None);
    drop(s);
    // Reopening does not re-run migrations.
    let s = open(&dir);
    assert_eq!(s.baseline_count().unwrap(), 2);
}

#[test]
fn records_a_run_with_integer_keys_and_leases() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    s.start_run("r1", "d", "watch", now_ms(), false, "x")
        .unwrap();
    s.set_lease("r1", Duration::from_secs(60)).unwrap();
    let samples = [
        Sample::new("cpu", Reading::Value(3.0)),
        Sample::new("h", Reading::Down("refused".into())),
    ];
    s.record_tick("r1", 1, &samples, &[], &[]).unwrap();
    s.record_tick("r1", 2, &samples, &[], &[]).unwrap();
    assert_eq!(s.sample_count("r1").unwrap(), 4);
    assert_eq!(s.live_watches("d").unwrap(), 1);
    let all = RunFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(s.runs(&all).unwrap()[0].head.status, RunStatus::Running);
    let end = RunEnd {
        ended_at: 2,
        status: RunStatus::Finished,
        verdict: Some(RunVerdict::Healthy),
        reason: "ok",
        exit_code: 0,
        summary: "{}",
    };
    s.finish_run("r1", &end).unwrap();
    let runs = s.runs(&all).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].head.verdict, Some(RunVerdict::Healthy));
    assert_eq!(s.live_watches("d").unwrap(), 0);
    let filtered = s
        .runs(&RunFilter {
            verdict: Some(RunVerdict::Rollback),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert!(filtered.is_empty());
}

#[test]
fn a_run_whose_lease_lapsed_reads_back_abandoned_and_is_not_live() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    s.start_run("dead", "d", "watch", now_ms() - 60_000, false, "x")
        .unwrap();
    s.set_lease("dead", Duration::from_millis(1)).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let runs = s
        .runs(&RunFilter {
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(runs[0].head.status, RunStatus::Abandoned);
    assert_eq!(s.live_watches("d").unwrap(), 0);
    assert_eq!(
        s.latest_run(Some("d")).unwrap().unwrap().head.status,
        RunStatus::Abandoned
    );
}

#[test]
fn a_rollback_claim_is_won_once_per_deploy_and_taken_over_by_a_later_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    for r in ["a", "b", "c"] {
        s.start_run(r, "d", "watch", 100, false, "x").unwrap();
    }
    assert_eq!(
        s.claim_rollback("d", "a", Some(100), 200, 1000).unwrap(),
        Claim::Won
    );
    // Again for the same run: still its own.
    assert_eq!(
        s.claim_rollback("d", "a", Some(100), 210, 1000).unwrap(),
        Claim::Won
    );
    // A watch started before the claim lost it.
    assert_eq!(
        s.claim_rollback("d", "b", Some(100), 300, 1000).unwrap(),
        Claim::Lost {
            by: "a".into(),
            at: 200
        }
    );
    // Another deployment is independent.
    assert_eq!(
        s.claim_rollback("e", "b", Some(100), 300, 1000).unwrap(),
        Claim::Won
    );
    // Without a revision, a watch started after the claim is a later deploy: it takes over.
    assert_eq!(
        s.claim_rollback("d", "c", Some(250), 400, 1000).unwrap(),
        Claim::Won
    );
    assert_eq!(s.rollback_claim("d").unwrap(), Some(("c".into(), 400)));
    // A named deploy (`d@rev`) is one deploy whatever the start times: never taken by time.
    assert_eq!(
        s.claim_rollback("d@rev", "a", None, 500, 1000).unwrap(),
        Claim::Won
    );
    assert!(matches!(
        s.claim_rollback("d@rev", "c", None, 60_000, 70_000).unwrap(),
        Claim::Lost { by, .. } if by == "a"
    ));
}

#[test]
fn a_claim_whose_holder_died_is_lapsed_and_taken_over_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    for r in ["a", "b", "c"] {
        s.start_run(r, "d", "watch", 100, false, "x").unwrap();
    }
    // `a` claims (its lease: 10 s from its start at 100, to 10,100 ms); `b` loses while that
    // lease is live and waits.
    assert_eq!(
        s.claim_rollback("d", "a", None, 200, 1000).unwrap(),
        Claim::Won
    );
    assert!(matches!(
        s.claim_rollback("d", "b", None, 900, 1900).unwrap(),
        Claim::Lost { .. }
    ));
    assert_eq!(s.claim_holder("a", 10_100).unwrap(), Holder::Live);
    // `a` is killed: its lease lapses with no rollback recorded. Claiming again never takes
    // it over by itself; only an explicit take-over (an idempotent command) does.
    assert_eq!(s.claim_holder("a", 10_101).unwrap(), Holder::Lapsed);
    assert!(matches!(
        s.claim_rollback("d", "b", None, 10_101, 20_101).unwrap(),
        Claim::Lost { by, .. } if by == "a"
    ));
    assert!(s.take_over_claim("d", "a", "b", 10_101, 20_101).unwrap());
    assert!(!s.take_over_claim("d", "a", "c", 10_102, 20_102).unwrap());
    assert_eq!(s.rollback_claim("d").unwrap(), Some(("b".into(), 10_101)));
    // A holder that recorded its rollback is done, with its outcome, even after its lease
    // lapsed: never taken.
    let mut record = RollbackRecord {
        trigger: Trigger::Auto,
        started_at: 10_101,
        ended_at: 10_500,
        attempts: 1,
        argv: vec!["false".into()],
        exit_status: Some(1),
        ok: false,
        stdout: String::new(),
        stderr: String::new(),
        reason: "exited 1".into(),
    };
    s.record_rollback("b", &record).unwrap();
    assert_eq!(
        s.claim_holder("b", i64::MAX / 4).unwrap(),
        Holder::Done { ok: Some(false) }
    );
    assert!(matches!(
        s.claim_rollback("d", "c", None, i64::MAX / 4, i64::MAX / 4).unwrap(),
        Claim::Lost { by, .. } if by == "b"
    ));
    record.ok = true;
    s.record_rollback("c", &record).unwrap();
    assert_eq!(
        s.claim_holder("c", 0).unwrap(),
        Holder::Done { ok: Some(true) }
    );
    assert_eq!(
        s.claim_holder("nobody", 0).unwrap(),
        Holder::Done { ok: None }
    );
}

/// A version-3 store as vz-monitor 0.1 left it: text run ids everywhere.
fn v3_store(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    for (i, sql) in migrations::SQLITE.iter().take(3).enumerate() {
        c.execute_batch(sql).unwrap();
        c.pragma_update(None, "user_version", i as i64 + 1).unwrap();
    }
    c.execute_batch(
        "INSERT INTO runs (id, deployment, kind, started_at, ended_at, status, verdict, reason, exit_code, dry_run, config_digest, summary)
           VALUES ('aaaa-1', 'web', 'watch', 1000, 5000, 'finished', 'rollback', 'bad', 1, 0, 'x', '{}'),
                  ('bbbb-2', 'web', 'watch', 2000, NULL, 'running', NULL, NULL, NULL, 0, 'x', NULL);
         INSERT INTO samples (run_id, ts, series, value, status, detail) VALUES
           ('aaaa-1', 1000, 'cpu', 1.5, 'ok', NULL), ('aaaa-1', 1000, 'up', NULL, 'down', 'refused'),
           ('aaaa-1', 2000, 'cpu', 2.5, 'ok', NULL), ('bbbb-2', 2000, 'cpu', 3.5, 'ok', NULL);
         INSERT INTO anomalies (run_id, rule, series, kind, severity, fired_at, resolved_at, body) VALUES
           ('aaaa-1', 'r', 'cpu', 'K', 'critical', 2000, NULL, '{}'), ('aaaa-1', 'r2', 'cpu', 'K', 'warning', 2000, NULL, '{}');
         INSERT INTO decisions (run_id, ts, verdict, reason) VALUES ('aaaa-1', 2000, 'rollback', 'bad');
         INSERT INTO rollbacks (run_id, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason)
           VALUES ('aaaa-1', 'auto', 2000, 3000, 1, '[]', 0, 1, '', '', 'ok');",
    )
    .unwrap();
}

#[test]
fn a_version_3_store_migrates_keeping_runs_samples_anomalies_and_rollbacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    v3_store(&path);
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), migrations::VERSION);
    let runs = s
        .runs(&RunFilter {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(runs.len(), 2);
    let old = runs.iter().find(|r| r.head.id == "aaaa-1").unwrap();
    assert_eq!((old.anomalies, old.rolled_back), (2, true));
    assert_eq!(old.head.verdict, Some(RunVerdict::Rollback));
    // A run left `running` by a dead process of the old version is abandoned.
    let dead = runs.iter().find(|r| r.head.id == "bbbb-2").unwrap();
    assert_eq!(dead.head.status, RunStatus::Abandoned);
    assert_eq!(s.sample_count("aaaa-1").unwrap(), 3);
    assert_eq!(s.sample_count("bbbb-2").unwrap(), 1);
    let found = s.runs_by_prefix("aaaa", 6).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].summary.as_deref(), Some("{}"));
    // New runs get the next key, and the old ids stay unique.
    s.start_run("cccc-3", "web", "watch", 3000, false, "x")
        .unwrap();
    assert!(s
        .start_run("aaaa-1", "web", "watch", 3000, false, "x")
        .is_err());
    let c = rusqlite::Connection::open(&path).unwrap();
    let check: String = c
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .unwrap_or_else(|_| "ok".into());
    assert_eq!(check, "ok");
    let indexed: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('anomalies_by_run', 'rollbacks_by_run', 'decisions_by_run', 'runs_by_start')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexed, 4, "every foreign key is indexed");
}

/// A finished run of `d` started at `at` with `verdict`, and a rollback ending 30 s later
/// (`ok`) when `rollback` says so.
fn finished(s: &mut Store, id: &str, at: i64, verdict: RunVerdict, rollback: Option<bool>) {
    s.start_run(id, "d", "watch", at, false, "x").unwrap();
    if let Some(ok) = rollback {
        let r = RollbackRecord {
            trigger: Trigger::Auto,
            started_at: at + 20_000,
            ended_at: at + 30_000,
            attempts: 1,
            argv: vec!["true".into()],
            exit_status: Some(if ok { 0 } else { 1 }),
            ok,
            stdout: "out <b>".into(),
            stderr: String::new(),
            reason: "r".into(),
        };
        s.record_rollback(id, &r).unwrap();
    }
    let end = RunEnd {
        ended_at: at + 40_000,
        status: RunStatus::Finished,
        verdict: Some(verdict),
        reason: "why",
        exit_code: 0,
        summary: "{}",
    };
    s.finish_run(id, &end).unwrap();
}

#[test]
fn the_dashboard_reads_change_failure_rate_time_to_rollback_and_rollback_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir);
    finished(&mut s, "a", 1_000, RunVerdict::Rollback, Some(true));
    finished(&mut s, "b", 2_000, RunVerdict::Healthy, None);
    finished(&mut s, "c", 3_000, RunVerdict::Healthy, None);
    finished(&mut s, "e", 4_000, RunVerdict::RollbackFailed, Some(false));
    s.set_origin("e", "alice", "runner-7").unwrap();
    // Over all four: 2 of 4 failed; the one successful rollback ended 30 s after its start.
    let st = s.deployment_stats("d", 20).unwrap();
    assert_eq!((st.runs, st.failed), (4, 2));
    assert_eq!(st.change_failure_percent, Some(50.0));
    assert_eq!(st.median_time_to_rollback_ms, Some(30_000));
    // Over the newest two: one failed, no successful rollback.
    let st = s.deployment_stats("d", 2).unwrap();
    assert_eq!(
        (st.runs, st.failed, st.median_time_to_rollback_ms),
        (2, 1, None)
    );
    let f = RunFilter {
        limit: 2,
        ..Default::default()
    };
    let page = s.listed_runs(&f, 0).unwrap();
    let ids: Vec<&str> = page.iter().map(|r| r.head.id.as_str()).collect();
    assert_eq!(ids, ["e", "c"]);
    assert_eq!(page[0].rollback_ok, Some(false));
    assert_eq!(page[1].rollback_ok, None);
    assert_eq!(
        (page[0].actor.as_deref(), page[0].host.as_deref()),
        (Some("alice"), Some("runner-7"))
    );
    let next = s.listed_runs(&f, 2).unwrap();
    assert_eq!(next[1].head.id, "a");
    assert_eq!(next[1].rollback_ok, Some(true));
    let rb = s.run_rollbacks("a").unwrap();
    assert_eq!(
        (rb.len(), rb[0].ok, rb[0].stdout.as_str()),
        (1, true, "out <b>")
    );
    let counts = s.run_counts().unwrap();
    assert_eq!((counts.running, counts.abandoned, counts.total), (0, 0, 4));
    let last = s.last_run_per_deployment(10).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].id, "e");
    // By id: exact, a unique prefix, an ambiguous one, none.
    finished(&mut s, "x-one", 5_000, RunVerdict::Healthy, None);
    finished(&mut s, "x-two", 6_000, RunVerdict::Healthy, None);
    let id = |p: &str| s.run_by_id(p).unwrap().map(|r| r.head.id);
    assert_eq!(id("x-one").as_deref(), Some("x-one"));
    assert_eq!(id("x-t").as_deref(), Some("x-two"));
    assert_eq!(id("x-"), None);
    assert_eq!(id("zz"), None);
}
