//! The store under concurrent use: two vz-monitor processes on one database file.

use crate::common;

use common::Project;

#[test]
fn two_processes_writing_one_database_lose_nothing() {
    let p = Project::new();
    let a = p.series("a", &["1", "2", "3"]);
    let b = p.series("b", &["4", "5", "6"]);
    for (name, probe) in [("one", &a), ("two", &b)] {
        p.write(
            &format!("{name}.yaml"),
            &format!("deployment: {name}\ninterval: 200ms\nduration: 2s\nmetrics:\n  m:\n    probe: {{ command: {probe} }}\nrules:\n  - name: hi\n    metric: m\n    detector: {{ threshold: {{ op: '>', value: 100 }} }}\n"),
        );
    }
    let spawn = |args: &[&str]| {
        p.std_cmd()
            .args(["--db", "shared.db"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let w1 = spawn(&["--config", "one.yaml", "watch"]);
    let w2 = spawn(&["--config", "two.yaml", "watch"]);
    let b1 = spawn(&[
        "--config",
        "one.yaml",
        "baseline",
        "--samples",
        "20",
        "--interval",
        "50ms",
    ]);
    for c in [w1, w2, b1] {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let db = rusqlite::Connection::open(p.path("shared.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let runs: Vec<(String, String, i64)> = db
        .prepare("SELECT r.id, r.verdict, (SELECT COUNT(*) FROM samples s WHERE s.run_key = r.key) FROM runs r")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(runs.len(), 2);
    for (id, verdict, samples) in &runs {
        assert_eq!(verdict, "healthy", "{id}");
        // ~11 ticks of 200 ms in 2 s (slow enough for a loaded runner); every tick's sample was stored.
        let summary: String = db
            .query_row("SELECT summary FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        let ticks = serde_json::from_str::<serde_json::Value>(&summary).unwrap()["ticks"]
            .as_i64()
            .unwrap();
        assert_eq!(*samples, ticks, "one stored sample per tick for run {id}");
        assert!(ticks > 5);
    }
    let baselines: i64 = db
        .query_row("SELECT COUNT(*) FROM baselines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(baselines, 1);
}

#[test]
fn processes_opening_a_new_store_together_all_wait_their_turn() {
    // Switching a fresh database to WAL can answer "database is locked" at once (SQLite
    // skips the busy handler there) while another process holds a lock; the store retries
    // within its busy timeout. Seen once in CI with two watches and a baseline starting
    // together; the race is timing-dependent, so this test may also pass without the retry.
    let p = Project::new();
    for round in 0..20 {
        let db = format!("fresh-{round}.db");
        let children: Vec<_> = (0..16)
            .map(|_| {
                p.std_cmd()
                    // `prune` writes, so it creates the store (`history` only reads).
                    .args(["--db", &db, "prune"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
