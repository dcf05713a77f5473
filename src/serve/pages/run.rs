//! A run: its facts and explanation table and a chart per judged series — drawn by
//! `report::html` and `report::chart`, the very code of `report --format html` — then the
//! rollback's output, the notification attempts and the audit entries of the run.

use super::runs::{short, urlencode};
use super::{badge, layout, not_found, respond, unavailable, wants_json, when};
use crate::commands::report::{samples, view_of};
use crate::report::html::{facts, figures, rules_table};
use crate::report::series::{charts, SeriesSamples};
use crate::report::RunSummary;
use crate::serve::app::App;
use crate::store::audit::Entry;
use crate::store::dashboard::AlertFilter;
use crate::store::dashboard::AuditFilter;
use crate::store::live::LiveState;
use crate::store::notify::Attempt;
use crate::store::{RollbackRecord, StoredRun};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup, PreEscaped};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Audit entries and notification attempts a run page lists at most.
const LISTED: usize = 200;

/// The run page's value (its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct RunPage {
    /// The summary as `report --format json` prints it.
    pub run: Value,
    /// `watch` or `manual_rollback`.
    pub kind: String,
    /// `running`, `finished`, `interrupted`, `abandoned`.
    pub status: String,
    /// Who started it, and where.
    pub actor: Option<String>,
    pub host: Option<String>,
    /// The latest tick's state while it runs.
    pub live: Option<LiveState>,
    /// Every rollback recorded for it.
    pub rollbacks: Vec<RollbackRecord>,
    /// Its notification attempts, newest first.
    pub notifications: Vec<Attempt>,
    /// Its audit entries, newest first.
    pub audit: Vec<Entry>,
    /// What the charts and the table draw (not in the JSON: `run` holds it).
    #[serde(skip)]
    pub view: RunSummary,
    #[serde(skip)]
    pub series: Vec<SeriesSamples>,
    #[serde(skip)]
    pub has_policy: bool,
}

/// Builds the page of `run` (read inside the store call).
fn page_of(
    store: &mut crate::store::Store,
    run: StoredRun,
) -> Result<RunPage, crate::store::StoreError> {
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
        None => serde_json::to_value(&view)?,
    };
    let series = samples(store, &run, None).map_err(|e| match e {
        crate::error::Error::Store(s) => s,
        other => crate::store::StoreError::Column(other.to_string()),
    })?;
    let id = run.head.id.clone();
    let live = store.live_run(&id)?;
    let rollbacks = store.run_rollbacks(&id)?;
    let notifications = store.listed_attempts(
        &AlertFilter {
            limit: LISTED,
            ..Default::default()
        },
        Some(&id),
    )?;
    let audit = store
        .audit_page(&AuditFilter {
            run_id: Some(id.clone()),
            limit: LISTED,
            ..Default::default()
        })?
        .into_iter()
        .map(|r| r.entry)
        .collect();
    let (actor, host, live) = match live {
        Some(l) => (l.actor, l.host, l.live),
        None => (None, None, None),
    };
    Ok(RunPage {
        run: json,
        kind: run.head.kind.clone(),
        status: run.head.status.as_str().into(),
        actor,
        host,
        live: live.filter(|_| run.head.ended_at.is_none()),
        rollbacks,
        notifications,
        audit,
        view,
        series,
        has_policy,
    })
}

/// Reads the run named by its id or a unique prefix (`None`: no such run).
pub async fn read(app: &Arc<App>, id: String) -> Result<Option<RunPage>, super::Unavailable> {
    app.read(move |store| match store.run_by_id(&id)? {
        Some(run) => page_of(store, run).map(Some),
        None => Ok(None),
    })
    .await
}

/// `GET /runs/{id}` (and `/api/runs/{id}` with `json`).
pub async fn handler(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    json: bool,
) -> Response {
    let json = json || wants_json(&headers);
    if id.is_empty() || id.len() > 100 {
        return not_found(&app, json, "no such run");
    }
    match read(&app, id.clone()).await {
        Ok(Some(page)) => respond(&app, json, StatusCode::OK, &page, draw),
        Ok(None) => not_found(
            &app,
            json,
            &format!(
                "no run matches `{}` (or the prefix is ambiguous)",
                crate::output::sanitize_line(&id)
            ),
        ),
        Err(e) => unavailable(&app, json, e),
    }
}

