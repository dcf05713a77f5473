//! `report RUN_ID`: one stored run as a table, JSON, Markdown or JUnit XML.

use super::{open_store, print_json};
use crate::cli::{Global, ReportArgs, ReportFormat};
use crate::error::{Error, Exit, Result};
use crate::report::view::{RollbackView, SummaryView};
use crate::report::{junit, markdown, ts};
use crate::store::{Store, StoredRun};
use serde_json::Value;

/// Prints the run named by id, unique id prefix, or `latest`.
pub fn run(g: &Global, a: &ReportArgs) -> Result<Exit> {
    let config = super::load_config(g).ok();
    let store = open_store(g, config.as_ref())?;
    let run = find(&store, &a.run_id, a.deployment.as_deref())?;
    let stored: Option<Value> = run
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let view = view_of(&run, stored.as_ref());
    match a.format {
        ReportFormat::Json => match stored.filter(|v| v.get("rules").is_some()) {
            Some(v) => print_json(&v)?,
            None => print_json(&serde_json::json!({
                "run_id": run.id, "deployment": run.deployment, "kind": run.kind,
                "status": run.status, "verdict": view.verdict, "exit_code": run.exit_code,
                "started_at": run.started_at, "ended_at": run.ended_at, "reasons": view.reasons,
                "summary": run.summary.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
            }))?,
        },
        ReportFormat::Markdown => out!("{}", markdown::render(&view)),
        ReportFormat::Junit => out!("{}", junit::render(&view)),
        ReportFormat::Table => out!("{}", table(&run, &view)),
    }
    Ok(Exit::Healthy)
}

/// Resolves `id`: exact, `latest`, or a unique prefix. Not found or ambiguous is exit 2.
fn find(store: &Store, id: &str, deployment: Option<&str>) -> Result<StoredRun> {
    let mut found = if id == "latest" {
        store.latest_run(deployment)?.into_iter().collect()
    } else {
        if id.is_empty() {
            return Err(Error::Usage("RUN_ID must not be empty".into()));
        }
        store.runs_by_prefix(id, 6)?
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
    v
}

fn table(run: &StoredRun, v: &SummaryView) -> String {
    let mut out = if v.rules.is_empty() {
        String::new()
    } else {
        format!("{}\n", crate::report::table::rules(&v.rules))
    };
    out.push_str(&format!(
        "run {} ({}, {}) of {}: {} (exit {}), {} → {}, {} ticks\n",
        run.id,
        run.kind,
        run.status,
        v.deployment,
        v.verdict.to_uppercase(),
        v.exit_code,
        ts(v.started_at),
        ts(v.ended_at),
        v.ticks
    ));
    for r in &v.reasons {
        out.push_str(&format!("  why: {r}\n"));
    }
    if let Some(r) = v.rollback_line() {
        out.push_str(&format!("  rollback: {r}\n"));
    }
    if let Some(f) = v.fail_mode() {
        out.push_str(&format!("  on_inconclusive: {f}\n"));
    }
    out
}
