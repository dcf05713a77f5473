//! The audit hash chain: append-only entries, each hashed over its canonical JSON (which
//! includes the previous entry's hash), optionally keyed with HMAC-SHA256.

use crate::model::Timestamp;
use crate::store::StoreError;
use hmac::{Hmac, Mac};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the very first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// `alg` of an entry hashed with plain SHA-256.
pub const ALG_SHA256: &str = "sha256";
/// `alg` of an entry keyed with HMAC-SHA256 (`VZ_AUDIT_KEY`).
pub const ALG_HMAC: &str = "hmac-sha256";

/// An event to append; `seq`, `prev_hash` and `hash` are assigned by [`append_in`].
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub ts: Timestamp,
    pub deployment: String,
    pub actor: String,
    pub action: String,
    pub run_id: Option<String>,
    pub details: Value,
}

/// One stored entry of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub seq: i64,
    pub ts: Timestamp,
    pub deployment: String,
    pub actor: String,
    pub action: String,
    pub run_id: Option<String>,
    pub details: Value,
    pub alg: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Writes `v` as canonical JSON: object keys sorted, no whitespace.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The canonical form of an entry: every field except `hash` (so `prev_hash` is covered).
pub fn canonical_entry(e: &Entry) -> String {
    canonical(&serde_json::json!({
        "seq": e.seq,
        "ts": e.ts,
        "deployment": e.deployment,
        "actor": e.actor,
        "action": e.action,
        "run_id": e.run_id,
        "details": e.details,
        "alg": e.alg,
        "prev_hash": e.prev_hash,
    }))
}

/// The hash an entry must carry: SHA-256, or HMAC-SHA256 with `key`, of its canonical form.
/// `None` when the entry is keyed and no key is given.
pub fn entry_hash(e: &Entry, key: Option<&[u8]>) -> Option<String> {
    let text = canonical_entry(e);
    match e.alg.as_str() {
        ALG_HMAC => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key?).ok()?;
            mac.update(text.as_bytes());
            Some(hex::encode(mac.finalize().into_bytes()))
        }
        _ => Some(hex::encode(Sha256::digest(text.as_bytes()))),
    }
}

/// The audit key from `VZ_AUDIT_KEY`, if set and not empty.
pub fn key_from_env() -> Option<Vec<u8>> {
    std::env::var("VZ_AUDIT_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .map(String::into_bytes)
}

/// Appends inside a transaction the caller opened with `BEGIN IMMEDIATE`, so `seq` and
/// `prev_hash` are read and written under one write lock.
pub fn append_in(tx: &Transaction, e: &NewEntry, key: Option<&[u8]>) -> Result<Entry, StoreError> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let mut entry = Entry {
        seq,
        ts: e.ts,
        deployment: e.deployment.clone(),
        actor: e.actor.clone(),
        action: e.action.clone(),
        run_id: e.run_id.clone(),
        details: e.details.clone(),
        alg: if key.is_some() { ALG_HMAC } else { ALG_SHA256 }.into(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry, key).unwrap_or_default();
    tx.execute(
        "INSERT INTO audit (seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            entry.seq,
            entry.ts,
            entry.deployment,
            entry.actor,
            entry.action,
            entry.run_id,
            canonical(&entry.details),
            entry.alg,
            entry.prev_hash,
            entry.hash
        ],
    )?;
    Ok(entry)
}

/// Appends one entry in its own `BEGIN IMMEDIATE` transaction (safe with other processes).
pub fn append(
    conn: &mut Connection,
    e: &NewEntry,
    key: Option<&[u8]>,
) -> Result<Entry, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let entry = append_in(&tx, e, key)?;
    tx.commit()?;
    Ok(entry)
}

/// A stored row as read back: `details` may not even be JSON if someone edited it.
#[derive(Debug, Clone)]
pub struct Row {
    pub entry: Entry,
    /// The `details` column as stored, when it is not valid JSON.
    pub bad_details: Option<String>,
}

/// Every entry, in `seq` order.
pub fn read_all(conn: &Connection) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, ts, deployment, actor, action, run_id, details, alg, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| {
        let details: String = r.get(6)?;
        let (value, bad) = match serde_json::from_str::<Value>(&details) {
            Ok(v) => (v, None),
            Err(_) => (Value::Null, Some(details)),
        };
        Ok(Row {
            entry: Entry {
                seq: r.get(0)?,
                ts: r.get(1)?,
                deployment: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                run_id: r.get(5)?,
                details: value,
                alg: r.get(7)?,
                prev_hash: r.get(8)?,
                hash: r.get(9)?,
            },
            bad_details: bad,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_has_no_whitespace() {
        let v = serde_json::json!({"b": [1, {"z": true, "a": null}], "a": "x y", "c": 1.5});
        assert_eq!(
            canonical(&v),
            r#"{"a":"x y","b":[1,{"a":null,"z":true}],"c":1.5}"#
        );
    }

    #[test]
    fn hash_covers_every_field_and_the_key() {
        let e = Entry {
            seq: 1,
            ts: 10,
            deployment: "d".into(),
            actor: "me".into(),
            action: "hold".into(),
            run_id: None,
            details: serde_json::json!({"reason": "r"}),
            alg: ALG_SHA256.into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let h = entry_hash(&e, None).unwrap();
        let mut other = e.clone();
        other.prev_hash = "1".repeat(64);
        assert_ne!(entry_hash(&other, None).unwrap(), h);
        other = e.clone();
        other.details = serde_json::json!({"reason": "s"});
        assert_ne!(entry_hash(&other, None).unwrap(), h);
        let mut keyed = e.clone();
        keyed.alg = ALG_HMAC.into();
        assert_eq!(entry_hash(&keyed, None), None);
        let k1 = entry_hash(&keyed, Some(b"k1")).unwrap();
        assert_ne!(k1, entry_hash(&keyed, Some(b"k2")).unwrap());
        assert_ne!(k1, h);
    }
}
