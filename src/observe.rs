//! Watchers of a run: notifications, audit, CI integrations, metrics export. Each is one
//! [`Observer`]; `commands::observers` is the single place that knows them all (the
//! composition root, so this trait module imports none of them).
//!
//! Observers never change the gate's decision, except through [`Observer::poll_override`]
//! (a person's hold or abort). They must not block a tick: slow work is spawned and
//! awaited, bounded in time, in [`Observer::on_finish`].
//!
//! Every event comes with an [`At`]: the run, the run's own store handle (one connection,
//! under the store's deadlines, so an observer never opens a second one or waits longer than
//! the run would) and the event's time, read once by the run — observers never read the clock.

use crate::gate::{Gate, TickReport};
use crate::model::Timestamp;
use crate::policy::Decision;
use crate::run::RunSummary;
use crate::store::{RollbackRecord, Store};
use futures::future::BoxFuture;
use std::path::PathBuf;

/// What every observer knows about the run it watches.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub run_id: String,
    pub deployment: String,
    pub started_at: Timestamp,
    /// `watch` or `manual_rollback`.
    pub kind: String,
    pub dry_run: bool,
    /// The store file, for observers that keep state there (dedup, cooldown, audit).
    pub store_path: PathBuf,
    /// `--pushgateway URL`: push the run's result metrics there at the end.
    pub pushgateway: Option<String>,
    /// `--listen ADDR`: serve live `/metrics` there while the run lasts.
    pub listen: Option<String>,
    /// `--grafana-url URL`: post start/rollback/end annotations to Grafana.
    pub grafana_url: Option<String>,
}

/// Where and when an observer is told something: the run, the run's store, the event's time.
pub struct At<'a> {
    pub ctx: &'a RunContext,
    /// The run's store handle (its deadlines apply; a failed write is the observer's to spool).
    pub store: &'a mut Store,
    /// When the event happened (a tick's time for a tick), in ms.
    pub now: Timestamp,
}

impl<'a> At<'a> {
    /// The run's `ctx` and `store` at `now`.
    pub fn new(ctx: &'a RunContext, store: &'a mut Store, now: Timestamp) -> At<'a> {
        At { ctx, store, now }
    }

    /// The same run and store at the current time.
    pub fn now(ctx: &'a RunContext, store: &'a mut Store) -> At<'a> {
        At::new(ctx, store, chrono::Utc::now().timestamp_millis())
    }
}

/// A person's instruction to a running (or future) watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    /// Detect and report, but never roll back automatically.
    Hold { by: String, reason: String },
    /// Roll back now and exit 1.
    Abort { by: String, reason: String },
    /// A hold was lifted: automatic rollback is allowed again.
    Release { by: String },
}

/// Something that follows a run. All methods have no-op defaults.
pub trait Observer: Send {
    /// The run was recorded; no tick yet.
    fn on_start(&mut self, _at: &mut At<'_>) {}
    /// A tick was evaluated (anomalies fired or resolved are in `report`; `at.now` is the
    /// tick's time).
    fn on_tick(&mut self, _at: &mut At<'_>, _report: &TickReport, _gate: &Gate) {}
    /// The verdict is known, before any rollback runs.
    fn on_decision(&mut self, _at: &mut At<'_>, _decision: &Decision) {}
    /// The rollback command ran.
    fn on_rollback(&mut self, _at: &mut At<'_>, _record: &RollbackRecord) {}
    /// Checked every tick: a hold or abort a person placed for this deployment.
    fn poll_override(&mut self, _at: &mut At<'_>) -> Option<Override> {
        None
    }
    /// The run is over; finish queued work within a bounded time.
    fn on_finish<'a>(&'a mut self, _at: At<'a>, _summary: &'a RunSummary) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}
