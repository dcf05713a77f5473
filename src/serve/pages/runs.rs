//! Runs: every run of every runner, newest first, with who ran it where, its verdict, exit
//! code, rollback and duration; filters; and per deployment on the page its change-failure
//! rate and median time to rollback over its last runs.

use super::{badge, layout, respond, span, unavailable, wants_json, when};
use crate::run::RunVerdict;
use crate::serve::app::App;
use crate::store::dashboard::{DeploymentStats, ListedRun};
use crate::store::RunFilter;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Runs a page shows unless asked otherwise, and at most.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// The page's filters, as query parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RunsQuery {
    /// Only this deployment.
    pub deployment: Option<String>,
    /// Only this verdict (`healthy`, `rollback`, `inconclusive`, `rolled_back`, …).
    pub verdict: Option<String>,
    /// Only runs started within this long ago (`7d`, `12h`).
    pub since: Option<String>,
    /// Runs per page (default 50, at most 500).
    pub limit: Option<usize>,
    /// Runs skipped (paging).
    pub offset: Option<usize>,
}

/// One listed run.
#[derive(Debug, Clone, Serialize)]
pub struct RunItem {
    #[serde(flatten)]
    pub run: ListedRun,
    /// End minus start (ms), once ended.
    pub duration_ms: Option<i64>,
}

/// The runs page's value (its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct RunsPage {
    /// The filters applied.
    pub filter: RunsQuery,
    /// The runs, newest first.
    pub runs: Vec<RunItem>,
    /// Change-failure figures of the deployments on this page.
    pub deployments: Vec<DeploymentStats>,
    /// Runs per deployment the figures cover.
    pub window: usize,
    /// The next page's offset, when there may be one.
    pub next_offset: Option<usize>,
    /// A filter that could not be read, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

fn filter_of(q: &RunsQuery, now: i64) -> Result<RunFilter, String> {
    let verdict = match q.verdict.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(RunVerdict::parse(v).ok_or_else(|| format!("unknown verdict `{v}`"))?),
    };
    let since = match q.since.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(s) => {
            let d = crate::config::dur::parse_duration(s).map_err(|e| format!("since: {e}"))?;
            Some(now - d.as_millis().min(i64::MAX as u128) as i64)
        }
    };
    Ok(RunFilter {
        deployment: q.deployment.clone().filter(|d| !d.is_empty()),
        verdict,
        since,
        limit: q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
    })
}

/// Reads the page's value from the store.
pub async fn read(app: &Arc<App>, q: RunsQuery) -> Result<RunsPage, super::Unavailable> {
    let now = crate::commands::now_ms();
    let filter = match filter_of(&q, now) {
        Ok(f) => f,
        Err(problem) => {
            return Ok(RunsPage {
                filter: q,
                runs: Vec::new(),
                deployments: Vec::new(),
                window: app.window,
                next_offset: None,
                problem: Some(problem),
            })
        }
    };
    let offset = q.offset.unwrap_or(0);
    let window = app.window;
    let (runs, deployments) = app
        .read(move |store| {
            let runs = store.listed_runs(&filter, offset)?;
            let mut names: Vec<&str> = runs.iter().map(|r| r.head.deployment.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            let stats = names
                .iter()
                .map(|d| store.deployment_stats(d, window))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((runs, stats))
        })
        .await?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let next_offset = (runs.len() == limit).then_some(offset + limit);
    Ok(RunsPage {
        filter: q,
        runs: runs
            .into_iter()
            .map(|run| RunItem {
                duration_ms: run.head.ended_at.map(|e| e - run.head.started_at),
                run,
            })
            .collect(),
        deployments,
        window,
        next_offset,
        problem: None,
    })
}

/// `GET /runs` (and `/api/runs` with `json`).
pub async fn handler(
    State(app): State<Arc<App>>,
    Query(q): Query<RunsQuery>,
    headers: HeaderMap,
    json: bool,
) -> Response {
    let json = json || wants_json(&headers);
    match read(&app, q).await {
        Ok(page) => {
            let status = match page.problem {
                Some(_) => StatusCode::BAD_REQUEST,
                None => StatusCode::OK,
            };
            respond(&app, json, status, &page, draw)
        }
        Err(e) => unavailable(&app, json, e),
    }
}

/// The rollback column: none, ok, failed.
fn rollback_text(r: &ListedRun) -> (&'static str, &'static str) {
    match r.rollback_ok {
        None => ("—", "other"),
        Some(true) => ("rolled back", "healthy"),
        Some(false) => ("rollback failed", "rollback"),
    }
}

fn verdict_of(r: &ListedRun) -> &'static str {
    match r.head.verdict {
        Some(v) => v.as_str(),
        None => r.head.status.as_str(),
    }
}

