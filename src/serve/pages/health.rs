//! Health: the store's kind and schema version, holds in force, runs `running` against
//! `abandoned`, and the last run of every deployment.

use super::runs::{short, urlencode};
use super::{badge, layout, respond, unavailable, wants_json, when};
use crate::serve::app::App;
use crate::store::dashboard::{HeldDeployment, RunCounts};
use crate::store::RunHead;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Serialize;
use std::sync::Arc;

/// Deployments the page lists at most.
const DEPLOYMENTS: usize = 500;

/// The health page's value (its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct HealthPage {
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// The file, or the URL without its password.
    pub location: String,
    /// Schema version of the store, and the newest this build knows.
    pub schema_version: i64,
    pub schema_known: i64,
    pub runs: RunCounts,
    pub holds: Vec<HeldDeployment>,
    /// The newest run of each deployment, most recent first.
    pub last_runs: Vec<RunHead>,
    /// This vz-monitor's version.
    pub version: &'static str,
}

/// `GET /health` (and `/api/health` with `json`).
pub async fn handler(State(app): State<Arc<App>>, headers: HeaderMap, json: bool) -> Response {
    let json = json || wants_json(&headers);
    let read = app
        .read(|store| {
            Ok((
                store.schema_version()?,
                store.run_counts()?,
                store.holds_in_force()?,
                store.last_run_per_deployment(DEPLOYMENTS)?,
            ))
        })
        .await;
    match read {
        Ok((schema_version, runs, holds, last_runs)) => {
            let page = HealthPage {
                store: app.engine,
                location: app.shown_target(),
                schema_version,
                schema_known: crate::store::migrations::VERSION,
                runs,
                holds,
                last_runs,
                version: env!("CARGO_PKG_VERSION"),
            };
            respond(&app, json, StatusCode::OK, &page, draw)
        }
        Err(e) => unavailable(&app, json, e),
    }
}

/// The health page.
pub fn draw(p: &HealthPage) -> Markup {
    let body = html! {
        table.facts {
            tr { th { "Store" } td { (p.store) " — " code { (p.location) } } }
            tr { th { "Schema version" } td { (p.schema_version) " (this vz-monitor " (p.version) " knows " (p.schema_known) ")" } }
            tr { th { "Runs" } td { span.running { (p.runs.running) " running" } " · " span.abandoned { (p.runs.abandoned) " abandoned" } " · " (p.runs.total) " stored" } }
        }
        h2 { "Holds in force" }
        @if p.holds.is_empty() { p { "No deployment is on hold." } } @else {
            table.holds {
                tr { th { "Deployment" } th { "By" } th { "Since" } th { "Reason" } }
                @for h in &p.holds { tr { td { (h.deployment) } td { (h.actor) } td { (when(h.since)) } td { (h.reason) } } }
            }
        }
        h2 { "Last run per deployment" }
        @if p.last_runs.is_empty() { p { "No run stored yet." } } @else {
            table.last {
                tr { th { "Deployment" } th { "Started" } th { "Run" } th { "Verdict" } th { "Exit" } }
                @for r in &p.last_runs {
                    @let word = r.verdict.map(|v| v.as_str()).unwrap_or(r.status.as_str());
                    tr {
                        td { a href={ "/runs?deployment=" (urlencode(&r.deployment)) } { (r.deployment) } }
                        td { (when(r.started_at)) }
                        td { a href={ "/runs/" (urlencode(&r.id)) } { code { (short(&r.id)) } } }
                        td { span class={ "badge " (badge(word)) } { (word) } }
                        td { @match r.exit_code { Some(c) => { (c) }, None => { "—" } } }
                    }
                }
            }
        }
    };
    layout("Health", "Health", "/api/health", body, false)
}
