//! The audit hash chain: append-only entries, each hashed over its canonical JSON (which
//! includes the previous entry's hash), optionally keyed with HMAC-SHA256.

pub use crate::store::audit::{AuditRow as Row, Entry, NewEntry, GENESIS};
use crate::store::{Store, StoreError};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `alg` of an entry hashed with plain SHA-256.
pub const ALG_SHA256: &str = "sha256";
/// `alg` of an entry keyed with HMAC-SHA256 (`VZ_AUDIT_KEY`).
pub const ALG_HMAC: &str = "hmac-sha256";

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

/// Fills in `alg` and `hash`: HMAC-SHA256 with `key`, else SHA-256.
pub fn seal(key: Option<&[u8]>) -> impl Fn(&mut Entry) + '_ {
    move |e: &mut Entry| {
        e.alg = if key.is_some() { ALG_HMAC } else { ALG_SHA256 }.into();
        e.hash = entry_hash(e, key).unwrap_or_default();
    }
}

/// Appends one entry to the store's chain, sealed with `key`.
pub fn append(store: &mut Store, e: &NewEntry, key: Option<&[u8]>) -> Result<Entry, StoreError> {
    store.append_audit(e, &seal(key), &canonical)
}

/// Every entry, in `seq` order.
pub fn read_all(store: &Store) -> Result<Vec<Row>, StoreError> {
    store.audit_rows()
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
