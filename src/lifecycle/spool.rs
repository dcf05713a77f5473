//! What a run could not record because the store failed (disk full, server gone, a deadline
//! passed) is written to a spool file — JSON lines beside the store, else in the temp
//! folder — and replayed into the store by the next command that opens it. If even the
//! spool cannot be written, the loss is said plainly on stderr: a record is never left
//! reading "abandoned, not rolled back" without a word.

use crate::audit::chain::{self, NewEntry};
use crate::model::Timestamp;
use crate::run::RunVerdict;
use crate::store::{RollbackRecord, RunEnd, RunStatus, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One record the store did not take.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Spooled {
    /// The gate's decision.
    Decision {
        run_id: String,
        at: Timestamp,
        verdict: String,
        reason: String,
    },
    /// The rollback the run ran.
    Rollback {
        run_id: String,
        record: RollbackRecord,
    },
    /// How the run ended.
    Finish {
        run_id: String,
        ended_at: Timestamp,
        interrupted: bool,
        verdict: Option<String>,
        reason: String,
        exit_code: i32,
        summary: String,
    },
    /// An audit-chain entry.
    Audit {
        ts: Timestamp,
        deployment: String,
        actor: String,
        action: String,
        run_id: Option<String>,
        details: serde_json::Value,
    },
}

impl Spooled {
    /// The entry for a run's end.
    pub fn finish(run_id: &str, end: &RunEnd) -> Spooled {
        Spooled::Finish {
            run_id: run_id.into(),
            ended_at: end.ended_at,
            interrupted: end.status == RunStatus::Interrupted,
            verdict: end.verdict.map(|v| v.as_str().to_string()),
            reason: end.reason.into(),
            exit_code: end.exit_code,
            summary: end.summary.into(),
        }
    }

    /// The entry for an audit event.
    pub fn audit(e: &NewEntry) -> Spooled {
        Spooled::Audit {
            ts: e.ts,
            deployment: e.deployment.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            run_id: e.run_id.clone(),
            details: e.details.clone(),
        }
    }

    fn what(&self) -> String {
        match self {
            Spooled::Decision {
                run_id, verdict, ..
            } => format!("decision {verdict} of run {run_id}"),
            Spooled::Rollback { run_id, record } => format!(
                "rollback of run {run_id} ({})",
                if record.ok { "succeeded" } else { "failed" }
            ),
            Spooled::Finish {
                run_id, exit_code, ..
            } => format!("end of run {run_id} (exit {exit_code})"),
            Spooled::Audit { action, .. } => format!("audit entry `{action}`"),
        }
    }
}

/// The spool files of a store: beside a SQLite file, and in the temp folder (for a
/// PostgreSQL URL, or when the store's folder takes no more writes).
fn places(store: &Path) -> Vec<PathBuf> {
    let text = store.to_string_lossy();
    let tag = hex::encode(&Sha256::digest(text.as_bytes())[..8]);
    let tmp = std::env::temp_dir().join(format!("vz-monitor-spool-{tag}.jsonl"));
    if crate::store::is_url(&text) {
        vec![tmp]
    } else {
        let mut beside = store.as_os_str().to_owned();
        beside.push(".spool.jsonl");
        vec![PathBuf::from(beside), tmp]
    }
}

/// Keeps `entry` for the next start; says so, or says plainly that it is lost.
pub fn keep(store: &Path, entry: &Spooled) {
    let line = match serde_json::to_string(entry) {
        Ok(l) => l + "\n",
        Err(e) => {
            errln!("error: the store did not take the {} and it cannot be spooled ({e}): it is not recorded anywhere", entry.what());
            return;
        }
    };
    let mut why = Vec::new();
    for place in places(store) {
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&place)
            .and_then(|mut f| f.write_all(line.as_bytes()).and_then(|()| f.sync_data()));
        match written {
            Ok(()) => {
                errln!(
                    "warning: the store did not take the {}: spooled to {}, recorded at the next start",
                    entry.what(),
                    place.display()
                );
                return;
            }
            Err(e) => why.push(format!("{}: {e}", place.display())),
        }
    }
    errln!(
        "error: the store did not take the {} and the spool cannot be written ({}): this run's record is incomplete — it happened as printed here",
        entry.what(),
        why.join("; ")
    );
}

/// Replays every spooled entry of `store` into it, oldest first; a spool whose entries all
/// went in is removed. Returns how many entries were recorded.
pub fn replay(store: &mut Store, target: &Path) -> usize {
    let mut done = 0;
    for place in places(target) {
        let Ok(text) = std::fs::read_to_string(&place) else {
            continue;
        };
        let mut left = String::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let ok = match serde_json::from_str::<Spooled>(line) {
                Ok(e) => apply(store, &e)
                    .map_err(|err| errln!("warning: spooled {} not recorded yet: {err}", e.what()))
                    .is_ok(),
                Err(_) => true, // a torn last line: nothing to record
            };
            if ok {
                done += 1;
            } else {
                left.push_str(line);
                left.push('\n');
            }
        }
        let _ = if left.is_empty() {
            std::fs::remove_file(&place)
        } else {
            std::fs::write(&place, left)
        };
    }
    if done > 0 {
        errln!(
            "recorded {done} spooled entr{} the store had not taken when it failed",
            if done == 1 { "y" } else { "ies" }
        );
    }
    done
}

fn apply(store: &mut Store, e: &Spooled) -> Result<(), crate::store::StoreError> {
    match e {
        Spooled::Decision {
            run_id,
            at,
            verdict,
            reason,
        } => store.record_verdict(run_id, *at, verdict, reason),
        Spooled::Rollback { run_id, record } => {
            if store.has_rollback(run_id)? {
                return Ok(());
            }
            store.record_rollback(run_id, record)
        }
        Spooled::Finish {
            run_id,
            ended_at,
            interrupted,
            verdict,
            reason,
            exit_code,
            summary,
        } => {
            let end = RunEnd {
                ended_at: *ended_at,
                status: if *interrupted {
                    RunStatus::Interrupted
                } else {
                    RunStatus::Finished
                },
                verdict: verdict
                    .as_deref()
                    .and_then(|v| RunVerdict::ALL.into_iter().find(|x| x.as_str() == v)),
                reason,
                exit_code: *exit_code,
                summary,
            };
            store.finish_run(run_id, &end)
        }
        Spooled::Audit {
            ts,
            deployment,
            actor,
            action,
            run_id,
            details,
        } => {
            let mut details = details.clone();
            if let Some(map) = details.as_object_mut() {
                map.insert("spooled".into(), serde_json::Value::Bool(true));
            }
            let entry = NewEntry {
                ts: *ts,
                deployment: deployment.clone(),
                actor: actor.clone(),
                action: action.clone(),
                run_id: run_id.clone(),
                details,
            };
            chain::append(store, &entry, chain::key_from_env().as_deref()).map(|_| ())
        }
    }
}
