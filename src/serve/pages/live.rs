//! Live: every watch in progress on any runner — tick n of N, time left, every rule's state
//! and value, missing ticks against `max_missing`, the policy counters — until its verdict;
//! an abandoned run shows as such. The page is drawn here from a fresh read, then
//! `assets/live.js` redraws the same markup from each frame of `/live/events`.

use super::runs::{short, urlencode};
use super::{badge, layout, respond, span, wants_json, when};
use crate::serve::app::App;
use crate::serve::live::{read, Frame, LiveView};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use std::sync::Arc;

/// `GET /live` (and `/api/live` with `json`): the frame, or the page drawing it.
pub async fn handler(State(app): State<Arc<App>>, headers: HeaderMap, json: bool) -> Response {
    let json = json || wants_json(&headers);
    let frame = read(&app).await;
    let status = match frame.error {
        Some(_) => StatusCode::SERVICE_UNAVAILABLE,
        None => StatusCode::OK,
    };
    respond(&app, json, status, &frame, draw)
}

/// The headline word of a run: its verdict once decided, else its status.
fn headline(v: &LiveView) -> &str {
    v.verdict.as_deref().unwrap_or(&v.status)
}

/// One watch (the markup `live.js` rebuilds: keep the two alike).
fn card(v: &LiveView) -> Markup {
    let word = headline(v);
    html! {
        article.watch data-run-id=(v.run_id) data-status=(v.status) {
            header {
                span class={ "badge verdict " (badge(word)) } { (word.to_uppercase()) }
                " " code.deployment { (v.deployment) }
                " " a href={ "/runs/" (urlencode(&v.run_id)) } { "run " (short(&v.run_id)) }
                " " span.origin { "started " (when(v.started_at)) @if let Some(a) = &v.actor { " by " (a) } @if let Some(h) = &v.host { " @ " (h) } }
            }
            p.progress {
                "tick " b.tick { (v.tick) } " of " b.planned { (v.planned) }
                @if let Some(left) = v.time_left_ms { " · " span.left { (span(left)) " left" } }
                @if v.status == "abandoned" { " · " span.abandoned { "abandoned: its runner stopped renewing its lease before a verdict" } }
            }
            @if let Some(h) = &v.hold { p.hold { (h) } }
            @if !v.rules.is_empty() {
                table.rules {
                    tr { th { "Rule" } th { "Series" } th { "Severity" } th { "State" } th { "Value" } }
                    @for r in &v.rules {
                        tr data-rule=(r.rule) data-series=(r.series) {
                            td { (r.rule) } td { (r.series) } td { (r.severity) }
                            td class=(if r.fired { "state fired" } else { "state" }) { (r.state) }
                            td.value { (r.value) }
                        }
                    }
                }
            }
            @if !v.missing.is_empty() {
                p.missing {
                    "missing ticks: "
                    @for (i, m) in v.missing.iter().enumerate() {
                        @if i > 0 { " · " }
                        span data-metric=(m.metric) { (m.metric) " " (m.missing) "/" (m.ticks) " (max " (m.max_missing) " %)" }
                    }
                }
            }
            @if !v.counters.is_empty() {
                p.counters {
                    "policy: "
                    @for (i, c) in v.counters.iter().enumerate() {
                        @if i > 0 { " · " }
                        span data-severity=(c.severity) { (c.severity) " " (c.fired) "/" @if c.limit == 0 { "off" } @else { (c.limit) } }
                    }
                }
            }
            @for r in &v.reasons { p.reason { (r) } }
        }
    }
}

/// The live page.
pub fn draw(f: &Frame) -> Markup {
    let body = html! {
        p id="live-state" class="state" { @if let Some(e) = &f.error { "store unavailable: " (e) } @else { "read at " (when(f.at)) "; live updates follow" } }
        section id="live" data-at=(f.at) {
            @if f.runs.is_empty() { p.empty { "No watch in progress or ended in the last 15 minutes." } }
            @for v in &f.runs { (card(v)) }
        }
    };
    layout("Live watches", "Live", "/api/live", body, true)
}
