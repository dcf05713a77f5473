//! The store's deadlines: every call is bounded (SQLite's busy timeout, PostgreSQL's
//! per-call timeout, both [`super::DEADLINE`]), and a call that fails for want of the store
//! — a deadline passed, the server gone, the disk full — marks that store down for the rest
//! of this process. Every later call on it, from any handle, fails at once with
//! [`StoreError::Down`]: a frozen store costs one deadline, not one per call, and the
//! decision and the rollback never wait for it. What was not recorded is spooled
//! (`lifecycle::spool`).

use super::db::{Db, Lock, Row, Val};
use super::StoreError;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

fn down() -> &'static Mutex<HashMap<String, String>> {
    static DOWN: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    DOWN.get_or_init(Default::default)
}

/// Fails at once when `target` was found unavailable earlier in this process.
pub fn check(target: &str) -> Result<(), StoreError> {
    let map = down().lock().unwrap_or_else(|p| p.into_inner());
    match map.get(target) {
        Some(why) => Err(StoreError::Down(why.clone())),
        None => Ok(()),
    }
}

/// Forgets that `target` was found unavailable, so the next call tries it again. For a
/// long-lived reader (`serve`) that must keep serving once the store is back; a command
/// that acts never calls it (one deadline per run, not one per call).
pub fn forget(target: &str) {
    down()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(target);
}

/// Whether an error means the store itself is unavailable (not a bad statement or value).
fn unavailable(e: &StoreError) -> bool {
    use rusqlite::ErrorCode as C;
    match e {
        StoreError::Deadline(_) | StoreError::Pool(_) | StoreError::Connect { .. } => true,
        StoreError::Postgres(e) => e.is_closed() || e.code().is_none(),
        StoreError::Sql(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            C::DatabaseBusy | C::DatabaseLocked | C::DiskFull | C::SystemIoFailure | C::CannotOpen
        ),
        _ => false,
    }
}

/// Runs `call` on `target`, marking the store down if it fails for want of it.
pub fn watched<T>(
    target: &str,
    call: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    check(target)?;
    let r = call();
    if let Err(e) = &r {
        if unavailable(e) {
            down()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(target.to_string())
                .or_insert_with(|| e.to_string());
        }
    }
    r
}

/// A statement runner whose calls are [`watched`].
pub struct Guarded {
    inner: Box<dyn Db>,
    target: String,
}

impl Guarded {
    /// Guards `inner`, the store at `target`.
    pub fn new(inner: Box<dyn Db>, target: &str) -> Guarded {
        Guarded {
            inner,
            target: target.to_string(),
        }
    }
}

impl Db for Guarded {
    fn exec(&self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
        watched(&self.target, || self.inner.exec(sql, args))
    }
    fn query(&self, sql: &str, args: &[Val]) -> Result<Vec<Row>, StoreError> {
        watched(&self.target, || self.inner.query(sql, args))
    }
    fn begin(&mut self, lock: Lock) -> Result<(), StoreError> {
        let (target, inner) = (&self.target, &mut self.inner);
        watched(target, || inner.begin(lock))
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        let (target, inner) = (&self.target, &mut self.inner);
        watched(target, || inner.commit())
    }
    fn rollback(&mut self) {
        if check(&self.target).is_ok() {
            self.inner.rollback();
        }
    }
    fn schema_version(&self) -> Result<i64, StoreError> {
        watched(&self.target, || self.inner.schema_version())
    }
    fn engine(&self) -> &'static str {
        self.inner.engine()
    }
}