fn filters(f: &RunsQuery) -> Markup {
    html! {
        form.filters method="get" action="/runs" {
            label { "deployment " input name="deployment" value=[f.deployment.as_deref()]; }
            label { "verdict "
                select name="verdict" {
                    option value="" { "any" }
                    @for v in ["healthy", "rollback", "inconclusive", "interrupted", "rolled_back", "rollback_failed"] {
                        option value=(v) selected[f.verdict.as_deref() == Some(v)] { (v) }
                    }
                }
            }
            label { "since " input name="since" placeholder="7d" value=[f.since.as_deref()]; }
            button type="submit" { "Filter" }
        }
    }
}

/// The runs page.
pub fn draw(p: &RunsPage) -> Markup {
    let body = html! {
        (filters(&p.filter))
        @if let Some(problem) = &p.problem { p.down { (problem) } }
        @if !p.deployments.is_empty() {
            h2 { "Deployments on this page (last " (p.window) " runs each)" }
            table.stats {
                tr { th { "Deployment" } th { "Runs" } th { "Failed" } th { "Change-failure rate" } th { "Median time to rollback" } }
                @for d in &p.deployments {
                    tr {
                        td { a href={ "/runs?deployment=" (urlencode(&d.deployment)) } { (d.deployment) } }
                        td { (d.runs) }
                        td { (d.failed) }
                        td { @match d.change_failure_percent { Some(v) => { (format!("{v:.0} %")) }, None => { "—" } } }
                        td { @match d.median_time_to_rollback_ms { Some(v) => { (span(v)) }, None => { "—" } } }
                    }
                }
            }
        }
        h2 { "Runs" }
        @if p.runs.is_empty() { p { "No run matches." } } @else {
            table.runs {
                tr { th { "Started" } th { "Deployment" } th { "Run" } th { "Verdict" } th { "Exit" } th { "Rollback" } th { "Anomalies" } th { "By" } th { "Duration" } }
                @for item in &p.runs {
                    @let r = &item.run;
                    @let (rb, rb_class) = rollback_text(r);
                    tr {
                        td { (when(r.head.started_at)) }
                        td { a href={ "/runs?deployment=" (urlencode(&r.head.deployment)) } { (r.head.deployment) } }
                        td { a.id href={ "/runs/" (urlencode(&r.head.id)) } { code { (short(&r.head.id)) } } }
                        td { span class={ "badge " (badge(verdict_of(r))) } { (verdict_of(r)) } @if r.head.dry_run { " (dry run)" } }
                        td { @match r.head.exit_code { Some(c) => { (c) }, None => { "—" } } }
                        td { span class=(rb_class) { (rb) } }
                        td { (r.anomalies) }
                        td { (r.actor.as_deref().unwrap_or("—")) @if let Some(h) = &r.host { " @ " (h) } }
                        td { @match item.duration_ms { Some(d) => { (span(d)) }, None => { "running" } } }
                    }
                }
            }
            @if let Some(next) = p.next_offset {
                p { a href=(next_href(&p.filter, next)) { "Older runs →" } }
            }
        }
    };
    layout("Runs", "Runs", &api_href(&p.filter), body, false)
}

/// The first 8 characters of a run id.
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Percent-encodes a path segment or query value.
pub fn urlencode(s: &str) -> String {
    crate::redact::percent_encode(s)
}

fn query_string(f: &RunsQuery, offset: Option<usize>) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("deployment", &f.deployment),
        ("verdict", &f.verdict),
        ("since", &f.since),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    if let Some(l) = f.limit {
        parts.push(format!("limit={l}"));
    }
    if let Some(o) = offset {
        parts.push(format!("offset={o}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn next_href(f: &RunsQuery, offset: usize) -> String {
    format!("/runs{}", query_string(f, Some(offset)))
}

fn api_href(f: &RunsQuery) -> String {
    format!("/api/runs{}", query_string(f, f.offset))
}
