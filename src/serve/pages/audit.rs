//! Audit: the chain, newest first, a page at a time, filterable by actor, action and run,
//! under the result of the very verification `audit verify` runs (`audit::verify`): intact,
//! or broken at entry N and why.

use super::run::audit_table;
use super::{layout, respond, unavailable, wants_json};
use crate::audit::chain::{self, key_from_env};
use crate::audit::verify::{verify, ChainState, Verification};
use crate::serve::app::App;
use crate::store::audit::Entry;
use crate::store::dashboard::AuditFilter;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The page's filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuditQuery {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action (run_start, decision, rollback, hold …).
    pub action: Option<String>,
    /// Only this run.
    pub run: Option<String>,
    /// Entries before this seq (the next page).
    pub before: Option<i64>,
    /// Entries per page (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// The audit page's value (its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub filter: AuditQuery,
    /// What `audit verify` says of the whole chain.
    pub verification: Verification,
    /// One line: `intact`, or `broken at entry N: why`.
    pub verdict: String,
    /// The entries of this page, newest first.
    pub entries: Vec<Entry>,
    /// `before` of the next page, when there may be one.
    pub next_before: Option<i64>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.clone().filter(|v| !v.is_empty())
}

/// The verification in one line, as `audit verify` words it.
pub fn verdict_line(v: &Verification) -> String {
    match &v.outcome {
        ChainState::Intact => format!("intact: {} entries", v.entries),
        ChainState::Broken { seq, problem } => format!("broken at entry {seq}: {problem}"),
        ChainState::NeedsKey { seq } => format!(
            "entry {seq} is keyed with HMAC-SHA256: start serve with VZ_AUDIT_KEY to verify from there"
        ),
    }
}

/// `GET /audit` (and `/api/audit` with `json`).
pub async fn handler(
    State(app): State<Arc<App>>,
    Query(q): Query<AuditQuery>,
    headers: HeaderMap,
    json: bool,
) -> Response {
    let json = json || wants_json(&headers);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let f = AuditFilter {
        actor: some(&q.actor),
        action: some(&q.action),
        run_id: some(&q.run),
        before: q.before,
        limit,
    };
    let read = app
        .read(move |store| {
            let rows = chain::read_all(store)?;
            let v = verify(&rows, key_from_env().as_deref());
            drop(rows);
            let page = store.audit_page(&f)?;
            Ok((v, page))
        })
        .await;
    match read {
        Ok((verification, rows)) => {
            let entries: Vec<Entry> = rows.into_iter().map(|r| r.entry).collect();
            let next_before = (entries.len() == limit)
                .then(|| entries.last().map(|e| e.seq))
                .flatten();
            let page = AuditPage {
                filter: q,
                verdict: verdict_line(&verification),
                verification,
                entries,
                next_before,
            };
            respond(&app, json, StatusCode::OK, &page, draw)
        }
        Err(e) => unavailable(&app, json, e),
    }
}

fn next_href(f: &AuditQuery, before: i64) -> String {
    let mut parts = vec![format!("before={before}")];
    for (k, v) in [("actor", &f.actor), ("action", &f.action), ("run", &f.run)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", super::runs::urlencode(v)));
        }
    }
    format!("/audit?{}", parts.join("&"))
}

/// The audit page.
pub fn draw(p: &AuditPage) -> Markup {
    let intact = matches!(p.verification.outcome, ChainState::Intact);
    let body = html! {
        p class=(if intact { "verify intact" } else { "verify broken" }) {
            span class=(if intact { "badge healthy" } else { "badge rollback" }) { (if intact { "INTACT" } else { "NOT VERIFIED" }) }
            " audit chain " (p.verdict)
        }
        form.filters method="get" action="/audit" {
            label { "actor " input name="actor" value=[p.filter.actor.as_deref()]; }
            label { "action " input name="action" value=[p.filter.action.as_deref()]; }
            label { "run " input name="run" value=[p.filter.run.as_deref()]; }
            button type="submit" { "Filter" }
        }
        (audit_table(&p.entries))
        @if let Some(b) = p.next_before { p { a href=(next_href(&p.filter, b)) { "Older entries →" } } }
    };
    layout("Audit trail", "Audit", "/api/audit", body, false)
}
