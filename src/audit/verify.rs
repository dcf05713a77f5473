//! Walks the audit chain and names the first entry that does not hold together.

use super::chain::{entry_hash, Entry, Row, ALG_HMAC, ALG_SHA256, GENESIS};
use serde::Serialize;

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Entries present in the store.
    pub entries: usize,
    /// `seq` of the first entry present (after pruning, the one after the checkpoint's range).
    pub first_seq: Option<i64>,
    /// `seq` and hash of the newest entry: keep it to detect a truncated tail later.
    pub head: Option<(i64, String)>,
    /// The checkpoint accounting for pruned entries `1..=through_seq`, if any.
    pub checkpoint: Option<CheckpointRef>,
    /// Entries written without the key before keying began (only counted with a key).
    pub unkeyed_prefix: usize,
    /// Entries keyed with HMAC.
    pub keyed: usize,
    /// How verification ended.
    pub outcome: ChainState,
}

/// The checkpoint a pruned chain starts from.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointRef {
    /// `seq` of the checkpoint entry itself.
    pub seq: i64,
    /// Last pruned entry.
    pub through_seq: i64,
}

/// Verdict of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainState {
    /// Every entry holds together.
    Intact,
    /// The first broken entry and what is wrong with it.
    Broken { seq: i64, problem: String },
    /// An entry is keyed with HMAC and no `VZ_AUDIT_KEY` was given: nothing could be checked from there on.
    NeedsKey { seq: i64 },
}

/// Checks `rows` (in `seq` order) with an optional HMAC key.
pub fn verify(rows: &[Row], key: Option<&[u8]>) -> Verification {
    let mut v = Verification {
        entries: rows.len(),
        first_seq: rows.first().map(|r| r.entry.seq),
        head: rows.last().map(|r| (r.entry.seq, r.entry.hash.clone())),
        checkpoint: None,
        unkeyed_prefix: 0,
        keyed: 0,
        outcome: ChainState::Intact,
    };
    v.outcome = walk(rows, key, &mut v);
    v
}

fn broken(seq: i64, problem: impl Into<String>) -> ChainState {
    ChainState::Broken {
        seq,
        problem: problem.into(),
    }
}

/// Where the chain starts: seq 1 from the genesis hash, or the hash a checkpoint kept of its
/// pruned range (noted in `v`); Err when entries are missing that no checkpoint accounts for.
fn chain_start(rows: &[Row], first_seq: i64, v: &mut Verification) -> Result<String, ChainState> {
    if first_seq == 1 {
        return Ok(GENESIS.to_string());
    }
    let found = rows.iter().find(|r| {
        r.entry.action == "checkpoint"
            && r.entry.details["through_seq"].as_i64() == Some(first_seq - 1)
    });
    let Some(c) = found else {
        return Err(broken(
            first_seq,
            format!(
                "entries 1..{} are missing and no checkpoint accounts for them (deleted by hand?)",
                first_seq - 1
            ),
        ));
    };
    v.checkpoint = Some(CheckpointRef {
        seq: c.entry.seq,
        through_seq: first_seq - 1,
    });
    Ok(c.entry.details["through_hash"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// One entry's hash against its content, keyed (`hmac-sha256`, counted in `v`) or not.
fn check_hash(e: &Entry, key: Option<&[u8]>, v: &mut Verification) -> Result<(), ChainState> {
    match e.alg.as_str() {
        ALG_SHA256 => {
            if key.is_some() && v.keyed > 0 {
                return Err(broken(
                    e.seq,
                    "not keyed although earlier entries are: forged, or written without VZ_AUDIT_KEY",
                ));
            }
            if key.is_some() {
                v.unkeyed_prefix += 1;
            }
            if entry_hash(e, None).as_deref() != Some(e.hash.as_str()) {
                return Err(broken(
                    e.seq,
                    format!("{} does not match its content (edited)", e.alg),
                ));
            }
        }
        ALG_HMAC => {
            let Some(expected) = entry_hash(e, key) else {
                return Err(ChainState::NeedsKey { seq: e.seq });
            };
            if expected != e.hash {
                return Err(broken(
                    e.seq,
                    "HMAC does not match its content (edited, or VZ_AUDIT_KEY is not the key it was written with)",
                ));
            }
            v.keyed += 1;
        }
        other => return Err(broken(e.seq, format!("unknown hash algorithm {other:?}"))),
    }
    Ok(())
}

fn walk(rows: &[Row], key: Option<&[u8]>, v: &mut Verification) -> ChainState {
    let Some(first) = rows.first() else {
        return ChainState::Intact;
    };
    let first_seq = first.entry.seq;
    let mut expected_prev = match chain_start(rows, first_seq, v) {
        Ok(hash) => hash,
        Err(outcome) => return outcome,
    };
    let mut prev_seq = first_seq - 1;
    for row in rows {
        let e = &row.entry;
        if e.seq != prev_seq + 1 {
            let gap = if e.seq == prev_seq + 2 {
                format!("entry {} is missing", prev_seq + 1)
            } else {
                format!("entries {}..{} are missing", prev_seq + 1, e.seq - 1)
            };
            return broken(e.seq, format!("follows entry {prev_seq}: {gap} (deleted)"));
        }
        if e.prev_hash != expected_prev {
            return broken(
                e.seq,
                format!(
                    "prev_hash does not match the hash of entry {prev_seq} (entries deleted, inserted or reordered)"
                ),
            );
        }
        if let Some(text) = &row.bad_details {
            let shown: String = text.chars().take(40).collect();
            return broken(
                e.seq,
                format!("details is not valid JSON ({shown:?}): edited"),
            );
        }
        if let Err(outcome) = check_hash(e, key, v) {
            return outcome;
        }
        expected_prev = e.hash.clone();
        prev_seq = e.seq;
    }
    if key.is_some() && v.keyed == 0 {
        return broken(
            first_seq,
            "VZ_AUDIT_KEY is set but no entry is keyed with it: the chain may have been rewritten without the key",
        );
    }
    ChainState::Intact
}