/// The legend of the charts (classes, not inline styles: the CSP allows none).
fn legend() -> Markup {
    html! {
        p.legend {
            span { i.sw.sw-values {} "watched values" }
            span { i.sw.sw-baseline {} "baseline range" }
            span { i.sw.sw-control {} "control band" }
            span { i.sw.sw-threshold {} "threshold" }
            span { i.sw.sw-anomaly {} "anomaly fired" }
            span { i.sw.sw-decision {} "decision" }
        }
    }
}

fn rollbacks(list: &[RollbackRecord]) -> Markup {
    html! {
        h2 { "Rollback" }
        @if list.is_empty() { p { "No rollback ran." } }
        @for r in list {
            table.facts {
                tr { th { "Trigger" } td { (r.trigger.as_str()) } }
                tr { th { "Command" } td { code { (r.argv.join(" ")) } } }
                tr { th { "Outcome" } td { span class={ "badge " (badge(if r.ok { "healthy" } else { "failed" })) } { (if r.ok { "succeeded" } else { "failed" }) } " after " (r.attempts) " attempt(s), exit status " (r.exit_status.map(|s| s.to_string()).unwrap_or_else(|| "none".into())) } }
                tr { th { "When" } td { (when(r.started_at)) " → " (when(r.ended_at)) } }
                tr { th { "Why" } td { (r.reason) } }
            }
            @if !r.stdout.is_empty() { h3 { "stdout" } pre { (r.stdout) } }
            @if !r.stderr.is_empty() { h3 { "stderr" } pre { (r.stderr) } }
        }
    }
}

/// The notification attempts table (also used by the alerts page).
pub fn attempts_table(list: &[Attempt], with_run: bool) -> Markup {
    html! {
        @if list.is_empty() { p { "No notification attempt." } } @else {
            table.attempts {
                tr { th { "When" } @if with_run { th { "Deployment" } th { "Run" } } th { "Channel" } th { "Event" } th { "Outcome" } th { "Tries" } th { "Detail" } }
                @for a in list {
                    tr {
                        td { (when(a.ts)) }
                        @if with_run {
                            td { (a.deployment) }
                            td { @if let Some(id) = &a.run_id { a href={ "/runs/" (urlencode(id)) } { code { (short(id)) } } } @else { "—" } }
                        }
                        td { (a.channel) " (" (a.channel_type) ")" }
                        td { (a.event) }
                        td { span class={ "badge " (badge(a.outcome.as_str())) } { (a.outcome.as_str()) } }
                        td { (a.attempts) }
                        td { (a.detail) }
                    }
                }
            }
        }
    }
}

/// Audit entries as a table (also used by the audit page).
pub fn audit_table(list: &[Entry]) -> Markup {
    html! {
        @if list.is_empty() { p { "No audit entry." } } @else {
            table.audit {
                tr { th { "Seq" } th { "When" } th { "Deployment" } th { "Actor" } th { "Action" } th { "Run" } th { "Details" } }
                @for e in list {
                    tr {
                        td { (e.seq) }
                        td { (when(e.ts)) }
                        td { (e.deployment) }
                        td { (e.actor) }
                        td { (e.action) }
                        td { @if let Some(id) = &e.run_id { a href={ "/runs/" (urlencode(id)) } { code { (short(id)) } } } @else { "—" } }
                        td { code.details { (e.details.to_string()) } }
                    }
                }
            }
        }
    }
}

/// The run page.
pub fn draw(p: &RunPage) -> Markup {
    let v = &p.view;
    let charts = charts(v, &p.series);
    let fail_mode = p.has_policy.then(|| v.fail_mode());
    let body = html! {
        p.lead {
            span class={ "badge " (badge(v.verdict.as_str())) } { (v.verdict.as_str().to_uppercase()) }
            " " code { (v.deployment) } " · " (p.kind) " · " (p.status)
            @if let Some(a) = &p.actor { " · by " (a) }
            @if let Some(h) = &p.host { " @ " (h) }
        }
        @if let Some(l) = &p.live {
            p.running { "Running: tick " (l.tick) " of " (l.planned) ". " a href="/live" { "Follow it live →" } }
        }
        (PreEscaped(facts(v, fail_mode)))
        @if !charts.is_empty() {
            h2 { "Judged series" }
            (legend())
            (PreEscaped(figures(&charts)))
        }
        (PreEscaped(rules_table(v)))
        (rollbacks(&p.rollbacks))
        h2 { "Notifications" }
        (attempts_table(&p.notifications, false))
        h2 { "Audit entries of this run" }
        (audit_table(&p.audit))
    };
    let title = format!("Run {}", short(&v.run_id));
    layout(
        &title,
        "Runs",
        &format!("/api/runs/{}", urlencode(&v.run_id)),
        body,
        false,
    )
}
