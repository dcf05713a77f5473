//! The store: every SQL statement of vz-monitor lives in this module, written once for two
//! engines (DESIGN.md "Store and audit"): SQLite (embedded, the zero-config default) for one
//! machine, PostgreSQL (`store: { url: "postgres://…" }` or `VZ_STORE_URL`) for a fleet of
//! runners sharing baselines, runs, notification state, overrides and one audit chain.
//!
//! Files by concept: `runs.rs` (runs, ticks, leases, history), `baselines.rs`, `notify.rs`
//! (dedup, cooldown, escalation state and send attempts), `audit.rs` (the hash chain and
//! retention), `overrides.rs` (hold, release, abort), `claims.rs` (one rollback per
//! deployment), `live.rs` (a watch's latest tick for the dashboard), `dashboard.rs` (the
//! dashboard's listings); `db.rs` is the seam both engines implement (`sqlite.rs`, `postgres.rs`).

pub mod audit;
pub mod baselines;
pub mod claims;
pub mod dashboard;
pub(crate) mod db;
mod deadline;
pub mod live;
pub mod migrations;
pub mod notify;
pub mod overrides;
pub mod postgres;
pub mod runs;
pub mod sqlite;
mod ticks;

pub use baselines::BaselineSet;
pub use claims::{Claim, Holder, CLAIM_HEARTBEAT, CLAIM_LEASE};
pub use runs::{RunEnd, RunFilter, RunHead, RunRow, RunStatus, StoredRun};
pub use vz_core::run::{RollbackRecord, Trigger};

use db::{Db, Lock};
use std::collections::HashMap;
use std::path::Path;

/// A store failure (cannot open, locked past the busy timeout, disk full, server gone …).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite file cannot be opened.
    #[error("cannot open store {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// The folder of the SQLite file cannot be created.
    #[error("cannot create folder for store {path}: {source}")]
    Folder {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The PostgreSQL URL is malformed or the server cannot be reached.
    #[error("cannot connect to store {url}: {why}")]
    Connect {
        /// The URL without its password.
        url: String,
        /// Why.
        why: String,
    },
    /// An SQLite statement failed.
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A PostgreSQL statement failed.
    #[error("store (postgres): {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool in time.
    #[error("store (postgres): {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A stored value is not what the schema says.
    #[error("store holds an unexpected value: {0}")]
    Column(String),
    /// A commit without a transaction (a bug).
    #[error("store: no open transaction")]
    NoTransaction,
    /// A stored JSON column does not parse.
    #[error("store holds malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The store did not answer within its deadline (a frozen server, a lock held too long).
    #[error("store did not answer within {0:?}")]
    Deadline(std::time::Duration),
    /// An earlier call found the store unavailable: this process no longer waits for it.
    #[error("store unavailable since an earlier failure ({0}); not waiting for it again")]
    Down(String),
    /// The schema was written by a newer vz-monitor.
    #[error("store {path} has schema version {found}, newer than this vz-monitor ({known}); upgrade vz-monitor")]
    TooNew {
        /// The file or URL (without password).
        path: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
}

/// How long any one store call may take (SQLite's busy timeout, PostgreSQL's per-call
/// deadline). A call that fails for want of the store marks it down for this process
/// (`deadline.rs`): later calls fail at once instead of waiting again, so neither the
/// decision nor the rollback ever waits for a store that is gone.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether a store location names a PostgreSQL server rather than a SQLite file.
pub fn is_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// An open store (one SQLite connection, or the process's PostgreSQL pool).
pub struct Store {
    db: Box<dyn Db>,
    /// Series name → id, so a tick's samples need no lookup per row.
    series: HashMap<String, i64>,
    /// Run UUID → integer key.
    run_keys: HashMap<String, i64>,
}

impl Store {
    /// Opens and migrates the store at `target`: a SQLite file (folder and file created if
    /// needed), or a `postgres://` / `postgresql://` URL.
    pub fn open(target: &Path) -> Result<Store, StoreError> {
        let text = target.to_string_lossy();
        deadline::check(&text)?;
        let db: Box<dyn Db> = deadline::watched(&text, || {
            Ok(if is_url(&text) {
                Box::new(postgres::PgDb::open(&text)?) as Box<dyn Db>
            } else {
                Box::new(sqlite::SqliteDb::open(target)?)
            })
        })?;
        let db = Box::new(deadline::Guarded::new(db, &text));
        Ok(Store {
            db,
            series: HashMap::new(),
            run_keys: HashMap::new(),
        })
    }

    /// Lets the store at `target` be tried again after a failure marked it down for this
    /// process (`deadline.rs`): `serve` outlives a store that was gone and came back.
    pub fn retry_after_failure(target: &Path) {
        deadline::forget(&target.to_string_lossy());
    }

    /// `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        self.db.engine()
    }

    /// Schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.db.schema_version()
    }

    /// Runs `f` in one transaction holding `lock`; rolls back if it fails.
    fn tx<T>(
        &mut self,
        lock: Lock,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.begin(lock)?;
        match f(self.db.as_mut()) {
            Ok(v) => {
                self.db.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.db.rollback();
                Err(e)
            }
        }
    }
}

/// Wall clock in ms, for leases.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests;
