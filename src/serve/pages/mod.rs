//! The dashboard's pages. Each page is one file: a handler that reads the store into a plain
//! serializable value, and a maud template that draws that value. The same value is the
//! page's JSON twin (`/api/...`, or `Accept: application/json`), so the page and its JSON
//! can never disagree. maud escapes every interpolated string; the only markup inserted
//! as is comes from `report::html` and `report::chart`, which escape every stored value
//! themselves.

pub mod alerts;
pub mod audit;
pub mod health;
pub mod live;
pub mod run;
pub mod runs;

use super::app::{App, Unavailable};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use serde::Serialize;
use std::sync::Arc;

/// The navigation: (path, label).
const NAV: [(&str, &str); 5] = [
    ("/runs", "Runs"),
    ("/live", "Live"),
    ("/alerts", "Alerts"),
    ("/audit", "Audit"),
    ("/health", "Health"),
];

/// Whether the client asked for JSON (`Accept: application/json`).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// One page around `body`: navigation, title, the link to its JSON twin.
pub fn layout(title: &str, active: &str, json_href: &str, body: Markup, script: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "vz-monitor — " (title) }
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/report.css";
                link rel="stylesheet" href="/assets/app.css";
                @if script {
                    script src="/assets/live.js" defer {}
                }
            }
            body {
                nav {
                    a.brand href="/runs" { "vz-monitor" }
                    @for (href, label) in NAV {
                        a href=(href) class=[(label == active).then_some("active")] { (label) }
                    }
                    a.json href=(json_href) { "JSON" }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The page, or its JSON twin, with `status`; stored secrets masked either way.
pub fn respond<T: Serialize>(
    app: &Arc<App>,
    json: bool,
    status: StatusCode,
    data: &T,
    page: impl FnOnce(&T) -> Markup,
) -> Response {
    let (kind, body) = if json {
        (
            "application/json",
            serde_json::to_string_pretty(data).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
        )
    } else {
        ("text/html; charset=utf-8", page(data).into_string())
    };
    let body = app.mask(body);
    (status, [(header::CONTENT_TYPE, kind)], body).into_response()
}

/// The answer when the store cannot: 503, what is wrong, and that the server keeps trying.
pub fn unavailable(app: &Arc<App>, json: bool, e: Unavailable) -> Response {
    #[derive(Serialize)]
    struct Down {
        error: String,
        store: String,
        retry_after_seconds: u32,
    }
    let data = Down {
        error: e.0,
        store: app.shown_target(),
        retry_after_seconds: 2,
    };
    let mut res = respond(app, json, StatusCode::SERVICE_UNAVAILABLE, &data, |d| {
        layout(
            "Store unavailable",
            "",
            "/api/health",
            html! {
                p.down { "The store " code { (d.store) } " does not answer: " (d.error) }
                p { "This page does not change anything. The dashboard keeps running and reads the store again with the next request; reload in a few seconds." }
            },
            false,
        )
    });
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    res
}

/// 404 for a run (or anything) that is not there.
pub fn not_found(app: &Arc<App>, json: bool, what: &str) -> Response {
    #[derive(Serialize)]
    struct Missing<'a> {
        error: &'a str,
    }
    respond(
        app,
        json,
        StatusCode::NOT_FOUND,
        &Missing { error: what },
        |m| {
            layout(
                "Not found",
                "",
                "/api/runs",
                html! { p { (m.error) } },
                false,
            )
        },
    )
}

/// A time (ms) as `2026-12-06 05:33:43Z`.
pub fn when(ms: i64) -> String {
    crate::report::ts(ms)
}

/// A span of ms as `1m 05s`, `3.2s`, `850ms`.
pub fn span(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h {:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// The CSS class of a verdict or status name.
pub fn badge(name: &str) -> &'static str {
    match name {
        "healthy" | "finished" | "sent" | "resolved" | "intact" => "healthy",
        "rollback" | "rolled_back" | "rollback_failed" | "failed" | "broken" => "rollback",
        "inconclusive" | "abandoned" | "interrupted" | "escalated" => "inconclusive",
        "running" => "running",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_write_them() {
        assert_eq!(span(850), "850ms");
        assert_eq!(span(3_200), "3.2s");
        assert_eq!(span(65_000), "1m 05s");
        assert_eq!(span(3_720_000), "1h 02m");
        assert_eq!(span(-5), "0ms");
    }

    #[test]
    fn maud_escapes_what_the_store_holds() {
        let name = "<script>alert(1)</script>\"'&";
        let page = layout(name, "", "/api/runs", html! { td { (name) } }, false).into_string();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
    }
}
