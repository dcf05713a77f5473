//! The audit log through the real binary: every event is an entry of a hash chain, and
//! tampering with the database by hand is caught by `audit verify`, naming the entry.

use crate::common;

use common::config::{GateConfig, HIGH_ERROR_RATE};
use common::{exits, json, logging_rollback, Project};
use rusqlite::{params, Connection};
use vz_monitor::audit::chain::{entry_hash, Entry};

/// A project whose watch regresses at once (error rate 12 > 5) and rolls back.
fn project() -> Project {
    let p = Project::new();
    GateConfig::new("100ms", "1s")
        .probe("error_rate", &p.series("error_rate", &["12"]))
        .rule(HIGH_ERROR_RATE)
        .rollback(&logging_rollback(p.dir.path()))
        .write(&p);
    p
}

fn ok(p: &Project, args: &[&str]) -> std::process::Output {
    let out = p
        .cmd()
        .env("VZ_ACTOR", "alice")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Six quick entries: hold, release, hold, release, hold, release.
fn six_entries(p: &Project) {
    for i in 0..3 {
        ok(p, &["hold", "--reason", &format!("check {i}")]);
        ok(p, &["release"]);
    }
}

fn db(p: &Project) -> Connection {
    Connection::open(p.path(".vz-monitor/vz.db")).unwrap()
}

fn verify(p: &Project) -> (Option<i32>, String) {
    let out = p.cmd().args(["audit", "verify"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn export(p: &Project) -> Vec<serde_json::Value> {
    let out = p.cmd().args(["audit", "export"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_event_is_an_entry_and_an_untouched_chain_verifies() {
    let p = project();
    ok(&p, &["baseline", "--samples", "2", "--interval", "50ms"]);
    let w = ok(&p, &["watch", "--output", "json"]);
    assert_eq!(
        w.status.code(),
        Some(1),
        "the watch regresses and rolls back"
    );
    ok(&p, &["hold", "--reason", "freeze"]);
    ok(&p, &["release"]);
    ok(&p, &["rollback", "--reason", "by hand"]);
    // A different config makes the next run a config change.
    let text = p
        .read("vz-monitor.yaml")
        .unwrap()
        .replace("duration: 1s", "duration: 2s");
    p.write("vz-monitor.yaml", &text);
    ok(&p, &["abort", "--reason", "stop"]);
    ok(&p, &["watch", "--no-rollback"]);

    let entries = export(&p);
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "baseline",
        "run_start",
        "decision",
        "rollback",
        "run_finish",
        "hold",
        "release",
        "abort",
        "config_change",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| **a == "config_change").count(),
        1,
        "only the run after the edit changed config: {actions:?}"
    );
    let rollbacks: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["action"] == "rollback")
        .collect();
    assert_eq!(rollbacks[0]["details"]["trigger"], "auto");
    assert_eq!(rollbacks[1]["details"]["trigger"], "manual");
    let finish = entries
        .iter()
        .find(|e| e["action"] == "run_finish")
        .unwrap();
    assert_eq!(finish["details"]["verdict"], "rollback");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
        assert_eq!(e["actor"], "alice");
        for k in ["ts", "deployment", "run_id", "details", "prev_hash", "hash"] {
            assert!(e.get(k).is_some(), "{k} missing in {e}");
        }
        if i > 0 {
            assert_eq!(e["prev_hash"], entries[i - 1]["hash"]);
        }
    }
    let (code, text) = verify(&p);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("{} entries", entries.len())),
        "{text}"
    );
}

#[test]
fn an_edited_details_field_is_named() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    six_entries(&p);
    assert_eq!(verify(&p).0, Some(0));
    db(&p)
        .execute(
            "UPDATE audit SET details = '{\"reason\":\"nothing to see\"}' WHERE seq = 3",
            [],
        )
        .unwrap();
    let (code, text) = verify(&p);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 3"), "{text}");
    assert!(text.contains("edited"), "{text}");
}

#[test]
fn a_deleted_middle_entry_is_named() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    six_entries(&p);
    db(&p)
        .execute("DELETE FROM audit WHERE seq = 3", [])
        .unwrap();
    let (code, text) = verify(&p);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 4"), "{text}");
    assert!(text.contains("entry 3 is missing"), "{text}");
}

#[test]
fn swapped_entries_are_caught_as_reordering() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    six_entries(&p);
    let c = db(&p);
    c.execute("UPDATE audit SET seq = -1 WHERE seq = 3", [])
        .unwrap();
    c.execute("UPDATE audit SET seq = 3 WHERE seq = 4", [])
        .unwrap();
    c.execute("UPDATE audit SET seq = 4 WHERE seq = -1", [])
        .unwrap();
    let (code, text) = verify(&p);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 3"), "{text}");
    assert!(text.contains("reordered"), "{text}");
}

fn read_entry(c: &Connection, seq: i64) -> Entry {
    c.query_row(
        "SELECT seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash FROM audit WHERE seq = ?1",
        [seq],
        |r| {
            Ok(Entry {
                seq: r.get(0)?,
                ts: r.get(1)?,
                deployment: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                run_id: r.get(5)?,
                details: serde_json::from_str(&r.get::<_, String>(6)?).unwrap(),
                alg: r.get(7)?,
                prev_hash: r.get(8)?,
                hash: r.get(9)?,
            })
        },
    )
    .unwrap()
}

