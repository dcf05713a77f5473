//! Alerts: anomalies and notification attempts across runs (sent, failed, deduplicated,
//! cooldown, escalated, resolved …), filterable by deployment, severity and outcome.

use super::run::attempts_table;
use super::runs::{short, urlencode};
use super::{badge, layout, respond, unavailable, wants_json, when};
use crate::serve::app::App;
use crate::store::dashboard::{AlertFilter, ListedAnomaly};
use crate::store::notify::Attempt;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The page's filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AlertsQuery {
    /// Only this deployment.
    pub deployment: Option<String>,
    /// Only anomalies of this severity.
    pub severity: Option<String>,
    /// Only attempts with this outcome (sent, failed, duplicate, cooldown, abandoned).
    pub outcome: Option<String>,
    /// Only attempts of this event (firing, escalated, resolved, verdict …).
    pub event: Option<String>,
    /// At most this many of each (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// The alerts page's value (its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct AlertsPage {
    pub filter: AlertsQuery,
    /// Anomalies, newest first.
    pub anomalies: Vec<ListedAnomaly>,
    /// Notification attempts, newest first.
    pub notifications: Vec<Attempt>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.clone().filter(|v| !v.is_empty())
}

/// `GET /alerts` (and `/api/alerts` with `json`).
pub async fn handler(
    State(app): State<Arc<App>>,
    Query(q): Query<AlertsQuery>,
    headers: HeaderMap,
    json: bool,
) -> Response {
    let json = json || wants_json(&headers);
    let f = AlertFilter {
        deployment: some(&q.deployment),
        severity: some(&q.severity),
        outcome: some(&q.outcome),
        event: some(&q.event),
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    let read = app
        .read(move |store| {
            Ok((
                store.listed_anomalies(&f)?,
                store.listed_attempts(&f, None)?,
            ))
        })
        .await;
    match read {
        Ok((anomalies, notifications)) => {
            let page = AlertsPage {
                filter: q,
                anomalies,
                notifications,
            };
            respond(&app, json, StatusCode::OK, &page, draw)
        }
        Err(e) => unavailable(&app, json, e),
    }
}

fn filters(f: &AlertsQuery) -> Markup {
    html! {
        form.filters method="get" action="/alerts" {
            label { "deployment " input name="deployment" value=[f.deployment.as_deref()]; }
            label { "severity "
                select name="severity" {
                    option value="" { "any" }
                    @for s in ["critical", "high", "medium", "low", "info"] {
                        option value=(s) selected[f.severity.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            label { "outcome "
                select name="outcome" {
                    option value="" { "any" }
                    @for o in ["sent", "failed", "duplicate", "cooldown", "abandoned"] {
                        option value=(o) selected[f.outcome.as_deref() == Some(o)] { (o) }
                    }
                }
            }
            label { "event "
                select name="event" {
                    option value="" { "any" }
                    @for e in ["firing", "escalated", "resolved", "verdict", "test"] {
                        option value=(e) selected[f.event.as_deref() == Some(e)] { (e) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

/// The alerts page.
pub fn draw(p: &AlertsPage) -> Markup {
    let body = html! {
        (filters(&p.filter))
        h2 { "Anomalies" }
        @if p.anomalies.is_empty() { p { "No anomaly." } } @else {
            table.anomalies {
                tr { th { "Fired" } th { "Resolved" } th { "Deployment" } th { "Run" } th { "Rule" } th { "Series" } th { "Kind" } th { "Severity" } th { "Observed" } th { "Reason" } }
                @for a in &p.anomalies {
                    tr {
                        td { (when(a.fired_at)) }
                        td { @match a.resolved_at { Some(t) => { (when(t)) }, None => { "open" } } }
                        td { (a.deployment) }
                        td { a href={ "/runs/" (urlencode(&a.run_id)) } { code { (short(&a.run_id)) } } }
                        td { (a.rule) @if a.dry_run { " (dry run)" } }
                        td { (a.series) }
                        td { (a.kind) }
                        td { span class={ "badge " (badge(if a.severity == "critical" { "rollback" } else { "inconclusive" })) } { (a.severity) } }
                        td { (a.observed.map(crate::model::fmt_num).unwrap_or_else(|| "-".into())) }
                        td { (a.reason) }
                    }
                }
            }
        }
        h2 { "Notification attempts" }
        (attempts_table(&p.notifications, true))
    };
    layout("Alerts", "Alerts", "/api/alerts", body, false)
}
