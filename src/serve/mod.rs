//! `serve`: a live, read-only web dashboard over the store every command writes — runs of
//! every runner, live watches, a run's charts and explanation, alerts, the audit chain with
//! its verification, health — each page with a JSON twin (`/api/...`, or
//! `Accept: application/json`). docs/dashboard.md documents routes and security.
//!
//! Server: axum (on the hyper and tower the HTTP client already brings). Templates: maud —
//! compile-time checked Rust expressions that escape every interpolated value by default,
//! with no template files to ship or to get out of step with the types they draw. The
//! assets (style sheets, the one script of the live page) are compiled into the binary:
//! the pages make no request to any other host.

pub mod app;
pub mod guard;
pub mod live;
pub mod pages;

use crate::cli::{Global, ServeArgs};
use crate::error::{Error, Exit, Result};
use app::App;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use guard::Access;
use std::net::SocketAddr;
use std::sync::Arc;

/// Tokens shorter than this are refused: a dashboard on a network needs a real secret.
pub const MIN_TOKEN_LEN: usize = 16;

const APP_CSS: &str = include_str!("assets/app.css");
const LIVE_JS: &str = include_str!("assets/live.js");

/// The listen address, and whether it needs a token.
pub fn listen_address(text: &str) -> Result<SocketAddr> {
    let resolved = if let Some(port) = text.strip_prefix("localhost:") {
        format!("127.0.0.1:{port}")
    } else {
        text.to_string()
    };
    resolved.parse().map_err(|_| {
        Error::Usage(format!(
            "--listen {text}: give an IP address and port, e.g. 127.0.0.1:8080"
        ))
    })
}

/// The token from the environment variable `var`, refused when a non-loopback address
/// lacks one or it is too short. The value is never printed.
pub fn token_for(addr: &SocketAddr, var: &str) -> Result<Option<String>> {
    let token = std::env::var(var).ok().filter(|t| !t.trim().is_empty());
    match &token {
        None if !addr.ip().is_loopback() => Err(Error::Usage(format!(
            "refusing to serve on {addr}: it is not a loopback address and no token is set; put a bearer token (at least {MIN_TOKEN_LEN} characters) in the environment variable {var}, or listen on 127.0.0.1"
        ))),
        Some(t) if t.trim().len() < MIN_TOKEN_LEN => Err(Error::Usage(format!(
            "the token in {var} is shorter than {MIN_TOKEN_LEN} characters: use a longer secret"
        ))),
        _ => Ok(token.map(|t| t.trim().to_string())),
    }
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Every route of the dashboard, behind the guard.
pub fn router(app: Arc<App>, access: Access) -> Router {
    use pages::{alerts, audit, health, live as live_page, run, runs};
    Router::new()
        .route("/", get(|| async { Redirect::to("/runs") }))
        .route(
            "/runs",
            get(
                |s: State<Arc<App>>, q: Query<runs::RunsQuery>, h: HeaderMap| {
                    runs::handler(s, q, h, false)
                },
            ),
        )
        .route(
            "/api/runs",
            get(
                |s: State<Arc<App>>, q: Query<runs::RunsQuery>, h: HeaderMap| {
                    runs::handler(s, q, h, true)
                },
            ),
        )
        .route(
            "/runs/{id}",
            get(|s: State<Arc<App>>, p: Path<String>, h: HeaderMap| run::handler(s, p, h, false)),
        )
        .route(
            "/api/runs/{id}",
            get(|s: State<Arc<App>>, p: Path<String>, h: HeaderMap| run::handler(s, p, h, true)),
        )
        .route(
            "/live",
            get(|s: State<Arc<App>>, h: HeaderMap| live_page::handler(s, h, false)),
        )
        .route(
            "/api/live",
            get(|s: State<Arc<App>>, h: HeaderMap| live_page::handler(s, h, true)),
        )
        .route("/live/events", get(live::events))
        .route("/api/live/events", get(live::events))
        .route(
            "/alerts",
            get(
                |s: State<Arc<App>>, q: Query<alerts::AlertsQuery>, h: HeaderMap| {
                    alerts::handler(s, q, h, false)
                },
            ),
        )
        .route(
            "/api/alerts",
            get(
                |s: State<Arc<App>>, q: Query<alerts::AlertsQuery>, h: HeaderMap| {
                    alerts::handler(s, q, h, true)
                },
            ),
        )
        .route(
            "/audit",
            get(
                |s: State<Arc<App>>, q: Query<audit::AuditQuery>, h: HeaderMap| {
                    audit::handler(s, q, h, false)
                },
            ),
        )
        .route(
            "/api/audit",
            get(
                |s: State<Arc<App>>, q: Query<audit::AuditQuery>, h: HeaderMap| {
                    audit::handler(s, q, h, true)
                },
            ),
        )
        .route(
            "/health",
            get(|s: State<Arc<App>>, h: HeaderMap| health::handler(s, h, false)),
        )
        .route(
            "/api/health",
            get(|s: State<Arc<App>>, h: HeaderMap| health::handler(s, h, true)),
        )
        .route(
            "/assets/report.css",
            get(|| async { asset("text/css; charset=utf-8", crate::report::html::STYLE) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route(
            "/assets/live.js",
            get(|| async { asset("text/javascript; charset=utf-8", LIVE_JS) }),
        )
        .fallback(|s: State<Arc<App>>, h: HeaderMap| async move {
            pages::not_found(&s.0, pages::wants_json(&h), "no such page")
        })
        .with_state(Arc::clone(&app))
        .layer(axum::middleware::from_fn_with_state(access, guard::guard))
}

/// Binds `listen` and serves until the process is stopped.
pub async fn serve(app: Arc<App>, access: Access, listen: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::io(format!("listening on {listen}"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listen address", e))?;
    errln!(
        "serving the dashboard of {} ({}) on http://{bound}/{}",
        app.shown_target(),
        app.engine,
        if access.token.is_some() {
            " (bearer token required)"
        } else {
            ""
        }
    );
    live::spawn_feed(Arc::clone(&app));
    axum::serve(listener, router(app, access))
        .await
        .map_err(|e| Error::io("serving", e))
}

/// Runs `serve`.
pub fn run(g: &Global, a: &ServeArgs) -> Result<Exit> {
    let listen = listen_address(&a.listen)?;
    let token = token_for(&listen, &a.token_env)?;
    let config = crate::commands::load_config(g).ok();
    let target = crate::commands::store_path(g, config.as_ref());
    let app = App::new(target, a.window, a.poll, token.as_deref());
    let access = Access {
        token: token.map(Arc::from),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    rt.block_on(serve(app, access, listen))?;
    Ok(Exit::Healthy)
}