fn insert(c: &Connection, e: &Entry) {
    c.execute(
        "INSERT INTO audit (seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![e.seq, e.ts, e.deployment, e.actor, e.action, e.run_id, e.details.to_string(), e.alg, e.prev_hash, e.hash],
    )
    .unwrap();
}

#[test]
fn a_forged_entry_inserted_in_the_middle_is_caught_even_with_a_valid_hash() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    six_entries(&p);
    let c = db(&p);
    // Make room at seq 4, then forge an entry there that hashes correctly onto entry 3.
    c.execute("UPDATE audit SET seq = seq + 100 WHERE seq >= 4", [])
        .unwrap();
    c.execute("UPDATE audit SET seq = seq - 99 WHERE seq >= 104", [])
        .unwrap();
    let third = read_entry(&c, 3);
    let mut forged = third.clone();
    forged.seq = 4;
    forged.action = "release".into();
    forged.actor = "mallory".into();
    forged.prev_hash = third.hash.clone();
    forged.hash = entry_hash(&forged, None).unwrap();
    insert(&c, &forged);
    let (code, text) = verify(&p);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("BROKEN at entry 5"),
        "the entry after the forged one no longer links: {text}"
    );
}

#[test]
fn a_forged_entry_appended_with_a_bad_hash_is_named() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    six_entries(&p);
    let c = db(&p);
    let last = read_entry(&c, 6);
    let mut forged = last.clone();
    forged.seq = 7;
    forged.prev_hash = last.hash.clone();
    forged.hash = "ab".repeat(32);
    insert(&c, &forged);
    let (code, text) = verify(&p);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 7"), "{text}");
}

#[test]
fn a_keyed_chain_needs_the_key_and_rejects_unkeyed_forgeries() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    let secret = "s3cret-audit-key";
    for _ in 0..2 {
        let out = p
            .cmd()
            .env("VZ_AUDIT_KEY", secret)
            .args(["hold", "--reason", "keyed"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
    }
    let keyed = |key: &str| {
        let out = p
            .cmd()
            .env("VZ_AUDIT_KEY", key)
            .args(["audit", "verify"])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(secret), "the key leaked: {text}");
        (out.status.code(), text)
    };
    let (code, text) = keyed(secret);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = verify(&p);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("VZ_AUDIT_KEY"), "{text}");
    let (code, text) = keyed("wrong key");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 1"), "{text}");
    // Someone without the key appends a correctly SHA-256-hashed entry.
    let c = db(&p);
    let last = read_entry(&c, 2);
    let mut forged = last.clone();
    forged.seq = 3;
    forged.alg = "sha256".into();
    forged.prev_hash = last.hash.clone();
    forged.hash = entry_hash(&forged, None).unwrap();
    insert(&c, &forged);
    let (code, text) = keyed(secret);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 3"), "{text}");
    assert!(text.contains("not keyed"), "{text}");
}

#[test]
fn prune_keeps_the_chain_verifiable_through_a_checkpoint() {
    let p = project();
    ok(&p, &["watch", "--output", "json"]);
    six_entries(&p);
    let before = export(&p).len();
    let samples: i64 = db(&p)
        .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))
        .unwrap();
    assert!(samples > 0);
    // The default retention (30d) prunes nothing, and says so in a checkpoint.
    let out = p
        .cmd()
        .args(["prune", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = json(&out.stdout);
    assert_eq!(r["entries_deleted"], 0);
    assert_eq!(r["samples_deleted"], 0);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = exits(
        p.cmd()
            .args(["prune", "--older-than", "0s", "--output", "json"]),
        0,
    );
    let r = json(&out.stdout);
    assert_eq!(r["entries_deleted"], before as i64 + 1);
    assert_eq!(r["samples_deleted"], samples);
    let left: i64 = db(&p)
        .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    let (code, text) = verify(&p);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("entries 1..{} were pruned", before + 1)),
        "{text}"
    );
    // The chain goes on after the checkpoint.
    ok(&p, &["hold", "--reason", "after prune"]);
    let (code, text) = verify(&p);
    assert_eq!(code, Some(0), "{text}");
    // Deleting the checkpoint leaves an unexplained gap.
    let c = db(&p);
    c.execute("DELETE FROM audit WHERE action = 'checkpoint'", [])
        .unwrap();
    let (code, text) = verify(&p);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("no checkpoint accounts for them"), "{text}");
}

#[test]
fn concurrent_writers_keep_one_unbroken_chain() {
    let p = Project::new();
    GateConfig::bare().write(&p);
    ok(&p, &["hold", "--reason", "create the store first"]);
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = p.std_cmd();
            c.args(["hold", "--reason", &format!("writer {i}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            c.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let entries = export(&p);
    assert_eq!(entries.len(), 9);
    let (code, text) = verify(&p);
    assert_eq!(code, Some(0), "{text}");
}
