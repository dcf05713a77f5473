//! `report RUN_ID`: one stored run in any format of [`crate::report::ReportFormat`].

use super::open_existing_store;
use crate::cli::{Global, ReportArgs};
use crate::error::{Error, Exit, Result};
use crate::report::series::{group, SeriesSamples};
use crate::report::{RollbackOutcome, RunReport, RunSummary, RunVerdict};
use crate::store::{RollbackRecord, RunStatus, Store, StoredRun};
use serde_json::Value;

/// Prints the run named by id, unique id prefix, or `latest`.
pub fn run(g: &Global, a: &ReportArgs) -> Result<Exit> {
    let config = super::load_config(g).ok();
    let mut store = open_existing_store(g, config.as_ref())?;
    let run = find(&store, &a.run_id, a.deployment.as_deref())?;
    let stored: Option<Value> = run
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let view = view_of(&run, stored.as_ref());
    let has_policy = stored
        .as_ref()
        .is_some_and(|s| s.get("rules").is_some() && s.get("policy").is_some());
    let json = match stored.filter(|v| v.get("rules").is_some()) {
        Some(v) => v,
        None => serde_json::json!({
            "run_id": run.head.id, "deployment": run.head.deployment, "kind": run.head.kind,
            "status": run.head.status, "verdict": view.verdict, "exit_code": run.head.exit_code,
            "started_at": run.head.started_at, "ended_at": run.head.ended_at, "reasons": view.reasons,
            "summary": run.summary.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()),
        }),
    };
    let series = if a.format.needs_samples() {
        samples(&mut store, &run, config.as_ref())?
    } else {
        Vec::new()
    };
    let report = RunReport {
        view,
        has_policy,
        json,
        stored: Some((run.head.kind.clone(), run.head.status.as_str().into())),
        series,
        extra_lines: Vec::new(),
    };
    out!("{}", a.format.render(&report));
    Ok(Exit::Healthy)
}

/// Resolves `id`: exact, `latest`, or a unique prefix. Not found or ambiguous is exit 2.
pub(crate) fn find(store: &Store, id: &str, deployment: Option<&str>) -> Result<StoredRun> {
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
        _ if found[0].head.id == id => Ok(found.remove(0)),
        n => Err(Error::Usage(format!(
            "`{id}` matches {}{} runs ({}): give more of the id",
            if n > 5 { "more than " } else { "" },
            n.min(5),
            found
                .iter()
                .take(5)
                .map(|r| r.head.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The summary as stored, completed from the row (manual rollbacks store their record,
/// running runs nothing yet).
pub(crate) fn view_of(run: &StoredRun, stored: Option<&Value>) -> RunSummary {
    let mut v: RunSummary = stored
        .filter(|s| s.get("rules").is_some())
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    // A manual rollback stores its record as the summary.
    let record = stored.and_then(|s| serde_json::from_value::<RollbackRecord>(s.clone()).ok());
    if let Some(rec) = record {
        v.rollback = RollbackOutcome::ran(&rec);
    }
    v.run_id = run.head.id.clone();
    v.deployment = run.head.deployment.clone();
    v.started_at = run.head.started_at;
    if v.ended_at == 0 {
        v.ended_at = run.head.ended_at.unwrap_or(run.head.started_at);
    }
    if !stored.is_some_and(|s| s.get("rules").is_some() && s.get("verdict").is_some()) {
        v.verdict = run.head.verdict.unwrap_or(match run.head.status {
            RunStatus::Running => RunVerdict::Running,
            RunStatus::Abandoned => RunVerdict::Abandoned,
            RunStatus::Interrupted => RunVerdict::Interrupted,
            RunStatus::Finished => RunVerdict::Inconclusive,
        });
    }
    if let Some(c) = run.head.exit_code {
        v.exit_code = c.clamp(0, 255) as u8;
    }
    if v.reasons.is_empty() {
        v.reasons
            .extend(run.head.reason.clone().filter(|r| !r.is_empty()));
    }
    v.dry_run |= run.head.dry_run;
    v.explain_below_policy();
    v
}

/// The run's samples by series, with the newest baseline of the deployment taken before
/// the run started (the one the run was most likely judged against), and each series' unit
/// from the config when it still defines the metric.
pub(crate) fn samples(
    store: &mut Store,
    run: &StoredRun,
    config: Option<&crate::config::Config>,
) -> Result<Vec<SeriesSamples>> {
    let rows = store.run_samples(&run.head.id)?;
    let baseline = store
        .latest_baseline(&run.head.deployment)?
        .filter(|b| b.created_at <= run.head.started_at)
        .map(|b| b.series)
        .unwrap_or_default();
    let mut series = group(rows, &baseline);
    for s in &mut series {
        let metric = s.series.split('{').next().unwrap_or(&s.series);
        if let Some(unit) = config.and_then(|c| c.metric(metric)).and_then(|m| m.unit()) {
            s.unit = Some(unit.to_string());
        }
    }
    Ok(series)
}
