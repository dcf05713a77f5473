//! `report RUN_ID`: one stored run in any format of [`crate::report::ReportFormat`].

use super::open_store;
use crate::cli::{Global, ReportArgs};
use crate::error::{Error, Exit, Result};
use crate::report::series::{group, SeriesSamples};
use crate::report::view::{RollbackView, SummaryView};
use crate::report::RunReport;
use crate::store::{Store, StoreError};
use rusqlite::{params, Connection};
use serde_json::Value;

/// A `runs` row with its stored summary.
struct StoredRun {
    id: String,
    deployment: String,
    kind: String,
    started_at: i64,
    ended_at: Option<i64>,
    status: String,
    verdict: Option<String>,
    reason: Option<String>,
    exit_code: Option<i64>,
    dry_run: bool,
    summary: Option<String>,
}

/// Prints the run named by id, unique id prefix, or `latest`.
pub fn run(g: &Global, a: &ReportArgs) -> Result<Exit> {
    let config = super::load_config(g).ok();
    let mut store = open_store(g, config.as_ref())?;
    let run = find(store.connection(), &a.run_id, a.deployment.as_deref())?;
    let stored: Option<Value> = run
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let view = view_of(&run, stored.as_ref());
    let json = match stored.filter(|v| v.get("rules").is_some()) {
        Some(v) => v,
        None => serde_json::json!({
            "run_id": run.id, "deployment": run.deployment, "kind": run.kind,
            "status": run.status, "verdict": view.verdict, "exit_code": run.exit_code,
            "started_at": run.started_at, "ended_at": run.ended_at, "reasons": view.reasons,
            "summary": run.summary.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
        }),
    };
    let series = if a.format.needs_samples() {
        samples(&store, &run)?
    } else {
        Vec::new()
    };
    let report = RunReport {
        view,
        json,
        stored: Some((run.kind.clone(), run.status.clone())),
        series,
        extra_lines: Vec::new(),
    };
    out!("{}", a.format.render(&report));
    Ok(Exit::Healthy)
}

/// Resolves `id`: exact, `latest`, or a unique prefix. Not found or ambiguous is exit 2.
fn find(conn: &Connection, id: &str, deployment: Option<&str>) -> Result<StoredRun> {
    let cols = "id, deployment, kind, started_at, ended_at, status, verdict, reason, exit_code, dry_run, summary";
    let map = |r: &rusqlite::Row| {
        Ok(StoredRun {
            id: r.get(0)?,
            deployment: r.get(1)?,
            kind: r.get(2)?,
            started_at: r.get(3)?,
            ended_at: r.get(4)?,
            status: r.get(5)?,
            verdict: r.get(6)?,
            reason: r.get(7)?,
            exit_code: r.get(8)?,
            dry_run: r.get(9)?,
            summary: r.get(10)?,
        })
    };
    let query =
        |sql: String, arg: Option<&str>| -> std::result::Result<Vec<StoredRun>, StoreError> {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(params![arg], map)?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        };
    let mut found = if id == "latest" {
        query(
            format!("SELECT {cols} FROM runs WHERE (?1 IS NULL OR deployment = ?1) ORDER BY started_at DESC, rowid DESC LIMIT 1"),
            deployment,
        )?
    } else {
        if id.is_empty() {
            return Err(Error::Usage("RUN_ID must not be empty".into()));
        }
        query(
            format!("SELECT {cols} FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY (id = ?1) DESC, started_at DESC LIMIT 6"),
            Some(id),
        )?
    };
    match found.len() {
        0 => Err(Error::Usage(format!(
            "no run matches `{id}`: see `vz-monitor history`"
        ))),
        1 => Ok(found.remove(0)),
        _ if found[0].id == id => Ok(found.remove(0)),
        n => Err(Error::Usage(format!(
            "`{id}` matches {}{} runs ({}): give more of the id",
            if n > 5 { "more than " } else { "" },
            n.min(5),
            found
                .iter()
                .take(5)
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The summary as stored, completed from the row (manual rollbacks store their record,
/// running runs nothing yet).
fn view_of(run: &StoredRun, stored: Option<&Value>) -> SummaryView {
    let mut v: SummaryView = stored
        .filter(|s| s.get("rules").is_some())
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    if let Some(rec) = stored.filter(|s| s.get("trigger").is_some()) {
        v.rollback = RollbackView {
            needed: true,
            ran: true,
            ok: rec["ok"].as_bool().unwrap_or(false),
            attempts: rec["attempts"].as_u64().unwrap_or(0) as u32,
            exit_status: rec["exit_status"].as_i64().map(|c| c as i32),
            note: rec["reason"].as_str().unwrap_or_default().into(),
        };
    }
    v.run_id = run.id.clone();
    v.deployment = run.deployment.clone();
    v.started_at = run.started_at;
    if v.ended_at == 0 {
        v.ended_at = run.ended_at.unwrap_or(run.started_at);
    }
    if v.verdict.is_empty() {
        v.verdict = run.verdict.clone().unwrap_or_else(|| run.status.clone());
    }
    if let Some(c) = run.exit_code {
        v.exit_code = c.clamp(0, 255) as u8;
    }
    if v.reasons.is_empty() {
        v.reasons
            .extend(run.reason.clone().filter(|r| !r.is_empty()));
    }
    v.dry_run |= run.dry_run;
    v.explain_below_policy();
    v
}

/// The run's samples by series, with the newest baseline of the deployment taken before
/// the run started (the one the run was most likely judged against).
fn samples(store: &Store, run: &StoredRun) -> Result<Vec<SeriesSamples>> {
    let rows = store.run_samples(&run.id)?;
    let baseline = store
        .latest_baseline(&run.deployment)?
        .filter(|b| b.created_at <= run.started_at)
        .map(|b| b.series)
        .unwrap_or_default();
    Ok(group(rows, &baseline))
}
